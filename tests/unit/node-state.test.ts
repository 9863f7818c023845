import { describe, expect, it } from 'vitest';
import {
  deriveState,
  hasReservationOn,
  INITIAL_MODEL,
  isPeerAddr,
  isRelayedAddr,
  reduce,
  statesEqual,
  type ConnectionInfo,
  type NodeEvent,
  type NodeModel
} from '../../src/lib/p2p/state.js';
import { parseRelayList, reservedRelayAddrs } from '../../src/lib/p2p/relays.js';

// Fixed, valid peer IDs (Ed25519).
const RELAY = '12D3KooWCV9smSi6qAxz4shJqxe9tZmeXDCuyotxvLJAQUAvdTby';
const RELAY2 = '12D3KooWGdZeFT1rT2fYxpDn58F1yWN4sBiXu9ppYRAnJiH1GDei';
const SELF = '12D3KooWBf91TKYAGvS3FB7NPiggURkkLwC1tcTCWeHSk2w4ernf';
const PEER = '12D3KooWDuCetKc8yCmsEL4d5yPWMcj9PWuW8WW65jVSwJu1rjJL';
const PEER2 = '12D3KooWHzjSFHbXVpFSzkgvz1LX7PVeoeriTYwp3s6uGbHYVEs4';

const relayAddr = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${RELAY}`;
const relay2Addr = `/ip4/127.0.0.1/tcp/9091/ws/p2p/${RELAY2}`;
const circuit = `${relayAddr}/p2p-circuit/p2p/${SELF}`;
const webrtcSelf = `${relayAddr}/p2p-circuit/webrtc/p2p/${SELF}`;

const relayConn: ConnectionInfo = {
  id: 'c-relay',
  peerId: RELAY,
  remoteAddr: relayAddr,
  limited: false
};
const relayedPeer: ConnectionInfo = {
  id: 'c-relayed',
  peerId: PEER,
  remoteAddr: `${relayAddr}/p2p-circuit/p2p/${PEER}`,
  limited: true
};
const directPeer: ConnectionInfo = {
  id: 'c-direct',
  peerId: PEER,
  remoteAddr: `${relayAddr}/p2p-circuit/webrtc/p2p/${PEER}`,
  limited: false
};
const inboundDirect: ConnectionInfo = {
  id: 'c-in',
  peerId: PEER2,
  remoteAddr: `/webrtc/p2p/${PEER2}`,
  limited: false
};

function run(...events: NodeEvent[]): NodeModel {
  return events.reduce(reduce, INITIAL_MODEL);
}

const started: NodeEvent[] = [
  { type: 'node:started' },
  { type: 'relays:set', relays: [{ addr: relayAddr, peerId: RELAY }] }
];

describe('node state reducer', () => {
  it('is offline before start, connecting after, online once a circuit address appears', () => {
    expect(deriveState(INITIAL_MODEL).status).toBe('offline');
    const connecting = run(...started, { type: 'relay:dialing', peerId: RELAY });
    expect(deriveState(connecting)).toMatchObject({
      status: 'connecting',
      relays: [{ addr: relayAddr, peerId: RELAY, status: 'connecting' }],
      peers: []
    });
    const online = reduce(connecting, { type: 'addresses', addresses: [circuit, webrtcSelf] });
    expect(deriveState(online)).toMatchObject({
      status: 'online',
      relays: [{ status: 'reserved' }],
      addresses: [circuit, webrtcSelf]
    });
  });

  it('records a failure with words and a retry time, then "retrying" on the next dial', () => {
    const failed = run(...started, {
      type: 'relay:failed',
      peerId: RELAY,
      error: "Can't reach the relay at 127.0.0.1:9090",
      nextRetryAt: 5_000
    });
    expect(deriveState(failed).relays[0]).toEqual({
      addr: relayAddr,
      peerId: RELAY,
      status: 'error',
      error: "Can't reach the relay at 127.0.0.1:9090",
      nextRetryAt: 5_000
    });
    const retrying = reduce(failed, { type: 'relay:dialing', peerId: RELAY });
    expect(deriveState(retrying).relays[0]).toEqual({
      addr: relayAddr,
      peerId: RELAY,
      status: 'retrying',
      error: "Can't reach the relay at 127.0.0.1:9090"
    });
    // Success clears the error.
    const ok = reduce(retrying, { type: 'addresses', addresses: [circuit] });
    expect(deriveState(ok).relays[0]).toEqual({
      addr: relayAddr,
      peerId: RELAY,
      status: 'reserved'
    });
  });

  it('goes back to connecting when the reservation disappears (relay restart)', () => {
    const online = run(...started, { type: 'addresses', addresses: [circuit, webrtcSelf] });
    const lost = reduce(online, { type: 'addresses', addresses: [] });
    expect(deriveState(lost)).toMatchObject({
      status: 'connecting',
      relays: [{ status: 'connecting' }]
    });
  });

  it('ignores a late failure report for a relay that is reserved', () => {
    const online = run(...started, { type: 'addresses', addresses: [circuit] });
    const after = reduce(online, { type: 'relay:failed', peerId: RELAY, error: 'x' });
    expect(after).toBe(online);
  });

  it('keeps relay state across a relay list edit and shows unusable entries as errors', () => {
    const online = run(...started, { type: 'addresses', addresses: [circuit] });
    const edited = reduce(online, {
      type: 'relays:set',
      relays: [
        { addr: relayAddr, peerId: RELAY },
        { addr: relay2Addr, peerId: RELAY2 },
        { addr: 'garbage', peerId: '', error: 'bad address' }
      ]
    });
    expect(deriveState(edited).relays).toEqual([
      { addr: relayAddr, peerId: RELAY, status: 'reserved' },
      { addr: relay2Addr, peerId: RELAY2, status: 'connecting' },
      { addr: 'garbage', peerId: '', status: 'error', error: 'bad address' }
    ]);
    expect(deriveState(edited).status).toBe('online');
  });

  it('lists other devices, not relays; relayed until a direct connection exists', () => {
    const relayed = run(
      ...started,
      { type: 'connection:open', connection: relayConn },
      { type: 'connection:open', connection: relayedPeer }
    );
    expect(deriveState(relayed).peers).toEqual([
      { peerId: PEER, connection: 'relayed', remoteAddr: relayedPeer.remoteAddr }
    ]);
    const direct = reduce(relayed, { type: 'connection:open', connection: directPeer });
    expect(deriveState(direct).peers).toEqual([
      { peerId: PEER, connection: 'direct', remoteAddr: directPeer.remoteAddr }
    ]);
    // The relayed one closing (as the node does once direct is up) changes nothing visible.
    const closed = reduce(direct, { type: 'connection:close', id: relayedPeer.id });
    expect(deriveState(closed).peers).toEqual(deriveState(direct).peers);
  });

  it('shows the answering side (inbound /webrtc address) as direct', () => {
    const model = run(...started, { type: 'connection:open', connection: inboundDirect });
    expect(deriveState(model).peers).toEqual([
      { peerId: PEER2, connection: 'direct', remoteAddr: inboundDirect.remoteAddr }
    ]);
  });

  it('stores RTT for connected peers only and forgets it on disconnect', () => {
    const model = run(
      ...started,
      { type: 'connection:open', connection: directPeer },
      { type: 'rtt', peerId: PEER, rttMs: 12.5 },
      { type: 'rtt', peerId: PEER2, rttMs: 3 },
      { type: 'rtt', peerId: PEER, rttMs: Number.NaN },
      { type: 'rtt', peerId: PEER, rttMs: -1 }
    );
    expect(deriveState(model).peers[0]?.rttMs).toBe(12.5);
    expect(model.rtt[PEER2]).toBeUndefined();
    const gone = reduce(model, { type: 'connection:close', id: directPeer.id });
    expect(deriveState(gone).peers).toEqual([]);
    expect(gone.rtt).toEqual({});
  });

  it('is idempotent for duplicate opens and unknown closes', () => {
    const once = run(...started, { type: 'connection:open', connection: directPeer });
    expect(reduce(once, { type: 'connection:open', connection: directPeer })).toBe(once);
    expect(reduce(once, { type: 'connection:close', id: 'nope' })).toBe(once);
  });

  it('connections:reset replaces the connection list', () => {
    const model = run(
      ...started,
      { type: 'connection:open', connection: relayedPeer },
      { type: 'rtt', peerId: PEER, rttMs: 5 },
      { type: 'connections:reset', connections: [inboundDirect] }
    );
    expect(deriveState(model).peers.map((p) => p.peerId)).toEqual([PEER2]);
    expect(model.rtt).toEqual({});
  });

  it('stop clears connections and addresses but keeps the relay list', () => {
    const busy = run(
      ...started,
      { type: 'addresses', addresses: [circuit] },
      { type: 'connection:open', connection: directPeer },
      { type: 'relay:failed', peerId: RELAY, error: 'x' }
    );
    const stopped = reduce(busy, { type: 'node:stopped' });
    expect(deriveState(stopped)).toEqual({
      status: 'offline',
      relays: [{ addr: relayAddr, peerId: RELAY, status: 'connecting' }],
      addresses: [],
      peers: []
    });
  });

  it('never mutates its input', () => {
    const before = run(...started, { type: 'connection:open', connection: relayedPeer });
    const snapshot = structuredClone(before);
    reduce(before, { type: 'connection:open', connection: directPeer });
    reduce(before, { type: 'addresses', addresses: [circuit] });
    reduce(before, { type: 'node:stopped' });
    expect(before).toEqual(snapshot);
  });

  it('statesEqual compares structurally', () => {
    const a = deriveState(run(...started));
    const b = deriveState(run(...started));
    expect(statesEqual(a, b)).toBe(true);
    expect(statesEqual(a, deriveState(INITIAL_MODEL))).toBe(false);
  });
});

describe('address helpers', () => {
  it('tells relayed from direct addresses', () => {
    expect(isRelayedAddr(relayedPeer.remoteAddr)).toBe(true);
    expect(isRelayedAddr(directPeer.remoteAddr)).toBe(false);
    expect(isRelayedAddr(inboundDirect.remoteAddr)).toBe(false);
    expect(isRelayedAddr(relayAddr)).toBe(false);
    expect(isPeerAddr(relayAddr)).toBe(false);
    expect(isPeerAddr(relayedPeer.remoteAddr)).toBe(true);
    expect(isPeerAddr(inboundDirect.remoteAddr)).toBe(true);
  });

  it('finds reservations per relay', () => {
    expect(hasReservationOn([circuit], RELAY)).toBe(true);
    expect(hasReservationOn([circuit], RELAY2)).toBe(false);
    expect(hasReservationOn([relayAddr], RELAY)).toBe(false);
    expect(hasReservationOn([circuit], '')).toBe(false);
    expect(reservedRelayAddrs([circuit, webrtcSelf, `/webrtc/p2p/${SELF}`])).toEqual([relayAddr]);
  });

  it('parseRelayList groups by relay, rejects bad lines, and caps the count', () => {
    const other = `/ip4/10.0.0.1/tcp/9090/ws/p2p/${RELAY}`;
    const parsed = parseRelayList(
      [relayAddr, other, ' ', relayAddr, 'garbage', `${relayAddr}/p2p-circuit`, relay2Addr],
      1
    );
    expect(parsed.groups).toEqual([{ peerId: RELAY, addrs: [relayAddr, other] }]);
    expect(parsed.entries.map((e) => [e.peerId, e.error !== undefined])).toEqual([
      [RELAY, false],
      ['', true],
      ['', true],
      [RELAY2, true]
    ]);
  });
});
