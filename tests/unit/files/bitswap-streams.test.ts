/**
 * Bitswap keeps one outbound stream per peer between messages (patches/@helia+bitswap): over
 * WebRTC a new stream per message is a data channel opened and closed for every want and every
 * block. Real libp2p nodes joined in memory, bitswap as the app configures it.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import type { BlockService } from '../../../src/lib/files/blocks.js';
import type { TestPeer } from '../../fixtures/node-peer.js';
import { blockServicePair } from '../../fixtures/files-peers.js';

const BITSWAP = '/ipfs/bitswap/1.2.0';
let pair: Awaited<ReturnType<typeof blockServicePair>>;
let a: TestPeer;
let b: TestPeer;
let sa: BlockService;
let sb: BlockService;

beforeAll(async () => {
  pair = await blockServicePair();
  ({ a, b, sa, sb } = pair);
});
afterAll(() => pair.stop());

async function blocksOnA(n: number, seed: number): Promise<CID[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const data = new Uint8Array(50_000).fill((seed + i) % 251);
      new DataView(data.buffer).setUint32(0, seed * 1000 + i);
      const cid = CID.createV1(raw.code, await sha256.digest(data));
      await sa.helia.blockstore.put(cid, data);
      return cid;
    })
  );
}

async function want(cid: CID): Promise<number> {
  let length = 0;
  for await (const part of sb.helia.blockstore.get(cid, {
    signal: AbortSignal.timeout(5_000),
    providers: [a.peerId.toCID()]
  }))
    length += part.length;
  return length;
}

/** Bitswap streams `peer` opened from now on. */
function countDials(peer: TestPeer): () => number {
  const spy = vi.spyOn(peer, 'dialProtocol');
  return () => spy.mock.calls.filter(([, protocol]) => String(protocol) === BITSWAP).length;
}

describe('bitswap streams', () => {
  it('sends many messages each way over one stream per peer', async () => {
    const cids = await blocksOnA(30, 1);
    const [wantsFromB, blocksFromA] = [countDials(b), countDials(a)];
    for (const cid of cids.slice(0, 10)) expect(await want(cid)).toBe(50_000); // one by one
    expect(await Promise.all(cids.slice(10).map(want))).toEqual(cids.slice(10).map(() => 50_000));
    expect(wantsFromB()).toBe(1);
    expect(blocksFromA()).toBe(1);
    vi.restoreAllMocks();
  });

  it('opens a new stream when the kept one was closed', async () => {
    const [first, second] = await blocksOnA(2, 2);
    if (first === undefined || second === undefined) throw new Error('no blocks');
    expect(await want(first)).toBe(50_000);
    const kept = (peer: TestPeer) =>
      peer
        .getConnections(peer === a ? b.peerId : a.peerId)
        .flatMap((c) => c.streams)
        .filter((s) => s.protocol === BITSWAP && s.direction === 'outbound');
    expect(kept(a).length + kept(b).length).toBeGreaterThan(0);
    for (const s of [...kept(a), ...kept(b)]) s.abort(new Error('reset by the test'));
    const dials = countDials(b);
    expect(await want(second)).toBe(50_000);
    expect(dials()).toBe(1);
    vi.restoreAllMocks();
  });
});
