import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { multiaddr } from '@multiformats/multiaddr';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeInvitePayload,
  encodeInvitePayload,
  inviteId,
  inviteLink,
  parseInvite,
  type Invite
} from '../../src/lib/contacts/invite-link.js';
import { InvalidInviteError } from '../../src/lib/contacts/errors.js';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/encoding.js';

let invite: Invite;
const now = Date.UTC(2026, 10, 25);

beforeAll(async () => {
  const inviter = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  const relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  invite = {
    version: 1,
    inviter,
    relays: [
      `/ip4/127.0.0.1/tcp/9090/ws/p2p/${relay}`,
      `/dns4/relay.example/tcp/443/wss/p2p/${relay}`
    ],
    secret: new Uint8Array(32).map((_, i) => i),
    expiresAt: now + 3_600_000
  };
});

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInviteError);
    expect((err as Error).name).toBe('InvalidInviteError');
    return (err as InvalidInviteError).reason;
  }
  return undefined;
}

describe('invite links', () => {
  it('round-trip through a link, its fragment and the bare payload', () => {
    const link = inviteLink('https://app.example/', invite);
    expect(link.startsWith('https://app.example/#/invite/')).toBe(true);
    expect(link.length).toBeLessThan(400);
    const payload = link.split('#/invite/')[1] ?? '';
    for (const text of [link, `  ${link}\n`, `#/invite/${payload}`, payload, `see ${link} !`]) {
      expect(parseInvite(text, { now })).toEqual(invite);
    }
  });

  it('refuses empty, foreign and non-string input', () => {
    expect(reason(() => parseInvite('', { now }))).toBe('empty');
    expect(reason(() => parseInvite(42 as unknown as string, { now }))).toBe('empty');
    expect(reason(() => parseInvite('https://example.com/#/connect/abc', { now }))).toBe(
      'not-an-invite'
    );
    expect(reason(() => parseInvite('https://app.example/#/invite/', { now }))).toBe('truncated');
  });

  it('refuses bad encodings, wrong versions, truncation and extra bytes', () => {
    const bytes = fromBase64Url(encodeInvitePayload(invite)) as Uint8Array;
    expect(reason(() => decodeInvitePayload('@@@@'))).toBe('encoding');
    expect(reason(() => decodeInvitePayload('A'))).toBe('encoding');
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(reason(() => decodeInvitePayload(toBase64Url(v2)))).toBe('version');
    for (const cut of [1, 20, 33, 37, 38, 50, bytes.length - 1]) {
      expect(reason(() => decodeInvitePayload(toBase64Url(bytes.slice(0, cut))))).toBe('truncated');
    }
    const extra = new Uint8Array([...bytes, 0]);
    expect(reason(() => decodeInvitePayload(toBase64Url(extra)))).toBe('malformed');
  });

  it('refuses oversized payloads and too many relays', () => {
    expect(reason(() => parseInvite('A'.repeat(5_000), { now }))).toBe('too-large');
    expect(reason(() => decodeInvitePayload('A'.repeat(1_600)))).toBe('too-large');
    const bytes = fromBase64Url(encodeInvitePayload({ ...invite, relays: [] })) as Uint8Array;
    const many = bytes.slice();
    many[many.length - 1] = 9;
    expect(reason(() => decodeInvitePayload(toBase64Url(many)))).toBe('malformed');
  });

  it('refuses a garbage peer ID and garbage relays', () => {
    const bytes = fromBase64Url(encodeInvitePayload({ ...invite, relays: [] })) as Uint8Array;
    const badPeer = bytes.slice();
    badPeer[38] = 0xff; // inside the peer multihash
    expect(reason(() => decodeInvitePayload(toBase64Url(badPeer)))).toBe('malformed');
    const relay = new Uint8Array([...bytes.slice(0, -1), 1, 3, 0xff, 0xff, 0xff]);
    expect(reason(() => decodeInvitePayload(toBase64Url(relay)))).toBe('malformed');
    // A well-formed multiaddr whose /p2p/ part is no peer ID (its key type is unknown).
    const relayAddr = multiaddr(invite.relays[0]!).bytes;
    const relayPeer = peerIdFromString(invite.relays[0]!.split('/p2p/')[1]!).toMultihash().bytes;
    const notAPeer = relayAddr.slice();
    notAPeer[relayAddr.length - relayPeer.length + 3] = 0x09;
    expect(multiaddr(notAPeer).toString()).toMatch(/\/p2p\/1/);
    const badRelay = new Uint8Array([...bytes.slice(0, -1), 1, notAPeer.length, ...notAPeer]);
    expect(reason(() => decodeInvitePayload(toBase64Url(badRelay)))).toBe('malformed');
    // An identity multihash that is no key but reads as a URL: libp2p makes it a URL peer ID
    // (random key bytes did so once in a while, and the relay above was taken).
    const urlDigest = new TextEncoder().encode('http://relay.example/');
    const urlPeer = new Uint8Array([0x00, urlDigest.length, ...urlDigest]);
    const urlId = bytesToString(urlPeer, 'base58btc');
    expect(peerIdFromString(urlId).type).toBe('url');
    const urlAddr = multiaddr(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${urlId}`);
    const urlRelay = new Uint8Array([
      ...bytes.slice(0, -1),
      1,
      urlAddr.bytes.length,
      ...urlAddr.bytes
    ]);
    expect(reason(() => decodeInvitePayload(toBase64Url(urlRelay)))).toBe('malformed');
  });

  it('refuses expired invites and your own', () => {
    const link = inviteLink('https://app.example', invite);
    expect(reason(() => parseInvite(link, { now: invite.expiresAt }))).toBe('expired');
    expect(reason(() => parseInvite(link, { now, self: invite.inviter }))).toBe('own-invite');
  });

  it('has an ID that does not reveal the secret and differs per secret', () => {
    const id = inviteId(invite.secret);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(id).not.toContain(toBase64Url(invite.secret).slice(0, 8));
    expect(inviteId(new Uint8Array(32))).not.toBe(id);
  });
});

describe('invite QR codes', () => {
  it('render as SVG and as a PNG data URL', async () => {
    const { inviteQrSvg, inviteQrDataUrl } = await import('../../src/lib/contacts/qr.js');
    const link = inviteLink('https://app.example', invite);
    expect(await inviteQrSvg(link)).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(await inviteQrDataUrl(link)).toMatch(/^data:image\/png;base64,/);
  });
});

describe('invite decoding of random input', () => {
  /** A small seeded PRNG (mulberry32): the same inputs on every run. */
  function seeded(seed: number): () => number {
    let t = seed >>> 0;
    return () => {
      t = (t + 0x6d2b79f5) >>> 0;
      let r = Math.imul(t ^ (t >>> 15), 1 | t);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 0x1_0000_0000;
    };
  }

  it('only ever throws InvalidInviteError, and whatever it accepts is a well-formed invite', () => {
    const random = seeded(7);
    const valid = fromBase64Url(encodeInvitePayload(invite)) as Uint8Array;
    const reasons = new Set<string>();
    let accepted = 0;
    for (let i = 0; i < 500; i++) {
      const bytes =
        i % 2 === 0
          ? new Uint8Array(1 + (i % 120)).map(() => Math.floor(random() * 256))
          : valid.map((b, j) => (j === i % valid.length ? b ^ (1 + (i % 255)) : b));
      const payload = toBase64Url(bytes);
      let decoded: Invite;
      try {
        decoded = decodeInvitePayload(payload);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidInviteError);
        expect((err as Error).name).toBe('InvalidInviteError');
        reasons.add((err as InvalidInviteError).reason);
        continue;
      }
      accepted++;
      // Accepted: a complete invite the app can use, which encodes and decodes back to itself
      // (not always to the same bytes: a relay's DNS name with invalid UTF-8 is read as U+FFFD).
      expect(decoded.version).toBe(1);
      expect(decoded.secret).toHaveLength(32);
      expect(decoded.expiresAt % 1000).toBe(0);
      expect(decoded.relays.length).toBeLessThanOrEqual(4);
      for (const relay of decoded.relays) expect(relay).toMatch(/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/);
      expect(decodeInvitePayload(encodeInvitePayload(decoded))).toEqual(decoded);
    }
    // Both branches ran: bit flips in the secret or expiry still decode (with other values),
    // random bytes and flips in the structure are refused for several reasons.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(250);
    expect([...reasons]).toEqual(expect.arrayContaining(['version', 'truncated', 'malformed']));
  });
});
