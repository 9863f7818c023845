/**
 * What the history bench page exposes on `window.historyBench` for bench/history.ts. All times
 * are measured inside the page with `performance.now()` (cross-origin isolated: 5 µs).
 */

export interface SeedOptions {
  conv: string;
  messages: number;
  /** Messages per segment doc. */
  segmentSize: number;
  /** Messages per Yjs transaction (one stored update each). */
  batch: number;
}

export interface SeedResult {
  messages: number;
  segments: number;
  /** Making the messages with createConversation (not stored yet). */
  generateMs: number;
  /** HistoryStore: head + every segment update, one append each. */
  segmentWriteMs: number;
  /** HistoryStore.putIndex of one segment's entries (one transaction each). */
  indexBatchMs: number[];
  /** Loading each segment once (merges its updates into one and writes that back). */
  compactSegmentsMs: number;
  /** Merged state of all segments. */
  segmentBytes: number;
  headBytes: number;
  /** DocStore: the same updates into one conversation doc. */
  docWriteMs: number;
  /** The single doc, merged. */
  docBytes: number;
  /** navigator.storage.estimate() growth (approximate: includes LevelDB logs). */
  historyUsageBytes: number;
  docUsageBytes: number;
}

export interface OpenTiming {
  /** Opening until the frame after the newest window was drawn. */
  ms: number;
  /** DocStore.load from IndexedDB (includes opening the databases). */
  loadMs: number;
  /** Y.applyUpdate into a fresh doc. */
  applyMs: number;
  /** createConversation + messages() (the whole ordered list). */
  orderMs: number;
  paintMs: number;
  messages: number;
  rows: number;
  stateBytes: number;
  newestKey: string;
}

export interface SegmentedOpenTiming {
  ms: number;
  /** HistoryStore.count, the first call: includes opening the database. */
  countMs: number;
  /** HistoryStore.window(newest N). */
  windowMs: number;
  /** loadHead + apply + meta(). */
  headMs: number;
  /** loadSegment of the segments the window needs (usually one). */
  loadMs: number;
  /** Y.applyUpdate of them into fresh docs. */
  applyMs: number;
  /** createConversation over them + message(id) for each row of the window. */
  readMs: number;
  paintMs: number;
  /** count() */
  messages: number;
  rows: number;
  segmentsLoaded: number;
  stateBytes: number;
  newestKey: string;
}

export interface ProbeResult {
  /** Median ms per HistoryStore operation over the 100,000-entry index. */
  medianMs: Record<string, number>;
  checks: { positionOfMiddle: number; unreadOf1000: number };
  /** One message: appendSegment(update, { index: [entry] }) — one transaction. */
  appendWithIndexMs: number;
  /** One message: DocStore.append (today). */
  docAppendMs: number;
  /** A segment stored as this many one-message updates ... */
  uncompactedUpdates: number;
  /** ... loaded (and merged) the first time ... */
  uncompactedLoadMs: number;
  uncompactedBytes: number;
  /** ... and the next time (merged by then). */
  compactedLoadMs: number;
}

export interface HistoryBenchApi {
  isolated: boolean;
  seed(options: SeedOptions): Promise<SeedResult>;
  openSegmented(conv: string, windowSize: number): Promise<SegmentedOpenTiming>;
  openSingle(conv: string, windowSize: number): Promise<OpenTiming>;
  /** Drops what the last open kept (so the heap can be measured with it, then without). */
  release(): void;
  /**
   * Times the index operations `reps` times each, then stores `unmerged` one-message updates
   * (with their index entries) into a scratch segment and loads it.
   */
  probe(conv: string, reps: number, unmerged: number): Promise<ProbeResult>;
}

declare global {
  interface Window {
    historyBench: HistoryBenchApi;
  }
}
