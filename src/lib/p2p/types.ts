import type { Identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import type { Ping } from '@libp2p/ping';
import type { GossipSub } from '@libp2p/gossipsub';
import type { KeyStore } from '../storage/key-store.js';
import type { DenyList } from './deny-list.js';

/** Services every node runs; other subsystems reach them through `node.libp2p.services`. */
export type NodeServices = {
  identify: Identify;
  ping: Ping;
  pubsub: GossipSub;
};

export type P2PLibp2p = Libp2p<NodeServices>;

export interface NodeInit {
  /** Relay multiaddrs, each ending in /p2p/<relay peer ID>. Several addresses of one relay are
   *  grouped by peer ID. */
  relays: string[];
  /** ICE servers for WebRTC. Default `[]`: no public STUN is ever contacted. */
  iceServers?: RTCIceServer[];
  /** Dial + reservation on one relay must finish within this (ms). */
  reservationTimeoutMs?: number;
  /** One connect() attempt (relayed dial + WebRTC upgrade) must finish within this (ms). */
  dialTimeoutMs?: number;
  /** connect() attempts before giving up. */
  dialAttempts?: number;
  /** Relays that can hold a reservation at once (see constants.ts). */
  maxRelays?: number;
  /** Interval between RTT pings of connected peers (ms). */
  pingIntervalMs?: number;
  /** One RTT ping gives up after this (ms). */
  pingTimeoutMs?: number;
  /** Delay before a relayed connection is closed once a direct one exists (ms). */
  relayedCloseDelayMs?: number;
}

export interface NodeDeps {
  keyStore: KeyStore;
  /** Source of `online` events (default: `globalThis` when it has addEventListener). */
  network?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  /** Clock, for tests. */
  now?: () => number;
  /** Randomness for backoff jitter, for tests. */
  random?: () => number;
}

export type NodeStatus = 'offline' | 'connecting' | 'online';

export type RelayStatus = 'connecting' | 'reserved' | 'error' | 'retrying';

export interface RelayState {
  /** The relay's (first) multiaddr as configured. */
  addr: string;
  /** Relay peer ID, or '' when the configured address has none. */
  peerId: string;
  status: RelayStatus;
  /** Why the last attempt failed, in words a person understands. */
  error?: string;
  /** When status is 'error': epoch ms of the next attempt. */
  nextRetryAt?: number;
}

export interface PeerState {
  peerId: string;
  connection: 'direct' | 'relayed';
  /** Last measured round-trip time. */
  rttMs?: number;
  /** Remote address of the connection in use (the direct one when there is one). */
  remoteAddr: string;
}

export interface NodeState {
  status: NodeStatus;
  relays: RelayState[];
  /** This device's own multiaddrs (relay circuit and WebRTC addresses once reserved). */
  addresses: string[];
  peers: PeerState[];
}

export interface ConnectOptions {
  signal?: AbortSignal;
}

export interface PingOptions {
  signal?: AbortSignal;
}

/** One connect() attempt, reported as a 'dial' event (for diagnostics and benchmarks). */
export interface DialAttemptReport {
  peerId: string;
  /** 1-based. */
  attempt: number;
  outcome: 'direct' | 'timeout' | 'unreachable' | 'no-relay' | 'failed';
  elapsedMs: number;
  error?: string;
}

export interface P2PNodeEvents {
  state: CustomEvent<NodeState>;
  dial: CustomEvent<DialAttemptReport>;
}

export interface P2PNode {
  /** This device's peer ID; throws NodeNotStartedError before start() resolved. */
  readonly peerId: string;
  /** The libp2p node, for other services and benchmarks; throws before start(). */
  readonly libp2p: P2PLibp2p;
  /** Peers kept out for sending junk; app protocols deny() them, libp2p refuses them. */
  readonly denyList: DenyList;
  /** Signs bytes with this device's Ed25519 key (synchronously); throws before start(). */
  sign(data: Uint8Array): Uint8Array;
  readonly state: NodeState;
  /** 'state': the NodeState changed. 'dial': one connect() attempt finished. */
  addEventListener<K extends keyof P2PNodeEvents>(
    type: K,
    listener: (e: P2PNodeEvents[K]) => void,
    options?: boolean | AddEventListenerOptions
  ): void;
  removeEventListener<K extends keyof P2PNodeEvents>(
    type: K,
    listener: (e: P2PNodeEvents[K]) => void,
    options?: boolean | EventListenerOptions
  ): void;
  /** Loads (or creates) the device key, starts libp2p and starts reserving on the relays. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Replaces the relay list; drops relays no longer listed and reserves on new ones. */
  setRelays(relays: string[]): void;
  /** ICE servers for future WebRTC connections. */
  setIceServers(iceServers: RTCIceServer[]): void;
  /**
   * Connects to a peer: relayed first, then upgraded to a direct WebRTC connection, retrying
   * stalled attempts. Resolves once the connection is direct.
   * @throws InvalidTargetError, RelayUnavailableError, PeerUnreachableError, DialTimeoutError,
   *   DirectConnectionFailedError, NodeNotStartedError, AbortError
   */
  connect(target: string, options?: ConnectOptions): Promise<PeerState>;
  /** Round-trip time to a connected peer in ms. @throws PeerNotConnectedError */
  ping(peerId: string, options?: PingOptions): Promise<number>;
}
