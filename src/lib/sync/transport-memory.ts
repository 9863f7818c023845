/**
 * The in-memory twin of the libp2p sync transport: a network of `SyncTransport`s in one process
 * for deterministic multi-peer tests. It models what the libp2p transport sees (connections,
 * possibly limited like a relayed one, each side's outbound stream per peer, graceful close and
 * reset) and queues frames with the same rules (outbound-queue.ts): in order per peer, control
 * frames ahead of data waiting for a better connection, droppable frames dropped, `key` +
 * `replace`, a limited connection's budget, the queue moving to the next stream. Both pass
 * tests/fixtures/sync-transport-contract.ts. This module is the network (connections, the wire,
 * delivery); each device's transport is in transport-memory-device.ts.
 *
 * Written frames sit "on the wire" (one queue for the whole network) until `step()`, `run()`
 * or `flush()` delivers them; seeded faults can drop, duplicate and reorder them there. A
 * connection that closes loses the frames in flight on it.
 *
 * @example
 * ```ts
 * const net = createMemorySyncNetwork({ seed: 7, drop: 0.1, duplicate: 0.05, reorder: 0.3 });
 * const a = net.transport('a'); // a SyncTransport: give it to createSync({ transport: a, self: 'a' })
 * const b = net.transport('b');
 * net.connect('a', 'b', { limitBytes: 128 * 1024 }); // relayed: sync may spend 1/4 of it
 * net.run(); // deliver with faults
 * net.upgrade('a', 'b'); // the direct connection: frames that waited go out
 * await net.flush(); // deliver everything, without faults
 * ```
 */
import { MemoryDeviceTransport, type MemoryNetworkPort } from './transport-memory-device.js';
import type { SyncTransportInit } from './transport.js';
import {
  macrotask,
  NetworkNotSettledError,
  seededRandom,
  type InFlight,
  type MemoryConnection,
  type MemoryConnectOptions,
  type MemoryFaults,
  type MemoryFrame,
  type MemoryStream,
  type MemorySyncNetwork,
  type MemorySyncNetworkOptions,
  type MemorySyncTransport
} from './transport-memory-types.js';

export type {
  MemoryConnectOptions,
  MemoryFaults,
  MemoryFrame,
  MemorySyncNetwork,
  MemorySyncNetworkOptions,
  MemorySyncTransport
} from './transport-memory-types.js';
export { NetworkNotSettledError, seededRandom } from './transport-memory-types.js';

export function createMemorySyncNetwork(options: MemorySyncNetworkOptions = {}): MemorySyncNetwork {
  return new Network(options);
}

class Network implements MemorySyncNetwork, MemoryNetworkPort {
  private readonly random: () => number;
  private readonly wire: InFlight[] = [];
  private connections: MemoryConnection[] = [];
  /** Every device that has a transport (the latest one per id). */
  private readonly devices = new Map<string, MemoryDeviceTransport>();
  /** Started transports. */
  private readonly attached = new Map<string, MemoryDeviceTransport>();
  private readonly opening: (() => void)[] = [];
  private openScheduled = false;
  delivered = 0;

  constructor(private readonly faults: MemoryFaults) {
    this.random = seededRandom(faults.seed ?? 1);
  }

  transport(self: string, init: SyncTransportInit = {}): MemorySyncTransport {
    const t = new MemoryDeviceTransport(self, this, init);
    this.devices.set(self, t);
    return t;
  }

  // --- used by the transports -------------------------------------------------------------

  speaksDeflate(peer: string): boolean {
    const t = this.attached.get(peer);
    return t !== undefined && !t.legacy;
  }

  attach(t: MemoryDeviceTransport): void {
    this.attached.set(t.self, t);
  }

  detach(t: MemoryDeviceTransport): void {
    if (this.attached.get(t.self) === t) this.attached.delete(t.self);
  }

  openConnections(self: string, peer?: string): MemoryConnection[] {
    return this.connections.filter(
      (c) =>
        c.status === 'open' &&
        ((c.a === self && (peer === undefined || c.b === peer)) ||
          (c.b === self && (peer === undefined || c.a === peer)))
    );
  }

  /** Opening a stream takes a round trip: it completes after the current call (or at once in connect()). */
  scheduleOpen(complete: () => void): void {
    this.opening.push(complete);
    if (this.openScheduled) return;
    this.openScheduled = true;
    queueMicrotask(() => {
      this.openScheduled = false;
      this.runOpens();
    });
  }

  runOpens(): void {
    for (let fn = this.opening.shift(); fn !== undefined; fn = this.opening.shift()) fn();
  }

