/**
 * The part of a libp2p node that app protocols (sync, invites, pairing) need. A started
 * `P2PNode.libp2p` satisfies it, and so does any js-libp2p 3.x node in Node tests, so protocol
 * services take a `ProtocolHost` instead of building or knowing the whole node.
 *
 * ```ts
 * const sync = createSync(init, { transport: createLibp2pSyncTransport(node.libp2p), ... });
 * ```
 */
import type { Libp2p } from '@libp2p/interface';

export type ProtocolHost = Pick<
  Libp2p,
  | 'peerId'
  | 'handle'
  | 'unhandle'
  | 'dialProtocol'
  | 'getConnections'
  | 'addEventListener'
  | 'removeEventListener'
>;
