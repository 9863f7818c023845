/**
 * Strangers cost little: the capped length-prefixed reader (patches/@libp2p+utils), the Part
 * reassembler's per-peer budget, the step1 answer cache and the deny list.
 */
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream, streamPair } from '@libp2p/utils';
import { describe, expect, it, vi } from 'vitest';
import { createDenyList } from '../../src/lib/p2p/deny-list.js';
import { FrameType } from '../../src/lib/sync/protocol.js';
import { Reassembler } from '../../src/lib/sync/reassembly.js';
import { Step1Cache } from '../../src/lib/sync/step1-cache.js';
import type { Unit } from '../../src/lib/sync/unit.js';

const PEER = '12D3KooWGRUVh4YYHYVCKMcm8b7ct4ZGqBUn8HKMqHgqFkBoFvTE';

function unfinishedVarint(n: number): Uint8Array {
  return new Uint8Array(n).fill(0x80);
}

/** Rejects if `p` has not settled within `ms` (a reader that waits forever fails the test). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('lpStream length prefix (patched @libp2p/utils)', () => {
  it('refuses an unfinished varint past the bytes the max length needs', async () => {
    const [a, b] = await streamPair();
    const reader = lpStream(b, { maxDataLength: 256 * 1024 });
    // 256 KiB needs 3 varint bytes; a 4th continuation byte can never give a valid length.
    a.send(unfinishedVarint(4));
    await expect(within(reader.read(), 2_000)).rejects.toMatchObject({
      name: 'InvalidDataLengthLengthError'
    });
  });

  it('refuses an unfinished varint of more than 8 bytes without any max', async () => {
    const [a, b] = await streamPair();
    const reader = lpStream(b);
    a.send(unfinishedVarint(64 * 1024));
    await expect(within(reader.read(), 2_000)).rejects.toMatchObject({
      name: 'InvalidDataLengthLengthError'
    });
  });

  it('still reads frames whose length prefix arrives one byte at a time', async () => {
    const [a, b] = await streamPair();
    const reader = lpStream(b, { maxDataLength: 256 * 1024 });
    const frame = new Uint8Array(200_000).fill(7);
    const writer = lpStream(a);
    const read = reader.read();
    // 200,000 = a 3-byte varint, split over separate messages
    const prefix = new Uint8Array([0xc0, 0x9a, 0x0c]);
    for (const byte of prefix) a.send(new Uint8Array([byte]));
    a.send(frame);
    expect((await within(read, 2_000)).byteLength).toBe(200_000);
    await writer.write(new Uint8Array([1, 2, 3]));
    expect((await reader.read()).subarray()).toEqual(new Uint8Array([1, 2, 3]));
  });
});

function part(total: number, offset: number, chunk: Uint8Array) {
  return { inner: FrameType.Step2, total, offset, chunk };
}

describe('Reassembler budget', () => {
  it('holds the bytes that arrived, not the size a part declares', () => {
    const r = new Reassembler();
    const result = r.add(`${PEER}\nc`, part(64 * 1024 * 1024, 0, new Uint8Array(10)));
    expect(result.type).toBe('more');
    expect(r.bytesOf(PEER)).toBe(10);
  });

  it('puts parts back together and frees their bytes', () => {
    const r = new Reassembler();
    const key = `${PEER}\nc`;
    expect(r.add(key, part(6, 0, new Uint8Array([1, 2, 3]))).type).toBe('more');
    const done = r.add(key, part(6, 3, new Uint8Array([4, 5, 6])));
    expect(done).toEqual({
      type: 'done',
      inner: FrameType.Step2,
      payload: new Uint8Array([1, 2, 3, 4, 5, 6])
    });
    expect(r.bytesOf(PEER)).toBe(0);
  });

  it('drops every assembly of a peer past its budget (all its docs together)', () => {
    const r = new Reassembler({ maxPeerBytes: 100 });
    expect(r.add(`${PEER}\na`, part(1000, 0, new Uint8Array(60))).type).toBe('more');
    expect(r.add(`${PEER}\nb`, part(1000, 0, new Uint8Array(60))).type).toBe('over-budget');
    expect(r.bytesOf(PEER)).toBe(0);
    // another peer has its own budget
    expect(r.add(`other\na`, part(1000, 0, new Uint8Array(60))).type).toBe('more');
  });

  it('a part restarting at offset 0 replaces the old assembly and its bytes', () => {
    const r = new Reassembler({ maxPeerBytes: 100 });
    for (let i = 0; i < 10; i++) {
      expect(r.add(`${PEER}\na`, part(1000, 0, new Uint8Array(60))).type).toBe('more');
    }
    expect(r.bytesOf(PEER)).toBe(60);
  });
});

function fakeUnit(wire = 'c'): Unit {
  return { wire, generation: 0 } as unknown as Unit;
}

describe('Step1Cache', () => {
  it('answers the same state vector again without computing while the doc is unchanged', () => {
    const cache = new Step1Cache();
    const unit = fakeUnit();
    const compute = vi.fn(() => [new Uint8Array(1000)]);
    const empty = new Uint8Array([0]);
    for (let i = 0; i < 100; i++) cache.answer(unit, empty, compute);
    expect(compute).toHaveBeenCalledTimes(1);
    unit.generation++;
    cache.answer(unit, empty, compute);
    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('shares one storage read among identical requests in flight, and keeps it while the doc is unchanged', async () => {
    const cache = new Step1Cache();
    const unit = fakeUnit();
    let resolve!: (v: Uint8Array[]) => void;
    const compute = vi.fn(() => new Promise<Uint8Array[]>((r) => (resolve = r)));
    const first = cache.answer(unit, new Uint8Array([0]), compute);
    const second = cache.answer(unit, new Uint8Array([0]), compute);
    resolve([new Uint8Array(5)]);
    expect(await first).toBe(await second);
    expect(compute).toHaveBeenCalledTimes(1);
    expect(cache.answer(unit, new Uint8Array([0]), compute)).toBe(await first);
    expect(compute).toHaveBeenCalledTimes(1);
    // The doc changed: read again.
    unit.generation++;
    void cache.answer(unit, new Uint8Array([0]), compute);
    expect(compute).toHaveBeenCalledTimes(2);
  });

  it('does not keep a storage read the doc changed during', async () => {
    const cache = new Step1Cache();
    const unit = fakeUnit();
    let resolve!: (v: Uint8Array[]) => void;
    const compute = vi.fn(() => new Promise<Uint8Array[]>((r) => (resolve = r)));
    const first = cache.answer(unit, new Uint8Array([0]), compute);
    unit.generation++;
    resolve([new Uint8Array(5)]);
    await first;
    expect(cache.size()).toBe(0);
  });

  it('keeps at most maxBytes of answers', () => {
    const cache = new Step1Cache(2500);
    const unit = fakeUnit();
    for (let i = 0; i < 10; i++)
      cache.answer(unit, new Uint8Array([1, i, 1]), () => [new Uint8Array(1000)]);
    expect(cache.size()).toBeLessThanOrEqual(2500);
  });
});

describe('deny list', () => {
  function fakeConnection(peer: string): Connection & { aborted: Error[] } {
    const aborted: Error[] = [];
    return {
      remotePeer: peerIdFromString(peer),
      aborted,
      abort: (err: Error) => aborted.push(err)
    } as unknown as Connection & { aborted: Error[] };
  }

  it('closes the peer connections at once and refuses the peer until the entry expires', () => {
    let now = 0;
    const list = createDenyList({ denyMs: 1000, now: () => now });
    const theirs = fakeConnection(PEER);
    const other = fakeConnection('12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq');
    list.attach({ getConnections: () => [theirs, other] });
    list.deny(PEER, 'junk');
    expect(theirs.aborted.map((e) => e.name)).toEqual(['PeerDeniedError']);
    expect(other.aborted).toEqual([]);
    expect(list.gater.denyInboundEncryptedConnection(peerIdFromString(PEER))).toBe(true);
    expect(list.gater.denyDialPeer(peerIdFromString(PEER))).toBe(true);
    now = 1001;
    expect(list.isDenied(PEER)).toBe(false);
  });

  it('holds at most maxEntries peers', () => {
    const list = createDenyList({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) list.deny(`peer-${i}`, 'junk');
    expect(list.denied()).toEqual(['peer-7', 'peer-8', 'peer-9']);
  });
});
