/**
 * The queueing rules of a sync transport's outbound frames, shared by the libp2p transport and
 * its in-memory twin so the two cannot drift: which frames wait, which go ahead, which are
 * dropped, what a limited (relayed) connection may carry and which connection a peer's frames
 * use. Pure functions over plain data; the transports own the I/O.
 */
import { LIMITED_CONNECTION_SHARE } from './constants.js';
import type { FrameSendOptions } from './transport.js';

export interface Queued extends FrameSendOptions {
  bytes: Uint8Array;
}

/**
 * Adds a frame to a peer's outbound queue (returns the new queue): a frame with `replace`
 * first drops the unwritten frames with its key; past `maxBytes` the waiting data frames are
 * dropped and only control frames stay (the repair rounds and the next connection's handshake
 * send what is still missing).
 */
export function enqueue(queue: Queued[], item: Queued, maxBytes: number): Queued[] {
  let next =
    item.key !== undefined && item.replace === true
      ? queue.filter((q) => q.key !== item.key)
      : queue;
  next.push(item);
  let held = 0;
  for (const q of next) held += q.bytes.byteLength;
  if (held > maxBytes) next = next.filter((q) => q.control === true);
  return next;
}

/**
 * Takes the next frame to write off the queue: the oldest, if `fits` lets it through (a
 * limited connection's budget); otherwise the oldest control frame that fits, while data
 * keeps its order and waits. Droppable frames that don't fit are dropped.
 */
export function takeWritable(
  queue: Queued[],
  fits: (bytes: number) => boolean
): Queued | undefined {
  for (let i = 0; i < queue.length; i++) {
    const q = queue[i] as Queued;
    if (i > 0 && q.control !== true) continue;
    if (fits(q.bytes.byteLength)) {
      queue.splice(i, 1);
      return q;
    }
    if (q.droppable === true) {
      queue.splice(i, 1);
      i--;
    }
  }
  return undefined;
}

/** What `backlog(peer)` reports: data frames not written yet (control frames don't count). */
export function backlogOf(queue: readonly Queued[]): number {
  return queue.filter((q) => q.control !== true).length;
}

/** The part of a connection these rules look at (libp2p's Connection has both). */
export interface ConnectionLike {
  status: string;
  /** Set on limited (relayed) connections; `bytes` is the data allowance of both directions. */
  limits?: { bytes?: bigint | number } | undefined;
}

/**
 * Bytes written by sync on each limited connection, against LIMITED_CONNECTION_SHARE of its
 * allowance. libp2p reports in `limits.bytes` what is *left* of the allowance (both
 * directions), so the budget also shrinks as the other side writes. Keyed by connection
 * object: a new connection starts a new budget.
 */
export class LimitedBudget<C extends ConnectionLike & object> {
  private readonly spent = new WeakMap<C, number>();

  /**
   * Counts a frame of `frameBytes` (plus its length prefix) against the connection's budget;
   * false when it doesn't fit. Connections without limits always fit.
   */
  spend(connection: C | undefined, frameBytes: number): boolean {
    const allowance = connection?.limits?.bytes;
    if (connection === undefined || allowance === undefined) return true;
    const bytes = frameBytes + 4;
    const spent = this.spent.get(connection) ?? 0;
    if (spent + bytes > Number(allowance) * LIMITED_CONNECTION_SHARE) return false;
    this.spent.set(connection, spent + bytes);
    return true;
  }
}

/**
 * Should a peer's frames move to `next`, a connection that just opened? Yes, unless the current
 * one is open, unlimited and `next` is limited (a relayed connection after the direct one).
 */
export function shouldMoveTo<C extends ConnectionLike>(current: C | undefined, next: C): boolean {
  return !(
    current !== undefined &&
    current.status === 'open' &&
    current !== next &&
    current.limits === undefined &&
    next.limits !== undefined
  );
}

/** The connection a peer's frames should use: an open unlimited one, else any open one. */
export function bestConnection<C extends ConnectionLike>(connections: C[]): C | undefined {
  const open = connections.filter((c) => c.status === 'open');
  return open.find((c) => c.limits === undefined) ?? open[0];
}
