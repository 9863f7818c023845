/**
 * How the IndexedDB blockstore lays out big blocks (src/lib/files/idb-packs.ts), on fake-indexeddb:
 * the big blocks of a batch go into one pack (a Blob) and small ones inline; a pack is deleted
 * with its last block; a block stored twice is one record; a schema-1 database (every block
 * inline) reads on; a refused pack write stores nothing; a block another tab deleted is not read
 * from a pack kept in memory; the PackReader keeps few packs, briefly.
 */
import 'fake-indexeddb/auto';
import { NotFoundError } from 'interface-store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockstoreQuotaError } from '../../../src/lib/files/errors.js';
import { PACK_MIN_BYTES, PackReader, isPackRef } from '../../../src/lib/files/idb-packs.js';
import { block, blocks, drain, mh, read, setup } from './blockstore-helpers.js';

const BIG = PACK_MIN_BYTES + 1000;

/** Every record of `store` in the database `name` of `factory` (key -> value). */
async function records(factory: IDBFactory, store: string, name = 'p2p4e-blocks') {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = factory.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const os = db.transaction(store, 'readonly').objectStore(store);
  const [keys, values] = await Promise.all(
    [os.getAllKeys(), os.getAll()].map(
      (req) =>
        new Promise<unknown[]>((resolve, reject) => {
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        })
    )
  );
  db.close();
  return new Map((keys ?? []).map((key, i) => [String(key), values?.[i]]));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDB blockstore: packs', () => {
  it('stores views of bigger buffers as their own bytes: a pack holds only them, uncopied until then', async () => {
    const { store, factory } = setup();
    const [big, small] = await Promise.all([block(1, BIG), block(2, 300)]);
    // Each block inside a buffer with other bytes around it, as a bitswap message holds them.
    const within = (bytes: Uint8Array) => {
      const buffer = new Uint8Array(bytes.byteLength + 2000).fill(0xee);
      buffer.set(bytes, 1000);
      return buffer.subarray(1000, 1000 + bytes.byteLength);
    };
    const [bigView, smallView] = [within(big.bytes), within(small.bytes)];
    await Promise.all([store.put(big.cid, bigView), store.put(small.cid, smallView)]);

    const [pack] = [...(await records(factory, 'packs')).values()];
    expect((pack as Blob).size).toBe(BIG);
    const inline = (await records(factory, 'blocks')).get(mh(small.cid)) as Uint8Array;
    expect(inline.buffer.byteLength).toBe(300); // copied out, not the whole buffer cloned
    const fresh = setup({}, factory).make();
    expect(await read(fresh, big.cid)).toEqual(big.bytes);
    expect(await read(fresh, small.cid)).toEqual(small.bytes);
  });

  it('stores the big blocks of a batch in one pack and small ones inline; reads each back', async () => {
    const { store, factory, tx } = setup();
    const big = await blocks(12, BIG);
    const small = await Promise.all([100, 101].map((i) => block(i, 300)));
    await Promise.all([...big, ...small].map(({ cid, bytes }) => store.put(cid, bytes)));
    expect(tx.readwrite).toBe(1);

    const packs = await records(factory, 'packs');
    expect(packs.size).toBe(1);
    const [pack] = [...packs.values()];
    expect(pack).toBeInstanceOf(Blob);
    expect((pack as Blob).size).toBe(12 * BIG);
    const all = await records(factory, 'blocks');
    for (const b of big) expect(isPackRef(all.get(mh(b.cid)))).toBe(true);
    for (const b of small) expect(all.get(mh(b.cid))).toEqual(b.bytes);

    const fresh = setup({}, factory).make(); // no cached pack, no pending write
    for (const b of [...big, ...small]) expect(await read(fresh, b.cid)).toEqual(b.bytes);
    expect(await fresh.hasMany(big.map((b) => b.cid))).toEqual(big.map(() => true));
    expect(await fresh.usage()).toEqual({ blocks: 14, bytes: 12 * BIG + 2 * 300 });
  });

  it('deletes a pack with its last block; a block put again is not stored twice', async () => {
    const { store, factory } = setup();
    const first = await blocks(4, BIG);
    const second = await Promise.all([10, 11].map((i) => block(i, BIG)));
    await drain(store.putMany(first));
    await drain(store.putMany(second));
    expect((await records(factory, 'packs')).size).toBe(2);

    // Already stored: skipped, no third pack and no record pointing elsewhere.
    const before = await records(factory, 'blocks');
    await drain(store.putMany([...first.slice(0, 2), ...second]));
    expect((await records(factory, 'packs')).size).toBe(2);
    expect(await records(factory, 'blocks')).toEqual(before);

    await drain(store.deleteMany(first.slice(0, 3).map((b) => b.cid)));
    expect((await records(factory, 'packs')).size).toBe(2); // first[3] still lives in it
    const last = first[3];
    if (last === undefined) throw new Error('no block');
    expect(await read(setup({}, factory).make(), last.cid)).toEqual(last.bytes);
    await store.delete(last.cid);
    expect((await records(factory, 'packs')).size).toBe(1);
    await drain(store.deleteMany(second.map((b) => b.cid)));
    expect((await records(factory, 'packs')).size).toBe(0);
    expect(await store.usage()).toEqual({ blocks: 0, bytes: 0 });

    // Deleted, then stored again: a new pack.
    await store.put(last.cid, last.bytes);
    expect(await read(setup({}, factory).make(), last.cid)).toEqual(last.bytes);
    expect((await records(factory, 'packs')).size).toBe(1);
  });

  it('reads and deletes the blocks of a schema-1 database (every block inline)', async () => {
    const { factory, make } = setup();
    const old = await blocks(3, BIG);
    await new Promise<void>((resolve, reject) => {
      const req = factory.open('p2p4e-blocks', 1);
      req.onupgradeneeded = () => {
        const os = req.result.createObjectStore('blocks');
        for (const b of old) os.put(b.bytes, mh(b.cid));
      };
      req.onsuccess = () => (req.result.close(), resolve());
      req.onerror = () => reject(req.error);
    });
    const store = make();
    for (const b of old) expect(await read(store, b.cid)).toEqual(b.bytes);
    expect(await store.usage()).toEqual({ blocks: 3, bytes: 3 * BIG });
    const [a, b] = old;
    if (a === undefined || b === undefined) throw new Error('no block');
    await store.delete(a.cid);
    await expect(read(store, a.cid)).rejects.toBeInstanceOf(NotFoundError);
    const added = await block(50, BIG);
    await store.put(added.cid, added.bytes);
    expect(isPackRef((await records(factory, 'blocks')).get(mh(added.cid)))).toBe(true);
    expect(await read(make(), b.cid)).toEqual(b.bytes);
  });

  it('a pack the browser refuses (quota) stores none of its blocks and no pack', async () => {
    const { store, factory, make } = setup();
    const kept = await block(9, BIG);
    await store.put(kept.cid, kept.bytes);
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      value: unknown,
      key?: IDBValidKey
    ) {
      if (value instanceof Blob) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return put.call(this, value, key);
    });
    const refused = await blocks(3, BIG);
    const small = await block(77, 100);
    const results = await Promise.allSettled(
      [...refused, small].map(({ cid, bytes }) => store.put(cid, bytes))
    );
    for (const result of results) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { name: 'BlockstoreQuotaError' }
      });
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(BlockstoreQuotaError);
    }
    vi.restoreAllMocks();
    for (const b of [...refused, small]) expect(await make().has(b.cid)).toBe(false);
    expect((await records(factory, 'packs')).size).toBe(1); // kept's
    expect(await read(make(), kept.cid)).toEqual(kept.bytes);
  });

  it('a block deleted in another tab is not read from a pack kept in memory', async () => {
    const { factory, make } = setup();
    const [a, b] = await blocks(2, BIG);
    if (a === undefined || b === undefined) throw new Error('no blocks');
    const mine = make();
    const other = make();
    await Promise.all([a, b].map(({ cid, bytes }) => mine.put(cid, bytes)));
    expect(await read(mine, a.cid)).toEqual(a.bytes); // its pack is now kept in memory
    await drain(other.deleteMany([a.cid, b.cid]));
    expect((await records(factory, 'packs')).size).toBe(0);
    await expect(read(mine, b.cid)).rejects.toBeInstanceOf(NotFoundError);
    expect(await mine.has(a.cid)).toBe(false);
  });
});

