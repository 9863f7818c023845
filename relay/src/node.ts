/**
 * The relay's libp2p node: a WebSocket listener (Noise, yamux), identify, ping, a circuit
 * relay v2 server and gossipsub, with limits against abuse.
 *
 * Beyond stock libp2p it:
 * - releases a peer's reservation when the peer disconnects (as the circuit relay v2 spec says;
 *   the library keeps it until its TTL, so a relay with churning peers runs out of slots);
 * - joins every gossipsub topic a connected peer subscribes to (up to `maxTopics`) and leaves it
 *   when no peer remains, so browsers connected only to the relay still meet on a topic: a
 *   gossipsub peer only sends a topic's messages to peers it knows are subscribed to it;
 * - forgets disconnected peers in the peer store so memory does not grow with every visitor.
 *
 * @example
 * ```ts
 * const relay = await createRelayNode({ config, privateKey, logger, metrics, version });
 * relay.multiaddrs(); // ['/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooW...']
 * await relay.stop();
 * ```
 */
import { isIP } from 'node:net';
import { circuitRelayServer, type CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping, type Ping } from '@libp2p/ping';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { RelayConfig } from './config.js';
import { ListenError } from './errors.js';
import type { Logger } from './log.js';
import type { ConnectionInfo, RelayMetrics } from './metrics.js';
import { createStrangers } from './strangers.js';
import { hardenedWebSockets } from './websockets.js';

export interface RelayServices extends Record<string, unknown> {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: GossipSub;
}

export interface RelayNodeInit {
  config: RelayConfig;
  privateKey: PrivateKey;
  logger: Logger;
  metrics: RelayMetrics;
  version: string;
}

export interface RelayNode {
  libp2p: Libp2p<RelayServices>;
  peerId: string;
  /** Bound WebSocket port (the real one when configured as 0). */
  wsPort: number;
  /** Addresses browsers should dial, each ending in /p2p/<peerId>. */
  multiaddrs(): string[];
  isRunning(): boolean;
  connections(): ConnectionInfo[];
  reservations(): number;
  topics(): number;
  stop(): Promise<void>;
}

/** Longest gossipsub topic the relay joins on behalf of a peer. */
export const MAX_FOLLOWED_TOPIC_LENGTH = 256;
/** Data limit sent for "unlimited data" when only a duration limit is set (2^53 bytes). */
const UNLIMITED_DATA = 2n ** 53n;

function transportOf(addr: Multiaddr): string {
  const names = addr.getComponents().map((c) => c.name);
  if (names.includes('p2p-circuit')) return 'circuit';
  if (names.includes('webrtc') || names.includes('webrtc-direct')) return 'webrtc';
  if (names.includes('ws') || names.includes('wss')) return 'websockets';
  if (names.includes('tcp')) return 'tcp';
  return 'other';
}

function withPeerId(addr: Multiaddr, peerId: string): string {
  const text = addr.toString();
  return text.includes('/p2p/') ? text : `${text}/p2p/${peerId}`;
}

function reservationLimits(config: RelayConfig): {
  applyDefaultLimit: boolean;
  defaultDataLimit?: bigint;
  defaultDurationLimit?: number;
} {
  if (config.relayDataLimit === 0 && config.relayDurationLimit === 0) {
    return { applyDefaultLimit: false };
  }
  // The server treats a limit of 0 literally (0 bytes, 0 ms), so "unlimited" next to a real
  // limit is the largest value that still works: 2^53 bytes, or the longest Node timer.
  return {
    applyDefaultLimit: true,
    defaultDataLimit: config.relayDataLimit === 0 ? UNLIMITED_DATA : BigInt(config.relayDataLimit),
    defaultDurationLimit:
      config.relayDurationLimit === 0 ? 2 ** 31 - 1 : config.relayDurationLimit * 1000
  };
}

