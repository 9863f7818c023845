/**
 * The order of the messages a conversation model holds in memory (its window): entries sorted
 * by order key, kept up to date incrementally (binary insertion and removal, batched until the
 * next read), with the id list handed out unchanged until the order changes.
 */

export interface WindowEntry {
  key: string;
  id: string;
  /** Segment holding the message. */
  segment: number;
}

const byKey = (a: WindowEntry, b: WindowEntry): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

export class WindowIndex {
  private entries: WindowEntry[] = [];
  private readonly byId = new Map<string, WindowEntry>();
  /** Changes not applied to `entries` yet: id -> entry to add (or undefined: remove). */
  private readonly pending = new Map<string, WindowEntry | undefined>();
  private idList: readonly string[] | undefined;

  /** Replaces everything. */
  reset(entries: WindowEntry[]): void {
    this.pending.clear();
    this.byId.clear();
    const unique: WindowEntry[] = [];
    for (const e of entries) {
      if (this.byId.has(e.id)) continue;
      this.byId.set(e.id, e);
      unique.push(e);
    }
    this.entries = unique.sort(byKey);
    this.idList = undefined;
  }

  /** Adds or moves an entry (applied at the next read). */
  put(entry: WindowEntry): void {
    this.pending.set(entry.id, entry);
  }

  /** Removes an id (applied at the next read). */
  remove(id: string): void {
    this.pending.set(id, undefined);
  }

  /** The entry of an id (pending changes included), or undefined. */
  get(id: string): WindowEntry | undefined {
    if (this.pending.has(id)) return this.pending.get(id);
    return this.byId.get(id);
  }

  sorted(): readonly WindowEntry[] {
    if (this.pending.size === 0) return this.entries;
    this.idList = undefined;
    if (this.prependable()) {
      // Older messages loaded in front (scrolling back): one concatenation.
      const older = [...this.pending.values()] as WindowEntry[];
      for (const e of older) this.byId.set(e.id, e);
      this.pending.clear();
      this.entries = older.sort(byKey).concat(this.entries);
      return this.entries;
    }
    if (this.pending.size > 256) {
      for (const [id, e] of this.pending) {
        if (e === undefined) this.byId.delete(id);
        else this.byId.set(id, e);
      }
      this.pending.clear();
      this.entries = [...this.byId.values()].sort(byKey);
      return this.entries;
    }
    for (const [id, e] of this.pending) {
      const old = this.byId.get(id);
      if (old !== undefined) {
        if (e !== undefined && old.key === e.key) {
          old.segment = e.segment;
          continue;
        }
        const at = this.find(old.key);
        if (at >= 0) this.entries.splice(at, 1);
        this.byId.delete(id);
      }
      if (e === undefined) continue;
      this.byId.set(id, e);
      this.entries.splice(this.insertionPoint(e.key), 0, e);
    }
    this.pending.clear();
    return this.entries;
  }

  /** Ids oldest first: the same array until the order changes. */
  ids(): readonly string[] {
    const entries = this.sorted();
    this.idList ??= entries.map((e) => e.id);
    return this.idList;
  }

  size(): number {
    return this.sorted().length;
  }

  position(id: string): number {
    const e = this.get(id);
    if (e === undefined) return -1;
    this.sorted();
    return this.find(e.key);
  }

  first(): WindowEntry | undefined {
    return this.sorted()[0];
  }

  last(): WindowEntry | undefined {
    const entries = this.sorted();
    return entries[entries.length - 1];
  }

  /** Entries with a key after `key` (all when undefined), oldest first. */
  after(key: string | undefined): readonly WindowEntry[] {
    const entries = this.sorted();
    if (key === undefined) return entries;
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((entries[mid] as WindowEntry).key <= key) lo = mid + 1;
      else hi = mid;
    }
    return entries.slice(lo);
  }

  /** Whether every pending change adds a new id before the oldest entry. */
  private prependable(): boolean {
    const first = this.entries[0];
    if (first === undefined || this.pending.size < 2) return false;
    for (const [id, e] of this.pending) {
      if (e === undefined || this.byId.has(id) || e.key >= first.key) return false;
    }
    return true;
  }

  private insertionPoint(key: string): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.entries[mid] as WindowEntry).key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(key: string): number {
    const at = this.insertionPoint(key);
    return this.entries[at]?.key === key ? at : -1;
  }
}
