/**
 * Peers kept out for a while because they sent junk (a malformed frame, an unfinished or
 * overlong length prefix, an oversize frame). `deny()` closes every connection with the peer at
 * once; the `gater` plugs into libp2p's connectionGater so it can't come back (neither side
 * dials or accepts it) until the entry expires. Bounded: a stranger with many peer IDs pushes
 * out the oldest entries, never grows the list past `maxEntries`.
 *
 * ```ts
 * const denyList = createDenyList();
 * const node = await createLibp2p({ ...options, connectionGater: denyList.gater });
 * denyList.attach(node);
 * denyList.deny(peer, 'overlong varint'); // closes its connections, refuses it for 10 minutes
 * ```
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface';
import { DEFAULT_DENY_MS, LIBP2P_LP_PROTOCOLS, MAX_DENIED_PEERS } from './constants.js';
import { PeerDeniedError } from './errors.js';

/**
 * What @libp2p/utils' length-prefixed readers abort a stream with on junk (an unfinished or
 * overlong length prefix, an oversize message, more buffered than allowed).
 */
export const JUNK_ERRORS: ReadonlySet<string> = new Set([
  'InvalidDataLengthLengthError',
  'InvalidDataLengthError',
  'InvalidMessageLengthError',
  'StreamBufferError'
]);

export interface DenyListInit {
  /** How long a denied peer stays out (default DEFAULT_DENY_MS). */
  denyMs?: number;
  /** Entries kept at most (default MAX_DENIED_PEERS). */
  maxEntries?: number;
  now?: () => number;
}

/** What the deny list needs of a node: close a peer's connections, watch libp2p's streams. */
export interface DenyListHost {
  getConnections(): Connection[];
  use?: Libp2p['use'];
}

/** The connectionGater methods that keep a denied peer out. */
export interface DenyGater {
  denyDialPeer(peer: PeerId): boolean;
  denyInboundEncryptedConnection(peer: PeerId): boolean;
  denyOutboundEncryptedConnection(peer: PeerId): boolean;
}

export interface DenyList {
  /** Closes every connection with `peer` now and refuses it until the entry expires. */
  deny(peer: string, reason: string): void;
  isDenied(peer: string): boolean;
  /** Peers denied now (for tests and status). */
  denied(): string[];
  /**
   * The node whose connections deny() closes (set once libp2p exists, before it starts).
   * With `use`, libp2p's own length-prefixed streams (LIBP2P_LP_PROTOCOLS) are watched too:
   * one aborted for junk gets its peer denied.
   */
  attach(host: DenyListHost): void;
  readonly gater: DenyGater;
}

export function createDenyList(init: DenyListInit = {}): DenyList {
  return new MapDenyList(init);
}

class MapDenyList implements DenyList {
  /** peer -> expiry; insertion order is age order (deny() re-inserts). */
  readonly #until = new Map<string, number>();
  readonly #denyMs: number;
  readonly #max: number;
  readonly #now: () => number;
  #host: DenyListHost | undefined;
  readonly gater: DenyGater;

  constructor(init: DenyListInit) {
    this.#denyMs = init.denyMs ?? DEFAULT_DENY_MS;
    this.#max = init.maxEntries ?? MAX_DENIED_PEERS;
    this.#now = init.now ?? Date.now;
    const refuse = (peer: PeerId): boolean => this.isDenied(peer.toString());
    this.gater = {
      denyDialPeer: refuse,
      denyInboundEncryptedConnection: refuse,
      denyOutboundEncryptedConnection: refuse
    };
  }

  attach(host: DenyListHost): void {
    this.#host = host;
    for (const protocol of LIBP2P_LP_PROTOCOLS) {
      host.use?.(protocol, (stream, connection, next) => {
        stream.addEventListener(
          'close',
          (evt) => {
            const name = evt.error?.name;
            if (name !== undefined && JUNK_ERRORS.has(name)) {
              this.deny(connection.remotePeer.toString(), `${name} on ${protocol}`);
            }
          },
          { once: true }
        );
        next(stream, connection);
      });
    }
  }

  deny(peer: string, reason: string): void {
    this.#until.delete(peer);
    this.#until.set(peer, this.#now() + this.#denyMs);
    while (this.#until.size > this.#max) {
      const oldest = this.#until.keys().next().value;
      if (oldest === undefined) break;
      this.#until.delete(oldest);
    }
    const err = new PeerDeniedError(`peer denied: ${reason}`);
    for (const connection of this.#host?.getConnections() ?? []) {
      // abort, not close: a graceful close would wait for the junk sender's streams.
      if (connection.remotePeer.toString() === peer) connection.abort(err);
    }
  }

  isDenied(peer: string): boolean {
    const until = this.#until.get(peer);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(peer);
    return false;
  }

  denied(): string[] {
    return [...this.#until.keys()].filter((peer) => this.isDenied(peer));
  }
}
