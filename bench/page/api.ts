/**
 * What the bench page exposes on `window.bench` for bench/run.ts (driven through Playwright's
 * `page.evaluate`). All times are measured inside the page with `performance.now()`; the page
 * is served cross-origin isolated, so its clock resolution is 5 µs instead of 100 µs.
 */
import type { FetchReport } from '$lib/files/fetch';
import type { FileRecord } from '$lib/files/record';

/** One side of a raw RTCPeerConnection, signaled by the runner (no trickle: full SDP). */
export interface RawApi {
  /** New peer connection (iceServers: []) with negotiated data channels; returns the offer. */
  offer(): Promise<string>;
  /** Accepts an offer on a new peer connection and returns the answer (this side echoes). */
  answer(offer: string): Promise<string>;
  /** Applies the answer and waits until both data channels are open. */
  accept(answer: string, timeoutMs: number): Promise<RawConnectResult>;
  /** Resolves when this side's data channels are open (the answering side). */
  waitOpen(timeoutMs: number): Promise<void>;
  /** Sequential echo round trips of `size` bytes; returns one sample (ms) per round trip. */
  rtt(count: number, size: number, timeoutMs: number): Promise<number[]>;
  /** Sends `totalBytes` in `chunkSize` messages and waits for the receiver's acknowledgement. */
  bulk(totalBytes: number, chunkSize: number, timeoutMs: number): Promise<BulkResult>;
  close(): void;
}

export interface RawConnectResult {
  /** From creating the offer to both data channels open (includes the runner's signaling). */
  ms: number;
  /** The selected candidate pair, e.g. `host/udp -> host/udp`. */
  candidatePair: string;
}

export interface BulkResult {
  bytes: number;
  /** From the first byte handed to the sender until the receiver acknowledged the last byte. */
  ms: number;
  /** Bytes the receiver reported. */
  received: number;
  /** Bytes the sender's WebRTC transports sent meanwhile (payload plus all overhead). */
  wireBytes: number;
}

export interface ReservationTiming {
  /** From navigation start (performance.timeOrigin) to the first reserved relay. */
  loadToReservedMs: number;
  /** From calling createNode() to the first reserved relay. */
  createToReservedMs: number;
  /**
   * From navigation start to libp2p itself listing a `/p2p-circuit` address (polled every
   * 5 ms). Earlier than `loadToReservedMs` when the node learns of its new addresses late.
   */
  loadToCircuitAddrMs: number;
  /** From navigation start to the bench script starting (bundle load and parse). */
  scriptStartMs: number;
}

export interface DialResult {
  ok: boolean;
  /** Wall time of `node.connect()` until a direct connection exists (or it failed). */
  ms: number;
  /** What `connect()` reported: 'direct' or 'relayed'. */
  connection?: string;
  /** True when a direct (unlimited, /webrtc) connection to the target exists afterwards. */
  direct: boolean;
  /** connect() attempts, from the node's 'dial' events (0: a direct connection existed). */
  attempts: number;
  /** Outcome of each attempt, e.g. ['timeout', 'direct'] for one stall and a retry. */
  outcomes: string[];
  /** Errors of the failed attempts, as the node reported them. */
  attemptErrors: string[];
  /** RTCPeerConnections the dialing page created meanwhile (cross-check of `attempts`). */
  peerConnections: number;
  rttMs?: number;
  remoteAddr?: string;
  error?: string;
}

/** The app's libp2p node (src/lib/p2p createNode) plus the bench protocols. */
export interface OursApi {
  /** Creates and starts a node against `relays` (also done at page load by `?relay=`). */
  start(relays: string[]): Promise<string>;
  /** Resolves when the first relay reservation is up. */
  whenReserved(timeoutMs: number): Promise<ReservationTiming>;
  peerId(): string;
  dial(peerId: string, timeoutMs: number): Promise<DialResult>;
  /** Closes every connection to `peerId`. */
  hangUp(peerId: string): Promise<void>;
  /** Resolves when no connection to `peerId` is left (false on timeout). */
  waitDisconnected(peerId: string, timeoutMs: number): Promise<boolean>;
  /** Number of open connections to `peerId` and how many of them are direct. */
  connections(peerId: string): { total: number; direct: number };
  rtt(peerId: string, count: number, size: number, timeoutMs: number): Promise<number[]>;
  bulk(
    peerId: string,
    totalBytes: number,
    chunkSize: number,
    timeoutMs: number
  ): Promise<BulkResult>;
  stop(): Promise<void>;
}

/** Totals of one SyncSpan (see SyncTrace in src/lib/sync/sync.ts) while a trace recorded. */
export interface SpanTotal {
  count: number;
  /** Sum of the span's own time (nested spans excluded). */
  ms: number;
  bytes: number;
  /** When it first / last ended, ms after the recording began (this page's clock). */
  first: number;
  last: number;
}

