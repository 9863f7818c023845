import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createIdbDocStore } from '../../../src/lib/storage/doc-store-idb.js';
import { createIdbHistoryStore } from '../../../src/lib/storage/history-store-idb.js';
import {
  createMemoryHistoryBacking,
  createMemoryHistoryStore,
  type HistoryEntry
} from '../../../src/lib/storage/history-store.js';
import { runHistoryStoreContract } from '../../fixtures/history-store-contract.js';

runHistoryStoreContract('memory', () => {
  const backing = createMemoryHistoryBacking();
  return { open: () => createMemoryHistoryStore(backing) };
});

let n = 0;
// A fresh database per test: fake-indexeddb is one global IndexedDB per process.
runHistoryStoreContract('IndexedDB (fake-indexeddb)', () => {
  const name = `history-${++n}`;
  return { open: () => createIdbHistoryStore({ name }) };
});

const entry = (i: number, over: Partial<HistoryEntry> = {}): HistoryEntry => ({
  key: `key-${String(i).padStart(6, '0')}`,
  id: `m${i}`,
  segment: Math.floor(i / 1000),
  author: i % 3 === 0 ? 'me' : 'peer',
  deleted: false,
  ...over
});
const entries = (from: number, to: number): HistoryEntry[] =>
  Array.from({ length: to - from }, (_, i) => entry(from + i));

describe('IndexedDB HistoryStore', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes a batch of 1,000 entries (and a segment update with its entries) in one transaction', async () => {
    const store = createIdbHistoryStore({ name: 'one-tx' });
    await store.list(); // opened
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    await store.putIndex('c', entries(0, 1000));
    expect(transaction.mock.calls.filter((c) => c[1] === 'readwrite')).toHaveLength(1);
    transaction.mockClear();
    await store.appendSegment('c', 1, Y.encodeStateAsUpdate(new Y.Doc()), {
      index: entries(1000, 2000)
    });
    // the first append of a part in a session also counts what is stored, in the same transaction
    expect(transaction.mock.calls.filter((c) => c[1] === 'readwrite')).toHaveLength(1);
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(await store.count('c')).toBe(2000);
    await store.close();
  });

  it('window, range, count, countAfter and position walk no more than they return', async () => {
    const store = createIdbHistoryStore({ name: 'no-scans' });
    // fake-indexeddb's advance() costs ms per step: a small index (Chromium's is a backend loop)
    for (let i = 0; i < 1200; i += 600) await store.putIndex('c', entries(i, i + 600));
    await store.putIndex('c', [entry(1190, { deleted: true }), entry(10, { deleted: true })]);
    const steps = vi.spyOn(IDBCursor.prototype, 'continue');
    const advances = vi.spyOn(IDBCursor.prototype, 'advance');
    const getAll = vi.spyOn(IDBObjectStore.prototype, 'getAll');

    expect((await store.window('c', { limit: 40 })).map((e) => e.id)).toEqual(
      entries(1160, 1200).map((e) => e.id)
    );
    expect(steps.mock.calls.length).toBeLessThanOrEqual(40);
    expect(getAll).not.toHaveBeenCalled();
    steps.mockClear();

    // skips from the nearer end: 300 from the oldest, 199 from the newest
    expect((await store.range('c', { from: 300, limit: 40 }))[0]?.id).toBe('m300');
    expect((await store.range('c', { from: 1000, limit: 40 }))[39]?.id).toBe('m1039');
    expect(steps).not.toHaveBeenCalled();
    expect(advances.mock.calls).toEqual([[300], [199]]);
    expect(getAll).toHaveBeenCalledTimes(2);
    getAll.mockClear();
    const counted = vi.spyOn(IDBObjectStore.prototype, 'count');
    const countedByIndex = vi.spyOn(IDBIndex.prototype, 'count');

    expect(await store.count('c')).toBe(1200);
    expect(await store.position('c', entry(900).key)).toBe(900);
    const notMine = (e: HistoryEntry): boolean => e.author !== 'me' && !e.deleted;
    expect(await store.countAfter('c', undefined, { notAuthor: 'me' })).toBe(
      entries(0, 1200)
        .map((e) => (e.id === 'm1190' || e.id === 'm10' ? { ...e, deleted: true } : e))
        .filter(notMine).length
    );
    // only the two deleted entries are walked; nothing is read in bulk; the total and the
    // never-read unread count come from the stored counts, not from counting all entries
    expect(steps.mock.calls.length).toBeLessThanOrEqual(2);
    expect(getAll).not.toHaveBeenCalled();
    expect(countedByIndex).not.toHaveBeenCalled();
    // position counts only the entries from the key on (300 of them here)
    expect(counted.mock.calls).toHaveLength(1);
    await store.close();
  });

  it('reopens after another tab deletes the database (versionchange)', async () => {
    const store = createIdbHistoryStore({ name: 'deleted-elsewhere' });
    await store.putIndex('c', entries(0, 10));
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase('deleted-elsewhere');
      r.onsuccess = () => resolve();
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('blocked: the store kept its connection open'));
    });
    expect(await store.list()).toEqual([]);
    await store.putIndex('c', entries(0, 3));
    expect(await store.count('c')).toBe(3);
    await store.close();
  });

  it('fails with StorageUnavailableError without IndexedDB', async () => {
    const saved = globalThis.indexedDB;
    // @ts-expect-error -- simulating a browser without IndexedDB
    delete globalThis.indexedDB;
    try {
      const store = createIdbHistoryStore({ name: 'missing' });
      await expect(store.count('c')).rejects.toMatchObject({ name: 'StorageUnavailableError' });
      await expect(store.list()).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    } finally {
      globalThis.indexedDB = saved;
    }
  });

  it('a single-doc conversation stays readable through the DocStore and migrates with replace()', async () => {
    const docs = createIdbDocStore({ prefix: 'mig-doc:', catalog: 'mig-docs' });
    const history = createIdbHistoryStore({ name: 'mig-history' });
    const old = new Y.Doc();
    old.getMap('meta').set('name', 'old');
    const messages = old.getMap<string>('messages');
    for (let i = 0; i < 25; i++) messages.set(`m${i}`, `text ${i}`);
    await docs.append('c', Y.encodeStateAsUpdate(old));

    // What the next session's migration does, crudely: split into head + segments of 10.
    const state = await docs.load('c');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state as Uint8Array);
    const head = new Y.Doc();
    head.getMap('meta').set('name', doc.getMap('meta').get('name'));
    const segments = new Map<number, Uint8Array>();
    const index: HistoryEntry[] = [];
    for (let s = 0; s * 10 < 25; s++) {
      const seg = new Y.Doc();
      for (let i = s * 10; i < Math.min(25, s * 10 + 10); i++) {
        seg.getMap('messages').set(`m${i}`, doc.getMap<string>('messages').get(`m${i}`));
        index.push(entry(i, { segment: s }));
      }
      segments.set(s, Y.encodeStateAsUpdate(seg));
    }
    await history.replace('c', { head: Y.encodeStateAsUpdate(head), segments, index });
    await docs.delete('c');

    expect(await docs.list()).toEqual([]);
    expect(await history.segments('c')).toEqual([0, 1, 2]);
    expect(await history.segmentOf('c', 'm24')).toBe(2);
    const newest = new Y.Doc();
    Y.applyUpdate(newest, (await history.loadSegment('c', 2)) as Uint8Array);
    expect(newest.getMap('messages').get('m24')).toBe('text 24');
    await docs.close();
    await history.close();
  });
});
