/**
 * NodeState as a pure function of what libp2p reported: a reducer over a small model, and a
 * derive step from the model to the NodeState the UI shows. No libp2p objects in here; the node
 * turns its events into NodeEvents (see node.ts), which keeps this testable with plain data.
 */
import type { NodeState, PeerState, RelayStatus } from './types.js';

/** What the state needs to know about one open connection. */
export interface ConnectionInfo {
  id: string;
  peerId: string;
  remoteAddr: string;
  /** Relayed connections carry limits (data/duration) set by the relay. */
  limited: boolean;
}

export interface RelayModel {
  addr: string;
  peerId: string;
  status: RelayStatus;
  error?: string;
  nextRetryAt?: number;
}

export interface NodeModel {
  running: boolean;
  relays: RelayModel[];
  connections: ConnectionInfo[];
  addresses: string[];
  /** Last RTT per peer ID. */
  rtt: Record<string, number>;
}

export type NodeEvent =
  | { type: 'node:started' }
  | { type: 'node:stopped' }
  /** The configured relays, grouped by peer ID. `error` marks an unusable entry. */
  | { type: 'relays:set'; relays: { addr: string; peerId: string; error?: string }[] }
  | { type: 'relay:dialing'; peerId: string }
  | { type: 'relay:failed'; peerId: string; error: string; nextRetryAt?: number }
  | { type: 'addresses'; addresses: string[] }
  | { type: 'connection:open'; connection: ConnectionInfo }
  | { type: 'connection:close'; id: string }
  | { type: 'connections:reset'; connections: ConnectionInfo[] }
  | { type: 'rtt'; peerId: string; rttMs: number };

export const INITIAL_MODEL: NodeModel = Object.freeze({
  running: false,
  relays: [],
  connections: [],
  addresses: [],
  rtt: {}
}) as NodeModel;

export function reduce(model: NodeModel, event: NodeEvent): NodeModel {
  switch (event.type) {
    case 'node:started':
      return { ...model, running: true };
    case 'node:stopped':
      return {
        ...model,
        running: false,
        connections: [],
        addresses: [],
        rtt: {},
        relays: model.relays.map((r) => ({ addr: r.addr, peerId: r.peerId, status: 'connecting' }))
      };
    case 'relays:set': {
      const relays = event.relays.map((r): RelayModel => {
        if (r.error !== undefined) {
          return { addr: r.addr, peerId: r.peerId, status: 'error', error: r.error };
        }
        const existing = model.relays.find((m) => m.peerId === r.peerId && m.peerId !== '');
        return existing !== undefined
          ? { ...existing, addr: r.addr }
          : { addr: r.addr, peerId: r.peerId, status: 'connecting' };
      });
      return { ...model, relays: applyReservations(relays, model.addresses) };
    }
    case 'relay:dialing':
      return updateRelay(model, event.peerId, (r) => {
        if (r.status === 'reserved') return r;
        if (r.status === 'error' || r.status === 'retrying') {
          return { addr: r.addr, peerId: r.peerId, status: 'retrying', error: r.error };
        }
        return { addr: r.addr, peerId: r.peerId, status: 'connecting' };
      });
    case 'relay:failed':
      return updateRelay(model, event.peerId, (r) =>
        hasReservationOn(model.addresses, r.peerId)
          ? r
          : {
              addr: r.addr,
              peerId: r.peerId,
              status: 'error',
              error: event.error,
              ...(event.nextRetryAt === undefined ? {} : { nextRetryAt: event.nextRetryAt })
            }
      );
    case 'addresses': {
      const addresses = [...event.addresses];
      return { ...model, addresses, relays: applyReservations(model.relays, addresses) };
    }
    case 'connection:open': {
      if (model.connections.some((c) => c.id === event.connection.id)) return model;
      return { ...model, connections: [...model.connections, { ...event.connection }] };
    }
    case 'connection:close': {
      const closing = model.connections.find((c) => c.id === event.id);
      if (closing === undefined) return model;
      const connections = model.connections.filter((c) => c.id !== event.id);
      return { ...model, connections, rtt: pruneRtt(model.rtt, connections) };
    }
    case 'connections:reset': {
      const connections = event.connections.map((c) => ({ ...c }));
      return { ...model, connections, rtt: pruneRtt(model.rtt, connections) };
    }
    case 'rtt': {
      if (!model.connections.some((c) => c.peerId === event.peerId)) return model;
      if (!Number.isFinite(event.rttMs) || event.rttMs < 0) return model;
      return { ...model, rtt: { ...model.rtt, [event.peerId]: event.rttMs } };
    }
  }
}

