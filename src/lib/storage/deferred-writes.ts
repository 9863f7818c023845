/**
 * A HistoryStore whose writes leave the caller's task: each write is queued and issued, in the
 * order it was made, at the start of a later task (one timer per burst). A message that arrives
 * reaches the screen before IndexedDB's main-thread cost (transactions, structured clones) is
 * paid, instead of after it.
 *
 * Nothing is reordered and nothing is read stale: every read issues the queued writes first
 * (both stores run a conversation's operations in the order they were made), so `envelopes()`
 * sees the envelopes of queued appends as loads see their updates, and `close()` issues them
 * before closing. `dropEnvelopes` is queued like a write: the positions it names are those of
 * the last `envelopes()` read, which saw every write made before it, and appends only add after
 * them. Durability is what it was: a write was never durable before its promise resolved, and
 * the promise still resolves only once the store committed it.
 *
 * ```ts
 * const history = deferWrites(createIdbHistoryStore());
 * void history.appendSegment('conv-1', 0, update); // issued in a later task
 * await history.count('conv-1'); // sees it
 * ```
 */
import { handOver } from './history-checks.js';
import type { HistoryEntry, HistoryStore } from './history-store.js';

// Not validated here (the store does that when the write is issued): anything else is copied
// as it is, so a bad value still gets the store's own error.
const copyEntries = (entries: readonly HistoryEntry[]): HistoryEntry[] =>
  entries.map((e) => (typeof e === 'object' && e !== null ? { ...e } : e));
// Copies are handed over: the store keeps them without copying again.
const copyBytes = <T>(bytes: T): T =>
  bytes instanceof Uint8Array ? (handOver(bytes.slice()) as T) : bytes;

/** Runs `issue` in a later task. */
export type WriteScheduler = (issue: () => void) => void;

const nextTask: WriteScheduler = (issue) => {
  setTimeout(issue, 0);
};

/** A HistoryStore with deferred writes, and a way to wait for them. */
export interface DeferredHistoryStore extends HistoryStore {
  /** Issues the queued writes now; resolves once every write made so far settled. */
  flush(): Promise<void>;
}

export function deferWrites(store: HistoryStore, schedule = nextTask): DeferredHistoryStore {
  const queue: (() => void)[] = [];
  let scheduled = false;
  /** Writes made and not settled yet. */
  const pending = new Set<Promise<unknown>>();

  /** Issues the queued writes now, in order. */
  const issue = (): void => {
    scheduled = false;
    for (const job of queue.splice(0)) job();
  };

  const write = <T>(call: () => Promise<T>): Promise<T> => {
    const done = new Promise<T>((resolve, reject) => {
      queue.push(() => {
        try {
          call().then(resolve, reject);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      if (!scheduled) {
        scheduled = true;
        schedule(issue);
      }
    });
    pending.add(done);
    const forget = (): void => void pending.delete(done);
    done.then(forget, forget);
    return done;
  };

  const read = <T>(call: () => Promise<T>): Promise<T> => {
    issue();
    return call();
  };

  return {
    flush: async () => {
      issue();
      await Promise.allSettled([...pending]);
    },
    loadHead: (conv) => read(() => store.loadHead(conv)),
    // The caller may reuse its buffer once the call returns: the queue keeps its own copy.
    appendHead: async (conv, update, envelope) => {
      const copy = copyBytes(update);
      const sealed = copyBytes(envelope);
      return write(() => store.appendHead(conv, copy, sealed));
    },
    loadSegment: (conv, n) => read(() => store.loadSegment(conv, n)),
    appendSegment: async (conv, n, update, w) => {
      const copy = copyBytes(update);
      const entries =
        w === undefined
          ? undefined
          : {
              index: copyEntries(w.index ?? []),
              remove: [...(w.remove ?? [])],
              envelope: copyBytes(w.envelope)
            };
      return write(() => store.appendSegment(conv, n, copy, entries));
    },
    segments: (conv) => read(() => store.segments(conv)),
    envelopes: (conv, n) => read(() => store.envelopes(conv, n)),
    dropEnvelopes: async (conv, n, which, replacement) => {
      const copy = Array.isArray(which) ? [...which] : which;
      const add = copyBytes(replacement);
      return write(() => store.dropEnvelopes(conv, n, copy, add));
    },
    putIndex: async (conv, entries) => {
      const copy = copyEntries(entries);
      return write(() => store.putIndex(conv, copy));
    },
    removeIndex: async (conv, ids) => {
      const copy = [...ids];
      return write(() => store.removeIndex(conv, copy));
    },
    window: (conv, options) => read(() => store.window(conv, options)),
    range: (conv, options) => read(() => store.range(conv, options)),
    count: (conv) => read(() => store.count(conv)),
    countAfter: (conv, after, options) => read(() => store.countAfter(conv, after, options)),
    position: (conv, key) => read(() => store.position(conv, key)),
    entry: (conv, id) => read(() => store.entry(conv, id)),
    segmentOf: (conv, id) => read(() => store.segmentOf(conv, id)),
    replace: (conv, snapshot) => {
      issue();
      return store.replace(conv, snapshot);
    },
    list: () => read(() => store.list()),
    delete: (conv) => {
      issue();
      return store.delete(conv);
    },
    close: async () => {
      issue();
      await Promise.allSettled([...pending]);
      return store.close();
    }
  };
}
