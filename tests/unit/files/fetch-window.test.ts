/**
 * fetchFile's window (src/lib/files/fetch.ts): blocks in flight are bounded by count AND by
 * bytes (leaf sizes from their parents), so a want list never asks one provider for more than
 * the stream that answers can buffer. Against a stand-in for Helia whose network is a store of
 * the file's blocks answering after a macrotask, counting what is asked at once.
 */
import { unixfs } from '@helia/unixfs';
import { MemoryBlockstore } from 'blockstore-core';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import type { Helia } from 'helia';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { FETCH_CONCURRENCY, FETCH_WINDOW_BYTES } from '../../../src/lib/files/constants.js';
import { fetchFile } from '../../../src/lib/files/fetch.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PROVIDER = '12D3KooWGRUVh5b4vKXmMKXkqYDw8zQkeP7gC9TnCRD7kjQ5CHXZ';

/** A file of `size` bytes imported in `chunk`-byte raw leaves; the store holding its blocks. */
async function imported(
  size: number,
  chunk: number
): Promise<{ root: CID; source: MemoryBlockstore }> {
  const source = new MemoryBlockstore();
  // No two chunks alike (equal chunks would be one block).
  let x = 1;
  const bytes = new Uint8Array(size).map(() => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  const root = await unixfs({ blockstore: source }).addBytes(bytes, {
    chunker: fixedSize({ chunkSize: chunk }),
    rawLeaves: true
  });
  return { root, source };
}

/**
 * A Helia whose local store starts empty and whose "network" answers from `source`; the first
 * request for a block in `lose` is never answered (a lost want: it waits for its abort).
 */
function standIn(source: MemoryBlockstore, lose = new Set<string>()) {
  const local = new MemoryBlockstore();
  const seen = {
    count: 0,
    bytes: 0,
    maxCount: 0,
    maxBytes: 0,
    asked: 0,
    lost: 0,
    has: 0,
    absent: 0
  };
  const blockstore = {
    has: (cid: CID) => {
      seen.has++;
      return local.has(cid);
    },
    async *get(
      cid: CID,
      options: {
        offline?: boolean;
        providers?: unknown[];
        signal?: AbortSignal;
        knownAbsent?: boolean;
      }
    ) {
      if (options.knownAbsent === true) seen.absent++;
      if (await local.has(cid)) {
        yield* local.get(cid);
        return;
      }
      if (options.offline === true || options.providers === undefined) throw new Error('offline');
      if (lose.delete(cid.toString())) {
        seen.lost++;
        await new Promise((_, reject) =>
          options.signal?.addEventListener('abort', () => reject(options.signal!.reason))
        );
      }
      const parts: Uint8Array[] = [];
      for await (const part of source.get(cid)) parts.push(part);
      const block = parts.length === 1 ? parts[0]! : Uint8Array.from(parts.flatMap((p) => [...p]));
      seen.asked++;
      seen.count++;
      seen.bytes += block.length;
      seen.maxCount = Math.max(seen.maxCount, seen.count);
      seen.maxBytes = Math.max(seen.maxBytes, seen.bytes);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.count--;
      seen.bytes -= block.length;
      await local.put(cid, block);
      yield block;
    }
  };
  return { helia: { blockstore } as unknown as Helia, seen, local };
}

describe('fetchFile window', () => {
  it('keeps at most FETCH_CONCURRENCY sealed-size blocks in flight, within the byte window', async () => {
    const { root, source } = await imported(12 * MiB, 256 * KiB + 16);
    const { helia, seen } = standIn(source);
    const report = await fetchFile(helia, root, 12 * MiB, { providers: [PROVIDER] });
    expect(report.localBlocks).toBe(0);
    expect(seen.asked).toBe(report.fetchedBlocks);
    expect(seen.maxCount).toBe(FETCH_CONCURRENCY); // the window is used, not just allowed
    expect(seen.maxBytes).toBeLessThanOrEqual(FETCH_WINDOW_BYTES);
  });

  it('asks for fewer 1 MiB public blocks at once: the bytes bound wins', async () => {
    const { root, source } = await imported(12 * MiB, MiB);
    const { helia, seen } = standIn(source);
    await fetchFile(helia, root, 12 * MiB, { providers: [PROVIDER] });
    expect(seen.maxBytes).toBeLessThanOrEqual(FETCH_WINDOW_BYTES);
    expect(seen.maxCount).toBe(Math.floor(FETCH_WINDOW_BYTES / MiB));
  });

  it('still fetches a block bigger than the window alone', async () => {
    const { root, source } = await imported(3 * MiB, MiB);
    const { helia, seen } = standIn(source);
    await fetchFile(helia, root, 3 * MiB, { providers: [PROVIDER], windowBytes: 64 * KiB });
    expect(seen.maxCount).toBe(1);
    expect(seen.asked).toBe(4); // the root and three leaves, one at a time
  });

  it("resuming, asks the store about a node's children at once (hasMany), not block by block", async () => {
    const { root, source } = await imported(8 * MiB, 256 * KiB + 16);
    const { helia, seen, local } = standIn(source);
    await fetchFile(helia, root, 8 * MiB, { providers: [PROVIDER] });
    // Half of the leaves gone: a resumed fetch.
    const leaves: CID[] = [];
    // (getAll gives every block as a raw CID: the root is told apart by its multihash)
    for await (const { cid } of local.getAll()) {
      if (!cid.multihash.bytes.every((b, i) => b === root.multihash.bytes[i])) leaves.push(cid);
    }
    for (const cid of leaves.slice(0, leaves.length / 2)) await local.delete(cid);
    const [hasBefore, askedBefore] = [seen.has, seen.asked];
    const calls: number[] = [];
    const report = await fetchFile(helia, root, 8 * MiB, {
      providers: [PROVIDER],
      hasMany: async (cids) => {
        calls.push(cids.length);
        return Promise.all(cids.map((c) => local.has(c)));
      }
    });
    expect(calls).toEqual([leaves.length]); // the root's children, in one question
    expect(seen.has - hasBefore).toBe(1); // the root only
    expect(seen.asked - askedBefore).toBe(leaves.length / 2);
    // Known missing from that answer: the store need not be asked again (IdbBlockstore.has).
    expect(seen.absent).toBe(leaves.length / 2);
    expect(report.localBlocks).toBe(1 + leaves.length / 2);
  });

  it('asks again for a block whose want was lost, without dropping its provider', async () => {
    const { root, source } = await imported(2 * MiB, 256 * KiB + 16);
    const leaves: string[] = [];
    for await (const { cid } of source.getAll()) if (cid.code === 0x55) leaves.push(cid.toString());
    const { helia, seen } = standIn(source, new Set(leaves.slice(0, 2)));
    const report = await fetchFile(helia, root, 2 * MiB, {
      providers: [PROVIDER],
      stallMs: 900
    });
    expect(seen.lost).toBe(2);
    // The only provider was kept (dropping it would have failed the fetch: nobody else has it).
    expect(report.dropped).toEqual([]);
  });
});
