/**
 * Records that lie: a wrong size or a wrong key gives a clear error on that file (and a wrong
 * size is caught before any leaf is fetched); real libp2p nodes joined in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockstore } from 'blockstore-core';
import { FileDamagedError, FileDecryptError } from '../../../src/lib/files/errors.js';
import { createFiles, type Files } from '../../../src/lib/files/files.js';
import { encodeKey, type FileRecord } from '../../../src/lib/files/record.js';
import type { TestPeer } from '../../fixtures/node-peer.js';
import { connect, memoryPeer } from '../../fixtures/files-peers.js';

let a: TestPeer & { address: string };
let b: TestPeer & { address: string };
let fa: Files;
let fb: Files;
let record: FileRecord;

beforeAll(async () => {
  [a, b] = [await memoryPeer(), await memoryPeer()];
  fa = await createFiles({ libp2p: a, blockstore: new MemoryBlockstore(), stallMs: 1_000 });
  fb = await createFiles({ libp2p: b, blockstore: new MemoryBlockstore(), stallMs: 1_000 });
  await connect(b, a);
  const data = new Uint8Array(600_000).fill(5);
  record = await fa.add({
    name: 'x.bin',
    type: 'application/octet-stream',
    size: data.length,
    stream: () => new Blob([data]).stream()
  });
});
afterAll(async () => {
  await Promise.all([fa.stop(), fb.stop()]);
  await Promise.all([a.stop(), b.stop()]);
});

describe('records that lie', () => {
  it('a wrong size: FileDamagedError, no leaf fetched', async () => {
    const report = fb.fetch(
      { ...record, size: record.size + 1 },
      { providers: [a.peerId.toString()] }
    );
    await expect(report).rejects.toBeInstanceOf(FileDamagedError);
    expect(await fb.stored(record)).toBe(0);
  });

  it('a wrong key: blocks verify, the first segment does not open', async () => {
    await fb.fetch(record, { providers: [a.peerId.toString()] });
    const wrong = { ...record, key: encodeKey(new Uint8Array(32).fill(9)) };
    await expect(fb.read(wrong, { start: 0, end: 1 }).next()).rejects.toBeInstanceOf(
      FileDecryptError
    );
    let n = 0;
    for await (const part of fb.read(record)) n += part.length;
    expect(n).toBe(record.size);
  });
});
