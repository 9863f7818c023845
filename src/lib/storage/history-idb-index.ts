/**
 * The message index of the IndexedDB HistoryStore (history-store-idb.ts) between calls: a
 * `StoredIndex` kept for the `INDEX_CACHE_SIZE` conversations used last, checked against the
 * conversation's stamp inside every transaction that reads or writes it, and the index writes
 * themselves (blocks of the touched segments, summaries, a new stamp), queued in the caller's
 * transaction. Opening the database, the transactions and the updates stay with the store.
 *
 * ```ts
 * const indexes = createIdbIndexCache();
 * const stored = await indexes.indexIn(t, conv); // t covers INDEX_STORES
 * await commit(done(t), await indexes.change(t, conv, puts, removes)); // t readwrite
 * ```
 */
import type { HistoryEntry } from './history-store.js';
import {
  BLOCKS,
  STAMPS,
  SUMMARIES,
  putIndexMeta,
  request,
  encodeBlock,
  blockReader
} from './history-idb-layout.js';
import type { MessageIndex } from './history-index.js';
import { parseSummaries, StoredIndex, summarize } from './history-index-stored.js';

/** Conversations whose message index a store keeps in memory (least recently used go first). */
export const INDEX_CACHE_SIZE = 8;

/** The cached indexes of one store, and its index writes. */
export interface IdbIndexCache {
  /**
   * The conversation's index inside `t` (which covers INDEX_STORES): the cached one while
   * its stamp is the stored one, else a new one over the stored block summaries.
   */
  indexIn(t: IDBTransaction, conv: string): Promise<StoredIndex>;
  /**
   * Inside `t` (INDEX_STORES, readwrite): changes the index (removes, then upserts) and
   * queues the puts of the blocks it touched, their summaries and a new stamp. The caller
   * awaits `t` and calls `settle` with the outcome.
   */
  change(
    t: IDBTransaction,
    conv: string,
    puts: readonly HistoryEntry[],
    removes: readonly string[]
  ): Promise<(ok: boolean) => void>;
  /**
   * Inside `t` (INDEX_STORES, readwrite, its blocks deleted): puts the blocks of `index` (all of
   * the conversation), their summaries and a new stamp.
   */
  putAll(t: IDBTransaction, conv: string, index: MessageIndex): void;
  /** Forgets the cached index of `conv`. */
  drop(conv: string): void;
  /** Forgets every cached index. */
  clear(): void;
}

export function createIdbIndexCache(): IdbIndexCache {
  /** Cached indexes by conversation, least recently used first, with the stamp read with them. */
  const cache = new Map<string, StoredIndex>();
  /** Stamps this store writes: unique to it, changing with every write. */
  const session = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  let writes = 0;

  const indexIn = async (t: IDBTransaction, conv: string): Promise<StoredIndex> => {
    const stamp: unknown = await request(t.objectStore(STAMPS).get(conv));
    const cached = cache.get(conv);
    cache.delete(conv);
    if (cached !== undefined && cached.stamp === stamp) {
      cache.set(conv, cached);
      return cached;
    }
    const summaries = parseSummaries(await request(t.objectStore(SUMMARIES).get(conv)));
    const stored = new StoredIndex(stamp, summaries);
    cache.set(conv, stored);
    for (const old of cache.keys()) {
      if (cache.size <= INDEX_CACHE_SIZE) break;
      cache.delete(old);
    }
    return stored;
  };

  return {
    indexIn,
    async change(t, conv, puts, removes) {
      let stored: StoredIndex;
      const stamp = `${session}-${++writes}`;
      try {
        stored = await indexIn(t, conv);
        const index = await stored.index(blockReader(t, conv));
        index.takeTouched();
        index.remove(removes);
        index.upsert(puts);
        const blocks = t.objectStore(BLOCKS);
        for (const n of index.takeTouched()) {
          const entries = index.segmentEntries(n);
          if (entries.length === 0) blocks.delete([conv, n]);
          else blocks.put(encodeBlock(entries), [conv, n]);
          stored.changed(n, entries);
        }
        putIndexMeta(t, conv, stamp, stored.summaryList());
      } catch (err) {
        // Nothing of this write lands (the update neither: the index never lags the segments).
        cache.delete(conv);
        try {
          t.abort();
        } catch {
          // already finished
        }
        throw err;
      }
      return (ok) => {
        if (!ok) return void cache.delete(conv);
        if (cache.get(conv) === stored) stored.stamp = stamp;
      };
    },
    putAll(t, conv, index) {
      const blocks = t.objectStore(BLOCKS);
      const summaries = [];
      for (const n of index.takeTouched().sort((a, b) => a - b)) {
        const list = index.segmentEntries(n);
        if (list.length === 0) continue;
        blocks.put(encodeBlock(list), [conv, n]);
        summaries.push(summarize(n, list));
      }
      putIndexMeta(t, conv, `${session}-${++writes}`, summaries);
    },
    drop(conv) {
      cache.delete(conv);
    },
    clear() {
      cache.clear();
    }
  };
}

/** Awaits a write's transaction and tells the cache how it ended. */
export async function commit(
  finished: Promise<void>,
  settle: (ok: boolean) => void
): Promise<void> {
  try {
    await finished;
    settle(true);
  } catch (err) {
    settle(false);
    throw err;
  }
}
