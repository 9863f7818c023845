/**
 * "Share publicly" adds the plain file with @helia/unixfs defaults, so its CID is the one any
 * IPFS implementation gives with those settings (CIDv1, raw leaves, 1 MiB chunks, balanced DAG
 * of at most 1,024 links). The reference CIDs are built here by hand from the UnixFS spec
 * (raw leaves hashed with SHA-256, dag-pb nodes with UnixFS file data), not by the importer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockstore } from 'blockstore-core';
import { createFiles, type Files } from '../../../src/lib/files/files.js';
import type { TestPeer } from '../../fixtures/node-peer.js';
import { memoryPeer } from '../../fixtures/files-peers.js';
import { MiB, reference } from '../../fixtures/unixfs-reference.js';

let node: TestPeer;
let files: Files;

beforeAll(async () => {
  node = await memoryPeer();
  files = await createFiles({ libp2p: node, blockstore: new MemoryBlockstore() });
});
afterAll(async () => {
  await files.stop();
  await node.stop();
});

function streamOf(size: number, fill: (chunk: Uint8Array, offset: number) => void) {
  return {
    name: 'public.bin',
    type: 'application/octet-stream',
    size,
    stream: () => {
      let at = 0;
      return new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= size) return c.close();
          // Odd-sized chunks: the importer rechunks them.
          const chunk = new Uint8Array(Math.min(300_001, size - at));
          fill(chunk, at);
          at += chunk.length;
          c.enqueue(chunk);
        }
      });
    }
  };
}

const pattern = (chunk: Uint8Array, offset: number) => {
  for (let i = 0; i < chunk.length; i++) chunk[i] = ((offset + i) * 31 + 7) & 0xff;
};

describe('public shares have the ordinary UnixFS CID', () => {
  it('empty file: the well-known CID of no bytes', async () => {
    const record = await files.add(streamOf(0, pattern), { public: true });
    expect(record.cid).toBe('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    expect(record.key).toBeUndefined();
  });

  it.each([1, MiB - 1, MiB, MiB + 1, 3 * MiB + 5])('%i bytes', async (size) => {
    const record = await files.add(streamOf(size, pattern), { public: true });
    expect(record.cid).toBe(await reference(size, pattern));
    // Read back as stored, no key involved.
    let n = 0;
    for await (const part of files.read(record)) n += part.length;
    expect(n).toBe(size);
  });

  it('a DAG of more than one level (1,025 chunks)', async () => {
    const size = 1025 * MiB;
    const zeros = () => {};
    const record = await files.add(streamOf(size, zeros), { public: true });
    expect(record.cid).toBe(await reference(size, zeros));
  }, 120_000);
});
