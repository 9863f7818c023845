/**
 * The IndexedDB layout of the HistoryStore (history-store-idb.ts): store names, how an update, an
 * envelope and a block of index entries are stored, the request helpers, and the upgrades from
 * the layout of version 1 (one record per index entry) and version 3 (no envelopes).
 *
 * Why blocks: IndexedDB pays per record and per index on it (Chromium 150 here: ~0.2 ms per
 * record plus ~0.3 ms per index; the `index` phase of `npm run bench`), so a 100,000-message
 * conversation stored as one record per message with three indexes took minutes to write. A block holds the entries
 * of one segment (up to SEGMENT_MESSAGES, ~60 KB), written whole when one of them changes: a
 * message costs one block put, a whole conversation one put per 1,000 messages.
 */
import type { HistoryEntry } from './history-store.js';
import { StorageUnavailableError } from './errors.js';
import { type BlockReader, type BlockSummary, summarize } from './history-index-stored.js';

export const VERSION = 4;
export const CONVERSATIONS = 'conversations';
export const UPDATES = 'updates';
/** Index blocks: [conv, segment] -> BlockRecord (the entries of that segment). */
export const BLOCKS = 'blocks';
/**
 * conv -> a stamp that changes with every index write: a store's cached index is current while
 * the stamp it read with it is still the stored one (another tab may have written since). Read
 * before every query, so it stays one small string.
 */
export const STAMPS = 'stamps';
/**
 * conv -> BlockSummary[]: which blocks a window or an unread count needs. Read only when the
 * stamp says the cached index is stale.
 */
export const SUMMARIES = 'summaries';
/** The stores an index write or read covers. */
export const INDEX_STORES = [STAMPS, SUMMARIES, BLOCKS];

/** Queues the stamp and the block summaries of `conv` inside `t` (a write of its index). */
export function putIndexMeta(
  t: IDBTransaction,
  conv: string,
  stamp: string,
  summaries: BlockSummary[]
): void {
  t.objectStore(STAMPS).put(stamp, conv);
  t.objectStore(SUMMARIES).put(summaries, conv);
}

/**
 * Envelopes (version 4): auto-increment key -> EnvelopeRecord, index BY_PART. One record per
 * envelope, never merged: the keys keep the order they were stored in.
 */
export const ENVELOPES = 'envelopes';

/** `updates` and `envelopes` index: [conv, part] (part -1 = head, n >= 0 = segment n). */
export const BY_PART = 'part';
export const HEAD = -1;

/** Version 1 stores (one record per index entry, plus counts): read once by the upgrade. */
const V1_ENTRIES = 'entries';
const V1_COUNTS = 'counts';

export interface UpdateRecord {
  c: string;
  n: number;
  u: Uint8Array;
}

export interface EnvelopeRecord {
  c: string;
  n: number;
  e: Uint8Array;
}

/**
 * The entries of one segment, sorted by key, as columns: keys, ids, the authors (each once) and
 * per entry its author's position, and per entry 1 when deleted.
 */
export interface BlockRecord {
  k: string[];
  i: string[];
  au: string[];
  a: Uint32Array;
  d: Uint8Array;
}

/** A block of entries (all of one segment). */
export function encodeBlock(entries: readonly HistoryEntry[]): BlockRecord {
  const authors = new Map<string, number>();
  const a = new Uint32Array(entries.length);
  const d = new Uint8Array(entries.length);
  entries.forEach((e, n) => {
    let at = authors.get(e.author);
    if (at === undefined) authors.set(e.author, (at = authors.size));
    a[n] = at;
    d[n] = e.deleted ? 1 : 0;
  });
  return {
    k: entries.map((e) => e.key),
    i: entries.map((e) => e.id),
    au: [...authors.keys()],
    a,
    d
  };
}

const damaged = (): StorageUnavailableError =>
  new StorageUnavailableError('The stored message index is damaged');

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0);

/**
 * The entries of a stored block of segment `segment`. Authors are interned through `authors`
 * (one string per author across blocks). Throws StorageUnavailableError on a malformed block.
 */
export function decodeBlock(
  segment: number,
  value: unknown,
  authors: Map<string, string>
): HistoryEntry[] {
  if (typeof value !== 'object' || value === null) throw damaged();
  const { k, i, au, a, d } = value as Partial<BlockRecord>;
  if (!isStrings(k) || !isStrings(i) || !Array.isArray(au)) throw damaged();
  if (!(a instanceof Uint32Array) || !(d instanceof Uint8Array)) throw damaged();
  if (i.length !== k.length || a.length !== k.length || d.length !== k.length) throw damaged();
  const names = au.map((name) => {
    if (typeof name !== 'string') throw damaged();
    let shared = authors.get(name);
    if (shared === undefined) authors.set(name, (shared = name));
    return shared;
  });
  const out: HistoryEntry[] = [];
  for (let n = 0; n < k.length; n++) {
    const author = names[a[n] as number];
    if (author === undefined) throw damaged();
    out.push({ key: k[n] as string, id: i[n] as string, segment, author, deleted: d[n] === 1 });
  }
  return out;
}

