/**
 * Files between real libp2p peers (Node, the app's libp2p options, a real relay process):
 * blocks travel over direct WebRTC connections (node-datachannel) with bitswap, never over the
 * relayed ones.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockstore } from 'blockstore-core';
import type { Blockstore } from 'interface-blockstore';
import { multiaddr } from '@multiformats/multiaddr';
import { CID } from 'multiformats/cid';
import { createHash } from 'node:crypto';
import { createFiles, type Files } from '../../src/lib/files/files.js';
import { FileUnavailableError } from '../../src/lib/files/errors.js';
import { WEBRTC_STREAM_OPTIONS } from '../../src/lib/p2p/libp2p-options.js';
import { source } from '../fixtures/files-peers.js';
import { createTestPeer, dialWithRetry, type TestPeer } from '../fixtures/node-peer.js';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';

let relay: RelayHandle;
let relayAddr: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  relay = await startRelay();
  relayAddr = relay.multiaddrs[0] ?? '';
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});
afterAll(async () => {
  await relay?.stop();
});

interface Device {
  node: TestPeer;
  files: Files;
  blockstore: Blockstore;
  id: string;
}

async function device(blockstore: Blockstore = new MemoryBlockstore()): Promise<Device> {
  const node = await createTestPeer({ relay: relayAddr });
  const files = await createFiles({ libp2p: node, blockstore, stallMs: 3_000 });
  cleanups.push(async () => {
    await files.stop();
    await node.stop();
  });
  return { node, files, blockstore, id: node.peerId.toString() };
}

/** A direct WebRTC connection from a to b (signalled through the relay). */
async function connectDirect(a: Device, b: Device): Promise<void> {
  const conn = await dialWithRetry(a.node, `${relayAddr}/p2p-circuit/webrtc/p2p/${b.id}`, {
    attempts: 3,
    attemptTimeoutMs: 15_000
  });
  expect(conn.limits).toBeUndefined();
}

async function sha256Of(files: Files, record: Parameters<Files['read']>[0]): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of files.read(record)) hash.update(part);
  return hash.digest('hex');
}

