/**
 * Prometheus metrics for GET /metrics, all in one prom-client `Registry`:
 *
 * - libp2p's own metrics (connection manager, dial errors, WebSocket listener events, bytes per
 *   protocol, ...) through `@libp2p/prometheus-metrics`, plus prom-client's default process
 *   metrics (memory, CPU, event loop lag, file descriptors);
 * - relay metrics named `p2p4e_relay_*`, listed in `RELAY_METRIC_NAMES`, among them the public
 *   shares kept for peers (public-shares.ts): how many, their bytes, the quota, and requests
 *   kept or refused by reason.
 *
 * Circuits and relayed bytes are observed through the libp2p Metrics hook
 * `trackProtocolStream`, which libp2p calls for every negotiated stream, inbound and outbound:
 * - a circuit is counted when the relay opens a circuit-relay STOP stream to the destination
 *   peer (one per relayed-connection attempt that reached its destination); it stays active
 *   until that stream closes;
 * - relayed bytes are the bytes the relay receives on HOP streams (from dialing peers) and on
 *   the STOP streams (from destination peers): every relayed byte is counted once. They include
 *   the few hundred bytes of HOP/STOP protobuf messages per reservation or circuit.
 *
 * @example
 * ```ts
 * const metrics = createRelayMetrics();
 * const node = await createLibp2p({ metrics: metrics.libp2pMetrics, ... });
 * metrics.bind({ connections: () => ..., reservations: () => ..., topics: () => ... });
 * res.end(await metrics.registry.metrics());
 * ```
 */
import type { Metrics, Stream } from '@libp2p/interface';
import { prometheusMetrics } from '@libp2p/prometheus-metrics';
import { Counter, Gauge, Registry } from 'prom-client';

export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
export const STOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/stop';

export const RELAY_METRIC_NAMES = [
  'p2p4e_relay_info',
  'p2p4e_relay_up',
  'p2p4e_relay_connections',
  'p2p4e_relay_connections_opened_total',
  'p2p4e_relay_connections_closed_total',
  'p2p4e_relay_reservations',
  'p2p4e_relay_reservations_created_total',
  'p2p4e_relay_reservations_released_total',
  'p2p4e_relay_circuits_opened_total',
  'p2p4e_relay_circuits_active',
  'p2p4e_relay_relayed_bytes_total',
  'p2p4e_relay_gossipsub_topics',
  'p2p4e_relay_http_requests_total',
  'p2p4e_relay_public_shares',
  'p2p4e_relay_public_share_bytes',
  'p2p4e_relay_public_share_quota_bytes',
  'p2p4e_relay_public_shares_kept_total',
  'p2p4e_relay_public_share_refusals_total'
] as const;

export interface ConnectionInfo {
  direction: 'inbound' | 'outbound';
  transport: string;
}

/** Live state read at scrape time. */
export interface MetricsSource {
  running(): boolean;
  connections(): ConnectionInfo[];
  reservations(): number;
  topics(): number;
  /** Stored public shares and their bytes (absent: the feature is off). */
  publicShares?(): { shares: number; bytes: number; quota: number };
}

type Libp2pMetricsFactory = ReturnType<typeof prometheusMetrics>;

export interface RelayMetrics {
  registry: Registry;
  /** Pass as `metrics` to createLibp2p. */
  libp2pMetrics: Libp2pMetricsFactory;
  connectionsOpened: Counter<'direction'>;
  connectionsClosed: Counter<'direction'>;
  reservationsCreated: Counter;
  reservationsReleased: Counter<'reason'>;
  circuitsOpened: Counter;
  circuitsActive: Gauge;
  relayedBytes: Counter;
  httpRequests: Counter<'route' | 'status'>;
  /** Peers dropped and kept out for sending junk on a libp2p stream. */
  peersDenied: Counter;
  /** Public shares fetched and stored for a peer. */
  publicSharesKept: Counter;
  /** Public share requests refused, by reason (disabled, too-big, quota, ...). */
  publicShareRefusals: Counter<'reason'>;
  /** Attach the running node; gauges read it at scrape time. */
  bind(source: MetricsSource, info: { version: string; peerId: string }): void;
}

