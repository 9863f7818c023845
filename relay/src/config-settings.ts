/**
 * The relay settings table: the `RelayConfig` shape and, for every setting, its flag,
 * environment variable, default, --help text and value parser (with its allowed range).
 * `config.ts` reads flags and environment variables against this table.
 */
import {
  LOG_LEVELS,
  parseAnnounce,
  parseDir,
  parseHost,
  parseIceServers,
  parseInteger,
  parseLogLevel,
  parseSize,
  port,
  type IceServer,
  type LogLevel
} from './config-values.js';

export interface RelayConfig {
  /** Interface address both listeners bind to. */
  host: string;
  /** HTTP port (static app, /api/relay-info, /healthz, /metrics); 0 = ephemeral. */
  httpPort: number;
  /** libp2p WebSocket port; 0 = ephemeral. */
  wsPort: number;
  /** Multiaddrs announced instead of the listen addresses (without /p2p/<id>). */
  announce: string[];
  /** Absolute path of the data directory (holds the identity key). */
  dataDir: string;
  /** Absolute path of the built app served at `/`. */
  staticDir: string;
  /** ICE servers announced to browsers in /api/relay-info. */
  iceServers: IceServer[];
  /** libp2p connection manager: maximum open connections. */
  maxConnections: number;
  /** Connections still upgrading (WebSocket -> Noise -> yamux) at the same time. */
  maxPendingConnections: number;
  /** New inbound connections per second per remote IP. */
  maxConnRatePerIp: number;
  /** Seconds from TCP accept to a fully upgraded libp2p connection. */
  handshakeTimeout: number;
  /** Concurrent inbound streams per connection (yamux). */
  maxStreamsPerConnection: number;
  /** Largest WebSocket message accepted, in bytes. */
  wsMaxMessageSize: number;
  /** Circuit relay v2: maximum reservations held at once. */
  maxReservations: number;
  /** Circuit relay v2: reservation lifetime in seconds (clients refresh before it ends). */
  reservationTtl: number;
  /** Bytes per relayed connection (both directions together); 0 = unlimited. */
  relayDataLimit: number;
  /** Seconds per relayed connection; 0 = unlimited. */
  relayDurationLimit: number;
  /** Gossipsub topics the relay joins on behalf of its peers; 0 = join none. */
  maxTopics: number;
  /**
   * Bytes of public shares kept in `dataDir/public-shares` and served at `/ipfs/<cid>`;
   * 0 = the feature is off (the protocol answers "disabled", `/ipfs/` is 404).
   */
  publicSharesQuota: number;
  /** Largest single public share accepted, in bytes (its file size). */
  publicShareMax: number;
  logLevel: LogLevel;
}

/** Longest timer Node accepts (setTimeout / AbortSignal.timeout): 2^31-1 ms, in seconds. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Above gossipsub's default per-RPC subscription decode limit (5000) peers drop our list. */
export const MAX_TOPICS = 4000;
/** Noise frames are at most 65,537 bytes per WebSocket message; leave room above that. */
export const MIN_WS_MESSAGE_SIZE = 131_072;

export interface Setting<K extends keyof RelayConfig> {
  key: K;
  flag: string;
  env: string;
  /** Default as written in --help and fed to `parse` when nothing is set. */
  defaultText: string;
  /** One or more lines for --help. */
  help: string;
  parse: (raw: string, name: string, cwd: string) => RelayConfig[K];
}

function setting<K extends keyof RelayConfig>(s: Setting<K>): Setting<K> {
  return s;
}