export function deriveState(model: NodeModel): NodeState {
  const relays = model.relays.map((r) => ({ ...r }));
  let status: NodeState['status'] = 'offline';
  if (model.running) {
    status = relays.some((r) => r.status === 'reserved') ? 'online' : 'connecting';
  }
  return {
    status,
    relays,
    addresses: [...model.addresses],
    peers: derivePeers(model)
  };
}

/** Peers are the other devices: anything reached over WebRTC or through a relay circuit. The
 *  relays themselves (plain WebSocket connections) are not listed. */
export function derivePeers(model: NodeModel): PeerState[] {
  const byPeer = new Map<string, ConnectionInfo[]>();
  for (const c of model.connections) {
    if (!isPeerAddr(c.remoteAddr)) continue;
    const list = byPeer.get(c.peerId);
    if (list === undefined) byPeer.set(c.peerId, [c]);
    else list.push(c);
  }
  const peers: PeerState[] = [];
  for (const [peerId, conns] of byPeer) {
    const direct = conns.find((c) => isDirectConnection(c));
    const used = direct ?? conns[0];
    if (used === undefined) continue;
    const rttMs = model.rtt[peerId];
    peers.push({
      peerId,
      connection: direct === undefined ? 'relayed' : 'direct',
      ...(rttMs === undefined ? {} : { rttMs }),
      remoteAddr: used.remoteAddr
    });
  }
  return peers;
}

export function isDirectConnection(c: Pick<ConnectionInfo, 'remoteAddr' | 'limited'>): boolean {
  return !c.limited && !isRelayedAddr(c.remoteAddr);
}

/** True for `<relay>/p2p-circuit/p2p/<peer>`; false for WebRTC addresses set up through one
 *  (`<relay>/p2p-circuit/webrtc/p2p/<peer>`), which are direct. */
export function isRelayedAddr(addr: string): boolean {
  const at = addr.lastIndexOf('/p2p-circuit');
  if (at < 0) return false;
  return !/\/webrtc(\/|$)/.test(addr.slice(at));
}

/** Connections to other devices (WebRTC or relay circuit) rather than to servers. */
export function isPeerAddr(addr: string): boolean {
  return addr.includes('/p2p-circuit') || /\/webrtc(\/|$)/.test(addr);
}

/** Whether this device's own addresses include a circuit address through the given relay. */
export function hasReservationOn(addresses: readonly string[], relayPeerId: string): boolean {
  if (relayPeerId === '') return false;
  const needle = `/p2p/${relayPeerId}/p2p-circuit`;
  return addresses.some((a) => a.includes(needle));
}

/** Structural equality of two states (to skip UI updates that change nothing). */
export function statesEqual(a: NodeState, b: NodeState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function applyReservations(relays: RelayModel[], addresses: readonly string[]): RelayModel[] {
  return relays.map((r) => {
    if (hasReservationOn(addresses, r.peerId)) {
      return r.status === 'reserved' && r.error === undefined
        ? r
        : { addr: r.addr, peerId: r.peerId, status: 'reserved' };
    }
    if (r.status === 'reserved') return { addr: r.addr, peerId: r.peerId, status: 'connecting' };
    return r;
  });
}

function updateRelay(
  model: NodeModel,
  peerId: string,
  update: (r: RelayModel) => RelayModel
): NodeModel {
  let changed = false;
  const relays = model.relays.map((r) => {
    if (r.peerId !== peerId) return r;
    const next = update(r);
    if (next !== r) changed = true;
    return next;
  });
  return changed ? { ...model, relays } : model;
}

function pruneRtt(rtt: Record<string, number>, connections: ConnectionInfo[]) {
  const out: Record<string, number> = {};
  for (const [peerId, value] of Object.entries(rtt)) {
    if (connections.some((c) => c.peerId === peerId)) out[peerId] = value;
  }
  return out;
}