export function createRelayMetrics(): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  let source: MetricsSource | undefined;

  const info = new Gauge({
    name: 'p2p4e_relay_info',
    help: 'Relay build and identity (value is always 1)',
    labelNames: ['version', 'peer_id'] as const,
    registers
  });
  new Gauge({
    name: 'p2p4e_relay_up',
    help: '1 while the libp2p node is running',
    registers,
    collect() {
      this.set(source?.running() === true ? 1 : 0);
    }
  });
  new Gauge({
    name: 'p2p4e_relay_connections',
    help: 'Open libp2p connections by direction and transport',
    labelNames: ['direction', 'transport'] as const,
    registers,
    collect() {
      this.reset();
      for (const conn of source?.connections() ?? []) {
        this.inc({ direction: conn.direction, transport: conn.transport });
      }
    }
  });
  const connectionsOpened = new Counter({
    name: 'p2p4e_relay_connections_opened_total',
    help: 'libp2p connections opened (fully upgraded) by direction',
    labelNames: ['direction'] as const,
    registers
  });
  const connectionsClosed = new Counter({
    name: 'p2p4e_relay_connections_closed_total',
    help: 'libp2p connections closed by direction',
    labelNames: ['direction'] as const,
    registers
  });
  new Gauge({
    name: 'p2p4e_relay_reservations',
    help: 'Active circuit relay v2 reservations',
    registers,
    collect() {
      this.set(source?.reservations() ?? 0);
    }
  });
  const reservationsCreated = new Counter({
    name: 'p2p4e_relay_reservations_created_total',
    help: 'Circuit relay v2 reservations granted (refreshes not counted)',
    registers
  });
  const reservationsReleased = new Counter({
    name: 'p2p4e_relay_reservations_released_total',
    help: 'Reservations released, by reason (disconnect or expired)',
    labelNames: ['reason'] as const,
    registers
  });
  const circuitsOpened = new Counter({
    name: 'p2p4e_relay_circuits_opened_total',
    help: 'Relayed connections opened (STOP streams the relay opened to destination peers)',
    registers
  });
  const circuitsActive = new Gauge({
    name: 'p2p4e_relay_circuits_active',
    help: 'Relayed connections currently open',
    registers
  });
  const peersDenied = new Counter({
    name: 'p2p4e_relay_peers_denied_total',
    help: 'Peers dropped and kept out for sending junk (overlong length prefixes, oversize messages)',
    registers
  });
  const relayedBytes = new Counter({
    name: 'p2p4e_relay_relayed_bytes_total',
    help: 'Bytes received on circuit relay HOP and STOP streams (each relayed byte counted once)',
    registers
  });
  new Gauge({
    name: 'p2p4e_relay_gossipsub_topics',
    help: 'Gossipsub topics the relay has joined for its peers',
    registers,
    collect() {
      this.set(source?.topics() ?? 0);
    }
  });
  new Gauge({
    name: 'p2p4e_relay_public_shares',
    help: 'Public shares stored (served at /ipfs/<cid>)',
    registers,
    collect() {
      this.set(source?.publicShares?.().shares ?? 0);
    }
  });
  new Gauge({
    name: 'p2p4e_relay_public_share_bytes',
    help: 'Bytes of the stored public shares (each block counted once)',
    registers,
    collect() {
      this.set(source?.publicShares?.().bytes ?? 0);
    }
  });
  new Gauge({
    name: 'p2p4e_relay_public_share_quota_bytes',
    help: 'Quota for public shares in bytes (0 = the feature is off)',
    registers,
    collect() {
      this.set(source?.publicShares?.().quota ?? 0);
    }
  });
  const publicSharesKept = new Counter({
    name: 'p2p4e_relay_public_shares_kept_total',
    help: 'Public shares fetched from a peer and stored',
    registers
  });
  const publicShareRefusals = new Counter({
    name: 'p2p4e_relay_public_share_refusals_total',
    help: 'Public share requests refused, by reason (disabled, too-big, quota, bad-request, unavailable)',
    labelNames: ['reason'] as const,
    registers
  });
  const httpRequests = new Counter({
    name: 'p2p4e_relay_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers
  });

  function countReceivedBytes(stream: Stream): void {
    // Wrap dispatchEvent instead of adding a 'message' listener: a listener added before the
    // protocol handler attaches its reader would make the stream dispatch (and so lose) data
    // early. @libp2p/prometheus-metrics does the same for the same reason.
    const dispatchEvent = stream.dispatchEvent.bind(stream);
    stream.dispatchEvent = (evt: Event): boolean => {
      if (evt.type === 'message') {
        const data = (evt as Event & { data?: { byteLength?: number } }).data;
        if (typeof data?.byteLength === 'number') relayedBytes.inc(data.byteLength);
      }
      return dispatchEvent(evt);
    };
  }

  function trackRelayStream(stream: Stream): void {
    if (stream.protocol === HOP_PROTOCOL && stream.direction === 'inbound') {
      countReceivedBytes(stream);
    } else if (stream.protocol === STOP_PROTOCOL && stream.direction === 'outbound') {
      countReceivedBytes(stream);
      circuitsOpened.inc();
      circuitsActive.inc();
      stream.addEventListener('close', () => circuitsActive.dec(), { once: true });
    }
  }

  const base = prometheusMetrics({ registry, collectDefaultMetrics: true });
  const libp2pMetrics: Libp2pMetricsFactory = (components) => {
    const metrics: Metrics = base(components);
    const track = metrics.trackProtocolStream.bind(metrics);
    metrics.trackProtocolStream = (stream: Stream): void => {
      track(stream);
      trackRelayStream(stream);
    };
    return metrics;
  };

  return {
    registry,
    libp2pMetrics,
    connectionsOpened,
    connectionsClosed,
    reservationsCreated,
    reservationsReleased,
    circuitsOpened,
    circuitsActive,
    relayedBytes,
    httpRequests,
    peersDenied,
    publicSharesKept,
    publicShareRefusals,
    bind(nextSource, labels) {
      source = nextSource;
      info.reset();
      info.set({ version: labels.version, peer_id: labels.peerId }, 1);
    }
  };
}