/** Every setting, in --help order. */
export const SETTINGS = [
  setting({
    key: 'host',
    flag: '--host',
    env: 'P2P4E_HOST',
    defaultText: '127.0.0.1',
    help: 'IP address to listen on (HTTP and WebSocket). Use 0.0.0.0 (or ::) to serve other machines.',
    parse: parseHost
  }),
  setting({
    key: 'httpPort',
    flag: '--http-port',
    env: 'P2P4E_HTTP_PORT',
    defaultText: '8080',
    help: 'HTTP port: the app, /api/relay-info, /healthz, /metrics. 0 picks a free port.',
    parse: port
  }),
  setting({
    key: 'wsPort',
    flag: '--ws-port',
    env: 'P2P4E_WS_PORT',
    defaultText: '9090',
    help: 'libp2p WebSocket port browsers dial. 0 picks a free port.',
    parse: port
  }),
  setting({
    key: 'announce',
    flag: '--announce',
    env: 'P2P4E_ANNOUNCE',
    defaultText: '',
    help:
      'Comma-separated WebSocket multiaddrs to announce instead of the listen addresses, e.g.\n' +
      '/dns4/relay.example.org/tcp/443/wss behind a TLS reverse proxy.',
    parse: parseAnnounce
  }),
  setting({
    key: 'dataDir',
    flag: '--data-dir',
    env: 'P2P4E_DATA_DIR',
    defaultText: './data',
    help:
      'Directory for persistent state (the relay identity key, data-dir/relay-key; public\n' +
      'shares in data-dir/public-shares when --public-shares-quota is set).',
    parse: parseDir
  }),
  setting({
    key: 'staticDir',
    flag: '--static-dir',
    env: 'P2P4E_STATIC_DIR',
    defaultText: './build',
    help: 'Built app served at / (index.html is the fallback for client-side routes).',
    parse: parseDir
  }),
  setting({
    key: 'iceServers',
    flag: '--ice-servers',
    env: 'P2P4E_ICE_SERVERS',
    defaultText: '',
    help:
      'Comma-separated stun:/turn: URLs announced to browsers (none by default), or a JSON array\n' +
      'of {"urls","username","credential"} for TURN servers that need credentials.',
    parse: parseIceServers
  }),
  setting({
    key: 'maxConnections',
    flag: '--max-connections',
    env: 'P2P4E_MAX_CONNECTIONS',
    defaultText: '1024',
    help: 'Maximum open libp2p connections.',
    parse: (raw, name) => parseInteger(raw, name, 1, 1_000_000)
  }),
  setting({
    key: 'maxPendingConnections',
    flag: '--max-pending-connections',
    env: 'P2P4E_MAX_PENDING_CONNECTIONS',
    defaultText: '128',
    help: 'Maximum inbound connections still in their handshake at once.',
    parse: (raw, name) => parseInteger(raw, name, 1, 1_000_000)
  }),
  setting({
    key: 'maxConnRatePerIp',
    flag: '--max-conn-rate-per-ip',
    env: 'P2P4E_MAX_CONN_RATE_PER_IP',
    defaultText: '10',
    help:
      'New inbound connections per second accepted from one IP address. Behind a reverse proxy\n' +
      'every client shares the proxy address: raise this accordingly.',
    parse: (raw, name) => parseInteger(raw, name, 1, 1_000_000)
  }),
  setting({
    key: 'handshakeTimeout',
    flag: '--handshake-timeout',
    env: 'P2P4E_HANDSHAKE_TIMEOUT',
    defaultText: '10',
    help: 'Seconds a new connection may take from TCP accept to an upgraded libp2p connection.',
    parse: (raw, name) => parseInteger(raw, name, 1, 600)
  }),
  setting({
    key: 'maxStreamsPerConnection',
    flag: '--max-streams-per-connection',
    env: 'P2P4E_MAX_STREAMS_PER_CONNECTION',
    defaultText: '256',
    help: 'Concurrent inbound streams one connection may open (per-protocol limits also apply).',
    parse: (raw, name) => parseInteger(raw, name, 1, 100_000)
  }),
  setting({
    key: 'wsMaxMessageSize',
    flag: '--ws-max-message-size',
    env: 'P2P4E_WS_MAX_MESSAGE_SIZE',
    defaultText: '1048576',
    help: 'Largest WebSocket message accepted, in bytes (libp2p sends at most ~64 KiB).',
    parse: (raw, name) => parseInteger(raw, name, MIN_WS_MESSAGE_SIZE, 100 * 1024 * 1024)
  }),
  setting({
    key: 'maxReservations',
    flag: '--max-reservations',
    env: 'P2P4E_MAX_RESERVATIONS',
    defaultText: '1024',
    help: 'Maximum circuit relay reservations at once (released when the peer disconnects).',
    parse: (raw, name) => parseInteger(raw, name, 1, 1_000_000)
  }),
  setting({
    key: 'reservationTtl',
    flag: '--reservation-ttl',
    env: 'P2P4E_RESERVATION_TTL',
    defaultText: '3600',
    help: 'Reservation lifetime in seconds; clients refresh before it ends.',
    parse: (raw, name) => parseInteger(raw, name, 1, MAX_TIMER_SECONDS)
  }),
  setting({
    key: 'relayDataLimit',
    flag: '--relay-data-limit',
    env: 'P2P4E_RELAY_DATA_LIMIT',
    defaultText: '1048576',
    help:
      'Bytes per relayed connection, both directions together; past it the relayed connection\n' +
      'is closed. 0 = unlimited.',
    parse: (raw, name) => parseInteger(raw, name, 0, Number.MAX_SAFE_INTEGER)
  }),
  setting({
    key: 'relayDurationLimit',
    flag: '--relay-duration-limit',
    env: 'P2P4E_RELAY_DURATION_LIMIT',
    defaultText: '300',
    help: 'Seconds per relayed connection. 0 = unlimited.',
    parse: (raw, name) => parseInteger(raw, name, 0, MAX_TIMER_SECONDS)
  }),
  setting({
    key: 'maxTopics',
    flag: '--max-topics',
    env: 'P2P4E_MAX_TOPICS',
    defaultText: '900',
    help:
      'Gossipsub topics the relay joins because a connected peer subscribed to them, so peers\n' +
      'reachable only through the relay still meet on a topic. 0 = join none. Peers with default\n' +
      'gossipsub settings track at most ~1000 topics of one peer (and decode at most 5000\n' +
      'subscriptions per message), hence the low default and the cap of 4000.',
    parse: (raw, name) => parseInteger(raw, name, 0, MAX_TOPICS)
  }),
  setting({
    key: 'publicSharesQuota',
    flag: '--public-shares-quota',
    env: 'P2P4E_PUBLIC_SHARES_QUOTA',
    defaultText: '0',
    help:
      'Disk space for public shares (files people share publicly, unencrypted) that peers ask\n' +
      'the relay to keep, served to anyone at /ipfs/<cid> (an IPFS trustless gateway). A size\n' +
      'such as 5GB or 512MiB; 0 = off. Stored in data-dir/public-shares.',
    parse: (raw, name) => parseSize(raw, name, 0, Number.MAX_SAFE_INTEGER)
  }),
  setting({
    key: 'publicShareMax',
    flag: '--public-share-max',
    env: 'P2P4E_PUBLIC_SHARE_MAX',
    defaultText: '100MB',
    help: 'Largest single public share accepted (its file size), e.g. 100MB.',
    parse: (raw, name) => parseSize(raw, name, 1, Number.MAX_SAFE_INTEGER)
  }),
  setting({
    key: 'logLevel',
    flag: '--log-level',
    env: 'P2P4E_LOG_LEVEL',
    defaultText: 'info',
    help: `Log level: ${LOG_LEVELS.join(', ')}.`,
    parse: parseLogLevel
  })
] as const;
