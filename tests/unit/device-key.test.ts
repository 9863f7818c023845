import { ed25519 } from '@noble/curves/ed25519.js';
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it, vi } from 'vitest';
import { generateDeviceKey } from '../../src/lib/p2p/device-key.js';

const subtle = globalThis.crypto.subtle;
const data = new TextEncoder().encode('signed by the device');

/** The key holds together: its public key is the seed's, and its signatures verify. */
async function expectSound(key: Awaited<ReturnType<typeof generateDeviceKey>>): Promise<void> {
  expect(key.type).toBe('Ed25519');
  expect(key.raw).toHaveLength(64);
  const seed = key.raw.subarray(0, 32);
  expect(key.publicKey.raw).toEqual(ed25519.getPublicKey(seed));
  expect(key.raw.subarray(32)).toEqual(key.publicKey.raw);
  const sig = await key.sign(data);
  expect(ed25519.verify(sig, data, key.publicKey.raw)).toBe(true);
  expect(await key.publicKey.verify(data, sig)).toBe(true);
  // It survives the key store's format, with the same peer ID.
  const back = privateKeyFromProtobuf(privateKeyToProtobuf(key));
  expect(peerIdFromPrivateKey(back).toString()).toBe(peerIdFromPrivateKey(key).toString());
}

describe('generateDeviceKey', () => {
  it('makes the key with WebCrypto when it has Ed25519', async () => {
    const exported: JsonWebKey[] = [];
    const spy = {
      generateKey: subtle.generateKey.bind(subtle),
      exportKey: async (format: 'jwk', key: CryptoKey) => {
        const jwk = await subtle.exportKey(format, key);
        exported.push(jwk);
        return jwk;
      }
    } as unknown as SubtleCrypto;
    for (let i = 0; i < 10; i++) {
      const key = await generateDeviceKey(spy);
      await expectSound(key);
      // The key is the one WebCrypto made.
      expect(Buffer.from(key.raw.subarray(0, 32)).toString('base64url')).toBe(exported[i]?.d);
    }
    expect(new Set(exported.map((k) => k.d)).size).toBe(10);
  });

  it("falls back to libp2p's generator without Ed25519 in WebCrypto", async () => {
    const noEd25519 = {
      generateKey: vi.fn(async () => {
        throw new DOMException('Unrecognized algorithm name', 'NotSupportedError');
      })
    } as unknown as SubtleCrypto;
    await expectSound(await generateDeviceKey(noEd25519));
    expect(noEd25519.generateKey).toHaveBeenCalled();
  });

  it('does not trust an export that is not a 32-byte Ed25519 seed and public key', async () => {
    for (const jwk of [
      { crv: 'Ed25519', d: 'AAAA', x: 'AAAA' },
      { crv: 'X25519', d: 'A'.repeat(43), x: 'A'.repeat(43) },
      { crv: 'Ed25519' }
    ]) {
      const odd = {
        generateKey: async () => ({ privateKey: {}, publicKey: {} }),
        exportKey: async () => jwk
      } as unknown as SubtleCrypto;
      await expectSound(await generateDeviceKey(odd));
    }
  });
});
