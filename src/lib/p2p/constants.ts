/**
 * Timeouts, limits and protocol IDs of the browser node. Every tunable here has a matching
 * option in NodeInit; these are only the defaults.
 */
import type { BackoffOptions } from './backoff.js';

/** Dialing a relay and getting a reservation on it must finish within this time. */
export const DEFAULT_RESERVATION_TIMEOUT_MS = 10_000;

/**
 * One attempt at reaching a peer (relayed connection + WebRTC upgrade). About 1 WebRTC dial in
 * 10 between pages stalls after ICE connects and libp2p only gives up after 6 s; a fresh attempt
 * succeeds, so attempts are cut shorter than that. A normal dial takes ~0.2 s here.
 */
export const DEFAULT_DIAL_TIMEOUT_MS = 4_000;

/** Attempts per connect() before giving up. */
export const DEFAULT_DIAL_ATTEMPTS = 4;

/** Pause between connect() attempts. */
export const DIAL_RETRY_BACKOFF: BackoffOptions = {
  baseMs: 250,
  factor: 2,
  maxMs: 2_000,
  jitter: 0.3
};

/** Pause between attempts to reach a relay. */
export const RELAY_RETRY_BACKOFF: BackoffOptions = {
  baseMs: 1_000,
  factor: 1.6,
  maxMs: 15_000,
  jitter: 0.3
};

/**
 * How many relays can hold a reservation for this device at once. Each is one `/p2p-circuit`
 * listener, which libp2p fixes when the node is created.
 */
export const DEFAULT_MAX_RELAYS = 3;

/** How often connected peers are pinged for the round-trip time shown in the UI. */
export const DEFAULT_PING_INTERVAL_MS = 5_000;

/** Delay before the first RTT ping on a new connection to a peer. */
export const FIRST_PING_DELAY_MS = 250;

/** A single RTT measurement gives up after this long. */
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

/**
 * libp2p's connection monitor closes a connection whose ping gets no answer within this (its
 * adaptive timeout never goes lower). libp2p's 5 s default dropped direct connections whenever
 * the other tab's main thread was busy for longer (seen while it wrote 20,000 messages).
 */
export const CONNECTION_PING_TIMEOUT_MS = 20_000;

/**
 * Once a direct connection to a peer is up, its relayed connection is closed after this delay
 * (not at once: the other side may still be finishing its half of the WebRTC upgrade).
 */
export const DEFAULT_RELAYED_CLOSE_DELAY_MS = 3_000;

/** Times a relayed connection that still carries a handshake is left open one more delay. */
export const MAX_RELAYED_CLOSE_POSTPONES = 10;

/**
 * Ping streams per connection and direction: libp2p's connection monitor and the app's RTT
 * measurement may ping at the same moment (ping's default allows one outbound stream).
 */
export const PING_STREAMS = 4;

/** libp2p's ping protocol (served by the ping service, also on relayed connections). */
export const PING_PROTOCOL = '/ipfs/ping/1.0.0';

/** Bytes in one ping payload (fixed by the ping protocol). */
export const PING_PAYLOAD_BYTES = 32;

/** Path of an app link that carries a peer ID: `<origin>/#/connect/<peerId>`. */
export const CONNECT_LINK_HASH_PREFIX = '#/connect/';

/** Query parameter alternative: `<origin>/?peer=<peerId>`. */
export const CONNECT_LINK_QUERY_PARAM = 'peer';

// --- App protocols (versioned; a breaking wire change bumps the version) -----------------------

/**
 * Conversation sync: Yjs state-vector handshake, then live updates and ephemeral messages.
 * Version 3 added Deflated frames (sync/deflate.ts); version 4 carries every update in its
 * author's signed envelope and answers a step1 with the envelopes the peer lacks
 * (sync/authored.ts); version 5 declares each envelope's client id and clock range in its
 * signed header (sync/envelope.ts: a step1 is answered from the headers). Versions before 5
 * can't be spoken any more (4.0.0 refuses a version 2 envelope as malformed): a device running
 * one is told apart as incompatible ("update the app").
 */
export const SYNC_PROTOCOL = '/p2p4e/sync/5.0.0';

/** The version before: no longer spoken (the transport's `legacy` option, for tests). */
export const SYNC_PROTOCOL_V3 = '/p2p4e/sync/3.0.0';

/** Every sync version spoken, newest first (the order a stream offers them). */
export const SYNC_PROTOCOLS = [SYNC_PROTOCOL];

/** Invite handshake: proves knowledge of an invite's one-time secret and exchanges profiles. */
export const INVITE_PROTOCOL = '/p2p4e/invite/1.0.0';

/**
 * Short-code pairing between two devices online on the same relay: CPace over the code, then
 * both people confirm the safety number (2.0.0; 1.0.0 sent MACs keyed by a hash of the code).
 */
export const PAIR_PROTOCOL = '/p2p4e/pair/2.0.0';

/**
 * Asking a relay to keep a public share (an unencrypted file) and serve it at /ipfs/<cid>: one
 * length-prefixed JSON request `{ cid, size }`, one answer `{ ok }` (files/pin.ts; the relay's
 * side is relay/src/public-shares.ts, which repeats this ID).
 */
export const PUBLIC_SHARE_PROTOCOL = '/p2p4e/public-share/1.0.0';

/** Short handshakes a relayed connection is kept open for, once the peer is reached directly. */
export const HANDSHAKE_PROTOCOLS: ReadonlySet<string> = new Set([INVITE_PROTOCOL, PAIR_PROTOCOL]);

// --- Strangers: peers that send junk -----------------------------------------------------------

/** How long a peer that sent junk (a malformed or oversize frame) is refused. */
export const DEFAULT_DENY_MS = 10 * 60_000;

/**
 * Peers the deny list remembers at once; the oldest entry goes first. Bounds what a stranger
 * with many throwaway peer IDs can make it hold.
 */
export const MAX_DENIED_PEERS = 4_096;

/**
 * libp2p's own protocols read with @libp2p/utils lpStream/pbStream (circuit relay, identify):
 * a stream of these aborted for junk gets its peer denied.
 */
export const LIBP2P_LP_PROTOCOLS = [
  '/libp2p/circuit/relay/0.2.0/hop',
  '/libp2p/circuit/relay/0.2.0/stop',
  '/ipfs/id/1.0.0',
  '/ipfs/id/push/1.0.0'
] as const;
