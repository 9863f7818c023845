/**
 * The in-memory sync network's types (transport-memory.ts): its options and faults, what tests
 * see of frames on the wire, and the connections and streams it models.
 */
import type { SyncTransport, SyncTransportHandler, SyncTransportInit } from './transport.js';

/** Seeded faults applied to frames on the wire (by `step(true)` and `run()`). */
export interface MemoryFaults {
  /** Seed of the generator (default 1): the same seed gives the same faults. */
  seed?: number;
  /** Probability that a frame is lost. */
  drop?: number;
  /** Probability that a frame is delivered twice (the copy at a random later position). */
  duplicate?: number;
  /** Probability that a delivery picks a random frame on the wire instead of the oldest. */
  reorder?: number;
}

export type MemorySyncNetworkOptions = MemoryFaults;

export interface MemoryConnectOptions {
  /**
   * A limited connection, like a relayed one: its data allowance in bytes (both directions
   * together, as a relay counts it). As on libp2p, the connection reports what is left of it,
   * and sync spends at most LIMITED_CONNECTION_SHARE of that.
   */
  limitBytes?: number;
}

/** A frame on the wire. */
export interface MemoryFrame {
  from: string;
  to: string;
  bytes: Uint8Array;
}

export interface MemorySyncTransport extends SyncTransport {
  readonly self: string;
  /** The handler given to start(), for tests that hand-craft a frame from a peer. */
  readonly handler: SyncTransportHandler | undefined;
}

export interface MemorySyncNetwork {
  /** A transport for device `self` (a new one replaces an earlier one with the same id on start). */
  transport(self: string, init?: SyncTransportInit): MemorySyncTransport;
  /** Opens a connection between `a` and `b` unless one is open; both sides open their streams. */
  connect(a: string, b: string, options?: MemoryConnectOptions): void;
  /** Opens an unlimited connection next to a limited one (the direct one after the relayed one). */
  upgrade(a: string, b: string): void;
  /** Closes every connection between `a` and `b`: frames in flight are lost, both see peerDown. */
  disconnect(a: string, b: string): void;
  /**
   * `a` alone reopens its stream to `b` on the same connection (as on a second connection that
   * `b` does not see): `a` gets peerUp again; frames in flight still arrive.
   */
  renew(a: string, b: string): void;
  /** Disconnects every pair across the two sides (`other`: everyone not in `side`). */
  partition(side: string[], other?: string[]): void;
  /** Connects every pair of devices that have a transport. */
  connectAll(): void;
  /** Disconnects everything, then connects every pair (a fresh handshake everywhere). */
  heal(): void;
  connected(a: string, b: string): boolean;
  /** Devices with an open connection to `id`. */
  linksOf(id: string): string[];
  /** Delivers one frame (with faults when `faulty`); false when the wire is empty. */
  step(faulty?: boolean): boolean;
  /** Delivers with faults until the wire is empty (or `max` deliveries). */
  run(max?: number): void;
  /**
   * Delivers without faults until nothing is left on the wire, letting microtasks and
   * macrotasks run in between (acks and saves are asynchronous). Frames that wait in a
   * transport (a limited connection's budget) stay there.
   */
  flush(max?: number): Promise<void>;
  /**
   * Loses the frames on the wire that `lose` picks (newest first), on connections that stay
   * up, like a stream reset under load that the transport does not report. Returns how many.
   */
  discard(lose: (frame: MemoryFrame) => boolean): number;
  /** Frames on the wire. */
  pending(): number;
  /** Frames handed to a receiver so far. */
  readonly delivered: number;
}

/** mulberry32: small and seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The network could not deliver everything (a loop of frames that never ends). */
export class NetworkNotSettledError extends Error {
  override name = 'NetworkNotSettledError';
}

export interface MemoryConnection {
  a: string;
  b: string;
  status: 'open' | 'closed';
  limits?: { bytes: number };
}

export interface MemoryStream {
  from: string;
  to: string;
  connection: MemoryConnection;
  /** closing: closed by its writer (what was written still arrives); reset: aborted. */
  state: 'open' | 'closing' | 'reset';
}

export interface InFlight {
  stream: MemoryStream;
  bytes: Uint8Array;
}

export const macrotask = (): Promise<void> =>
  new Promise((resolve) => {
    const immediate = (globalThis as { setImmediate?: (fn: () => void) => void }).setImmediate;
    if (immediate !== undefined) immediate(resolve);
    else setTimeout(resolve, 0);
  });