  /** Negotiates a sync stream from `from` to `to`; undefined when the other side refuses. */
  newStream(connection: MemoryConnection, from: string, to: string): MemoryStream | undefined {
    const receiver = this.attached.get(to);
    if (connection.status !== 'open' || receiver === undefined) return undefined;
    const stream: MemoryStream = { from, to, connection, state: 'open' };
    return receiver.onInbound(stream) ? stream : undefined;
  }

  write(stream: MemoryStream, bytes: Uint8Array): void {
    // A relayed connection's `limits.bytes` is what is left of its allowance (libp2p's limit
    // tracker counts both directions), so each side's budget shrinks as either side writes.
    const limits = stream.connection.limits;
    if (limits !== undefined) limits.bytes = Math.max(0, limits.bytes - bytes.byteLength - 4);
    this.wire.push({ stream, bytes: bytes.slice() });
  }

  // --- links ------------------------------------------------------------------------------

  connect(a: string, b: string, options: MemoryConnectOptions = {}): void {
    if (a === b || this.connected(a, b)) return;
    this.open({
      a,
      b,
      status: 'open',
      ...(options.limitBytes !== undefined ? { limits: { bytes: options.limitBytes } } : {})
    });
  }

  upgrade(a: string, b: string): void {
    if (a === b) return;
    this.open({ a, b, status: 'open' });
  }

  private open(connection: MemoryConnection): void {
    this.connections.push(connection);
    this.attached.get(connection.a)?.onConnectionOpen(connection);
    this.attached.get(connection.b)?.onConnectionOpen(connection);
    this.runOpens();
  }

  disconnect(a: string, b: string): void {
    const closing = this.openConnections(a, b);
    if (closing.length === 0) return;
    for (const c of closing) c.status = 'closed';
    this.connections = this.connections.filter((c) => c.status === 'open');
    this.attached.get(a)?.onPeerDisconnect(b);
    this.attached.get(b)?.onPeerDisconnect(a);
  }

  renew(a: string, b: string): void {
    this.attached.get(a)?.renew(b);
    this.runOpens();
  }

  partition(side: string[], other?: string[]): void {
    const rest = other ?? [...this.devices.keys()].filter((id) => !side.includes(id));
    for (const x of side) for (const y of rest) this.disconnect(x, y);
  }

  connectAll(): void {
    const ids = [...this.devices.keys()];
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) this.connect(ids[i] as string, ids[j] as string);
    }
  }

  heal(): void {
    for (const c of [...this.connections]) this.disconnect(c.a, c.b);
    this.connectAll();
  }

  connected(a: string, b: string): boolean {
    return this.openConnections(a, b).length > 0;
  }

  linksOf(id: string): string[] {
    const out = new Set<string>();
    for (const c of this.openConnections(id)) out.add(c.a === id ? c.b : c.a);
    return [...out];
  }

  // --- delivery ---------------------------------------------------------------------------

  step(faulty = true): boolean {
    if (this.wire.length === 0) return false;
    const f: MemoryFaults = faulty ? this.faults : {};
    const at =
      (f.reorder ?? 0) > 0 && this.random() < (f.reorder ?? 0)
        ? Math.floor(this.random() * this.wire.length)
        : 0;
    const [item] = this.wire.splice(at, 1) as [InFlight];
    if ((f.drop ?? 0) > 0 && this.random() < (f.drop ?? 0)) return true;
    if ((f.duplicate ?? 0) > 0 && this.random() < (f.duplicate ?? 0)) {
      this.wire.splice(Math.floor(this.random() * (this.wire.length + 1)), 0, { ...item });
    }
    const { stream } = item;
    if (stream.state === 'reset' || stream.connection.status !== 'open') return true;
    if (this.attached.get(stream.to)?.receive(stream, item.bytes) === true) this.delivered++;
    return true;
  }

  run(max = 100_000): void {
    for (let i = 0; i < max && this.step(true); i++);
  }

  async flush(max = 1_000_000): Promise<void> {
    for (let round = 0; round < 100; round++) {
      this.runOpens();
      for (let i = 0; i < max && this.step(false); i++);
      await Promise.resolve();
      await macrotask();
      if (this.wire.length === 0 && this.opening.length === 0) return;
    }
    throw new NetworkNotSettledError('the network did not settle');
  }

  discard(lose: (frame: MemoryFrame) => boolean): number {
    let lost = 0;
    for (let i = this.wire.length - 1; i >= 0; i--) {
      const { stream, bytes } = this.wire[i] as InFlight;
      if (lose({ from: stream.from, to: stream.to, bytes })) {
        this.wire.splice(i, 1);
        lost++;
      }
    }
    return lost;
  }

  pending(): number {
    return this.wire.length;
  }
}