export type SpanTotals = Record<string, SpanTotal>;

/**
 * Where B's catch-up time went. The CPU spans run on B's main thread one after another, so
 * they and `idleMs` add up to the catch-up time; `wireMs` overlaps them.
 */
export interface CatchUpBreakdown {
  /** B's sync start until the first sync frame arrived (stream setup, step1, A's diff). */
  firstFrameMs: number;
  /** First to last sync frame received. */
  wireMs: number;
  /** Bytes of the sync frames received, and how many. */
  wireBytes: number;
  frames: number;
  /** Frame headers, Part headers and reassembly copies. */
  decodeMs: number;
  /** Checking each update before Yjs sees it (update-check.ts). */
  checkMs: number;
  /** Y.applyUpdate into the conversation docs (with their observers). */
  applyMs: number;
  /** DocStore.append (its synchronous part). */
  storeMs: number;
  /** The conversations' ordered index: first size() after the messages arrived. */
  orderMs: number;
  /** Event listeners of the bench (nothing is drawn during a catch-up), ordering excluded. */
  uiMs: number;
  /** B's other sync work: acks, step1s, framing what it sends. */
  otherMs: number;
  /** Starting B's sync and opening its conversations (before any frame). */
  startMs: number;
  /** The rest: B waited (stream setup, A's work, the network, timers, GC). */
  idleMs: number;
  /** B's raw span totals. */
  spans: SpanTotals;
}

export interface CatchUpResult {
  /** From B starting its sync (connection up) until both conversations hold every message. */
  ms: number;
  messages: number;
  /** Size of the caught-up state (both conversations, Y.encodeStateAsUpdate). */
  stateBytes: number;
  /** Reference: Y.applyUpdate of the same states into fresh docs, in the same page. */
  applyMs: number;
  /** The reference plus ordering the messages (createConversation().size()). */
  applyAndOrderMs: number;
  /** Bytes this page's WebRTC transports sent meanwhile (acks, step1s). */
  pageBytesSentMeanwhile: number;
  breakdown: CatchUpBreakdown;
}

export interface OpenResult {
  /** Opening until the frame after the newest window was drawn. */
  ms: number;
  /** DocSet.open: the head and the tail segment from IndexedDB. */
  loadMs: number;
  /** openConversation: the newest window from the stored index, its segments, its rows. */
  windowMs: number;
  /** Drawing the window until the next frame. */
  paintMs: number;
  /** Messages in all of history (the stored index's count). */
  messages: number;
  /** Messages in the opened window. */
  windowMessages: number;
  segmentsInMemory: number;
}

/** The baseline: the same history as one doc (how it was stored before segments). */
export interface SingleDocOpenResult {
  ms: number;
  /** DocStore.load from IndexedDB. */
  loadMs: number;
  /** Y.applyUpdate into a fresh doc. */
  applyMs: number;
  /** Every message's order key, sorted (what listing the newest needs without an index). */
  orderMs: number;
  paintMs: number;
  messages: number;
}

export interface ChatApi {
  /** Meta + members states (one per id; `peer` is the other member), as byte arrays. */
  createInitial(ids: string[], peer: string): Promise<number[][]>;
  /** Starts sync on this page's node (memory DocStore seeded) and opens the conversations. */
  start(seed: Record<string, number[]>): Promise<number>;
  /** Sends `count` messages, one update each. */
  write(id: string, count: number): Promise<{ ms: number; state: number }>;
  /** Starts sync from `seed` and waits until every conversation has `expected` messages. */
  catchUp(
    seed: Record<string, number[]>,
    expected: number,
    timeoutMs: number
  ): Promise<CatchUpResult>;
  /** Starts recording this page's sync spans afresh (e.g. A's side of a catch-up). */
  traceReset(): void;
  /** The spans recorded since traceReset(). */
  traceTake(): SpanTotals;
  /** Sequential ping -> pong round trips through the conversation (ms each). */
  pingPong(
    id: string,
    count: number,
    timeoutMs: number
  ): Promise<{ roundTrips: number[]; sentAt: number[] }>;
  /** From now on answers every ping in the conversation with a pong. */
  answerPings(id: string): void;
  /** Stops answering; returns when each ping was seen (performance.timeOrigin + now, ms). */
  stopAnswering(): number[];
  stop(): Promise<void>;
  /** Bytes this page's WebRTC transports have sent so far (payload and overhead). */
  bytesSent(): Promise<number>;
  /** Stores `count` messages (transactions of `batch`) in an IndexedDB DocStore. */
  seedIdb(
    id: string,
    count: number,
    batch: number
  ): Promise<{ ms: number; bytes: number; segments: number }>;
  /** Opens the stored conversation the app's way and draws its newest `windowSize` messages. */
  open(id: string, windowSize: number): Promise<OpenResult>;
  /** The same history stored as one doc: loaded whole, ordered, newest window drawn. */
  openSingleDoc(id: string, windowSize: number): Promise<SingleDocOpenResult>;
  /** After open(): loads older messages until the window starts at the oldest one. */
  scrollToOldest(expected: number): Promise<{ ms: number; loads: number }>;
  /**
   * Writes `count` index entries in transactions of `batch` (a catch-up), then `sends` messages
   * one by one with their entry (sending), into the app's HistoryStore and, as the baseline, into
   * version 1's layout (one record per message, three indexes). Times in ms (send: per message).
   */
  indexWrites(
    count: number,
    batch: number,
    sends: number
  ): Promise<{ bulkMs: number; sendMs: number; baseBulkMs: number; baseSendMs: number }>;
  /** Forgets what `open` built. */
  release(): Promise<void>;
  /** The conversations' docs (head and segments) as Yjs updates, base64. */
  states(ids: string[]): Promise<string[]>;
  /** Reference: Y.applyUpdate of `states` (base64) into fresh docs; ms of the applies alone. */
  applyStates(states: string[]): number;
}

