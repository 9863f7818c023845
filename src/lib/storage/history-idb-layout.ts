/**
 * The IndexedDB layout of the HistoryStore (history-store-idb.ts): store and index names, how an
 * update and an index entry are stored, the request helpers, and the one routine that writes
 * index entries and their counts inside a transaction.
 */
import type { HistoryEntry } from './history-store.js';
export const VERSION = 1;
export const CONVERSATIONS = 'conversations';
export const UPDATES = 'updates';
export const ENTRIES = 'entries';
/** Entry counts: [conv] -> all entries, [conv, author] -> that author's entries. */
export const COUNTS = 'counts';
/** `updates` index: [conv, part] (part -1 = head, n >= 0 = segment n). */
export const BY_PART = 'part';
/** `entries` indexes. */
export const BY_ID = 'id';
export const BY_AUTHOR = 'author';
export const BY_DELETED = 'deleted';
export const HEAD = -1;

/**
 * How an index entry is stored: primary key [c, k]. `x` (= k) is present only on deleted
 * entries, so the `deleted` index ([c, x]) holds only those (IndexedDB skips records whose
 * index key path does not resolve): unread counts walk the few deleted entries, not all.
 */
export interface EntryRecord {
  c: string;
  k: string;
  i: string;
  s: number;
  a: string;
  x?: string;
}

export interface UpdateRecord {
  c: string;
  n: number;
  u: Uint8Array;
}

const toRecord = (c: string, e: HistoryEntry): EntryRecord =>
  e.deleted
    ? { c, k: e.key, i: e.id, s: e.segment, a: e.author, x: e.key }
    : { c, k: e.key, i: e.id, s: e.segment, a: e.author };
export const fromRecord = (r: EntryRecord): HistoryEntry => ({
  key: r.k,
  id: r.i,
  segment: r.s,
  author: r.a,
  deleted: r.x !== undefined
});

/** Every key of a conversation in `entries` ([c] sorts before [c, any string] and [c, []] after). */
export const allOf = (c: string): IDBKeyRange => IDBKeyRange.bound([c], [c, []]);

export const request = <T>(r: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });

/** Resolves when `t` commits. Marked handled: callers may await other requests first. */
export const done = (t: IDBTransaction): Promise<void> => {
  const p = new Promise<void>((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
  });
  p.catch(() => undefined);
  return p;
};

/** Deletes all head/segment updates of a conversation (inside `t`). */
export async function deleteUpdates(t: IDBTransaction, c: string): Promise<void> {
  const updates = t.objectStore(UPDATES);
  const keys = await request(updates.index(BY_PART).getAllKeys(allOf(c)));
  for (const key of keys) updates.delete(key);
}

/**
 * What a batch of puts leaves when applied one after another: an entry survives unless a later
 * one has its id (which moves it) or its key (which replaces it).
 */
function lastWins(puts: readonly HistoryEntry[]): HistoryEntry[] {
  const ids = new Set<string>();
  const keys = new Set<string>();
  const out: HistoryEntry[] = [];
  for (let i = puts.length - 1; i >= 0; i--) {
    const e = puts[i] as HistoryEntry;
    if (!ids.has(e.id) && !keys.has(e.key)) out.push(e);
    ids.add(e.id);
    keys.add(e.key);
  }
  return out.reverse();
}

/**
 * Changes the index inside `t`: removes the entries of `removes`, then upserts `puts` by id, and
 * keeps the counts (all entries, entries per author) in step, in the same transaction.
 *
 * Fast path: one `add` per entry, all issued at once. An add fails (ConstraintError, caught: the
 * transaction goes on) when its key or its id is already stored; those entries are then handled
 * one at a time, once every other request has run (no stale reads): the records holding the
 * id or the key are deleted and the entry put. The counts are changed once, at the end.
 */
export function writeEntries(
  t: IDBTransaction,
  c: string,
  puts: readonly HistoryEntry[],
  removes: readonly string[]
): void {
  const store = t.objectStore(ENTRIES);
  const byId = store.index(BY_ID);
  const perAuthor = new Map<string, number>();
  const conflicts: EntryRecord[] = [];
  let total = 0;
  let pending = 0;
  const bump = (author: string, d: number): void => {
    total += d;
    perAuthor.set(author, (perAuthor.get(author) ?? 0) + d);
  };
  const counts = t.objectStore(COUNTS);
  /** Counts read up front, along with the adds (the flush then needs no round trip). */
  const known = new Map<string | undefined, number>();
  const flush = (): void => {
    const change = (author: string | undefined, d: number): void => {
      if (d === 0) return;
      const key = author === undefined ? [c] : [c, author];
      const write = (stored: number): void => {
        const n = stored + d;
        if (n === 0) counts.delete(key);
        else counts.put(n, key);
      };
      const before = known.get(author);
      if (before !== undefined) return write(before);
      const get = counts.get(key);
      get.onsuccess = () => write((get.result as number | undefined) ?? 0);
    };
    change(undefined, total);
    for (const [author, d] of perAuthor) change(author, d);
  };
  /** Runs when no request of the batch is outstanding. */
  const idle = (): void => {
    const record = conflicts.shift();
    if (record === undefined) return flush();
    issue(byId.get([c, record.i]) as IDBRequest<EntryRecord | undefined>, (old) => {
      issue(store.get([c, record.k]) as IDBRequest<EntryRecord | undefined>, (atKey) => {
        for (const gone of atKey !== undefined && atKey.i !== old?.i ? [old, atKey] : [old]) {
          if (gone === undefined) continue;
          if (gone.k !== record.k) store.delete([c, gone.k]);
          bump(gone.a, -1);
        }
        issue(store.put(record), () => bump(record.a, 1));
      });
    });
  };
  function issue<T>(r: IDBRequest<T>, ok: (result: T) => void, fail?: (e: Event) => void): void {
    pending++;
    const settle = (): void => {
      if (--pending === 0) idle();
    };
    r.onsuccess = () => {
      ok(r.result);
      settle();
    };
    if (fail !== undefined)
      r.onerror = (event) => {
        fail(event);
        settle();
      };
  }

  const unique = lastWins(puts);
  if (unique.length > 0)
    for (const author of [undefined, ...new Set(unique.map((e) => e.author))])
      issue(counts.get(author === undefined ? [c] : [c, author]), (n) =>
        known.set(author, (n as number | undefined) ?? 0)
      );
  for (const id of new Set(removes))
    issue(byId.get([c, id]) as IDBRequest<EntryRecord | undefined>, (old) => {
      if (old === undefined) return;
      store.delete([c, old.k]);
      bump(old.a, -1);
    });
  for (const e of unique) {
    const record = toRecord(c, e);
    const add = store.add(record);
    issue(
      add,
      () => bump(e.author, 1),
      (event) => {
        if (add.error?.name !== 'ConstraintError') return; // aborts the transaction
        event.preventDefault();
        event.stopPropagation();
        conflicts.push(record);
      }
    );
  }
  if (pending === 0) flush();
}

/** Reads a count (0 when absent) inside `t`. */
export const readCount = (t: IDBTransaction, key: IDBValidKey): Promise<number> =>
  request(t.objectStore(COUNTS).get(key)).then((n) => (n as number | undefined) ?? 0);