describe('files between peers', () => {
  it('sends 100 MB encrypted over a direct connection, verified end to end', async () => {
    const [a, b] = [await device(), await device()];
    await connectDirect(b, a);
    const file = source(100 * 1024 * 1024);
    const record = await a.files.add(file);
    expect(record.key).toBeDefined();
    let last = 0;
    const report = await b.files.fetch(record, {
      providers: [a.id],
      onProgress: (p) => {
        expect(p.bytes).toBeGreaterThanOrEqual(last);
        last = p.bytes;
      }
    });
    expect(report.localBlocks).toBe(0);
    expect(report.fetchedBlocks).toBeGreaterThan(400);
    expect(await b.files.isComplete(record)).toBe(true);
    expect(await sha256Of(b.files, record)).toBe(file.sha256);
  }, 240_000);

  it('a public file (1 MiB blocks) comes over streams that buffer 16 MiB', async () => {
    const [a, b] = [await device(), await device()];
    await connectDirect(b, a);
    // What bitswap's answers are buffered in before it reads them (the option goes through
    // @libp2p/webrtc's data channel options to each stream).
    const conn = b.node.getConnections(a.node.peerId).find((c) => c.limits === undefined);
    const stream = await conn!.newStream('/ipfs/bitswap/1.2.0');
    expect((stream as unknown as { maxReadBufferLength: number }).maxReadBufferLength).toBe(
      WEBRTC_STREAM_OPTIONS.maxReadBufferLength
    );
    stream.abort(new Error('looked'));
    const file = source(9 * 1024 * 1024 + 5, 3);
    const record = await a.files.add(file, { public: true });
    expect(record.key).toBeUndefined();
    const report = await b.files.fetch(record, { providers: [a.id] });
    expect(report.fetchedBlocks).toBe(11); // 10 leaves and the root
    expect(await sha256Of(b.files, record)).toBe(file.sha256);
  }, 120_000);

  it('resumes an interrupted fetch asking only for the missing blocks', async () => {
    const [a, b] = [await device(), await device()];
    await connectDirect(b, a);
    const file = source(24 * 1024 * 1024, 2);
    const record = await a.files.add(file);
    const stop = new AbortController();
    let stoppedAt = 0;
    const first = b.files.fetch(record, {
      providers: [a.id],
      signal: stop.signal,
      concurrency: 4,
      onProgress: (p) => {
        if (p.bytes >= p.total / 2 && !stop.signal.aborted) {
          stoppedAt = p.bytes;
          stop.abort(new Error('paused'));
        }
      }
    });
    await expect(first).rejects.toThrow('paused');
    expect(await b.files.isComplete(record)).toBe(false);
    const second = await b.files.fetch(record, { providers: [a.id] });
    const blocks = Math.ceil(file.size / (256 * 1024));
    // Every data block was fetched once: those before the pause are taken from storage.
    expect(second.localBlocks).toBeGreaterThan(0);
    expect(second.fetchedBlocks + second.localBlocks).toBe(blocks + 1);
    expect(second.fetchedBlocks).toBeLessThan(
      blocks - Math.floor(stoppedAt / (256 * 1024 + 16)) + 6
    );
    expect(await sha256Of(b.files, record)).toBe(file.sha256);
  }, 120_000);

  it('a second downloader fetches from the first after the sender left', async () => {
    const [a, b, c] = [await device(), await device(), await device()];
    await connectDirect(b, a);
    const file = source(5 * 1024 * 1024, 3);
    const record = await a.files.add(file);
    await b.files.fetch(record, { providers: [a.id] });
    await a.files.stop();
    await a.node.stop();
    await connectDirect(c, b);
    // The sender is listed first but gone: it is skipped, the first downloader serves it all.
    const report = await c.files.fetch(record, { providers: [a.id, b.id] });
    expect(report.fetchedBlocks).toBe(Math.ceil(file.size / (256 * 1024)) + 1);
    expect(await sha256Of(c.files, record)).toBe(file.sha256);
  }, 120_000);

  it('drops a peer that sends wrong blocks, stores nothing unverified, completes from another', async () => {
    const liarStore = new MemoryBlockstore();
    const [honest, liar, b] = [await device(), await device(liarStore), await device()];
    const file = source(3 * 1024 * 1024, 4);
    const record = await honest.files.add(file);
    // The liar has the root (so it looks like a provider) but answers every leaf with junk.
    for await (const { cid, bytes } of honest.blockstore.getAll()) {
      const parts: Uint8Array[] = [];
      for await (const p of bytes) parts.push(p);
      const block = Buffer.concat(parts);
      // (getAll gives CIDs back as raw ones: compare the multihash)
      const isRoot = Buffer.from(cid.multihash.bytes).equals(CID.parse(record.cid).multihash.bytes);
      const junk = isRoot ? block : new Uint8Array(block.length).fill(7);
      await liarStore.put(cid, junk);
    }
    // Only the liar is reachable at first: it stalls on every leaf and is dropped.
    await connectDirect(b, liar);
    const dropped = new Set<string>();
    await expect(
      b.files.fetch(record, { providers: [liar.id, honest.id], dropped })
    ).rejects.toBeInstanceOf(FileUnavailableError);
    expect([...dropped]).toEqual([liar.id]);
    // Whatever was stored is verified: each block hashes to its CID.
    let stored = 0;
    for await (const { cid, bytes } of b.blockstore.getAll()) {
      const parts: Uint8Array[] = [];
      for await (const p of bytes) parts.push(p);
      const digest = createHash('sha256').update(Buffer.concat(parts)).digest();
      expect(Buffer.from(cid.multihash.digest).equals(digest)).toBe(true);
      stored++;
    }
    expect(stored).toBe(1); // the root only
    // The honest provider comes within reach: the transfer goes on without the liar.
    await connectDirect(b, honest);
    const report = await b.files.fetch(record, { providers: [liar.id, honest.id], dropped });
    expect(report.localBlocks).toBe(1);
    expect(await sha256Of(b.files, record)).toBe(file.sha256);
  }, 120_000);

  it('fails with a clear error when nobody who has the file is reachable', async () => {
    const [a, b] = [await device(), await device()];
    const record = await a.files.add(source(1024 * 1024, 5));
    // Only a relayed connection: bitswap does not run on it.
    await b.node.dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${a.id}`));
    await expect(
      b.files.fetch(record, { providers: [a.id], stallMs: 2_000 })
    ).rejects.toBeInstanceOf(FileUnavailableError);
  }, 60_000);
});
