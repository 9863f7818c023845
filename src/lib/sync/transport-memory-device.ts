/**
 * One device's transport on the in-memory sync network (transport-memory.ts): the twin of
 * Libp2pSyncTransport, with its outbound stream and queue per peer, the peers' inbound streams,
 * a limited connection's budget and the move to a better connection. The network owns the
 * connections, the wire and delivery; it reaches a device through the methods below `drop`
 * (`onConnectionOpen`, `onPeerDisconnect`, `renew`, `onInbound`, `receive`), and the device
 * reaches the network through `MemoryNetworkPort`.
 */
import { DEFAULT_MAX_FRAME_BYTES, MAX_HELD_BYTES, MAX_INBOUND_SYNC_STREAMS } from './constants.js';
import {
  backlogOf,
  bestConnection,
  enqueue,
  LimitedBudget,
  shouldMoveTo,
  takeWritable,
  type Queued
} from './outbound-queue.js';
import type { FrameSendOptions, SyncTransportHandler, SyncTransportInit } from './transport.js';
import type {
  MemoryConnection,
  MemoryStream,
  MemorySyncTransport
} from './transport-memory-types.js';

/** What a device's transport uses of its network (the Network in transport-memory.ts). */
export interface MemoryNetworkPort {
  /** Whether `peer` has a started transport that reads Deflated frames (not `legacy`). */
  speaksDeflate(peer: string): boolean;
  attach(t: MemoryDeviceTransport): void;
  detach(t: MemoryDeviceTransport): void;
  openConnections(self: string, peer?: string): MemoryConnection[];
  scheduleOpen(complete: () => void): void;
  newStream(connection: MemoryConnection, from: string, to: string): MemoryStream | undefined;
  write(stream: MemoryStream, bytes: Uint8Array): void;
}

interface Outbound {
  stream: MemoryStream | undefined;
  connection: MemoryConnection;
  queue: Queued[];
}

/** Mirrors Libp2pSyncTransport (transport-libp2p.ts) method by method. */
export class MemoryDeviceTransport implements MemorySyncTransport {
  handler: SyncTransportHandler | undefined;
  private readonly outbound = new Map<string, Outbound>();
  private readonly budget = new LimitedBudget<MemoryConnection>();
  private readonly inbound = new Map<string, Set<MemoryStream>>();
  private readonly maxFrameBytes: number;
  private readonly maxInboundStreams: number;
  readonly legacy: boolean;

  constructor(
    readonly self: string,
    private readonly net: MemoryNetworkPort,
    init: SyncTransportInit
  ) {
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxInboundStreams = init.maxInboundStreams ?? MAX_INBOUND_SYNC_STREAMS;
    this.legacy = init.legacy ?? false;
  }

  async start(handler: SyncTransportHandler): Promise<void> {
    this.handler = handler;
    this.net.attach(this);
    for (const connection of this.net.openConnections(this.self)) this.useConnection(connection);
  }

  async stop(): Promise<void> {
    this.net.detach(this);
    for (const peer of [...this.outbound.keys(), ...this.inbound.keys()]) {
      this.drop(peer);
    }
    this.handler = undefined;
  }

  peers(): string[] {
    return [...this.outbound].filter(([, out]) => out.stream !== undefined).map(([peer]) => peer);
  }

  send(peer: string, frame: Uint8Array, options: FrameSendOptions = {}): void {
    let out = this.outbound.get(peer);
    if (out === undefined) {
      const connection = this.bestConnection(peer);
      if (connection === undefined) return;
      out = this.open(peer, connection);
    }
    out.queue = enqueue(out.queue, { ...options, bytes: frame }, MAX_HELD_BYTES);
    this.pump(peer, out);
  }

  backlog(peer: string): number {
    const out = this.outbound.get(peer);
    return out === undefined ? 0 : backlogOf(out.queue);
  }

  deflates(peer: string): boolean {
    // As negotiated on a stream: both sides must read Deflated frames, and a channel must be open.
    const open = this.outbound.get(peer)?.stream !== undefined || this.inbound.has(peer);
    return open && !this.legacy && this.net.speaksDeflate(peer);
  }

