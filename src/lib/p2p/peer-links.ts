/**
 * The node's links to other devices (not to relays): measures each one's RTT (shortly after it
 * opens, then every ping interval, and on request) and, once a peer is reached directly, retires
 * the relayed connections to it.
 *
 * The node composes it: it passes every new connection to `connectionOpened()`, starts it once
 * libp2p runs and stops it before libp2p stops. I/O comes in through the init: the libp2p
 * instance, whether the node runs, the peers in the current state and `dispatch` for RTTs.
 */
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import {
  FIRST_PING_DELAY_MS,
  HANDSHAKE_PROTOCOLS,
  MAX_RELAYED_CLOSE_POSTPONES
} from './constants.js';
import { findDirect } from './dial.js';
import { NodeNotStartedError, PeerNotConnectedError } from './errors.js';
import { measureRtt } from './rtt.js';
import { isDirectConnection, isPeerAddr, isRelayedAddr, type NodeEvent } from './state.js';
import type { P2PLibp2p, PeerState, PingOptions } from './types.js';

export interface PeerLinksInit {
  /** The node's libp2p, once created. */
  libp2p: () => P2PLibp2p | undefined;
  /** Whether the node runs (started and not stopped). */
  running: () => boolean;
  /** The peers in the node's current state (the ones the interval pings). */
  peers: () => readonly PeerState[];
  dispatch: (event: NodeEvent) => void;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  relayedCloseDelayMs: number;
}

export interface PeerLinks {
  /** Starts the periodic RTT pings. */
  start(): void;
  /** Stops the periodic RTT pings and drops pending closes of relayed connections. */
  stop(): void;
  /** Call for every connection libp2p opens. */
  connectionOpened(conn: Connection): void;
  /** The RTT to `peerId` over its preferred (direct, else relayed) connection, in ms. */
  ping(peerId: string, options?: PingOptions): Promise<number>;
}

export function createPeerLinks(init: PeerLinksInit): PeerLinks {
  let pingTimer: ReturnType<typeof setInterval> | undefined;
  const pinging = new Set<string>();
  const closeTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** First pings scheduled (cleared by stop(): no timer outlives the node). */
  const firstPings = new Set<ReturnType<typeof setTimeout>>();

  /** A new connection to another device: measure it, and retire a relayed one once direct. */
  function connectionOpened(conn: Connection): void {
    const addr = conn.remoteAddr.toString();
    if (!isPeerAddr(addr)) return;
    const peerId = conn.remotePeer.toString();
    // First RTT shortly after opening: right at open the new link is busy with identify etc.
    const timer = setTimeout(() => {
      firstPings.delete(timer);
      void pingPeer(peerId);
    }, FIRST_PING_DELAY_MS);
    firstPings.add(timer);
    if (!isDirectConnection({ remoteAddr: addr, limited: conn.limits != null })) return;
    scheduleCloseRelayed(peerId, 0);
  }

  function scheduleCloseRelayed(peerId: string, postponed: number): void {
    clearTimeout(closeTimers.get(peerId));
    closeTimers.set(
      peerId,
      setTimeout(() => {
        closeTimers.delete(peerId);
        closeRelayed(peerId, postponed);
      }, init.relayedCloseDelayMs)
    );
  }

  /**
   * Closes the relayed connections to a peer reached directly. One that carries an invite or a
   * pairing handshake stays until it ends (closing it would fail the handshake: "the connection
   * closed before you were connected"), checked again after each delay, a few times at most.
   */
  function closeRelayed(peerId: string, postponed: number): void {
    const libp2p = init.libp2p();
    if (libp2p === undefined || !init.running()) return;
    const peer = peerIdFromString(peerId);
    if (findDirect(libp2p, peer) === undefined) return;
    const retire = relayedToClose(libp2p.getConnections(peer), postponed);
    if (retire === 'wait') return scheduleCloseRelayed(peerId, postponed + 1);
    for (const c of retire) c.close().catch(() => c.abort(new Error('Closing relayed connection')));
  }

  async function ping(peerId: string, options: PingOptions = {}): Promise<number> {
    const libp2p = init.libp2p();
    if (libp2p === undefined) throw new NodeNotStartedError('The node has not started');
    const conn = preferredConnection(peerId);
    if (conn === undefined) throw new PeerNotConnectedError(`Not connected to ${peerId}`);
    const rtt = await measureRtt(conn, {
      signal: options.signal ?? AbortSignal.timeout(init.pingTimeoutMs)
    });
    if (libp2p === init.libp2p()) init.dispatch({ type: 'rtt', peerId, rttMs: rtt });
    return rtt;
  }

  function preferredConnection(peerId: string): Connection | undefined {
    const libp2p = init.libp2p();
    if (libp2p === undefined) return undefined;
    let peer;
    try {
      peer = peerIdFromString(peerId);
    } catch {
      return undefined;
    }
    const open = libp2p.getConnections(peer).filter((c) => c.status === 'open');
    return (
      open.find((c) =>
        isDirectConnection({ remoteAddr: c.remoteAddr.toString(), limited: c.limits != null })
      ) ?? open.find((c) => isPeerAddr(c.remoteAddr.toString()))
    );
  }

  async function pingPeer(peerId: string): Promise<void> {
    if (pinging.has(peerId)) return;
    pinging.add(peerId);
    try {
      await ping(peerId);
    } catch {
      // A failed ping only means no fresh RTT; libp2p's connection monitor closes dead links.
    } finally {
      pinging.delete(peerId);
    }
  }

  function pingAll(): void {
    for (const peer of init.peers()) void pingPeer(peer.peerId);
  }

  return {
    start(): void {
      pingTimer = setInterval(() => pingAll(), init.pingIntervalMs);
    },
    stop(): void {
      clearInterval(pingTimer);
      pingTimer = undefined;
      for (const t of closeTimers.values()) clearTimeout(t);
      closeTimers.clear();
      for (const t of firstPings) clearTimeout(t);
      firstPings.clear();
    },
    connectionOpened,
    ping
  };
}

/** What a connection shows of itself to the retirement rule. */
export interface RetirableConnection {
  remoteAddr: { toString(): string };
  streams: readonly { protocol: string; status: string }[];
}

/**
 * The relayed connections among `connections` to close once the peer is reached directly, or
 * 'wait' while one still carries an invite or pairing handshake (after `postponed` waits,
 * MAX_RELAYED_CLOSE_POSTPONES at most, they are closed anyway).
 */
export function relayedToClose<C extends RetirableConnection>(
  connections: readonly C[],
  postponed: number
): C[] | 'wait' {
  const relayed = connections.filter((c) => isRelayedAddr(c.remoteAddr.toString()));
  const busy = relayed.some((c) =>
    c.streams.some((s) => HANDSHAKE_PROTOCOLS.has(s.protocol) && s.status === 'open')
  );
  return busy && postponed < MAX_RELAYED_CLOSE_POSTPONES ? 'wait' : relayed;
}
