/**
 * Keeps a reservation on every configured relay, for as long as the node runs.
 *
 * How a reservation is made: the node listens on one `/p2p-circuit` ("find a relay") address
 * per relay slot. libp2p's circuit-relay transport reserves a slot on any connected peer that
 * speaks the relay HOP protocol, as soon as identify has run on a fresh connection. So keeping a
 * reservation comes down to keeping a connection to the relay: dial it, wait until a circuit
 * address through it shows up in `getMultiaddrs()`, and when that fails or the connection
 * drops, dial again with exponential backoff. This also brings a restarted relay back without a
 * reload.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import {
  relayAddressInvalidMessage,
  relayRefusedMessage,
  relayTooManyMessage,
  relayUnreachableMessage
} from './messages.js';
import { hasReservationOn, type NodeEvent } from './state.js';
import type { P2PLibp2p } from './types.js';

export interface RelayGroup {
  peerId: string;
  addrs: string[];
}

export interface ParsedRelayList {
  /** Usable relays, grouped by peer ID, in the order first seen, at most `max`. */
  groups: RelayGroup[];
  /** Entries for the state: one per group plus one per unusable line. */
  entries: { addr: string; peerId: string; error?: string }[];
}

/** Groups relay multiaddrs by relay peer ID; rejects lines without a valid /p2p/ part. Pure. */
export function parseRelayList(addrs: readonly string[], max: number): ParsedRelayList {
  const groups: RelayGroup[] = [];
  const entries: ParsedRelayList['entries'] = [];
  const seenLines = new Set<string>();
  for (const raw of addrs) {
    const line = raw.trim();
    if (line === '' || seenLines.has(line)) continue;
    seenLines.add(line);
    let peerId: string | undefined;
    let normalized = line;
    try {
      const ma = multiaddr(line);
      normalized = ma.toString();
      const last = ma.getComponents().at(-1);
      if (last?.name === 'p2p' && last.value !== undefined) {
        peerId = peerIdFromString(last.value).toString();
      }
    } catch {
      peerId = undefined;
    }
    if (peerId === undefined || normalized.includes('/p2p-circuit')) {
      entries.push({ addr: line, peerId: '', error: relayAddressInvalidMessage(line) });
      continue;
    }
    const group = groups.find((g) => g.peerId === peerId);
    if (group !== undefined) {
      if (!group.addrs.includes(normalized)) group.addrs.push(normalized);
      continue;
    }
    if (groups.length >= max) {
      entries.push({ addr: normalized, peerId, error: relayTooManyMessage(max) });
      continue;
    }
    groups.push({ peerId, addrs: [normalized] });
    entries.push({ addr: normalized, peerId });
  }
  return { groups, entries };
}

/** The relay part (`<relay addr>/p2p/<relay>`) of each of this node's circuit addresses. */
export function reservedRelayAddrs(selfAddrs: readonly string[]): string[] {
  const out: string[] = [];
  for (const addr of selfAddrs) {
    const at = addr.indexOf('/p2p-circuit');
    if (at <= 0) continue;
    const relay = addr.slice(0, at);
    if (!out.includes(relay)) out.push(relay);
  }
  return out;
}

export interface RelayKeeperInit {
  libp2p: P2PLibp2p;
  dispatch: (event: NodeEvent) => void;
  reservationTimeoutMs: number;
  maxRelays: number;
  backoff: BackoffOptions;
  now: () => number;
  random: () => number;
}

export interface RelayKeeper {
  start(): void;
  stop(): void;
  setRelays(addrs: readonly string[]): void;
  /** Something suggests the network is back: retry every relay without a reservation now. */
  retryNow(): void;
  /** Call with the node's current multiaddrs whenever they change. */
  addressesChanged(addresses: readonly string[]): void;
  /** Call when a connection to `peerId` closed. */
  connectionClosed(peerId: string): void;
}

/** A reservation lost this soon after it was made counts as a failure (backoff), not a blip. */
const FLAP_WINDOW_MS = 5_000;

