import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { SYNC_PROTOCOL, SYNC_PROTOCOL_V3, SYNC_PROTOCOLS } from '../p2p/constants.js';
import type { DenyList } from '../p2p/deny-list.js';
import type { ProtocolHost } from '../p2p/host.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_OPEN_STREAM_TIMEOUT_MS,
  DEFAULT_READ_BUFFER_BYTES,
  MAX_HELD_BYTES,
  MAX_INBOUND_SYNC_STREAMS
} from './constants.js';
import {
  backlogOf,
  bestConnection,
  enqueue,
  LimitedBudget,
  shouldMoveTo,
  takeWritable,
  type Queued
} from './outbound-queue.js';
import type {
  FrameSendOptions,
  SyncTransport,
  SyncTransportHandler,
  SyncTransportInit
} from './transport.js';

type LpStream = ReturnType<typeof lpStream>;

/** Options of the libp2p sync transport; defaults in constants.ts. */
export interface Libp2pSyncTransportInit extends SyncTransportInit {
  /** Bytes a sync stream buffers between reads (default DEFAULT_READ_BUFFER_BYTES). */
  readBufferBytes?: number;
  /** Opening a sync stream must finish within this (default DEFAULT_OPEN_STREAM_TIMEOUT_MS). */
  openStreamTimeoutMs?: number;
  /**
   * Where a peer that sends junk goes: its connections are closed and it is kept out for a
   * while (the sync service only ignores it; a stranger is no member and would just retry).
   */
  denyList?: Pick<DenyList, 'deny'>;
}

interface Outbound {
  /** Increases on every (re)open: stale writers and openers stop. */
  session: number;
  stream: Stream | undefined;
  lp: LpStream | undefined;
  connection: Connection | undefined;
  queue: Queued[];
  writing: boolean;
}

/**
 * SyncTransport over libp2p streams of SYNC_PROTOCOL. Each side writes its frames only on the
 * stream it opened itself (one per peer, reopened on every new connection, preferring
 * unlimited connections) and reads the streams the other side opened, so neither side has to
 * agree on who dials.
 *
 * Runs on limited (relayed) connections too, but spends at most LIMITED_CONNECTION_SHARE of
 * their data allowance: a relay closes a connection that goes over its limit, and the same
 * connection carries the signaling of the direct WebRTC upgrade. Frames past that budget wait,
 * in order, and go out on the next connection (normally the direct one).
 */
export function createLibp2pSyncTransport(
  host: ProtocolHost,
  init: Libp2pSyncTransportInit = {}
): SyncTransport {
  return new Libp2pSyncTransport(host, init);
}

class Libp2pSyncTransport implements SyncTransport {
  private handler: SyncTransportHandler | undefined;
  private readonly outbound = new Map<string, Outbound>();
  /** Bytes written by sync on each limited connection. */
  private readonly budget = new LimitedBudget<Connection>();
  private readonly inbound = new Map<string, Set<Stream>>();
  /** Peers that negotiated the current sync version on a stream (either way): they read Deflated frames. */
  private readonly current = new Set<string>();
  private readonly protocols: string[];
  private readonly maxFrameBytes: number;
  private readonly readBufferBytes: number;
  private readonly openTimeoutMs: number;
  private readonly maxInboundStreams: number;
  private readonly denyList: Pick<DenyList, 'deny'> | undefined;

