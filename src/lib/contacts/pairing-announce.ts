/**
 * The joiner's announcement on the pairing topic (`{ v:1, t:"announce", addrs }`) and the rules
 * for the addresses in it: the joiner lists its circuit addresses through the room relay first,
 * and the host only ever dials an announcing peer through its own address of that relay.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { utf8 } from '../crypto/encoding.js';
import { MAX_PAIRING_ANNOUNCE_BYTES } from './constants.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Most addresses in one announcement. */
const MAX_ANNOUNCED_ADDRS = 4;

/**
 * The announcement `me` publishes: its circuit addresses (at most 4), those through the room
 * relay first, since hosts only dial those, and `n`, a random value of this join session: a host
 * runs the PAKE once per (peer, n), so a wrong code is one guess, not one per announcement.
 */
export function encodeAnnounce(
  addresses: string[],
  room: string,
  me: string,
  nonce: string
): Uint8Array {
  const rank = (a: string): number =>
    (roomRelayPrefix(a, room, me) === undefined ? 2 : 0) + Number(a.includes('/webrtc'));
  const addrs = addresses
    .filter((a) => a.includes('/p2p-circuit') && a.endsWith(`/p2p/${me}`))
    .sort((a, b) => rank(a) - rank(b))
    .slice(0, MAX_ANNOUNCED_ADDRS);
  return utf8(JSON.stringify({ v: 1, t: 'announce', addrs, n: nonce }));
}

/**
 * Which join session an announcement belongs to: `<peer>/<n>` (`n` is optional for older
 * announcements: then the peer alone). Undefined for a malformed `n`.
 */
export function announceSession(data: Uint8Array, peer: string): string | undefined {
  if (data.byteLength > MAX_PAIRING_ANNOUNCE_BYTES) return undefined;
  try {
    const n = (JSON.parse(decoder.decode(data)) as { n?: unknown } | null)?.n;
    if (n === undefined) return peer;
    return typeof n === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(n) ? `${peer}/${n}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where the host dials an announcing peer. With a room, only circuit addresses through the room
 * relay count (`…/p2p/<room>/p2p-circuit/p2p/<peer>`), and they are dialed through this device's
 * own address of that relay (`ownAddresses`), so an announcement never makes us open a
 * connection to a host it chose; without such an address, the announcement is dropped. Without
 * a room (tests, or a relay-less setup), only the peer ID is dialed (known connections and
 * addresses).
 */
export function announceDialTarget(
  data: Uint8Array,
  peer: string,
  room: string,
  me: string,
  ownAddresses: () => string[]
): Multiaddr[] | PeerId | undefined {
  const announced = parseAnnounce(data, peer, room);
  if (announced === undefined) return undefined;
  if (room === '') return peerIdFromString(peer);
  if (announced.length === 0) return undefined;
  const relays = new Set<string>();
  for (const own of ownAddresses()) {
    const relay = roomRelayPrefix(own, room, me);
    if (relay !== undefined) relays.add(relay);
  }
  const out = [...relays].map((relay) => multiaddr(`${relay}/p2p-circuit/p2p/${peer}`));
  return out.length > 0 ? out : undefined;
}

/**
 * `<relay transport>/p2p/<room>` when `addr` is exactly `<relay transport>/p2p/<room>/p2p-circuit/
 * p2p/<peer>` (a circuit address of `peer` through the room relay); otherwise undefined.
 */
export function roomRelayPrefix(addr: string, room: string, peer: string): string | undefined {
  let components;
  try {
    components = multiaddr(addr).getComponents();
  } catch {
    return undefined;
  }
  const n = components.length;
  if (n < 4) return undefined;
  const [relay, circuit, target] = components.slice(n - 3);
  if (relay?.name !== 'p2p' || relay.value !== room) return undefined;
  if (circuit?.name !== 'p2p-circuit' || target?.name !== 'p2p' || target.value !== peer) {
    return undefined;
  }
  if (components.slice(0, n - 3).some((c) => c.name === 'p2p' || c.name === 'p2p-circuit')) {
    return undefined;
  }
  return multiaddr(addr).decapsulate('/p2p-circuit').toString();
}

/**
 * The announced addresses that are circuit addresses of `peer` through the room relay
 * (`…/p2p/<room>/p2p-circuit/p2p/<peer>`; every other address is dropped); undefined if the
 * announcement itself is malformed.
 */
export function parseAnnounce(
  data: Uint8Array,
  peer: string,
  room: string
): Multiaddr[] | undefined {
  if (data.byteLength > MAX_PAIRING_ANNOUNCE_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  const v = value as { v?: unknown; t?: unknown; addrs?: unknown } | null;
  if (typeof v !== 'object' || v === null || v.v !== 1 || v.t !== 'announce') return undefined;
  if (!Array.isArray(v.addrs) || v.addrs.length > MAX_ANNOUNCED_ADDRS) return undefined;
  const out: Multiaddr[] = [];
  for (const a of v.addrs) {
    if (typeof a !== 'string' || a.length > 512) return undefined;
    try {
      multiaddr(a);
    } catch {
      return undefined;
    }
    if (room !== '' && roomRelayPrefix(a, room, peer) !== undefined) out.push(multiaddr(a));
  }
  return out;
}
