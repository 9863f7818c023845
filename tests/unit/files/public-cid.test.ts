/**
 * "Share publicly" adds the plain file with @helia/unixfs defaults, so its CID is the one any
 * IPFS implementation gives with those settings (CIDv1, raw leaves, 1 MiB chunks, balanced DAG
 * of at most 1,024 links). The reference CIDs are built here by hand from the UnixFS spec
 * (raw leaves hashed with SHA-256, dag-pb nodes with UnixFS file data), not by the importer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockstore } from 'blockstore-core';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { createFiles, type Files } from '../../../src/lib/files/files.js';
import type { TestPeer } from '../../fixtures/node-peer.js';
import { memoryPeer } from '../../fixtures/files-peers.js';

const MiB = 1024 * 1024;
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

interface Ref {
  cid: CID;
  /** Bytes of file data below it. */
  size: number;
  /** dag-pb Tsize: encoded sizes of the whole subtree. */
  tsize: number;
}

async function leaf(bytes: Uint8Array): Promise<Ref> {
  const cid = CID.createV1(raw.code, await sha256.digest(bytes));
  return { cid, size: bytes.length, tsize: bytes.length };
}

async function node_(children: Ref[]): Promise<Ref> {
  const data = new UnixFS({ type: 'file', blockSizes: children.map((c) => BigInt(c.size)) });
  const block = dagPb.encode(
    dagPb.prepare({
      Data: data.marshal(),
      Links: children.map((c) => ({ Hash: c.cid, Name: '', Tsize: c.tsize }))
    })
  );
  const cid = CID.createV1(dagPb.code, await sha256.digest(block));
  const size = children.reduce((n, c) => n + c.size, 0);
  return { cid, size, tsize: block.length + children.reduce((n, c) => n + c.tsize, 0) };
}

/** Reference CID of `size` bytes made by `byte(i)`, chunked at 1 MiB, balanced, 1,024 wide. */
async function reference(size: number, fill: (chunk: Uint8Array, offset: number) => void) {
  let level: Ref[] = [];
  for (let at = 0; at < size || level.length === 0; at += MiB) {
    const chunk = new Uint8Array(Math.min(MiB, size - at));
    fill(chunk, at);
    level.push(await leaf(chunk));
  }
  while (level.length > 1) {
    const next: Ref[] = [];
    for (let i = 0; i < level.length; i += 1024) {
      const group = level.slice(i, i + 1024);
      // A group of one is a node too: only a whole file of one chunk is its leaf alone.
      next.push(await node_(group));
    }
    level = next;
  }
  return level[0]!.cid.toString();
}

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
