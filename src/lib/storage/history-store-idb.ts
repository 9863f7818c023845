import * as Y from 'yjs';
import { StorageUnavailableError } from './errors.js';
import {
  checkConv,
  checkCount,
  checkEntry,
  checkIds,
  checkKey,
  checkSegment,
  checkUpdate,
  closedError,
  createSerializer,
  HISTORY_COMPACT_AFTER,
  type HistoryEntry,
  type HistoryStore
} from './history-store.js';
import {
  VERSION,
  CONVERSATIONS,
  UPDATES,
  ENTRIES,
  COUNTS,
  BY_PART,
  BY_ID,
  BY_AUTHOR,
  BY_DELETED,
  HEAD,
  type EntryRecord,
  type UpdateRecord,
  fromRecord,
  allOf,
  request,
  deleteUpdates,
  done,
  writeEntries,
  readCount
} from './history-idb-layout.js';

export interface IdbHistoryStoreInit {
  /** Database name (default 'p2p4e-history'). */
  name?: string;
  /** Stored updates of a head or segment before they are merged (default HISTORY_COMPACT_AFTER). */
  compactAfter?: number;
}

export const DEFAULT_IDB_HISTORY_STORE = { name: 'p2p4e-history' } as const;

/**
 * HistoryStore in IndexedDB: one database for all conversations.
 *
 * - `conversations`: conversation id -> true (what `list()` returns).
 * - `updates`: auto-increment key -> { c, n, u } (n = -1 head, n >= 0 segment n), index
 *   [c, n]. Each append is one `add` (no read first); a head or segment is merged into one
 *   update past `compactAfter` appends, and on load when it has more than one (written back
 *   after the caller has the merged state).
 * - `entries`: the message index, key path [c, key], so `window` is a cursor over one
 *   conversation's newest keys. Indexes: `id` [c, id] (unique: upsert by id, segmentOf),
 *   `author` [c, author, key] (unread counts without my messages), `deleted` [c, key] of
 *   deleted entries only.
 * - `counts`: [c] -> entries, [c, author] -> that author's entries, changed in the same
 *   transaction as the entries. Chromium's `count()` walks the records, so `count` and the
 *   never-read `countAfter` read these instead.
 *
 * Costs: `count`, `entry`, `segmentOf` O(1); `window` O(limit); `countAfter(mark)` walks the
 * keys after the mark (the unread ones) plus the deleted ones; `position(key)` walks the keys
 * from `key` to the newest; `range` skips to `from` from the nearer end (O(min(from, n -
 * from))) then reads `limit` in one request. Scroll back with `window({ before })`, jump with
 * `range`.
 *
 * Every write is one transaction (a batch of 1,000 entries included; `appendSegment` with
 * index changes writes both together). Operations on one conversation run one after another.
 * Nothing is opened until the first call.
 */
