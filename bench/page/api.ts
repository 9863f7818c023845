/**
 * What the bench page exposes on `window.bench` for bench/run.ts (driven through Playwright's
 * `page.evaluate`). All times are measured inside the page with `performance.now()`; the page
 * is served cross-origin isolated, so its clock resolution is 5 µs instead of 100 µs.
 */

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

export interface BenchApi {
  raw: RawApi;
  ours: OursApi;
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