/** Reads the blocks of `conv` inside `t` (which covers BLOCKS); authors shared across blocks. */
export function blockReader(t: IDBTransaction, conv: string): BlockReader {
  const authors = new Map<string, string>();
  return {
    async read(segments) {
      const store = t.objectStore(BLOCKS);
      const values = await Promise.all(segments.map((n) => request(store.get([conv, n]))));
      const out = new Map<number, HistoryEntry[]>();
      segments.forEach((n, i) => {
        const value: unknown = values[i];
        out.set(n, value === undefined ? [] : decodeBlock(n, value, authors));
      });
      return out;
    },
    async readAll() {
      const store = t.objectStore(BLOCKS);
      const [values, keys] = await Promise.all([
        request(store.getAll(allOf(conv))),
        request(store.getAllKeys(allOf(conv)))
      ]);
      const out = new Map<number, HistoryEntry[]>();
      values.forEach((value, i) => {
        const n = (keys[i] as [string, number])[1];
        out.set(n, decodeBlock(n, value, authors));
      });
      return out;
    }
  };
}

/** Every key of a conversation in `blocks` ([c] sorts before [c, n] and [c, []] after). */
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

/** Deletes all head/segment updates and envelopes of a conversation (inside `t`, over both). */
export async function deleteParts(t: IDBTransaction, c: string): Promise<void> {
  const keys = await Promise.all(
    [UPDATES, ENVELOPES].map((name) =>
      request(t.objectStore(name).index(BY_PART).getAllKeys(allOf(c)))
    )
  );
  [UPDATES, ENVELOPES].forEach((name, i) => {
    for (const key of keys[i] ?? []) t.objectStore(name).delete(key);
  });
}

/** The envelopes of a part, in the order stored (one readonly transaction). */
export async function readEnvelopes(
  d: IDBDatabase,
  c: string,
  part: number
): Promise<Uint8Array[]> {
  const t = d.transaction(ENVELOPES, 'readonly');
  const records = await request(t.objectStore(ENVELOPES).index(BY_PART).getAll([c, part]));
  return records.map((r: unknown) => {
    const e = typeof r === 'object' && r !== null ? (r as Partial<EnvelopeRecord>).e : undefined;
    if (!(e instanceof Uint8Array))
      throw new StorageUnavailableError('A stored envelope is damaged');
    return e;
  });
}

/**
 * Deletes the envelopes of a part at positions `which` (in the order readEnvelopes gives), in
 * one readwrite transaction: reads the keys of the part's records in order, deletes those at
 * the positions (out of range ones match nothing).
 */
export async function deleteEnvelopesAt(
  d: IDBDatabase,
  c: string,
  part: number,
  which: ReadonlySet<number>,
  replacement?: Uint8Array
): Promise<void> {
  if (which.size === 0 && replacement === undefined) return;
  const t = d.transaction(ENVELOPES, 'readwrite');
  const finished = done(t);
  const store = t.objectStore(ENVELOPES);
  const keys = await request(store.index(BY_PART).getAllKeys([c, part]));
  keys.forEach((key, i) => {
    if (which.has(i)) store.delete(key);
  });
  if (replacement !== undefined) store.add({ c, n: part, e: replacement });
  await finished;
}

/** The segments of a conversation with updates stored, ascending (inside `t`, over UPDATES). */
export function segmentsOf(t: IDBTransaction, c: string): Promise<number[]> {
  const r = t
    .objectStore(UPDATES)
    .index(BY_PART)
    .openKeyCursor(IDBKeyRange.bound([c, 0], [c, Infinity]), 'nextunique');
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
}

/** Creates the stores of `VERSION` from `oldVersion` (0: none), inside the upgrade's `t`. */
export function upgrade(d: IDBDatabase, t: IDBTransaction, oldVersion: number): void {
  if (oldVersion < 1) {
    d.createObjectStore(CONVERSATIONS);
    d.createObjectStore(UPDATES, { autoIncrement: true }).createIndex(BY_PART, ['c', 'n']);
  }
  if (oldVersion < 2) {
    d.createObjectStore(BLOCKS);
    d.createObjectStore(STAMPS);
  }
  // Version 2 (never released) kept the summaries inside the stamp record.
  if (oldVersion < 3 && !d.objectStoreNames.contains(SUMMARIES)) d.createObjectStore(SUMMARIES);
  if (oldVersion < 4)
    d.createObjectStore(ENVELOPES, { autoIncrement: true }).createIndex(BY_PART, ['c', 'n']);
  if (oldVersion === 1) upgradeEntries(d, t);
}

/** Version 1 -> 3: the entry records become blocks per segment; the old stores go. */
function upgradeEntries(d: IDBDatabase, t: IDBTransaction): void {
  const read = t.objectStore(V1_ENTRIES).getAll();
  read.onsuccess = () => {
    const groups = new Map<string, Map<number, HistoryEntry[]>>();
    for (const r of read.result as unknown[]) {
      if (typeof r !== 'object' || r === null) continue;
      const { c, k, i, s, a, x } = r as Record<string, unknown>;
      if (typeof c !== 'string' || typeof k !== 'string' || typeof i !== 'string') continue;
      if (typeof a !== 'string' || typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0)
        continue;
      let bySegment = groups.get(c);
      if (bySegment === undefined) groups.set(c, (bySegment = new Map()));
      let list = bySegment.get(s);
      if (list === undefined) bySegment.set(s, (list = []));
      list.push({ key: k, id: i, segment: s, author: a, deleted: x !== undefined });
    }
    const blocks = t.objectStore(BLOCKS);
    // Records came in [c, k] order: each list is already sorted by key.
    for (const [c, bySegment] of groups) {
      const summaries: BlockSummary[] = [];
      for (const [s, list] of [...bySegment].sort((x, y) => x[0] - y[0])) {
        blocks.put(encodeBlock(list), [c, s]);
        summaries.push(summarize(s, list));
      }
      putIndexMeta(t, c, 'upgraded', summaries);
    }
    d.deleteObjectStore(V1_ENTRIES);
    d.deleteObjectStore(V1_COUNTS);
  };
}