export type FilesStoreKind = 'idb' | 'idb-inline' | 'memory';

/** How the files phase opens the service (bench/page/files.ts). */
export interface FilesOpenOptions {
  /**
   * 'idb': the app's batched IndexedDB blockstore (database `name`); 'idb-inline': the same with
   * every block a value of its own (no packs, as before schema 2); 'memory': MemoryBlockstore.
   */
  store: FilesStoreKind;
  name: string;
  /** Blocks asked for at once while fetching (default: the app's FETCH_CONCURRENCY). */
  concurrency?: number;
}

/** Blockstore calls since the last takeStats() (ms: summed latencies, calls overlap). */
export interface StoreStats {
  puts: number;
  /** put() until durable (the IndexedDB batch committed). */
  putMs: number;
  putMaxMs: number;
  gets: number;
  /** get() until the bytes. */
  getMs: number;
  getMaxMs: number;
  has: number;
  hasMs: number;
}

export interface FilesAddResult {
  record: FileRecord;
  /** From the call until add() resolved (every block durable). */
  ms: number;
  /** Of which generating the file's chunks (the source, not the service). */
  genMs: number;
}

export interface FilesFetchResult {
  /** From calling fetch() until it resolved: every block stored. */
  ms: number;
  /** fetch() start -> the first progress with bytes > 0 (a data block stored). */
  firstProgressMs: number;
  /** fetch() start -> read(record, {start: 0, end: 1}) gave the first plaintext byte. */
  firstByteMs: number;
  firstByte?: number;
  /** When 10%, 20%, ... 100% of the bytes were stored (ms after the start). */
  marks: number[];
  report: FetchReport;
}

export interface FilesReadResult {
  /** read() of the whole file (decrypting) with the hash of each chunk. */
  ms: number;
  /** Of which the SHA-256 updates (noble, on this thread). */
  hashMs: number;
  bytes: number;
  hash: string;
}

export interface FilesApi {
  /** Closes what was open, then opens the files service on this page's node. */
  open(options: FilesOpenOptions): Promise<void>;
  /** SHA-256 (hex) of the generated file of `size` bytes (made again, nothing stored). */
  expectedHash(size: number): Promise<{ hash: string; ms: number }>;
  /** add() of a generated file of `size` bytes (a stream of 1 MiB chunks). */
  add(size: number): Promise<FilesAddResult>;
  /** fetch() from `provider` (peer ID); `firstByte`: also time the first byte read() gives. */
  fetch(
    record: FileRecord,
    provider: string,
    options: { timeoutMs: number; firstByte: boolean }
  ): Promise<FilesFetchResult>;
  /** Byte 0 of the generated file of `size` bytes. */
  firstByte(size: number): Promise<number>;
  readAll(record: FileRecord): Promise<FilesReadResult>;
  /** remove(), then the blocks left in the IndexedDB store (undefined for memory). */
  remove(
    record: FileRecord
  ): Promise<{ ms: number; left: { blocks: number; bytes: number } | undefined }>;
  takeStats(): StoreStats;
  close(): Promise<void>;
}

export interface BenchApi {
  raw: RawApi;
  ours: OursApi;
  chat: ChatApi;
  files: FilesApi;
  /** Whether the page got the high-resolution clock (cross-origin isolated). */
  isolated: boolean;
  /** Error from starting at page load (`?relay=`), if any. */
  startError(): string | undefined;
}

declare global {
  interface Window {
    bench: BenchApi;
  }
}
