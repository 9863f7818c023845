/**
 * The browser's libp2p node: device identity, relay reservations, connecting to other devices
 * (relayed, then direct over WebRTC) and the NodeState the UI shows.
 *
 * ```ts
 * import { createNode } from '$lib/p2p';
 * import { createIdbKeyStore } from '$lib/storage';
 *
 * const node = createNode(
 *   { relays: ['/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooW…'], iceServers: [] },
 *   { keyStore: createIdbKeyStore() }
 * );
 * node.addEventListener('state', (e) => console.log(e.detail.status)); // 'connecting', 'online'
 * await node.start(); // loads or creates the Ed25519 key, starts libp2p, reserves on relays
 * const peer = await node.connect('12D3KooW…'); // or a multiaddr, or an app link
 * console.log(peer.connection, await node.ping(peer.peerId)); // 'direct', 0.8
 * await node.stop();
 * ```
 *
 * Other subsystems use `node.libp2p` (with `services.pubsub`, `services.ping`,
 * `services.identify`) for their own protocols.
 */
export { createNode } from './node.js';
export { libp2pOptions, type Libp2pOptionsInit } from './libp2p-options.js';
export type { ProtocolHost } from './host.js';
export type {
  ConnectOptions,
  DialAttemptReport,
  NodeDeps,
  NodeInit,
  NodeServices,
  NodeState,
  NodeStatus,
  P2PLibp2p,
  P2PNode,
  P2PNodeEvents,
  PeerState,
  PingOptions,
  RelayState,
  RelayStatus
} from './types.js';
export type { KeyStore } from '../storage/key-store.js';
export {
  AbortError,
  DialTimeoutError,
  DirectConnectionFailedError,
  InvalidTargetError,
  NodeNotStartedError,
  PeerNotConnectedError,
  PeerUnreachableError,
  RelayUnavailableError
} from './errors.js';
export { parseTarget, connectLink, type Target } from './target.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { parseRelayList, type RelayGroup } from './relays.js';
export {
  describeAddr,
  relayStatusText,
  relayProblemText,
  secondsUntil,
  RELAY_STATUS_TEXT
} from './messages.js';
export * as constants from './constants.js';
export {
  createDenyList,
  type DenyList,
  type DenyListInit,
  type DenyListHost,
  type DenyGater
} from './deny-list.js';
