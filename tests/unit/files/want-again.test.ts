/**
 * A block wanted again right after its want was given up (a paused transfer resumed at once, or
 * a stalled block asked for again) is asked for and comes; real libp2p nodes joined in memory,
 * bitswap as the app configures it (src/lib/files/blocks.ts).
 *
 * Both cases lost the second want in @helia/bitswap 4.0.19 (fixed by patches/@helia+bitswap):
 * the asking side merged the new want into the cancelled entry and dropped both without
 * sending anything; the serving side merged a want for a block it had just sent into the
 * "sent" entry and expired it, never sending the block again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import type { BlockService } from '../../../src/lib/files/blocks.js';
import type { TestPeer } from '../../fixtures/node-peer.js';
import { blockServicePair } from '../../fixtures/files-peers.js';

let pair: Awaited<ReturnType<typeof blockServicePair>>;
let a: TestPeer;
let sa: BlockService;
let sb: BlockService;

beforeAll(async () => {
  pair = await blockServicePair();
  ({ a, sa, sb } = pair);
});
afterAll(() => pair.stop());

async function blockOnA(seed: number): Promise<CID> {
  const data = new Uint8Array(100_000).fill(seed);
  const cid = CID.createV1(raw.code, await sha256.digest(data));
  await sa.helia.blockstore.put(cid, data);
  return cid;
}

async function want(cid: CID, signal: AbortSignal): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of sb.helia.blockstore.get(cid, {
    signal,
    providers: [a.peerId.toCID()]
  }))
    parts.push(part);
  return parts[0]!;
}

describe('a block wanted again', () => {
  it('right after its want was given up, is asked for and comes', async () => {
    // Given up before the want went out (bitswap sends wants 10 ms after the last change), at
    // once, and a little later: each time the block is asked for again at once.
    for (const [i, after] of [0, 1, 5].entries()) {
      const cid = await blockOnA(10 + i);
      const first = new AbortController();
      const given = want(cid, first.signal).catch((err: unknown) => err);
      if (after > 0) await new Promise((resolve) => setTimeout(resolve, after));
      else await Promise.resolve();
      first.abort(new Error('paused'));
      await given;
      const block = await want(cid, AbortSignal.timeout(3_000));
      expect(block.length).toBe(100_000);
    }
  });

  it('right after it was sent (and deleted here), is sent again', async () => {
    const cid = await blockOnA(2);
    await want(cid, AbortSignal.timeout(5_000));
    await sb.helia.blockstore.delete(cid);
    const block = await want(cid, AbortSignal.timeout(5_000));
    expect(block.length).toBe(100_000);
  });
});