export function createRelayKeeper(init: RelayKeeperInit): RelayKeeper {
  const entries = new Map<string, RelayEntry>();
  let addresses: readonly string[] = [];
  let running = false;
  let configured: readonly string[] = [];

  const reserved = (peerId: string): boolean => hasReservationOn(addresses, peerId);

  class RelayEntry {
    readonly peer: PeerId;
    attempt = 0;
    busy = false;
    stopped = false;
    wasReserved = false;
    reservedAt = 0;
    timer: ReturnType<typeof setTimeout> | undefined;
    controller: AbortController | undefined;
    /** Wakes up a pending waitForReservation(). */
    notify: (() => void) | undefined;

    constructor(
      readonly peerId: string,
      public addrs: string[]
    ) {
      this.peer = peerIdFromString(peerId);
    }

    schedule(delayMs: number): void {
      if (this.stopped) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.run();
      }, delayMs);
    }

    async run(): Promise<void> {
      if (this.stopped || this.busy) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      if (reserved(this.peerId)) {
        this.attempt = 0;
        return;
      }
      this.busy = true;
      init.dispatch({ type: 'relay:dialing', peerId: this.peerId });
      const controller = new AbortController();
      this.controller = controller;
      const signal = controller.signal;
      const timeout = setTimeout(
        () => controller.abort(new Error('Reservation timed out')),
        init.reservationTimeoutMs
      );
      let connected = false;
      try {
        await init.libp2p.dial(
          this.addrs.map((a) => multiaddr(a)),
          { signal }
        );
        connected = true;
        await this.waitForReservation(signal);
        this.attempt = 0;
      } catch {
        if (this.stopped) return;
        if (connected) {
          // Connected but no reservation: a fresh connection makes identify run again, and
          // that is what triggers the reservation.
          await this.hangUp();
        }
        const delay = backoffDelay(this.attempt, init.backoff, init.random);
        this.attempt++;
        const addr = this.addrs[0] ?? this.peerId;
        init.dispatch({
          type: 'relay:failed',
          peerId: this.peerId,
          error: connected ? relayRefusedMessage(addr) : relayUnreachableMessage(addr),
          nextRetryAt: init.now() + delay
        });
        this.schedule(delay);
      } finally {
        clearTimeout(timeout);
        this.busy = false;
        if (this.controller === controller) this.controller = undefined;
      }
    }

    waitForReservation(signal: AbortSignal): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const done = (): void => {
          this.notify = undefined;
          signal.removeEventListener('abort', onAbort);
        };
        const onAbort = (): void => {
          done();
          reject(signal.reason);
        };
        this.notify = () => {
          if (reserved(this.peerId)) {
            done();
            resolve();
          }
        };
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort);
        this.notify();
      });
    }

    async hangUp(): Promise<void> {
      try {
        await init.libp2p.hangUp(this.peer);
      } catch {
        // Already closed.
      }
    }

    /** Addresses changed: note a new reservation, or notice a lost one. */
    onAddresses(): void {
      const now = reserved(this.peerId);
      if (now && !this.wasReserved) {
        this.reservedAt = init.now();
        this.attempt = 0;
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (!now && this.wasReserved) this.lost();
      this.wasReserved = now;
      this.notify?.();
    }

    lost(): void {
      if (this.stopped || this.busy || this.timer !== undefined) return;
      if (init.now() - this.reservedAt < FLAP_WINDOW_MS) {
        const delay = backoffDelay(this.attempt, init.backoff, init.random);
        this.attempt++;
        this.schedule(delay);
      } else {
        this.schedule(0);
      }
    }

    stop(): void {
      this.stopped = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.controller?.abort();
    }
  }

  const apply = (): void => {
    const parsed = parseRelayList(configured, init.maxRelays);
    init.dispatch({ type: 'relays:set', relays: parsed.entries });
    if (!running) return;
    const wanted = new Set(parsed.groups.map((g) => g.peerId));
    for (const [peerId, entry] of entries) {
      if (wanted.has(peerId)) continue;
      entry.stop();
      entries.delete(peerId);
      // Drop it from the peer store too, or relay discovery would find it there and reserve on
      // it again.
      void entry
        .hangUp()
        .then(() => init.libp2p.peerStore.delete(entry.peer))
        .catch(() => {});
    }
    for (const group of parsed.groups) {
      const existing = entries.get(group.peerId);
      if (existing !== undefined) {
        existing.addrs = group.addrs;
        continue;
      }
      const entry = new RelayEntry(group.peerId, group.addrs);
      entries.set(group.peerId, entry);
      entry.wasReserved = reserved(group.peerId);
      void entry.run();
    }
  };

  return {
    start() {
      running = true;
      apply();
    },
    stop() {
      running = false;
      for (const entry of entries.values()) entry.stop();
      entries.clear();
    },
    setRelays(addrs) {
      configured = [...addrs];
      apply();
    },
    retryNow() {
      for (const entry of entries.values()) {
        if (reserved(entry.peerId) || entry.busy) continue;
        entry.attempt = 0;
        entry.schedule(0);
      }
    },
    addressesChanged(next) {
      addresses = [...next];
      for (const entry of entries.values()) entry.onAddresses();
    },
    connectionClosed(peerId) {
      const entry = entries.get(peerId);
      if (entry === undefined) return;
      const open = init.libp2p.getConnections(entry.peer).some((c) => c.status === 'open');
      if (!open && !reserved(peerId)) entry.lost();
    }
  };
}