  drop(peer: string): void {
    const out = this.outbound.get(peer);
    this.outbound.delete(peer);
    if (out?.stream !== undefined) out.stream.state = 'reset';
    for (const stream of this.inbound.get(peer) ?? []) stream.state = 'reset';
    this.inbound.delete(peer);
  }

  onConnectionOpen(connection: MemoryConnection): void {
    this.useConnection(connection);
  }

  onPeerDisconnect(peer: string): void {
    this.outbound.delete(peer);
    this.inbound.delete(peer);
    this.handler?.peerDown(peer);
  }

  renew(peer: string): void {
    const connection = this.bestConnection(peer);
    if (this.handler !== undefined && connection !== undefined) this.open(peer, connection);
  }

  /** A stream from a peer; false when refused (too many from that peer on this connection). */
  onInbound(stream: MemoryStream): boolean {
    let set = this.inbound.get(stream.from);
    if (set === undefined) {
      set = new Set();
      this.inbound.set(stream.from, set);
    }
    let open = 0;
    for (const s of set) if (s.connection === stream.connection && s.state === 'open') open++;
    if (open >= this.maxInboundStreams) return false;
    set.add(stream);
    return true;
  }

  /** A frame read from an inbound stream; false when it was not handed to the handler. */
  receive(stream: MemoryStream, bytes: Uint8Array): boolean {
    const set = this.inbound.get(stream.from);
    if (set?.has(stream) !== true) return false;
    if (bytes.byteLength > this.maxFrameBytes) {
      // What lpStream's read throws for a length over maxDataLength.
      const err = new Error(
        `Message length too long - ${bytes.byteLength} > ${this.maxFrameBytes}`
      );
      err.name = 'InvalidDataLengthError';
      this.handler?.malformed(stream.from, err);
      stream.state = 'reset';
      set.delete(stream);
      return false;
    }
    if (this.handler === undefined) return false;
    this.handler.frame(stream.from, bytes);
    return true;
  }

  private useConnection(connection: MemoryConnection): void {
    if (this.handler === undefined || connection.status !== 'open') return;
    const peer = connection.a === this.self ? connection.b : connection.a;
    if (!shouldMoveTo(this.outbound.get(peer)?.connection, connection)) return;
    this.open(peer, connection);
  }

  private bestConnection(peer: string): MemoryConnection | undefined {
    return bestConnection(this.net.openConnections(this.self, peer));
  }

  private open(peer: string, connection: MemoryConnection): Outbound {
    const previous = this.outbound.get(peer);
    const out: Outbound = {
      stream: undefined,
      connection,
      // Frames not written yet move to the new stream (as in the libp2p transport).
      queue: previous === undefined ? [] : previous.queue.splice(0)
    };
    this.outbound.set(peer, out);
    // Closed, not reset: what was written on it still arrives.
    if (previous?.stream !== undefined && previous.stream.state === 'open') {
      previous.stream.state = 'closing';
    }
    this.net.scheduleOpen(() => {
      if (this.outbound.get(peer) !== out) return; // superseded
      const stream = this.net.newStream(connection, this.self, peer);
      if (stream === undefined) {
        this.outbound.delete(peer);
        return;
      }
      out.stream = stream;
      this.handler?.peerUp(peer);
      this.pump(peer, out);
    });
    return out;
  }

  private pump(peer: string, out: Outbound): void {
    if (out.stream === undefined) return;
    while (this.outbound.get(peer) === out) {
      const frame = takeWritable(out.queue, (bytes) => this.budget.spend(out.connection, bytes));
      if (frame === undefined) return; // empty, or waiting for a better connection
      if (out.stream.state !== 'open' || out.connection.status !== 'open') {
        // The write fails: the frame goes first on the next stream.
        out.queue.unshift(frame);
        const next = this.bestConnection(peer);
        if (next !== undefined) {
          this.open(peer, next);
        } else {
          this.outbound.delete(peer);
          this.handler?.peerDown(peer);
        }
        return;
      }
      this.net.write(out.stream, frame.bytes);
    }
  }
}
