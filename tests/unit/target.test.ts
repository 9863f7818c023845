import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidTargetError } from '../../src/lib/p2p/errors.js';
import { connectLink, extractFromLink, parseTarget } from '../../src/lib/p2p/target.js';

let peer: string;
let relay: string;

beforeAll(async () => {
  peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  relay = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
});

function reasonOf(input: string): string | undefined {
  try {
    parseTarget(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTargetError);
    expect((err as Error).name).toBe('InvalidTargetError');
    return (err as InvalidTargetError).reason;
  }
  return undefined;
}

describe('parseTarget', () => {
  it('accepts a bare peer ID, trimmed', () => {
    expect(parseTarget(peer)).toEqual({ peerId: peer });
    expect(parseTarget(`  ${peer}\n`)).toEqual({ peerId: peer });
  });

  it('accepts the CID form of a peer ID and returns the canonical form', async () => {
    const { peerIdFromString } = await import('@libp2p/peer-id');
    const cid = peerIdFromString(peer).toCID().toString();
    expect(cid.startsWith('b')).toBe(true);
    expect(parseTarget(cid)).toEqual({ peerId: peer });
  });

  it('accepts a relay circuit multiaddr and keeps it', () => {
    const ma = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${relay}/p2p-circuit/p2p/${peer}`;
    expect(parseTarget(ma)).toEqual({ peerId: peer, multiaddr: ma });
  });

  it('accepts a WebRTC multiaddr', () => {
    const ma = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${relay}/p2p-circuit/webrtc/p2p/${peer}`;
    expect(parseTarget(ma).peerId).toBe(peer);
  });

  it('accepts app links: hash, query, hash query, with surrounding text', () => {
    expect(parseTarget(`http://127.0.0.1:8080/#/connect/${peer}`)).toEqual({ peerId: peer });
    expect(parseTarget(`https://p2p.example/app/#/connect/${peer}?x=1`)).toEqual({ peerId: peer });
    expect(parseTarget(`http://localhost:5173/?peer=${peer}`)).toEqual({ peerId: peer });
    expect(parseTarget(`http://localhost:5173/#/?peer=${peer}`)).toEqual({ peerId: peer });
    expect(parseTarget(`#/connect/${peer}`)).toEqual({ peerId: peer });
    expect(parseTarget(`Join me: http://10.0.0.2:8080/#/connect/${peer} thanks`)).toEqual({
      peerId: peer
    });
  });

  it('accepts a link that carries a URL-encoded multiaddr', () => {
    const ma = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${relay}/p2p-circuit/p2p/${peer}`;
    expect(parseTarget(`http://h/#/connect/${encodeURIComponent(ma)}`)).toEqual({
      peerId: peer,
      multiaddr: ma
    });
  });

  it('round-trips connectLink()', () => {
    const link = connectLink('http://127.0.0.1:8080', peer);
    expect(link).toBe(`http://127.0.0.1:8080/#/connect/${peer}`);
    expect(connectLink('http://127.0.0.1:8080/', peer)).toBe(link);
    expect(connectLink('http://127.0.0.1:8080/#/connect/old', peer)).toBe(link);
    expect(parseTarget(link)).toEqual({ peerId: peer });
  });

  it('rejects empty input with reason "empty"', () => {
    expect(reasonOf('')).toBe('empty');
    expect(reasonOf('   \n\t')).toBe('empty');
  });

  it('rejects things that are not peer IDs', () => {
    for (const bad of [
      'not a peer id',
      'hello',
      peer.slice(0, -3),
      `${peer}x`,
      'QmNotReallyAPeerIdAtAllButLooksLikeOne',
      '12D3KooW',
      'x'.repeat(5000),
      'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi' // a CID, not a peer ID
    ]) {
      expect(reasonOf(bad), bad.slice(0, 40)).toBe('malformed');
    }
  });

  it('rejects multiaddrs without a trailing /p2p/ and broken multiaddrs', () => {
    expect(reasonOf('/ip4/1.2.3.4/tcp/1')).toBe('malformed');
    expect(reasonOf(`/ip4/127.0.0.1/tcp/9090/ws/p2p/${relay}/p2p-circuit`)).toBe('malformed');
    expect(reasonOf('/ip4/999.1.1.1/tcp/1/p2p/x')).toBe('malformed');
    expect(reasonOf('/not-a-protocol/1')).toBe('malformed');
  });

  it('rejects links without a peer', () => {
    expect(reasonOf('http://example.com/')).toBe('malformed');
    expect(reasonOf('http://example.com/#/nothing')).toBe('malformed');
    expect(reasonOf('http://example.com/#/connect/')).toBe('malformed');
    expect(reasonOf('http://example.com/?peer=nope')).toBe('malformed');
    expect(reasonOf('http://example.com/#/connect/%E0%A4%A')).toBe('malformed');
  });

  it('extractFromLink ignores plain peer IDs and multiaddrs', () => {
    expect(extractFromLink(peer)).toBeUndefined();
    expect(extractFromLink(`/ip4/1.2.3.4/tcp/1/p2p/${peer}`)).toBeUndefined();
  });
});
