import * as Y from 'yjs';
import { StorageUnavailableError } from './errors.js';
import {
  checkConv,
  checkCount,
  checkEntry,
  checkIds,
  checkKey,
  checkPart,
  checkPositions,
  checkSegment,
  checkUpdate,
  closedError,
  copyEnvelope,
  keepable,
  createSerializer
} from './history-checks.js';
import { HISTORY_COMPACT_AFTER, type HistoryEntry, type HistoryStore } from './history-store.js';
import {
  VERSION,
  CONVERSATIONS,
  UPDATES,
  ENVELOPES,
  BLOCKS,
  STAMPS,
  SUMMARIES,
  INDEX_STORES,
  BY_PART,
  HEAD,
  type UpdateRecord,
  type EnvelopeRecord,
  allOf,
  request,
  deleteParts,
  readEnvelopes,
  deleteEnvelopesAt,
  segmentsOf,
  done,
  upgrade,
  blockReader
} from './history-idb-layout.js';
import { commit, createIdbIndexCache } from './history-idb-index.js';
import { MessageIndex } from './history-index.js';
import type { BlockReader, StoredIndex } from './history-index-stored.js';

export { INDEX_CACHE_SIZE } from './history-idb-index.js';

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
 * - `blocks`: the message index, [c, segment] -> the entries of that segment (history-idb-layout
 *   says why blocks: IndexedDB's cost per record).
 * - `stamps`: c -> a stamp that changes with every index write (read before every query).
 * - `summaries`: c -> a summary per block (its segment, lowest and highest key, entries, live
 *   entries per author), read when the stamp says the cached index is stale.
 * - `envelopes`: auto-increment key -> { c, n, e }, index [c, n]: the envelope of an append, added
 *   in its transaction (which covers the store only then); never merged.
 *
 * Queries run on a `StoredIndex` kept for the `INDEX_CACHE_SIZE` conversations used last
 * (history-idb-index.ts); each costs one read of the stamp (another tab's write makes it start
 * over). `count` needs only the summaries; the newest `window` and a recent unread count read the
 * newest block or two (opening 100,000 messages reads ~1,000 entries, not all); `entry`,
 * `segmentOf`, `position`, `range` and every write read the whole index once (one getAll: ~100
 * records for 100,000 messages) and keep it. A write changes that index, then puts the blocks of
 * the segments it touched, the summaries and a new stamp in the same transaction as the update; if
 * that transaction fails, the cached index is dropped.
 *
 * Every write is one transaction. Operations on one conversation run one after another.
 * Nothing is opened until the first call.
 */
export function createIdbHistoryStore(init: IdbHistoryStoreInit = {}): HistoryStore {
  const name = init.name ?? DEFAULT_IDB_HISTORY_STORE.name;
  const compactAfter = init.compactAfter ?? HISTORY_COMPACT_AFTER;
  const serial = createSerializer();
  /** Updates stored per `${conv}\n${part}`, as far as this store knows (compaction trigger). */
  const updateCounts = new Map<string, number>();
  /** The message indexes (history-idb-index.ts). */
  const indexes = createIdbIndexCache();
  let db: Promise<IDBDatabase> | undefined;
  let closed = false;

  const open = (): Promise<IDBDatabase> =>
    (db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(name, VERSION);
      r.onupgradeneeded = (event) => {
        upgrade(r.result, r.transaction as IDBTransaction, event.oldVersion);
      };
      r.onsuccess = () => {
        const d = r.result;
        // Another tab deletes or upgrades the database: let it, reopen on the next call.
        d.onversionchange = () => {
          d.close();
          db = undefined;
          updateCounts.clear();
          indexes.clear();
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

  /** Runs a query on the index of `conv`. */
  const query = <T>(
    conv: string,
    fn: (stored: StoredIndex, io: BlockReader) => Promise<T>
  ): Promise<T> =>
    op(conv, 'read the message index', async (d) => {
      const t = d.transaction(INDEX_STORES, 'readonly');
      return fn(await indexes.indexIn(t, conv), blockReader(t, conv));
    });

  /** Runs a query that needs the whole index. */
  const lookup = <T>(conv: string, fn: (index: MessageIndex) => T): Promise<T> =>
    query(conv, async (stored, io) => fn(await stored.index(io)));

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
    remove: readonly string[],
    envelope: Uint8Array | undefined
  ): Promise<void> =>
    op(conv, 'save a conversation', async (d) => {
      const withIndex = index.length > 0 || remove.length > 0;
      const stores = [CONVERSATIONS, UPDATES];
      if (envelope !== undefined) stores.push(ENVELOPES);
      const t = d.transaction(withIndex ? [...stores, ...INDEX_STORES] : stores, 'readwrite');
      const finished = done(t);
      const pk = partKey(conv, part);
      let known = updateCounts.get(pk);
      // Not known yet in this session: count what is stored (requested before the add).
      const counted =
        known === undefined
          ? request(t.objectStore(UPDATES).index(BY_PART).count([conv, part]))
          : undefined;
      // First: should it throw, nothing is written (the count above only reads).
      if (envelope !== undefined)
        t.objectStore(ENVELOPES).add({ c: conv, n: part, e: envelope } satisfies EnvelopeRecord);
      t.objectStore(CONVERSATIONS).put(true, conv);
      t.objectStore(UPDATES).add({ c: conv, n: part, u: update } satisfies UpdateRecord);
      const settle = withIndex ? await indexes.change(t, conv, index, remove) : () => undefined;
      if (counted !== undefined) known = await counted;
      await commit(finished, settle);
      const n = (known ?? 0) + 1;
      updateCounts.set(pk, n);
      if (n >= compactAfter) {
        const read = await readPart(d, conv, part);
        if (read !== undefined && read.keys.length > 1)
          await writeBack(d, conv, part, read.merged, read.keys);
      }
    });

  /** Changes only the index (putIndex, removeIndex). */
  const writeIndex = (
    conv: string,
    puts: readonly HistoryEntry[],
    removes: readonly string[]
  ): Promise<void> =>
    op(conv, 'save the message index', async (d) => {
      const t = d.transaction([CONVERSATIONS, ...INDEX_STORES], 'readwrite');
      const finished = done(t);
      if (puts.length > 0) t.objectStore(CONVERSATIONS).put(true, conv);
      await commit(finished, await indexes.change(t, conv, puts, removes));
    });

  return {
    async loadHead(conv) {
      return load(conv, HEAD);
    },
    async appendHead(conv, update, envelope) {
      checkUpdate(update);
      return append(conv, HEAD, keepable(update), [], [], copyEnvelope(envelope));
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
      return append(conv, n, keepable(update), index, remove, copyEnvelope(write.envelope));
    },
    async segments(conv) {
      return op(conv, 'list segments', async (d) =>
        segmentsOf(d.transaction(UPDATES, 'readonly'), conv)
      );
    },
    async envelopes(conv, n) {
      checkPart(n);
      return op(conv, 'read envelopes', (d) => readEnvelopes(d, conv, n ?? HEAD));
    },
    async dropEnvelopes(conv, n, which, replacement) {
      checkPart(n);
      const gone = new Set(checkPositions(which));
      const add = replacement === undefined ? undefined : copyEnvelope(replacement);
      return op(conv, 'drop envelopes', (d) => deleteEnvelopesAt(d, conv, n ?? HEAD, gone, add));
    },
    async putIndex(conv, entries) {
      const checked = entries.map(checkEntry);
      if (checked.length === 0) return checkConv(conv);
      return writeIndex(conv, checked, []);
    },
    async removeIndex(conv, ids) {
      const copy = [...ids];
      checkIds(copy);
      if (copy.length === 0) return checkConv(conv);
      return writeIndex(conv, [], copy);
    },
    async window(conv, { before, limit }) {
      if (before !== undefined) checkKey('before', before);
      checkCount('limit', limit);
      return query(conv, (stored, io) => stored.window(io, before, limit));
    },
    async range(conv, { from, limit }) {
      checkCount('from', from);
      checkCount('limit', limit);
      return lookup(conv, (index) => index.range(from, limit));
    },
    async count(conv) {
      return query(conv, (stored, io) => stored.count(io));
    },
    async countAfter(conv, after, options = {}) {
      if (after !== undefined) checkKey('after', after);
      const me = options.notAuthor;
      if (me !== undefined) checkKey('notAuthor', me);
      return query(conv, (stored, io) => stored.countAfter(io, after, me));
    },
    async position(conv, key) {
      checkKey('key', key);
      return lookup(conv, (index) => index.position(key));
    },
    async entry(conv, id) {
      checkKey('id', id);
      return lookup(conv, (index) => index.entry(id));
    },
    async segmentOf(conv, id) {
      checkKey('id', id);
      return lookup(conv, (index) => index.segmentOf(id));
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
      const entries = snapshot.index.map(checkEntry);
      return op(conv, 'save a conversation', async (d) => {
        const index = new MessageIndex();
        index.upsert(entries);
        const t = d.transaction([CONVERSATIONS, UPDATES, ENVELOPES, ...INDEX_STORES], 'readwrite');
        const finished = done(t);
        indexes.drop(conv);
        t.objectStore(BLOCKS).delete(allOf(conv));
        await deleteParts(t, conv);
        const updates = t.objectStore(UPDATES);
        if (headCopy !== undefined) updates.add({ c: conv, n: HEAD, u: headCopy });
        for (const [n, u] of segments) updates.add({ c: conv, n, u } satisfies UpdateRecord);
        indexes.putAll(t, conv, index);
        const conversations = t.objectStore(CONVERSATIONS);
        if (headCopy === undefined && segments.length === 0 && entries.length === 0)
          conversations.delete(conv);
        else conversations.put(true, conv);
        await finished;
        // The next query reads the summaries just written (the whole index only if it must).
        indexes.drop(conv);
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
        const t = d.transaction([CONVERSATIONS, UPDATES, ENVELOPES, ...INDEX_STORES], 'readwrite');
        const finished = done(t);
        indexes.drop(conv);
        t.objectStore(CONVERSATIONS).delete(conv);
        t.objectStore(BLOCKS).delete(allOf(conv));
        t.objectStore(STAMPS).delete(conv);
        t.objectStore(SUMMARIES).delete(conv);
        await deleteParts(t, conv);
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
