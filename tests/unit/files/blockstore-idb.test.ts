/**
 * The batching IndexedDB blockstore (src/lib/files/blockstore-idb.ts) on fake-indexeddb, a fresh
 * IDBFactory per test: round trips, reads of pending writes, far fewer write transactions than
 * blocks, a failed batch (quota) rejecting all its puts and leaving nothing, getAll paging, and
 * data surviving close and a new instance.
 */
import 'fake-indexeddb/auto';
import { NotFoundError } from 'interface-store';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlockstoreQuotaError, BlockstoreWriteError } from '../../../src/lib/files/errors.js';
import { block, blocks, drain, mh, read, setup } from './blockstore-helpers.js';

/** Makes IDBObjectStore.put fail for values of `size` bytes, as `fail` says. */
function failPutsOfSize(size: number, fail: (store: IDBObjectStore) => void): void {
  const put = IDBObjectStore.prototype.put;
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
    this: IDBObjectStore,
    value: unknown,
    key?: IDBValidKey
  ) {
    if (value instanceof Uint8Array && value.byteLength === size) {
      const request = put.call(this, value, key);
      fail(this);
      return request;
    }
    return put.call(this, value, key);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('IndexedDB blockstore (batched writes)', () => {
  it('round trips put, get, has, delete, getMany and deleteMany', async () => {
    const { store } = setup();
    const [a, b, c] = await blocks(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('no blocks');

    expect(await store.put(a.cid, a.bytes)).toBe(a.cid);
    expect(await read(store, a.cid)).toEqual(a.bytes);
    expect(await store.has(a.cid)).toBe(true);
    expect(await store.has(b.cid)).toBe(false);
    await expect(read(store, b.cid)).rejects.toBeInstanceOf(NotFoundError);

    // Chunks (sync and async) are concatenated.
    await store.put(b.cid, [b.bytes.subarray(0, 10), b.bytes.subarray(10)]);
    await store.put(
      c.cid,
      (async function* () {
        yield c.bytes.subarray(0, 1);
        yield c.bytes.subarray(1, 40);
        yield c.bytes.subarray(40);
      })()
    );
    expect(await read(store, b.cid)).toEqual(b.bytes);
    expect(await read(store, c.cid)).toEqual(c.bytes);

    // One record per multihash: CIDv0 (dag-pb) and CIDv1 (raw) of the same bytes share it.
    const v0 = CID.createV0(a.digest);
    expect(await store.has(v0)).toBe(true);
    expect(await read(store, v0)).toEqual(a.bytes);

    const many = await drain(store.getMany([a.cid, c.cid]));
    expect(many.map((pair) => pair.cid)).toEqual([a.cid, c.cid]);
    expect(await drain(many[1]?.bytes ?? [])).toEqual([c.bytes]);

    await store.delete(v0);
    expect(await store.has(a.cid)).toBe(false);
    await expect(read(store, a.cid)).rejects.toMatchObject({ name: 'NotFoundError' });
    await store.delete(a.cid); // deleting what is not there is fine

    expect(await drain(store.deleteMany([b.cid, c.cid]))).toEqual([b.cid, c.cid]);
    expect(await store.has(b.cid)).toBe(false);
    expect(await store.usage()).toEqual({ blocks: 0, bytes: 0 });
  });

  it('reads see pending writes and deletes; a resolved put is committed', async () => {
    const { store, make, tx } = setup();
    await store.open();
    const [a] = await blocks(1);
    if (a === undefined) throw new Error('no block');

    const put = store.put(a.cid, a.bytes);
    expect(await store.has(a.cid)).toBe(true);
    expect(await read(store, a.cid)).toEqual(a.bytes);
    expect(tx.readwrite).toBe(0); // still pending
    await put;
    expect(tx.readwrite).toBe(1);
    expect(await make().has(a.cid)).toBe(true); // another connection sees it: committed

    const del = store.delete(a.cid);
    expect(await store.has(a.cid)).toBe(false);
    await expect(read(store, a.cid)).rejects.toBeInstanceOf(NotFoundError);
    await del;
    expect(await make().has(a.cid)).toBe(false);
  });

  it('hasMany answers for many blocks in one transaction, pending writes and deletes included', async () => {
    const { store, tx } = setup();
    await store.open();
    const [a, b, c, d] = await blocks(4);
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error();
    await store.put(a.cid, a.bytes);
    await store.put(b.cid, b.bytes);
    const pendingPut = store.put(c.cid, c.bytes);
    const pendingDelete = store.delete(b.cid);
    const reads = tx.readonly;
    expect(await store.hasMany([a.cid, b.cid, c.cid, d.cid])).toEqual([true, false, true, false]);
    expect(tx.readonly - reads).toBe(1);
    await Promise.all([pendingPut, pendingDelete]);
    expect(await store.hasMany([d.cid, c.cid, b.cid, a.cid])).toEqual([false, true, false, true]);
    expect(await store.hasMany([])).toEqual([]);
  });

  it('flush writes everything pending in one transaction', async () => {
    const { store, tx } = setup({ maxBatchBlocks: 1000 });
    await store.open();
    const all = await blocks(10);
    const puts = all.map(({ cid, bytes }) => store.put(cid, bytes));
    expect(tx.readwrite).toBe(0);
    await store.flush();
    expect(tx.readwrite).toBe(1);
    expect(await Promise.all(puts)).toEqual(all.map((b) => b.cid));
  });

  it('writes 200 blocks in a few transactions (putMany and concurrent puts)', async () => {
    const { store, tx } = setup();
    const all = await blocks(200);
    expect(await drain(store.putMany(all))).toEqual(all.map((b) => b.cid));
    expect(tx.readwrite).toBeGreaterThan(0);
    expect(tx.readwrite).toBeLessThanOrEqual(4); // 64 blocks per transaction, not 1
    expect(await store.usage()).toEqual({ blocks: 200, bytes: 200 * 64 });
    for (const b of [all[0], all[99], all[199]]) {
      if (b !== undefined) expect(await read(store, b.cid)).toEqual(b.bytes);
    }

    const again = setup();
    await Promise.all(all.map(({ cid, bytes }) => again.store.put(cid, bytes)));
    expect(again.tx.readwrite).toBe(4); // 64 + 64 + 64 + 8

    const bySize = setup({ maxBatchBytes: 1000 });
    const big = await blocks(10, 600);
    await Promise.all(big.map(({ cid, bytes }) => bySize.store.put(cid, bytes)));
    expect(bySize.tx.readwrite).toBe(5); // a batch is written once it holds 1000 bytes
  });

  it('a batch refused for quota rejects all its puts (BlockstoreQuotaError), stores none', async () => {
    const { store, make } = setup();
    const [kept, a, b] = await blocks(3);
    const full = await block(99, 999);
    if (kept === undefined || a === undefined || b === undefined) throw new Error('no blocks');
    await store.put(kept.cid, kept.bytes);

    // The puts throw (as a browser may, synchronously).
    failPutsOfSize(999, () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    });
    const results = await Promise.allSettled([
      store.put(a.cid, a.bytes),
      store.put(b.cid, b.bytes),
      store.put(full.cid, full.bytes)
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      if (result.status !== 'rejected') continue;
      expect(result.reason).toBeInstanceOf(BlockstoreQuotaError);
      expect(result.reason).toBeInstanceOf(BlockstoreWriteError);
      expect(result.reason).toMatchObject({
        name: 'BlockstoreQuotaError',
        cause: { name: 'QuotaExceededError' }
      });
    }
    for (const cid of [a.cid, b.cid, full.cid]) {
      expect(await store.has(cid)).toBe(false);
      expect(await make().has(cid)).toBe(false);
    }
    expect(await store.has(kept.cid)).toBe(true);

    // The transaction aborts with QuotaExceededError (how browsers report it at commit).
    vi.restoreAllMocks();
    failPutsOfSize(999, (objectStore) => {
      const error = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      Object.defineProperty(objectStore.transaction, 'error', { value: error });
      objectStore.transaction.abort();
    });
    const many = drain(store.putMany([a, b, full]));
    await expect(many).rejects.toBeInstanceOf(BlockstoreQuotaError);
    expect(await store.has(a.cid)).toBe(false);
    expect(await make().has(a.cid)).toBe(false);
    await expect(store.flush()).resolves.toBeUndefined(); // the failure went to its puts

    // Another error is a BlockstoreWriteError, not a quota error.
    vi.restoreAllMocks();
    failPutsOfSize(999, () => {
      throw new DOMException('bad key', 'DataError');
    });
    const other = store.put(full.cid, full.bytes);
    await expect(other).rejects.toBeInstanceOf(BlockstoreWriteError);
    await expect(other).rejects.not.toBeInstanceOf(BlockstoreQuotaError);

    // With space again, the same blocks go in.
    vi.restoreAllMocks();
    await Promise.all([a, b, full].map(({ cid, bytes }) => store.put(cid, bytes)));
    expect(await read(store, full.cid)).toEqual(full.bytes);
  });

  it('writes behind: puts resolve before their commit, within the byte bound; a failure is reported', async () => {
    const { store, make } = setup({
      writeBehindBytes: 4 * 1024,
      maxBatchBytes: 2 * 1024,
      maxBatchBlocks: 1000
    });
    const list = await blocks(40, 512); // 20 KiB: five times the bound
    let unwrittenMax = 0;
    const committed = new Set<string>();
    for (const { cid, bytes } of list) {
      await store.put(cid, bytes);
      // Resolved but not necessarily committed: another store sees only what was written.
      const reader = make();
      committed.clear();
      for (const other of list) if (await reader.has(other.cid)) committed.add(mh(other.cid));
      await reader.close();
      const staged = list.findIndex((b) => b.cid.equals(cid)) + 1;
      unwrittenMax = Math.max(unwrittenMax, (staged - committed.size) * 512);
      expect(await store.has(cid)).toBe(true); // this store reads its pending writes
    }
    expect(unwrittenMax).toBeGreaterThan(0); // some puts resolved before their commit
    expect(unwrittenMax).toBeLessThanOrEqual(4 * 1024 + 512); // the bound, plus the put itself
    await store.flush();
    for (const { cid, bytes } of list) expect(await read(make(), cid)).toEqual(bytes);

    // A batch that fails after its puts resolved: listeners and the next flush hear of it.
    const failures: Error[] = [];
    const off = store.onWriteFailure((err) => failures.push(err));
    const big = await block(1000, 999);
    failPutsOfSize(999, (objectStore) => {
      const error = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      Object.defineProperty(objectStore.transaction, 'error', { value: error });
      objectStore.transaction.abort();
    });
    await expect(store.put(big.cid, big.bytes)).resolves.toEqual(big.cid);
    await expect(store.flush()).rejects.toBeInstanceOf(BlockstoreQuotaError);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(BlockstoreQuotaError);
    expect(await store.has(big.cid)).toBe(false);
    expect(await make().has(big.cid)).toBe(false);
    off();
    vi.restoreAllMocks();
    await store.put(big.cid, big.bytes);
    await store.flush();
    expect(failures).toHaveLength(1); // off() stopped the reports
    expect(await read(make(), big.cid)).toEqual(big.bytes);
  });

  it('getAll pages through 150 blocks as CIDv1 raw, pending writes included', async () => {
    const { store, tx } = setup();
    const all = await blocks(151);
    const last = all.pop();
    if (last === undefined) throw new Error('no block');
    await drain(store.putMany(all));
    const pending = store.put(CID.createV0(last.digest), last.bytes);

    const before = tx.readonly;
    const pairs = await drain(store.getAll());
    expect(tx.readonly - before).toBe(3); // 64 + 64 + 23 keys, bytes not read yet
    await pending;

    expect(pairs).toHaveLength(151);
    const expected = new Map([...all, last].map((b) => [mh(b.cid), b]));
    for (const { cid, bytes } of pairs) {
      expect(cid.version).toBe(1);
      expect(cid.code).toBe(raw.code);
      const b = expected.get(mh(cid));
      expect(b?.cid.equals(cid)).toBe(true);
      expect(await drain(bytes)).toEqual([b?.bytes]);
      expected.delete(mh(cid));
    }
    expect(expected.size).toBe(0);
  });

  it('keeps blocks across close and a new instance; a closed store refuses work', async () => {
    const { store, make } = setup({ name: 'reopen-test' });
    const all = await blocks(5);
    await drain(store.putMany(all.slice(0, 4)));
    const [, , , , fifth] = all;
    if (fifth === undefined) throw new Error('no block');
    const pending = store.put(fifth.cid, fifth.bytes);
    await store.close(); // writes the pending put first
    await expect(pending).resolves.toBe(fifth.cid);
    await expect(store.has(fifth.cid)).rejects.toThrow(/closed/);
    await expect(store.put(fifth.cid, fifth.bytes)).rejects.toThrow(/closed/);

    const reopened = make();
    for (const b of all) expect(await read(reopened, b.cid)).toEqual(b.bytes);
    expect(await reopened.usage()).toEqual({ blocks: 5, bytes: 5 * 64 });
    await reopened.close();

    await store.open();
    expect(await read(store, fifth.cid)).toEqual(fifth.bytes);
    await store.close();
  });
});