export async function createRelayNode(init: RelayNodeInit): Promise<RelayNode> {
  const { config, privateKey, logger: log, metrics, version } = init;
  const ipVersion = isIP(config.host) === 6 ? 'ip6' : 'ip4';
  const listen = `/${ipVersion}/${config.host}/tcp/${config.wsPort}/ws`;
  const handshakeTimeoutMs = config.handshakeTimeout * 1000;

  const strangers = createStrangers(
    {},
    {
      onDeny: (peer, reason) => {
        metrics.peersDenied.inc();
        log.info({ peer, reason }, 'peer denied for sending junk');
      }
    }
  );
  const libp2p = await createLibp2p<RelayServices>({
    privateKey,
    // Peers that sent junk on a libp2p stream stay out for a while (see strangers.ts).
    connectionGater: strangers.gater,
    start: false,
    nodeInfo: { name: 'p2p4e-relay', version, userAgent: `p2p4e-relay/${version}` },
    addresses: {
      listen: [listen],
      announce: config.announce
    },
    transports: [
      hardenedWebSockets(
        {
          maxPayload: config.wsMaxMessageSize,
          maxSockets: config.maxConnections + config.maxPendingConnections,
          handshakeTimeoutMs,
          onWarning: (message) => log.warn(message),
          onSocketError: (err) => log.debug({ err: err.message }, 'websocket protocol error')
        },
        {
          // The HTTP phase of the WebSocket handshake (slow headers).
          http: {
            headersTimeout: handshakeTimeoutMs,
            requestTimeout: handshakeTimeoutMs,
            connectionsCheckingInterval: Math.min(handshakeTimeoutMs, 5_000),
            maxHeaderSize: 16 * 1024
          }
        }
      )
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [
      yamux({
        maxInboundStreams: config.maxStreamsPerConnection
      })
    ],
    connectionManager: {
      maxConnections: config.maxConnections,
      maxIncomingPendingConnections: config.maxPendingConnections,
      inboundConnectionThreshold: config.maxConnRatePerIp,
      inboundUpgradeTimeout: handshakeTimeoutMs
    },
    metrics: metrics.libp2pMetrics,
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: config.maxReservations,
          reservationTtl: config.reservationTtl * 1000,
          ...reservationLimits(config)
        }
      }),
      pubsub: gossipsub({
        // Browsers reachable only through the relay rely on it to forward everything: keep a
        // wide mesh per topic rather than gossiping to peers outside a small one.
        D: 12,
        Dlo: 8,
        Dhi: 64,
        Dlazy: 12,
        // Many browsers share one IP (NAT, or the reverse proxy the relay sits behind): the
        // default IP colocation penalty would graylist all of them past ~13 peers.
        scoreParams: { IPColocationFactorWeight: 0 },
        emitSelf: false
      })
    }
  });

  strangers.attach(libp2p);
  const peerId = libp2p.peerId.toString();
  const pubsub = libp2p.services.pubsub;
  const relay = libp2p.services.relay;

  // --- reservations: count new ones, release them when their peer disconnects -------------
  const reservations = relay.reservations;
  let releasing = false;
  const setReservation = reservations.set.bind(reservations);
  reservations.set = (peer, reservation) => {
    if (!reservations.has(peer)) {
      metrics.reservationsCreated.inc();
      log.debug({ peer: peer.toString() }, 'reservation created');
    }
    return setReservation(peer, reservation);
  };
  const deleteReservation = reservations.delete.bind(reservations);
  reservations.delete = (peer) => {
    const deleted = deleteReservation(peer);
    if (deleted && !releasing) {
      metrics.reservationsReleased.inc({ reason: 'expired' });
      log.debug({ peer: peer.toString() }, 'reservation expired');
    }
    return deleted;
  };
  function releaseReservation(peer: PeerId): void {
    const reservation = reservations.get(peer);
    if (reservation == null) return;
    // clear() stops the expiry timer, whose abort handler would otherwise later delete a
    // reservation this peer made again after reconnecting.
    reservation.signal.clear();
    releasing = true;
    try {
      reservations.delete(peer);
    } finally {
      releasing = false;
    }
    metrics.reservationsReleased.inc({ reason: 'disconnect' });
    log.debug({ peer: peer.toString() }, 'reservation released');
  }

  // --- connections ---------------------------------------------------------------------------
  libp2p.addEventListener('connection:open', (evt) => {
    const conn: Connection = evt.detail;
    metrics.connectionsOpened.inc({ direction: conn.direction });
    log.debug(
      { peer: conn.remotePeer.toString(), addr: conn.remoteAddr.toString() },
      'connection opened'
    );
  });
  libp2p.addEventListener('connection:close', (evt) => {
    const conn: Connection = evt.detail;
    metrics.connectionsClosed.inc({ direction: conn.direction });
    log.debug({ peer: conn.remotePeer.toString() }, 'connection closed');
  });
  libp2p.addEventListener('peer:disconnect', (evt) => {
    const peer = evt.detail;
    releaseReservation(peer);
    // Forget the peer once libp2p's own disconnect handlers have run, unless it came back.
    setTimeout(() => {
      if (libp2p.status !== 'started' || libp2p.getConnections(peer).length > 0) return;
      Promise.resolve(libp2p.peerStore.delete(peer)).catch((err: unknown) => {
        log.debug({ err, peer: peer.toString() }, 'could not forget peer');
      });
    }, 1_000).unref();
  });

  // --- gossipsub: join the topics connected peers subscribe to -------------------------------
  const followed = new Set<string>();
  let topicLimitWarned = false;
  pubsub.addEventListener('subscription-change', (evt) => {
    if (config.maxTopics === 0) return;
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      if (!subscribe || followed.has(topic) || topic.length > MAX_FOLLOWED_TOPIC_LENGTH) continue;
      if (followed.size >= config.maxTopics) {
        if (!topicLimitWarned) {
          log.warn({ maxTopics: config.maxTopics }, 'topic limit reached; not joining more topics');
          topicLimitWarned = true;
        }
        continue;
      }
      followed.add(topic);
      pubsub.subscribe(topic);
      log.debug({ topic }, 'joined topic');
    }
  });
  pubsub.addEventListener('gossipsub:heartbeat', () => {
    for (const topic of followed) {
      if (pubsub.getSubscribers(topic).length === 0) {
        followed.delete(topic);
        pubsub.unsubscribe(topic);
        topicLimitWarned = false;
        log.debug({ topic }, 'left topic');
      }
    }
  });

  try {
    await libp2p.start();
  } catch (err) {
    await Promise.resolve(libp2p.stop()).catch(() => {});
    // libp2p wraps the socket error (UnsupportedListenAddressesError): look inside it.
    const text = String(err);
    const reason = text.includes('EADDRINUSE')
      ? `address already in use (another process listens on port ${config.wsPort})`
      : text.includes('EADDRNOTAVAIL')
        ? `address not available (${config.host} is not an address of this machine)`
        : text;
    throw new ListenError('--ws-port', `cannot listen on ${listen}: ${reason}`, { cause: err });
  }

  const wsPort = (() => {
    for (const addr of libp2p.getMultiaddrs()) {
      const tcp = addr.getComponents().find((c) => c.name === 'tcp');
      if (tcp?.value != null && addr.toString().includes(`/${config.host}/`)) {
        return Number(tcp.value);
      }
    }
    // Listening on 0.0.0.0 or :: lists interface addresses; they share the bound port.
    const tcp = libp2p
      .getMultiaddrs()
      .flatMap((a) => a.getComponents())
      .find((c) => c.name === 'tcp');
    return Number(tcp?.value ?? config.wsPort);
  })();

  return {
    libp2p,
    peerId,
    wsPort,
    multiaddrs() {
      const addrs =
        config.announce.length > 0
          ? config.announce.map((a) => multiaddr(a))
          : libp2p.getMultiaddrs().filter((a) => transportOf(a) === 'websockets');
      return [...new Set(addrs.map((a) => withPeerId(a, peerId)))];
    },
    isRunning: () => libp2p.status === 'started',
    connections: () =>
      libp2p.getConnections().map((c) => ({
        direction: c.direction,
        transport: transportOf(c.remoteAddr)
      })),
    reservations: () => reservations.size,
    topics: () => followed.size,
    async stop() {
      await libp2p.stop();
    }
  };
}
