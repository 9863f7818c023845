/**
 * The message index of one conversation as the IndexedDB HistoryStore keeps it between calls:
 * a summary per stored block (segment, lowest and highest key, entries, live entries per
 * author) read when the conversation's stamp changed, the blocks read so far, and the whole
 * `MessageIndex` once something needs it.
 *
 * The summaries answer `count` alone, and tell `window` and `countAfter` which blocks hold what
 * they ask for: opening a 100,000-message conversation reads its newest block or two, not 100.
 * Lookups by id or position and every write take the whole index (read once, then kept).
 *
 * ```ts
 * const stored = new StoredIndex(stamp, summaries); // as stored with the index
 * await stored.window(reader, undefined, 40); // reads only the newest blocks
 * const index = await stored.index(reader); // everything, for a write
 * ```
 */
import type { HistoryEntry } from './history-store.js';
import { copyEntry, MessageIndex } from './history-index.js';

/** What the summaries store says about one stored block. */
export interface BlockSummary {
  /** Segment number. */
  n: number;
  /** Lowest and highest key in the block. */
  lo: string;
  hi: string;
  /** Entries, deleted ones included. */
  c: number;
  /** Entries not deleted. */
  live: number;
  /** Entries not deleted, per author. */
  by: Record<string, number>;
}

/** The blocks of one conversation, read inside the caller's transaction. */
export interface BlockReader {
  /** Entries of these segments, each list sorted by key (absent blocks: empty lists). */
  read(segments: readonly number[]): Promise<Map<number, HistoryEntry[]>>;
  /** Every block, by segment. */
  readAll(): Promise<Map<number, HistoryEntry[]>>;
}

/** The summary of a block (`entries` sorted by key, not empty). */
export function summarize(n: number, entries: readonly HistoryEntry[]): BlockSummary {
  const by: Record<string, number> = {};
  let live = 0;
  for (const e of entries) {
    if (e.deleted) continue;
    live++;
    by[e.author] = (by[e.author] ?? 0) + 1;
  }
  return {
    n,
    lo: (entries[0] as HistoryEntry).key,
    hi: (entries.at(-1) as HistoryEntry).key,
    c: entries.length,
    live,
    by
  };
}

const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Stored summaries, or undefined when they are missing or malformed (read the blocks then). */
export function parseSummaries(value: unknown): Map<number, BlockSummary> | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = new Map<number, BlockSummary>();
  for (const b of value as unknown[]) {
    if (typeof b !== 'object' || b === null) return undefined;
    const { n, lo, hi, c, live, by } = b as Partial<BlockSummary>;
    if (!isCount(n) || !isCount(c) || !isCount(live) || live > c || c === 0) return undefined;
    if (typeof lo !== 'string' || typeof hi !== 'string' || lo > hi) return undefined;
    if (typeof by !== 'object' || by === null || !Object.values(by).every(isCount))
      return undefined;
    out.set(n, { n, lo, hi, c, live, by: { ...by } });
  }
  return out;
}

const byKeyDesc = (a: HistoryEntry, b: HistoryEntry): number =>
  a.key > b.key ? -1 : a.key < b.key ? 1 : 0;

export class StoredIndex {
  private full: MessageIndex | undefined;
  /** Blocks read before the whole index was needed. */
  private readonly loaded = new Map<number, HistoryEntry[]>();
  private summaries: Map<number, BlockSummary> | undefined;

  constructor(
    public stamp: unknown,
    summaries: Map<number, BlockSummary> | undefined
  ) {
    this.summaries = summaries;
  }

  /** The whole index (read once). */
  async index(io: BlockReader): Promise<MessageIndex> {
    if (this.full !== undefined) return this.full;
    const blocks = await io.readAll();
    const entries: HistoryEntry[] = [];
    for (const list of blocks.values()) for (const e of list) entries.push(e);
    const full = MessageIndex.fromEntries(entries);
    const summaries = new Map<number, BlockSummary>();
    for (const [n, list] of blocks) if (list.length > 0) summaries.set(n, summarize(n, list));
    this.summaries = summaries;
    this.loaded.clear();
    this.full = full;
    return full;
  }

  /** After a write into `index()`: segment `n` now holds `entries` (sorted; none: gone). */
  changed(n: number, entries: readonly HistoryEntry[]): void {
    const summaries = (this.summaries ??= new Map());
    if (entries.length === 0) summaries.delete(n);
    else summaries.set(n, summarize(n, entries));
  }

  /** Every block's summary (what the summaries store keeps). */
  summaryList(): BlockSummary[] {
    return [...(this.summaries ?? new Map<number, BlockSummary>()).values()].sort(
      (a, b) => a.n - b.n
    );
  }

  async count(io: BlockReader): Promise<number> {
    if (this.full === undefined && this.summaries !== undefined) {
      let n = 0;
      for (const b of this.summaries.values()) n += b.c;
      return n;
    }
    return (await this.index(io)).count();
  }

  /** As MessageIndex.window, reading only the blocks that can hold the answer. */
  async window(
    io: BlockReader,
    before: string | undefined,
    limit: number
  ): Promise<HistoryEntry[]> {
    const summaries = this.summaries;
    if (this.full !== undefined || summaries === undefined)
      return (await this.index(io)).window(before, limit);
    if (limit === 0) return [];
    // Newest blocks first; stop when the next one's highest key is below the limit-th key found.
    const blocks = [...summaries.values()]
      .filter((b) => before === undefined || b.lo < before)
      .sort((a, b) => (a.hi > b.hi ? -1 : a.hi < b.hi ? 1 : 0));
    const found: HistoryEntry[] = [];
    for (const b of blocks) {
      if (found.length >= limit) {
        found.sort(byKeyDesc);
        found.length = limit;
        if (b.hi < (found[limit - 1] as HistoryEntry).key) break;
      }
      for (const e of await this.block(io, b.n))
        if (before === undefined || e.key < before) found.push(e);
    }
    found.sort(byKeyDesc);
    return found.slice(0, limit).reverse().map(copyEntry);
  }

  /** As MessageIndex.countAfter, reading only the blocks that straddle `after`. */
  async countAfter(
    io: BlockReader,
    after: string | undefined,
    notAuthor?: string
  ): Promise<number> {
    const summaries = this.summaries;
    if (this.full !== undefined || summaries === undefined)
      return (await this.index(io)).countAfter(after, notAuthor);
    let n = 0;
    const straddling: number[] = [];
    for (const b of summaries.values()) {
      if (after === undefined || b.lo > after)
        n += b.live - (notAuthor === undefined ? 0 : (b.by[notAuthor] ?? 0));
      else if (b.hi > after) straddling.push(b.n);
    }
    for (const s of straddling)
      for (const e of await this.block(io, s))
        if (e.key > (after as string) && !e.deleted && e.author !== notAuthor) n++;
    return n;
  }

  private async block(io: BlockReader, n: number): Promise<HistoryEntry[]> {
    let list = this.loaded.get(n);
    if (list === undefined) {
      list = (await io.read([n])).get(n) ?? [];
      this.loaded.set(n, list);
    }
    return list;
  }
}