export function createIdbHistoryStore(init: IdbHistoryStoreInit = {}): HistoryStore {
  const name = init.name ?? DEFAULT_IDB_HISTORY_STORE.name;
  const compactAfter = init.compactAfter ?? HISTORY_COMPACT_AFTER;
  const serial = createSerializer();
  /** Updates stored per `${conv}\n${part}`, as far as this store knows (compaction trigger). */
  const updateCounts = new Map<string, number>();
  let db: Promise<IDBDatabase> | undefined;
  let closed = false;

  const open = (): Promise<IDBDatabase> =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, VERSION);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore(CONVERSATIONS);
        d.createObjectStore(UPDATES, { autoIncrement: true }).createIndex(BY_PART, ['c', 'n']);
        const entries = d.createObjectStore(ENTRIES, { keyPath: ['c', 'k'] });
        entries.createIndex(BY_ID, ['c', 'i'], { unique: true });
        entries.createIndex(BY_AUTHOR, ['c', 'a', 'k']);
        entries.createIndex(BY_DELETED, ['c', 'x']);
        d.createObjectStore(COUNTS);
      };
      r.onsuccess = () => {
        const d = r.result;
        // Another tab deletes or upgrades the database: let it, reopen on the next call.
        d.onversionchange = () => {
          d.close();
          db = undefined;
          updateCounts.clear();
        };
        resolve(d);
      };
      r.onerror = () => reject(r.error);
    }).catch((err: unknown) => {
      db = undefined;
      throw err;
    }));

  const guard = async <T>(what: string, fn: (d: IDBDatabase) => Promise<T>): Promise<T> => {
    if (closed) throw closedError();
    if (typeof indexedDB === 'undefined') {
      throw new StorageUnavailableError('IndexedDB is not available in this browser');
    }
    try {
      return await fn(await open());
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw err;
      throw new StorageUnavailableError(`Could not ${what} in IndexedDB`, { cause: err });
    }
  };
  /** Serialized per conversation, guarded. */
  const op = <T>(conv: string, what: string, fn: (d: IDBDatabase) => Promise<T>): Promise<T> => {
    checkConv(conv);
    return serial(conv, () => guard(what, fn));
  };

  const partKey = (conv: string, part: number): string => `${conv}\n${part}`;

  /** Reads a part's updates and keys; merges them in memory. */
  const readPart = async (
    d: IDBDatabase,
    conv: string,
    part: number
  ): Promise<{ merged: Uint8Array; keys: IDBValidKey[] } | undefined> => {
    const t = d.transaction(UPDATES, 'readonly');
    const index = t.objectStore(UPDATES).index(BY_PART);
    const [records, keys] = await Promise.all([
      request(index.getAll([conv, part]) as IDBRequest<UpdateRecord[]>),
      request(index.getAllKeys([conv, part]))
    ]);
    if (records.length === 0) return undefined;
    const updates = records.map((r) => r.u);
    const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
    return { merged, keys };
  };

  /** Replaces the updates stored under `keys` by `merged` (one transaction). */
  const writeBack = async (
    d: IDBDatabase,
    conv: string,
    part: number,
    merged: Uint8Array,
    keys: IDBValidKey[]
  ): Promise<void> => {
    const t = d.transaction(UPDATES, 'readwrite');
    const store = t.objectStore(UPDATES);
    for (const key of keys) store.delete(key);
    store.add({ c: conv, n: part, u: merged } satisfies UpdateRecord);
    await done(t);
    const pk = partKey(conv, part);
    const known = updateCounts.get(pk);
    updateCounts.set(pk, known === undefined ? 1 : Math.max(1, known - keys.length + 1));
  };

  const load = (conv: string, part: number): Promise<Uint8Array | undefined> =>
    op(conv, 'read a conversation', async (d) => {
      const read = await readPart(d, conv, part);
      if (read === undefined) {
        updateCounts.set(partKey(conv, part), 0);
        return undefined;
      }
      if (read.keys.length > 1) {
        // The caller gets the state now; the merge is stored right after, in the queue.
        const { merged, keys } = read;
        serial(conv, () =>
          guard('compact a conversation', (d2) => writeBack(d2, conv, part, merged, keys))
        ).catch(
          () => undefined // only an optimization: the separate updates stay valid
        );
      } else {
        updateCounts.set(partKey(conv, part), 1);
      }
      return read.merged.slice();
    });

  const append = (
    conv: string,
    part: number,
    update: Uint8Array,
    index: readonly HistoryEntry[],
    remove: readonly string[]
  ): Promise<void> =>
    op(conv, 'save a conversation', async (d) => {
      const withIndex = index.length > 0 || remove.length > 0;
      const t = d.transaction(
        withIndex ? [CONVERSATIONS, UPDATES, ENTRIES, COUNTS] : [CONVERSATIONS, UPDATES],
        'readwrite'
      );
      const pk = partKey(conv, part);
      let known = updateCounts.get(pk);
      // Not known yet in this session: count what is stored (requested before the add).
      const counted =
        known === undefined
          ? request(t.objectStore(UPDATES).index(BY_PART).count([conv, part]))
          : undefined;
      t.objectStore(CONVERSATIONS).put(true, conv);
      t.objectStore(UPDATES).add({ c: conv, n: part, u: update } satisfies UpdateRecord);
      if (withIndex) writeEntries(t, conv, index, remove);
      const finished = done(t);
      if (counted !== undefined) known = await counted;
      await finished;
      const n = (known ?? 0) + 1;
      updateCounts.set(pk, n);
      if (n >= compactAfter) {
        const read = await readPart(d, conv, part);
        if (read !== undefined && read.keys.length > 1)
          await writeBack(d, conv, part, read.merged, read.keys);
      }
    });

  /** Collects up to `limit` records from a cursor request. */
  const collect = (
    r: IDBRequest<IDBCursorWithValue | null>,
    limit: number
  ): Promise<EntryRecord[]> =>
    new Promise((resolve, reject) => {
      const out: EntryRecord[] = [];
      r.onerror = () => reject(r.error);
      r.onsuccess = () => {
        const cursor = r.result;
        if (cursor === null) return resolve(out);
        out.push(cursor.value as EntryRecord);
        if (out.length >= limit) resolve(out);
        else cursor.continue();
      };
    });

  const entry = (conv: string, id: string): Promise<HistoryEntry | undefined> =>
    op(conv, 'read the message index', async (d) => {
      const t = d.transaction(ENTRIES, 'readonly');
      const r = (await request(t.objectStore(ENTRIES).index(BY_ID).get([conv, id]))) as
        EntryRecord | undefined;
      return r === undefined ? undefined : fromRecord(r);
    });

  return {
    async loadHead(conv) {
      return load(conv, HEAD);
    },
    async appendHead(conv, update) {
      checkUpdate(update);
      return append(conv, HEAD, update.slice(), [], []);
    },
    async loadSegment(conv, n) {
      checkSegment(n);
      return load(conv, n);
    },
    async appendSegment(conv, n, update, write = {}) {
      checkSegment(n);
      checkUpdate(update);
      const index = (write.index ?? []).map(checkEntry);
      const remove = [...(write.remove ?? [])];
      checkIds(remove);
      return append(conv, n, update.slice(), index, remove);
    },
    async segments(conv) {
      return op(conv, 'list segments', async (d) => {
        const t = d.transaction(UPDATES, 'readonly');
        const r = t
          .objectStore(UPDATES)
          .index(BY_PART)
          .openKeyCursor(IDBKeyRange.bound([conv, 0], [conv, Infinity]), 'nextunique');
        return new Promise<number[]>((resolve, reject) => {
          const out: number[] = [];
          r.onerror = () => reject(r.error);
          r.onsuccess = () => {
            const cursor = r.result;
            if (cursor === null) return resolve(out);
            out.push((cursor.key as [string, number])[1]);
            cursor.continue();
          };
        });
      });
    },
    async putIndex(conv, entries) {
      const checked = entries.map(checkEntry);
      if (checked.length === 0) return checkConv(conv);
      return op(conv, 'save the message index', async (d) => {
        const t = d.transaction([CONVERSATIONS, ENTRIES, COUNTS], 'readwrite');
        t.objectStore(CONVERSATIONS).put(true, conv);
        writeEntries(t, conv, checked, []);
        await done(t);
      });
    },
    async removeIndex(conv, ids) {
      const copy = [...ids];
      checkIds(copy);
      if (copy.length === 0) return checkConv(conv);
      return op(conv, 'save the message index', async (d) => {
        const t = d.transaction([ENTRIES, COUNTS], 'readwrite');
        writeEntries(t, conv, [], copy);
        await done(t);
      });
    },
    async window(conv, { before, limit }) {
      if (before !== undefined) checkKey('before', before);
      checkCount('limit', limit);
      return op(conv, 'read the message index', async (d) => {
        if (limit === 0) return [];
        const t = d.transaction(ENTRIES, 'readonly');
        const range =
          before === undefined
            ? allOf(conv)
            : IDBKeyRange.bound([conv], [conv, before], false, true);
        const records = await collect(t.objectStore(ENTRIES).openCursor(range, 'prev'), limit);
        return records.reverse().map(fromRecord);
      });
    },
    async range(conv, { from, limit }) {
      checkCount('from', from);
      checkCount('limit', limit);
      return op(conv, 'read the message index', async (d) => {
        if (limit === 0) return [];
        const t = d.transaction([ENTRIES, COUNTS], 'readonly');
        const store = t.objectStore(ENTRIES);
        let lower: IDBKeyRange = allOf(conv);
        if (from > 0) {
          const total = await readCount(t, [conv]);
          if (from >= total) return [];
          // Find the key at `from` by skipping keys from the nearer end (the backend walks
          // them: the cost grows with the distance), then read on from it in one getAll.
          const fromEnd = from >= total / 2;
          const skip = fromEnd ? total - 1 - from : from;
          const first = await new Promise<IDBValidKey | undefined>((resolve, reject) => {
            const r = store.openKeyCursor(allOf(conv), fromEnd ? 'prev' : 'next');
            let skipped = skip === 0;
            r.onerror = () => reject(r.error);
            r.onsuccess = () => {
              const cursor = r.result;
              if (cursor === null) return resolve(undefined);
              if (skipped) return resolve(cursor.primaryKey);
              skipped = true;
              cursor.advance(skip);
            };
          });
          if (first === undefined) return [];
          lower = IDBKeyRange.bound(first, [conv, []]);
        }
        const records = (await request(store.getAll(lower, limit))) as EntryRecord[];
        return records.map(fromRecord);
      });
    },
    async count(conv) {
      return op(conv, 'read the message index', async (d) => {
        return readCount(d.transaction(COUNTS, 'readonly'), [conv]);
      });
    },
    async countAfter(conv, after, options = {}) {
      if (after !== undefined) checkKey('after', after);
      const me = options.notAuthor;
      if (me !== undefined) checkKey('notAuthor', me);
      return op(conv, 'read the message index', async (d) => {
        const t = d.transaction([ENTRIES, COUNTS], 'readonly');
        const store = t.objectStore(ENTRIES);
        const upper = [conv, []];
        const afterRange = (...prefix: string[]): IDBKeyRange =>
          after === undefined
            ? IDBKeyRange.bound([conv, ...prefix], [conv, ...prefix, []])
            : IDBKeyRange.bound([conv, ...prefix, after], [conv, ...prefix, []], true);
        // unread = all after - mine after - deleted after that are not mine. Never read: the
        // stored counts; otherwise counts over the keys after the mark (the backend walks them).
        const all = after === undefined ? readCount(t, [conv]) : request(store.count(afterRange()));
        const mine =
          me === undefined
            ? Promise.resolve(0)
            : after === undefined
              ? readCount(t, [conv, me])
              : request(store.index(BY_AUTHOR).count(afterRange(me)));
        const deleted = new Promise<number>((resolve, reject) => {
          const r = store
            .index(BY_DELETED)
            .openCursor(
              after === undefined
                ? IDBKeyRange.bound([conv], upper)
                : IDBKeyRange.bound([conv, after], upper, true)
            );
          let n = 0;
          r.onerror = () => reject(r.error);
          r.onsuccess = () => {
            const cursor = r.result;
            if (cursor === null) return resolve(n);
            if ((cursor.value as EntryRecord).a !== me) n++;
            cursor.continue();
          };
        });
        const [a, m, x] = await Promise.all([all, mine, deleted]);
        return a - m - x;
      });
    },
    async position(conv, key) {
      checkKey('key', key);
      return op(conv, 'read the message index', async (d) => {
        // All entries minus those from `key` on: the backend walks only the newer ones (the
        // positions asked for are mostly recent: read marks, the newest window).
        const t = d.transaction([ENTRIES, COUNTS], 'readonly');
        const [total, newer] = await Promise.all([
          readCount(t, [conv]),
          request(t.objectStore(ENTRIES).count(IDBKeyRange.bound([conv, key], [conv, []])))
        ]);
        return total - newer;
      });
    },
    async entry(conv, id) {
      checkKey('id', id);
      return entry(conv, id);
    },
    async segmentOf(conv, id) {
      checkKey('id', id);
      return (await entry(conv, id))?.segment;
    },
    async replace(conv, snapshot) {
      const head = snapshot.head;
      if (head !== undefined) checkUpdate(head);
      const segments: [number, Uint8Array][] = [];
      for (const [n, u] of snapshot.segments) {
        checkSegment(n);
        checkUpdate(u);
        segments.push([n, u.slice()]);
      }
      const headCopy = head?.slice();
      const index = snapshot.index.map(checkEntry);
      return op(conv, 'save a conversation', async (d) => {
        const t = d.transaction([CONVERSATIONS, UPDATES, ENTRIES, COUNTS], 'readwrite');
        const finished = done(t);
        t.objectStore(ENTRIES).delete(allOf(conv));
        t.objectStore(COUNTS).delete(allOf(conv));
        await deleteUpdates(t, conv);
        const updates = t.objectStore(UPDATES);
        if (headCopy !== undefined) updates.add({ c: conv, n: HEAD, u: headCopy });
        for (const [n, u] of segments) updates.add({ c: conv, n, u } satisfies UpdateRecord);
        writeEntries(t, conv, index, []);
        const conversations = t.objectStore(CONVERSATIONS);
        if (headCopy === undefined && segments.length === 0 && index.length === 0)
          conversations.delete(conv);
        else conversations.put(true, conv);
        await finished;
        for (const pk of [...updateCounts.keys()])
          if (pk.startsWith(`${conv}\n`)) updateCounts.delete(pk);
      });
    },
    async list() {
      return guard('list conversations', async (d) => {
        const t = d.transaction(CONVERSATIONS, 'readonly');
        const keys = await request(t.objectStore(CONVERSATIONS).getAllKeys());
        return keys.filter((k): k is string => typeof k === 'string').sort();
      });
    },
    async delete(conv) {
      return op(conv, 'delete a conversation', async (d) => {
        const t = d.transaction([CONVERSATIONS, UPDATES, ENTRIES, COUNTS], 'readwrite');
        const finished = done(t);
        t.objectStore(CONVERSATIONS).delete(conv);
        t.objectStore(ENTRIES).delete(allOf(conv));
        t.objectStore(COUNTS).delete(allOf(conv));
        await deleteUpdates(t, conv);
        await finished;
        for (const pk of [...updateCounts.keys()])
          if (pk.startsWith(`${conv}\n`)) updateCounts.delete(pk);
      });
    },
    async close() {
      closed = true;
      const current = db;
      db = undefined;
      (await current?.catch(() => undefined))?.close();
    }
  };
}
