import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createIdbDocStore } from '../../../src/lib/storage/doc-store-idb.js';
import { encodeBlock, putIndexMeta, VERSION } from '../../../src/lib/storage/history-idb-layout.js';
import { summarize } from '../../../src/lib/storage/history-index-stored.js';
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

const openRaw = (name: string): Promise<IDBDatabase> =>
  new Promise((resolve, reject) => {
    const r = indexedDB.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/** One readwrite transaction over `stores`; resolves when it commits. */
const rawWrite = (
  d: IDBDatabase,
  stores: string | string[],
  fill: (store: IDBObjectStore, t: IDBTransaction) => void
): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = d.transaction(stores, 'readwrite');
    fill(t.objectStore(Array.isArray(stores) ? (stores[0] as string) : stores), t);
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
  });

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

  it('opens on the block summaries: count reads no block, the newest window reads the newest block', async () => {
    const store = createIdbHistoryStore({ name: 'summaries' });
    for (let i = 0; i < 5000; i += 1000) await store.putIndex('c', entries(i, i + 1000));
    await store.putIndex('c', [entry(4990, { deleted: true }), entry(10, { deleted: true })]);
    await store.close();
    const reopened = createIdbHistoryStore({ name: 'summaries' });
    const getAll = vi.spyOn(IDBObjectStore.prototype, 'getAll');
    const get = vi.spyOn(IDBObjectStore.prototype, 'get');
    const blockReads = (): unknown[][] =>
      get.mock.calls.filter((_c, i) => (get.mock.contexts[i] as IDBObjectStore).name === 'blocks');

    expect(await reopened.count('c')).toBe(5000);
    expect(blockReads()).toHaveLength(0);
    expect((await reopened.window('c', { limit: 40 })).map((e) => e.id)).toEqual(
      entries(4960, 5000).map((e) => e.id)
    );
    expect(blockReads()).toEqual([[['c', 4]]]);
    // read since the 4,500th: only the block holding the mark is read (and it is read already)
    const notMine = (e: HistoryEntry): boolean => e.author !== 'me' && !e.deleted;
    const all = entries(0, 5000).map((e) =>
      e.id === 'm4990' || e.id === 'm10' ? { ...e, deleted: true } : e
    );
    expect(await reopened.countAfter('c', entry(4500).key, { notAuthor: 'me' })).toBe(
      all.slice(4501).filter(notMine).length
    );
    expect(await reopened.countAfter('c', undefined, { notAuthor: 'me' })).toBe(
      all.filter(notMine).length
    );
    expect(blockReads()).toHaveLength(1);
    expect(getAll).not.toHaveBeenCalled();
    // the summaries are read once; every query reads only the stamp
    const reads = (store: string): number =>
      get.mock.contexts.filter((c) => (c as IDBObjectStore).name === store).length;
    expect(reads('summaries')).toBe(1);
    expect(reads('stamps')).toBe(4);

    // a lookup by id needs the whole index: read once, then kept
    expect(await reopened.segmentOf('c', 'm1500')).toBe(1);
    expect(getAll).toHaveBeenCalledTimes(1);
    getAll.mockClear();
    expect(await reopened.position('c', entry(900).key)).toBe(900);
    expect((await reopened.range('c', { from: 1000, limit: 40 }))[39]?.id).toBe('m1039');
    expect(getAll).not.toHaveBeenCalled();
    await reopened.close();
  });

  it('a reopened store answers like the memory store over interleaved segments', async () => {
    const memory = createMemoryHistoryStore();
    const idb = createIdbHistoryStore({ name: 'interleaved' });
    // Two writers whose segments overlap in time: keys interleave across blocks.
    let seed = 7;
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const all: HistoryEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const writer = random() < 0.5 ? 0 : 1;
      all.push(
        entry(i, {
          segment: writer * 10 + Math.floor(i / 700),
          author: `w${writer}`,
          deleted: random() < 0.05
        })
      );
    }
    for (let i = 0; i < all.length; i += 250) {
      await memory.putIndex('c', all.slice(i, i + 250));
      await idb.putIndex('c', all.slice(i, i + 250));
    }
    await idb.close();
    const marks = [undefined, ...[0, 1, 999, 2500, 2999].map((i) => entry(i).key)];
    const fresh = (): ReturnType<typeof createIdbHistoryStore> =>
      createIdbHistoryStore({ name: 'interleaved' });
    for (const before of marks)
      for (const limit of [0, 1, 40, 700, 5000]) {
        const reopened = fresh();
        expect(await reopened.window('c', { before, limit })).toEqual(
          await memory.window('c', { before, limit })
        );
        await reopened.close();
      }
    for (const after of marks) {
      const reopened = fresh();
      for (const notAuthor of [undefined, 'w0'])
        expect(await reopened.countAfter('c', after, { notAuthor })).toBe(
          await memory.countAfter('c', after, { notAuthor })
        );
      expect(await reopened.count('c')).toBe(3000);
      await reopened.close();
    }
  });

  it('a write puts the blocks of the segments it touched, not the others', async () => {
    const store = createIdbHistoryStore({ name: 'touched' });
    await store.putIndex('c', entries(0, 5000));
    const put = vi.spyOn(IDBObjectStore.prototype, 'put');
    const blockPuts = (): unknown[] =>
      put.mock.contexts.filter((s) => (s as IDBObjectStore).name === 'blocks');
    await store.putIndex('c', [entry(4999, { deleted: true })]);
    expect(blockPuts()).toHaveLength(1);
    put.mockClear();
    // moving a message from segment 1 to segment 3 rewrites both
    await store.putIndex('c', [entry(1500, { segment: 3 })]);
    expect(blockPuts()).toHaveLength(2);
    put.mockClear();
    await store.appendSegment('c', 5, Y.encodeStateAsUpdate(new Y.Doc()), {
      index: entries(5000, 5010)
    });
    expect(blockPuts()).toHaveLength(1);
    expect(await store.segmentOf('c', 'm1500')).toBe(3);
    expect(await store.count('c')).toBe(5010);
    await store.close();
  });

  it('sees what another store (another tab) wrote since it read the index', async () => {
    const mine = createIdbHistoryStore({ name: 'two-tabs' });
    const theirs = createIdbHistoryStore({ name: 'two-tabs' });
    await mine.putIndex('c', entries(0, 10));
    expect(await mine.count('c')).toBe(10);
    await theirs.putIndex('c', entries(10, 15));
    await theirs.removeIndex('c', ['m0']);
    expect(await mine.count('c')).toBe(14);
    expect(await mine.entry('c', 'm0')).toBeUndefined();
    await mine.putIndex('c', entries(15, 16));
    expect(await theirs.count('c')).toBe(15);
    await mine.close();
    await theirs.close();
  });

  it('a write that fails leaves nothing behind: not the update, not the entries, not in memory', async () => {
    const store = createIdbHistoryStore({ name: 'failed-write' });
    await store.appendSegment('c', 0, Y.encodeStateAsUpdate(new Y.Doc()), {
      index: entries(0, 10)
    });
    const original = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === 'blocks') throw new DOMException('disk full', 'QuotaExceededError');
      return original.apply(this, args);
    });
    const doc = new Y.Doc();
    doc.getMap('m').set('x', 1);
    await expect(
      store.appendSegment('c', 0, Y.encodeStateAsUpdate(doc), { index: entries(10, 20) })
    ).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    vi.restoreAllMocks();
    expect(await store.count('c')).toBe(10);
    const reopened = createIdbHistoryStore({ name: 'failed-write' });
    expect(await reopened.count('c')).toBe(10);
    const stored = new Y.Doc();
    Y.applyUpdate(stored, (await reopened.loadSegment('c', 0)) as Uint8Array);
    expect(stored.getMap('m').has('x')).toBe(false);
    await store.close();
    await reopened.close();
  });

  it('a damaged block is a StorageUnavailableError, and the other conversations still read', async () => {
    const store = createIdbHistoryStore({ name: 'damaged' });
    await store.putIndex('c', entries(0, 10));
    await store.putIndex('d', entries(0, 3));
    await store.close();
    const raw = await openRaw('damaged');
    await rawWrite(raw, 'blocks', (s) => s.put({ k: ['a'], i: [], au: [], a: 1, d: 2 }, ['c', 0]));
    raw.close();
    const reopened = createIdbHistoryStore({ name: 'damaged' });
    await expect(reopened.window('c', { limit: 40 })).rejects.toMatchObject({
      name: 'StorageUnavailableError',
      message: expect.stringContaining('message index') as unknown
    });
    expect(await reopened.count('d')).toBe(3);
    await reopened.close();
  });

  it('upgrades a version 1 database (one record per entry): every entry, in order, nothing lost', async () => {
    // The layout of version 1, written the way its store wrote it.
    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('v1-history', 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('conversations');
        d.createObjectStore('updates', { autoIncrement: true }).createIndex('part', ['c', 'n']);
        const e = d.createObjectStore('entries', { keyPath: ['c', 'k'] });
        e.createIndex('id', ['c', 'i'], { unique: true });
        e.createIndex('author', ['c', 'a', 'k']);
        e.createIndex('deleted', ['c', 'x']);
        d.createObjectStore('counts');
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const old = [...entries(0, 2500), entry(3000, { deleted: true })];
    await rawWrite(v1, ['conversations', 'updates', 'entries', 'counts'], (_s, t) => {
      t.objectStore('conversations').put(true, 'c');
      t.objectStore('updates').add({ c: 'c', n: 0, u: Y.encodeStateAsUpdate(new Y.Doc()) });
      for (const e of old) {
        const record = { c: 'c', k: e.key, i: e.id, s: e.segment, a: e.author };
        t.objectStore('entries').put(e.deleted ? { ...record, x: e.key } : record);
      }
      t.objectStore('entries').put({ c: 'other', k: 'k', i: 'o1', s: 0, a: 'me' });
      t.objectStore('counts').put(old.length, ['c']);
    });
    v1.close();

    const store = createIdbHistoryStore({ name: 'v1-history' });
    expect(await store.list()).toEqual(['c']);
    expect(await store.count('c')).toBe(old.length);
    expect((await store.range('c', { from: 0, limit: 5000 })).map((e) => e.id)).toEqual(
      old.map((e) => e.id)
    );
    expect(await store.entry('c', 'm3000')).toEqual(old.at(-1));
    expect(await store.segmentOf('c', 'm2499')).toBe(2);
    expect(await store.count('other')).toBe(1);
    expect(await store.segments('c')).toEqual([0]);
    expect(await store.envelopes('c', 0)).toEqual([]); // the envelopes store exists, empty
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

  it('an envelope goes in the transaction of its update; a plain append leaves its store out', async () => {
    const store = createIdbHistoryStore({ name: 'envelope-tx' });
    await store.list(); // opened
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const scopes = (): string[][] =>
      transaction.mock.calls
        .filter((c) => c[1] === 'readwrite')
        .map((c) => (typeof c[0] === 'string' ? [c[0]] : [...c[0]]).sort());
    await store.appendSegment('c', 0, Y.encodeStateAsUpdate(new Y.Doc()), {
      index: entries(0, 3)
    });
    await store.appendHead('c', Y.encodeStateAsUpdate(new Y.Doc()));
    expect(scopes().every((s) => !s.includes('envelopes'))).toBe(true);
    transaction.mockClear();
    await store.appendSegment('c', 0, Y.encodeStateAsUpdate(new Y.Doc()), {
      index: entries(3, 6),
      envelope: new Uint8Array([1])
    });
    await store.appendHead('c', Y.encodeStateAsUpdate(new Y.Doc()), new Uint8Array([2]));
    expect(scopes()).toEqual([
      ['blocks', 'conversations', 'envelopes', 'stamps', 'summaries', 'updates'],
      ['conversations', 'envelopes', 'updates']
    ]);
    expect(transaction).toHaveBeenCalledTimes(2);
    expect(await store.envelopes('c', 0)).toEqual([new Uint8Array([1])]);
    await store.close();
  });

  it('an envelope that fails to store takes its update and entries with it (and the reverse)', async () => {
    const store = createIdbHistoryStore({ name: 'failed-envelope' });
    const first = new Y.Doc();
    first.getMap('m').set('a', 1);
    await store.appendSegment('c', 0, Y.encodeStateAsUpdate(first), {
      index: entries(0, 10),
      envelope: new Uint8Array([1])
    });
    const add = IDBObjectStore.prototype.add;
    // An add under a key in use: its request fails later, as a full disk would.
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(function (
      this: IDBObjectStore,
      value: unknown
    ) {
      return this.name === 'envelopes' ? add.call(this, value, 1) : add.call(this, value);
    });
    const doc = new Y.Doc();
    doc.getMap('m').set('x', 1);
    await expect(
      store.appendSegment('c', 0, Y.encodeStateAsUpdate(doc), {
        index: entries(10, 20),
        envelope: new Uint8Array([2])
      })
    ).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    await expect(
      store.appendHead('new', Y.encodeStateAsUpdate(doc), new Uint8Array([3]))
    ).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    vi.restoreAllMocks();
    // and an update that fails takes its envelope with it
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === 'blocks') throw new DOMException('disk full', 'QuotaExceededError');
      return put.apply(this, args);
    });
    await expect(
      store.appendSegment('c', 0, Y.encodeStateAsUpdate(doc), {
        index: entries(10, 20),
        envelope: new Uint8Array([4])
      })
    ).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    vi.restoreAllMocks();
    const reopened = createIdbHistoryStore({ name: 'failed-envelope' });
    for (const s of [store, reopened]) {
      expect(await s.envelopes('c', 0)).toEqual([new Uint8Array([1])]);
      expect(await s.count('c')).toBe(10);
      expect(await s.list()).toEqual(['c']);
      expect(await s.envelopes('new')).toEqual([]);
    }
    const stored = new Y.Doc();
    Y.applyUpdate(stored, (await reopened.loadSegment('c', 0)) as Uint8Array);
    expect(stored.getMap('m').has('x')).toBe(false);
    // and it writes on
    await reopened.appendSegment('c', 0, Y.encodeStateAsUpdate(doc), {
      envelope: new Uint8Array([5])
    });
    expect(await reopened.envelopes('c', 0)).toEqual([new Uint8Array([1]), new Uint8Array([5])]);
    await store.close();
    await reopened.close();
  });

  it('upgrades a version 3 database (no envelopes): everything kept, envelopes stored from then on', async () => {
    // The layout of version 3, written the way its store wrote it.
    const v3 = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('v3-history', 3);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('conversations');
        d.createObjectStore('updates', { autoIncrement: true }).createIndex('part', ['c', 'n']);
        for (const name of ['blocks', 'stamps', 'summaries']) d.createObjectStore(name);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const head = new Y.Doc();
    head.getMap('meta').set('name', 'old');
    const seg = new Y.Doc();
    seg.getMap('messages').set('m1', 'hello');
    const old = entries(0, 5);
    await rawWrite(v3, ['conversations', 'updates', 'blocks', 'stamps', 'summaries'], (_s, t) => {
      t.objectStore('conversations').put(true, 'c');
      t.objectStore('updates').add({ c: 'c', n: -1, u: Y.encodeStateAsUpdate(head) });
      t.objectStore('updates').add({ c: 'c', n: 0, u: Y.encodeStateAsUpdate(seg) });
      t.objectStore('blocks').put(encodeBlock(old), ['c', 0]);
      putIndexMeta(t, 'c', 'v3', [summarize(0, old)]);
    });
    v3.close();

    const store = createIdbHistoryStore({ name: 'v3-history' });
    expect(await store.list()).toEqual(['c']);
    expect(await store.segments('c')).toEqual([0]);
    expect(await store.count('c')).toBe(5);
    expect(await store.range('c', { from: 0, limit: 10 })).toEqual(old);
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, (await store.loadHead('c')) as Uint8Array);
    expect(loaded.getMap('meta').get('name')).toBe('old');
    expect(await store.envelopes('c')).toEqual([]);
    expect(await store.envelopes('c', 0)).toEqual([]);
    seg.getMap('messages').set('m2', 'again');
    await store.appendSegment('c', 0, Y.encodeStateAsUpdate(seg), {
      index: [entry(5)],
      envelope: new Uint8Array([9, 9])
    });
    await store.close();
    const reopened = createIdbHistoryStore({ name: 'v3-history' });
    expect(await reopened.envelopes('c', 0)).toEqual([new Uint8Array([9, 9])]);
    expect(await reopened.count('c')).toBe(6);
    const raw = await openRaw('v3-history');
    expect(raw.version).toBe(VERSION);
    expect([...raw.objectStoreNames].sort()).toEqual([
      'blocks',
      'conversations',
      'envelopes',
      'stamps',
      'summaries',
      'updates'
    ]);
    raw.close();
    await reopened.close();
  });
});
