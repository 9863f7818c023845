/**
 * Strangers cost the relay little: a peer that sends junk on one of libp2p's own streams
 * (circuit relay hop/stop, identify, ping) is dropped at once and kept out for a while.
 *
 * The length-prefixed readers inside libp2p (@libp2p/utils lpStream/pbStream, patched in
 * patches/ to refuse an unfinished length prefix past 8 bytes) abort such a stream with a
 * named error; a stream middleware sees that abort and hands the peer to the deny list, which
 * closes its connections and, as the connection gater, refuses it until the entry expires.
 *
 * ```ts
 * const strangers = createStrangers({ denyMs: 600_000 }, { onDeny });
 * const libp2p = await createLibp2p({ ..., connectionGater: strangers.gater });
 * strangers.attach(libp2p); // after createLibp2p, before start()
 * ```
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';

/** Errors the length-prefixed readers throw on junk (names, as @libp2p/utils sets them). */
const JUNK_ERRORS = new Set([
  'InvalidDataLengthLengthError',
  'InvalidDataLengthError',
  'InvalidMessageLengthError',
  'StreamBufferError'
]);

/** libp2p's own protocols whose streams the relay reads with lpStream/pbStream. */
export const WATCHED_PROTOCOLS = [
  '/libp2p/circuit/relay/0.2.0/hop',
  '/libp2p/circuit/relay/0.2.0/stop',
  '/ipfs/id/1.0.0',
  '/ipfs/id/push/1.0.0'
];

export const DEFAULT_DENY_MS = 10 * 60_000;
export const MAX_DENIED_PEERS = 4_096;

export interface StrangersInit {
  denyMs?: number;
  maxEntries?: number;
  now?: () => number;
}

export interface StrangersDeps {
  onDeny?: (peer: string, reason: string) => void;
}

export interface Strangers {
  readonly gater: {
    denyDialPeer(peer: PeerId): boolean;
    denyInboundEncryptedConnection(peer: PeerId): boolean;
    denyOutboundEncryptedConnection(peer: PeerId): boolean;
  };
  /** Watches the node's streams of WATCHED_PROTOCOLS; call before start(). */
  attach(libp2p: Pick<Libp2p, 'use' | 'getConnections'>): void;
  deny(peer: string, reason: string): void;
  isDenied(peer: string): boolean;
}

export function createStrangers(init: StrangersInit = {}, deps: StrangersDeps = {}): Strangers {
  const denyMs = init.denyMs ?? DEFAULT_DENY_MS;
  const max = init.maxEntries ?? MAX_DENIED_PEERS;
  const now = init.now ?? Date.now;
  /** peer -> expiry; Map order is age order. */
  const until = new Map<string, number>();
  let node: Pick<Libp2p, 'getConnections'> | undefined;

  const isDenied = (peer: string): boolean => {
    const t = until.get(peer);
    if (t === undefined) return false;
    if (t > now()) return true;
    until.delete(peer);
    return false;
  };
  const deny = (peer: string, reason: string): void => {
    const fresh = !isDenied(peer);
    until.delete(peer);
    until.set(peer, now() + denyMs);
    while (until.size > max) {
      const oldest = until.keys().next().value;
      if (oldest === undefined) break;
      until.delete(oldest);
    }
    const err = new Error(`peer denied: ${reason}`);
    err.name = 'PeerDeniedError';
    for (const conn of node?.getConnections() ?? []) {
      if (conn.remotePeer.toString() === peer) conn.abort(err);
    }
    if (fresh) deps.onDeny?.(peer, reason);
  };
  const refuse = (peer: PeerId): boolean => isDenied(peer.toString());
  const watch = (stream: Stream, connection: Connection): void => {
    stream.addEventListener(
      'close',
      (evt) => {
        const name = evt.error?.name;
        if (name !== undefined && JUNK_ERRORS.has(name)) {
          deny(connection.remotePeer.toString(), `${name} on ${stream.protocol}`);
        }
      },
      { once: true }
    );
  };

  return {
    gater: {
      denyDialPeer: refuse,
      denyInboundEncryptedConnection: refuse,
      denyOutboundEncryptedConnection: refuse
    },
    attach(libp2p) {
      node = libp2p;
      for (const protocol of WATCHED_PROTOCOLS) {
        libp2p.use(protocol, (stream, connection, next) => {
          watch(stream, connection);
          next(stream, connection);
        });
      }
    },
    deny,
    isDenied
  };
}
