import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  formatDigitGroups,
  fromBase64Url,
  publicKeyOfPeer,
  safetyNumber,
  toBase64Url,
  InvalidKeyError
} from '../../src/lib/crypto/index.js';

const keyA = new Uint8Array(36).fill(1);
const keyB = new Uint8Array(36).fill(2);

describe('fingerprint', () => {
  it('is 8 groups of 5 digits and stable (test vector)', () => {
    const fp = fingerprint(keyA);
    expect(fp).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(fp).toBe('01176 31755 51218 05600 32833 58141 66460 32510');
  });

  it('differs between keys and refuses empty or huge keys', () => {
    expect(fingerprint(keyA)).not.toBe(fingerprint(keyB));
    expect(() => fingerprint(new Uint8Array(0))).toThrow(InvalidKeyError);
    expect(() => fingerprint(new Uint8Array(5000))).toThrow(InvalidKeyError);
    expect(() => fingerprint('abc' as unknown as Uint8Array)).toThrow(InvalidKeyError);
  });
});

describe('safety number', () => {
  it('is 12 groups of 5 digits, stable (test vector)', () => {
    const sn = safetyNumber(keyA, keyB);
    expect(sn).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(sn).toBe('18889 83669 46354 52279 48598 67415 53850 38741 44618 80409 25155 41978');
  });

  it('is the same whichever side computes it', async () => {
    const a = publicKeyToProtobuf((await generateKeyPair('Ed25519')).publicKey);
    const b = publicKeyToProtobuf((await generateKeyPair('Ed25519')).publicKey);
    expect(safetyNumber(a, b)).toBe(safetyNumber(b, a));
    expect(safetyNumber(a, b)).not.toBe(safetyNumber(a, keyA));
  });

  it('comes from the key embedded in a peer ID', async () => {
    const key = await generateKeyPair('Ed25519');
    const peer = peerIdFromPrivateKey(key).toString();
    expect(publicKeyOfPeer(peer)).toEqual(publicKeyToProtobuf(key.publicKey));
    expect(() => publicKeyOfPeer('not a peer')).toThrow(InvalidKeyError);
  });

  it('formats into lines', () => {
    expect(formatDigitGroups(safetyNumber(keyA, keyB), 4)).toHaveLength(3);
  });
});

describe('base64url', () => {
  it('round-trips every length and refuses other alphabets and stray bits', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      const text = toBase64Url(bytes);
      expect(text).not.toMatch(/[+/=]/);
      expect(fromBase64Url(text)).toEqual(bytes);
    }
    expect(fromBase64Url('ab+c')).toBeUndefined();
    expect(fromBase64Url('abcde')).toBeUndefined(); // impossible length
    expect(fromBase64Url('AB')).toBeUndefined(); // non-zero trailing bits
    expect(fromBase64Url('AA==')).toBeUndefined();
  });
});