  constructor(
    private readonly host: ProtocolHost,
    init: Libp2pSyncTransportInit
  ) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.readBufferBytes = init.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES;
    this.openTimeoutMs = init.openStreamTimeoutMs ?? DEFAULT_OPEN_STREAM_TIMEOUT_MS;
    this.maxInboundStreams = init.maxInboundStreams ?? MAX_INBOUND_SYNC_STREAMS;
    this.denyList = init.denyList;
    this.protocols = init.legacy === true ? [SYNC_PROTOCOL_V3] : SYNC_PROTOCOLS;
  }

  async start(handler: SyncTransportHandler): Promise<void> {
    this.handler = handler;
    await this.host.handle(
      this.protocols,
      (stream, connection) => this.onInbound(stream, connection),
      {
        maxInboundStreams: this.maxInboundStreams,
        runOnLimitedConnection: true
      }
    );
    this.host.addEventListener('connection:open', this.onConnectionOpen);
    this.host.addEventListener('peer:disconnect', this.onPeerDisconnect);
    for (const connection of this.host.getConnections()) this.useConnection(connection);
  }

  async stop(): Promise<void> {
    this.host.removeEventListener('connection:open', this.onConnectionOpen);
    this.host.removeEventListener('peer:disconnect', this.onPeerDisconnect);
    await this.host.unhandle(this.protocols);
    for (const peer of [...this.outbound.keys(), ...this.inbound.keys()]) {
      this.drop(peer, new Error('sync stopped'));
    }
    this.current.clear();
    this.handler = undefined;
  }

  peers(): string[] {
    return [...this.outbound].filter(([, out]) => out.lp !== undefined).map(([peer]) => peer);
  }

  send(peer: string, frame: Uint8Array, options: FrameSendOptions = {}): void {
    let out = this.outbound.get(peer);
    if (out === undefined) {
      // The peer spoke first (its stream reached us before our connection event): open ours.
      const connection = this.bestConnection(peer);
      if (connection === undefined) return;
      out = this.open(peer, connection);
    }
    out.queue = enqueue(out.queue, { ...options, bytes: frame }, MAX_HELD_BYTES);
    void this.pump(peer, out);
  }

  backlog(peer: string): number {
    const out = this.outbound.get(peer);
    return out === undefined ? 0 : backlogOf(out.queue);
  }

  deflates(peer: string): boolean {
    return this.current.has(peer);
  }

  drop(peer: string, reason: Error): void {
    // The sync service drops a peer with MalformedFrameError when it sent junk.
    if (reason.name === 'MalformedFrameError') this.denyList?.deny(peer, reason.message);
    const out = this.outbound.get(peer);
    this.outbound.delete(peer);
    out?.stream?.abort(reason);
    for (const stream of this.inbound.get(peer) ?? []) stream.abort(reason);
    this.inbound.delete(peer);
  }

  private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
    this.useConnection(event.detail);
  };

  private readonly onPeerDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString();
    this.outbound.delete(peer);
    this.inbound.delete(peer);
    this.current.delete(peer);
    this.handler?.peerDown(peer);
  };

  /** A new connection: (re)open our stream on it unless we already use a better one. */
  private useConnection(connection: Connection): void {
    if (this.handler === undefined || connection.status !== 'open') return;
    const peer = connection.remotePeer.toString();
    if (!shouldMoveTo(this.outbound.get(peer)?.connection, connection)) return;
    this.open(peer, connection);
  }

  private bestConnection(peer: string): Connection | undefined {
    return bestConnection(
      this.host.getConnections().filter((c) => c.remotePeer.toString() === peer)
    );
  }

  private open(peer: string, connection: Connection): Outbound {
    const previous = this.outbound.get(peer);
    const out: Outbound = {
      session: (previous?.session ?? 0) + 1,
      stream: undefined,
      lp: undefined,
      connection,
      // Frames not written yet move to the new stream: dropping them (e.g. the step2 answering
      // the peer's step1 when the direct connection replaces the relayed one) left the peer
      // without them until the next connection. Each frame stands on its own, so the order
      // between the old stream and the new one does not matter.
      queue: previous === undefined ? [] : previous.queue.splice(0),
      writing: false
    };
    this.outbound.set(peer, out);
    if (previous?.stream !== undefined) {
      const old = previous.stream;
      void old.close().catch(() => old.abort(new Error('replaced')));
    }
    void (async () => {
      try {
        const stream = await connection.newStream(this.protocols, {
          runOnLimitedConnection: true,
          signal: AbortSignal.timeout(this.openTimeoutMs)
        });
        if (this.outbound.get(peer) !== out) {
          stream.abort(new Error('superseded'));
          return;
        }
        out.stream = stream;
        this.noteProtocol(peer, stream);
        out.lp = lpStream(stream, { maxDataLength: this.maxFrameBytes });
        // Frames queued before the stream existed were answers to the peer; the handshake
        // below comes after them, which is fine: every frame stands on its own.
        this.handler?.peerUp(peer);
        void this.pump(peer, out);
      } catch (err) {
        if (this.outbound.get(peer) === out) this.outbound.delete(peer);
        // The other app negotiated none of our versions (multistream-select said "na").
        if (err instanceof Error && err.name === 'UnsupportedProtocolError') {
          this.handler?.incompatible?.(peer);
        }
      }
    })();
    return out;
  }

  private async pump(peer: string, out: Outbound): Promise<void> {
    if (out.writing || out.lp === undefined) return;
    out.writing = true;
    let frame: Queued | undefined;
    try {
      while (this.outbound.get(peer) === out) {
        frame = takeWritable(out.queue, (bytes) => this.budget.spend(out.connection, bytes));
        if (frame === undefined) break; // empty, or waiting for a better connection
        await out.lp.write(frame.bytes);
        frame = undefined;
      }
    } catch {
      if (this.outbound.get(peer) === out) {
        // The frame that failed goes first on the next stream (the peer drops a partial read
        // together with the broken stream).
        if (frame !== undefined) out.queue.unshift(frame);
        // Still connected (e.g. a relayed connection closed after the direct one opened)?
        // open() takes over the queue.
        const next = this.bestConnection(peer);
        if (next !== undefined) {
          this.open(peer, next);
        } else {
          this.outbound.delete(peer);
          this.handler?.peerDown(peer);
        }
      }
    } finally {
      out.writing = false;
    }
  }

  /** What a stream negotiated says which frames the peer reads. */
  private noteProtocol(peer: string, stream: Stream): void {
    if (stream.protocol === SYNC_PROTOCOL) this.current.add(peer);
  }

  private onInbound(stream: Stream, connection: Connection): void {
    const peer = connection.remotePeer.toString();
    this.noteProtocol(peer, stream);
    let set = this.inbound.get(peer);
    if (set === undefined) {
      set = new Set();
      this.inbound.set(peer, set);
    }
    set.add(stream);
    const lp = lpStream(stream, {
      maxDataLength: this.maxFrameBytes,
      maxBufferSize: this.readBufferBytes
    });
    void (async () => {
      try {
        while (true) {
          const chunk = await lp.read();
          this.handler?.frame(peer, chunk.subarray());
        }
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        stream.abort(err instanceof Error ? err : new Error('read failed'));
        // InvalidDataLength(Length)Error, InvalidMessageLengthError: an oversize frame or a
        // length prefix that never ends (the capped lpStream, see patches/).
        if (name.startsWith('Invalid')) {
          this.handler?.malformed(peer, err as Error);
          this.denyList?.deny(peer, (err as Error).message);
        }
      } finally {
        set.delete(stream);
      }
    })();
  }
}
