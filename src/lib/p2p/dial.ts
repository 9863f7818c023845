/**
 * connect(): reach another device through a relay, then upgrade to a direct WebRTC connection.
 *
 * Why the retries: about 1 WebRTC dial in 10 between two pages stalls (ICE connects, then the
 * init data channel never opens) and libp2p only gives up after 6 s; a fresh attempt succeeds.
 * So each attempt gets its own timeout, shorter than that, and a failed attempt is followed by
 * another one, up to `attempts`.
 */
import type { Connection, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import {
  AbortError,
  DialTimeoutError,
  DirectConnectionFailedError,
  InvalidTargetError,
  PeerUnreachableError,
  RelayUnavailableError
} from './errors.js';
import { measureRtt } from './rtt.js';
import { isDirectConnection, isRelayedAddr } from './state.js';
import { parseTarget } from './target.js';
import type { DialAttemptReport, P2PLibp2p } from './types.js';

export interface DialContext {
  libp2p: P2PLibp2p;
  selfPeerId: string;
  /** Relay addresses (`…/p2p/<relay>`) this node holds a reservation on, best first. */
  relayAddrs: () => string[];
  dialTimeoutMs: number;
  attempts: number;
  backoff: BackoffOptions;
  random: () => number;
  /** Reports each attempt (for the 'dial' event). */
  onAttempt?: (report: DialAttemptReport) => void;
}

export interface DialResult {
  peerId: string;
  connection: Connection;
  /** 1-based number of the attempt that succeeded (0: a direct connection already existed). */
  attempt: number;
}

/** A connection that is open, unlimited and not through a relay. */
export function findDirect(libp2p: P2PLibp2p, peer: PeerId): Connection | undefined {
  return libp2p
    .getConnections(peer)
    .find(
      (c) =>
        c.status === 'open' &&
        isDirectConnection({ remoteAddr: c.remoteAddr.toString(), limited: c.limits != null })
    );
}

function findRelayed(libp2p: P2PLibp2p, peer: PeerId): Connection | undefined {
  return libp2p
    .getConnections(peer)
    .find((c) => c.status === 'open' && isRelayedAddr(c.remoteAddr.toString()));
}

/** `<relay>/p2p-circuit/p2p/<peer>` -> `<relay>/p2p-circuit/webrtc/p2p/<peer>`. */
export function webrtcAddrFor(relayedAddr: string, peerId: string): string {
  const at = relayedAddr.lastIndexOf('/p2p-circuit');
  const relay = at >= 0 ? relayedAddr.slice(0, at) : relayedAddr;
  return `${relay}/p2p-circuit/webrtc/p2p/${peerId}`;
}

/** Relay addresses to try for a target: the one named in its multiaddr first. */
export function relayCandidates(targetAddr: string | undefined, reserved: string[]): string[] {
  const out: string[] = [];
  if (targetAddr !== undefined) {
    const at = targetAddr.lastIndexOf('/p2p-circuit');
    if (at > 0) out.push(targetAddr.slice(0, at));
  }
  for (const r of reserved) if (!out.includes(r)) out.push(r);
  return out;
}

export async function dialPeer(
  ctx: DialContext,
  rawTarget: string,
  options: { signal?: AbortSignal } = {}
): Promise<DialResult> {
  const target = parseTarget(rawTarget);
  if (target.peerId === ctx.selfPeerId) {
    throw new InvalidTargetError("That is this device's own peer ID", 'self');
  }
  const peer = peerIdFromString(target.peerId);
  const userSignal = options.signal;
  const throwIfAborted = (): void => {
    if (userSignal?.aborted === true) throw new AbortError();
  };

  const existing = findDirect(ctx.libp2p, peer);
  if (existing !== undefined) return { peerId: target.peerId, connection: existing, attempt: 0 };

  let lastError: Error | undefined;
  let timeouts = 0;
  for (let attempt = 1; attempt <= ctx.attempts; attempt++) {
    throwIfAborted();
    if (attempt > 1) await sleep(backoffDelay(attempt - 2, ctx.backoff, ctx.random), userSignal);

    const started = performance.now();
    const report = (outcome: DialAttemptReport['outcome'], error?: unknown): void => {
      ctx.onAttempt?.({
        peerId: target.peerId,
        attempt,
        outcome,
        elapsedMs: performance.now() - started,
        ...(error === undefined ? {} : { error: describe(error) })
      });
    };

    const relays = relayCandidates(target.multiaddr, ctx.relayAddrs());
    if (relays.length === 0 && findRelayed(ctx.libp2p, peer) === undefined) {
      lastError = new RelayUnavailableError('No relay reservation to dial through');
      report('no-relay');
      continue;
    }

    const attemptTimeout = new AbortController();
    const timer = setTimeout(
      () => attemptTimeout.abort(new DialTimeoutError('Dial attempt timed out')),
      ctx.dialTimeoutMs
    );
    const signal = userSignal
      ? AbortSignal.any([userSignal, attemptTimeout.signal])
      : attemptTimeout.signal;
    const before = new Set(ctx.libp2p.getConnections(peer).map((c) => c.id));
    try {
      const relayed =
        findRelayed(ctx.libp2p, peer) ?? (await dialRelayed(ctx, relays, peer, signal));
      // The other side may have dialed us directly in the meantime.
      const direct =
        findDirect(ctx.libp2p, peer) ??
        (await ctx.libp2p.dial(
          multiaddr(webrtcAddrFor(relayed.remoteAddr.toString(), target.peerId)),
          { signal }
        ));
      if (
        !isDirectConnection({
          remoteAddr: direct.remoteAddr.toString(),
          limited: direct.limits != null
        })
      ) {
        throw new DirectConnectionFailedError('The upgraded connection is not direct');
      }
      report('direct');
      return { peerId: target.peerId, connection: direct, attempt };
    } catch (err) {
      throwIfAborted();
      if (attemptTimeout.signal.aborted) {
        timeouts++;
        lastError = new DialTimeoutError('Dial attempt timed out', { cause: err });
        report('timeout', err);
      } else if ((err as Error)?.name === 'PeerUnreachableError') {
        lastError = err as Error;
        report('unreachable', err);
      } else {
        lastError = err instanceof Error ? err : new Error(String(err));
        report('failed', err);
      }
      await closeHalfOpen(ctx.libp2p, peer, before);
    } finally {
      clearTimeout(timer);
    }
  }

  // A last look: the other side may have connected to us while we were retrying.
  const late = findDirect(ctx.libp2p, peer);
  if (late !== undefined) return { peerId: target.peerId, connection: late, attempt: ctx.attempts };

  if (findRelayed(ctx.libp2p, peer) !== undefined) {
    throw new DirectConnectionFailedError(
      `Reached ${target.peerId} through the relay, but no direct connection came up`,
      { cause: lastError }
    );
  }
  if (lastError?.name === 'RelayUnavailableError') throw lastError;
  if (timeouts === ctx.attempts) {
    throw new DialTimeoutError(`No answer from ${target.peerId} after ${ctx.attempts} attempts`, {
      cause: lastError
    });
  }
  throw new PeerUnreachableError(`Could not reach ${target.peerId}`, { cause: lastError });
}

async function dialRelayed(
  ctx: DialContext,
  relays: string[],
  peer: PeerId,
  signal: AbortSignal
): Promise<Connection> {
  let lastError: unknown;
  for (const relay of relays) {
    try {
      return await ctx.libp2p.dial(multiaddr(`${relay}/p2p-circuit/p2p/${peer.toString()}`), {
        signal
      });
    } catch (err) {
      if (signal.aborted) throw err;
      lastError = err;
    }
  }
  throw new PeerUnreachableError('No relay could connect to the peer', { cause: lastError });
}

/**
 * After a failed attempt: connections to the peer that this attempt opened but that are not
 * usable (closing, or not answering a ping) would be picked up by the next attempt and by the
 * other side, so close them first.
 */
async function closeHalfOpen(libp2p: P2PLibp2p, peer: PeerId, before: Set<string>) {
  const suspects = libp2p
    .getConnections(peer)
    .filter((c) => !before.has(c.id) && !isRelayedAddr(c.remoteAddr.toString()));
  await Promise.all(
    suspects.map(async (c) => {
      if (c.status === 'open') {
        try {
          await measureRtt(c, { signal: AbortSignal.timeout(1_500) });
          return; // It works after all; the next attempt will find it.
        } catch {
          // Not usable: close below.
        }
      }
      c.abort(new DialTimeoutError('Closing a half-open connection before retrying'));
    })
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(new AbortError());
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