describe('PackReader', () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  const pack = new Blob([bytes]);
  const ref = (o: number, l: number) => ({ p: 'pack-1', o, l });

  it('reads a pack whole once, then its other blocks from memory until idle', async () => {
    vi.useFakeTimers();
    try {
      const reader = new PackReader(2, 1_000);
      const arrayBuffer = vi.spyOn(pack, 'arrayBuffer');
      expect(await reader.read(ref(0, 10), pack)).toEqual(bytes.slice(0, 10));
      expect(reader.has('pack-1')).toBe(true);
      expect(await reader.read(ref(90, 10))).toEqual(bytes.slice(90));
      expect(arrayBuffer).toHaveBeenCalledTimes(1);
      expect(await reader.read(ref(95, 10))).toBeNull(); // past its end: not this pack's block
      vi.advanceTimersByTime(999);
      expect(reader.has('pack-1')).toBe(true);
      vi.advanceTimersByTime(1);
      expect(reader.has('pack-1')).toBe(false); // idle: dropped
      expect(await reader.read(ref(0, 10))).toBeNull(); // no pack given, none kept
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps at most `max` packs, and none bigger than its limit', async () => {
    const reader = new PackReader(2, 60_000, 50);
    const other = (p: string) => ({ p, o: 1, l: 2 });
    const small = new Blob([bytes.slice(0, 40)]);
    for (const id of ['a', 'b', 'c']) await reader.read(other(id), small);
    expect(['a', 'b', 'c'].map((id) => reader.has(id))).toEqual([false, true, true]);
    expect(await reader.read(ref(20, 5), pack)).toEqual(bytes.slice(20, 25));
    expect(reader.has('pack-1')).toBe(false); // 100 bytes > 50: sliced, not kept
    reader.clear();
    expect(reader.has('c')).toBe(false);
  });
});

describe('has with knownAbsent', () => {
  it('answers from pending writes only, without a transaction', async () => {
    const { store, tx } = setup();
    const [a, b] = await blocks(2, BIG);
    if (a === undefined || b === undefined) throw new Error('no blocks');
    await store.put(a.cid, a.bytes);
    const reads = tx.readonly;
    // Stored, but the caller says it just learned otherwise: only pending writes count.
    expect(await store.has(a.cid, { knownAbsent: true })).toBe(false);
    const pending = store.put(b.cid, b.bytes);
    expect(await store.has(b.cid, { knownAbsent: true })).toBe(true);
    expect(tx.readonly).toBe(reads);
    await pending;
    expect(await store.has(a.cid)).toBe(true);
  });
});
