/**
 * The message index of one conversation in memory: entries sorted by order key, found by id and
 * by key, grouped by segment. Both HistoryStores answer every index query from it: the memory
 * store keeps it as its data, the IndexedDB store keeps it as a cache of the blocks it stores
 * (one record per segment, written when `touched` says that segment's entries changed).
 *
 * ```ts
 * const index = new MessageIndex();
 * index.upsert([{ key: 'k1', id: 'm1', segment: 0, author: 'peer', deleted: false }]);
 * index.window(undefined, 40); // newest 40, oldest first
 * for (const n of index.takeTouched()) store(n, index.segmentEntries(n));
 * ```
 */
import type { HistoryEntry } from './history-store.js';

/** First position whose key is >= `key` (or > `key` with `after`). */
function lowerBound(index: readonly HistoryEntry[], key: string, after = false): number {
  let lo = 0;
  let hi = index.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = (index[mid] as HistoryEntry).key;
    if (k < key || (after && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const copyEntry = (e: HistoryEntry): HistoryEntry => ({ ...e });
const byKeyOrder = (a: HistoryEntry, b: HistoryEntry): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

export class MessageIndex {
  /** Sorted by key; keys are unique. */
  private sorted: HistoryEntry[] = [];
  private readonly byId = new Map<string, HistoryEntry>();
  private readonly bySegment = new Map<number, Set<HistoryEntry>>();
  /** Segments whose entries changed since the last `takeTouched()`. */
  private touched = new Set<number>();

  /** An index of entries that are known to be valid and unique by id and key (a stored one). */
  static fromEntries(entries: HistoryEntry[]): MessageIndex {
    const index = new MessageIndex();
    // Blocks are read in segment order and segments mostly follow time: often sorted already.
    let ordered = true;
    for (let i = 1; i < entries.length && ordered; i++)
      ordered = (entries[i - 1] as HistoryEntry).key < (entries[i] as HistoryEntry).key;
    if (!ordered) entries.sort(byKeyOrder);
    let last: string | undefined;
    for (const e of entries) {
      if (e.key === last || index.byId.has(e.id)) continue;
      last = e.key;
      index.sorted.push(e);
      index.link(e);
    }
    index.touched.clear();
    return index;
  }

  /** Segments whose entries changed since the last call. */
  takeTouched(): number[] {
    const out = [...this.touched];
    this.touched = new Set();
    return out;
  }

  /** The entries of segment `n`, sorted by key (the index's own objects: don't change them). */
  segmentEntries(n: number): HistoryEntry[] {
    return [...(this.bySegment.get(n) ?? [])].sort(byKeyOrder);
  }

  count(): number {
    return this.sorted.length;
  }

  /**
   * Applies the entries as IndexedDB applies puts in order: a key names one record (a put under
   * a taken key replaces that record), an id names one record (a put of a known id under another
   * key moves it). Inserts are merged into the sorted array once, at the end.
   */
  upsert(entries: readonly HistoryEntry[]): void {
    const doomed = new Set<HistoryEntry>();
    /** Entries added by this batch, by key (not in `sorted` yet). */
    const pending = new Map<string, HistoryEntry>();
    const drop = (e: HistoryEntry): void => {
      this.unlink(e);
      if (pending.get(e.key) === e) pending.delete(e.key);
      else doomed.add(e);
    };
    /** The entry stored or added under `key`, unless this batch dropped it. */
    const atKey = (key: string): HistoryEntry | undefined => {
      const added = pending.get(key);
      if (added !== undefined) return added;
      const e = this.sorted[lowerBound(this.sorted, key)];
      return e !== undefined && e.key === key && !doomed.has(e) ? e : undefined;
    };
    for (const e of entries) {
      const old = this.byId.get(e.id);
      if (old !== undefined && old.key === e.key) {
        this.unlink(old);
        Object.assign(old, e);
        this.link(old);
        continue;
      }
      if (old !== undefined) drop(old);
      const taken = atKey(e.key);
      if (taken !== undefined) drop(taken);
      const added = copyEntry(e);
      this.link(added);
      pending.set(added.key, added);
    }
    this.dropSorted(doomed);
    if (pending.size === 0) return;
    const inserts = [...pending.values()].sort(byKeyOrder);
    const last = this.sorted.at(-1);
    if (last === undefined || last.key < (inserts[0] as HistoryEntry).key) {
      for (const e of inserts) this.sorted.push(e);
    } else if (inserts.length < 32) {
      for (const e of inserts) this.sorted.splice(lowerBound(this.sorted, e.key), 0, e);
    } else {
      const merged: HistoryEntry[] = [];
      let i = 0;
      let j = 0;
      while (i < this.sorted.length || j < inserts.length) {
        const a = this.sorted[i];
        const b = inserts[j];
        if (b === undefined || (a !== undefined && a.key < b.key)) {
          merged.push(a as HistoryEntry);
          i++;
        } else {
          merged.push(b);
          j++;
        }
      }
      this.sorted = merged;
    }
  }

  /** Removes the entries of these ids (unknown ones are ignored). */
  remove(ids: readonly string[]): void {
    const doomed = new Set<HistoryEntry>();
    for (const id of ids) {
      const e = this.byId.get(id);
      if (e === undefined) continue;
      this.unlink(e);
      doomed.add(e);
    }
    this.dropSorted(doomed);
  }

  /** Up to `limit` entries with key < `before` (the newest without), oldest first; copies. */
  window(before: string | undefined, limit: number): HistoryEntry[] {
    const end = before === undefined ? this.sorted.length : lowerBound(this.sorted, before);
    return this.sorted.slice(Math.max(0, end - limit), end).map(copyEntry);
  }

  /** Up to `limit` entries from position `from` on; copies. */
  range(from: number, limit: number): HistoryEntry[] {
    return this.sorted.slice(from, from + limit).map(copyEntry);
  }

  /** Entries after `after` (all when undefined), not deleted, not by `notAuthor`. */
  countAfter(after: string | undefined, notAuthor?: string): number {
    let n = 0;
    const from = after === undefined ? 0 : lowerBound(this.sorted, after, true);
    for (let i = from; i < this.sorted.length; i++) {
      const e = this.sorted[i] as HistoryEntry;
      if (!e.deleted && e.author !== notAuthor) n++;
    }
    return n;
  }

  /** Number of entries with a key < `key`. */
  position(key: string): number {
    return lowerBound(this.sorted, key);
  }

  /** A copy of the entry of `id`. */
  entry(id: string): HistoryEntry | undefined {
    const e = this.byId.get(id);
    return e === undefined ? undefined : copyEntry(e);
  }

  segmentOf(id: string): number | undefined {
    return this.byId.get(id)?.segment;
  }

  private link(e: HistoryEntry): void {
    this.byId.set(e.id, e);
    let set = this.bySegment.get(e.segment);
    if (set === undefined) this.bySegment.set(e.segment, (set = new Set()));
    set.add(e);
    this.touched.add(e.segment);
  }

  private unlink(e: HistoryEntry): void {
    this.byId.delete(e.id);
    const set = this.bySegment.get(e.segment);
    set?.delete(e);
    if (set?.size === 0) this.bySegment.delete(e.segment);
    this.touched.add(e.segment);
  }

  /** Takes entries out of the sorted array (few: binary search each; many: one pass). */
  private dropSorted(doomed: Set<HistoryEntry>): void {
    if (doomed.size === 0) return;
    if (doomed.size < 32) {
      for (const e of doomed) {
        const i = lowerBound(this.sorted, e.key);
        if (this.sorted[i] === e) this.sorted.splice(i, 1);
      }
    } else {
      this.sorted = this.sorted.filter((e) => !doomed.has(e));
    }
  }
}
