/**
 * Relay configuration: command-line flags and environment variables to a validated
 * `RelayConfig`. Pure apart from `path.resolve` against the given `cwd`: no I/O, no exits.
 *
 * Precedence: flag > environment variable > default. Empty environment variables count as
 * unset (docker-compose often passes `P2P4E_ANNOUNCE=`).
 *
 * @example
 * ```ts
 * const result = parseConfig(process.argv.slice(2), process.env);
 * if (result.kind === 'help') console.log(helpText());
 * else start(result.config);
 * ```
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { WebSockets, WebSocketsSecure } from '@multiformats/multiaddr-matcher';
import { ConfigError } from './errors.js';

/** An ICE server announced to browsers (the shape of `RTCIceServer`). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  logLevel: LogLevel;
}

export type ParseResult =
  { kind: 'config'; config: RelayConfig } | { kind: 'help' } | { kind: 'version' };

type Env = Record<string, string | undefined>;

/** Longest timer Node accepts (setTimeout / AbortSignal.timeout): 2^31-1 ms, in seconds. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Above gossipsub's default per-RPC subscription decode limit (5000) peers drop our list. */
export const MAX_TOPICS = 4000;
/** Noise frames are at most 65,537 bytes per WebSocket message; leave room above that. */
export const MIN_WS_MESSAGE_SIZE = 131_072;

interface Setting<K extends keyof RelayConfig> {
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

function fail(name: string, message: string): never {
  throw new ConfigError(name, `invalid ${name}: ${message}`);
}

function quote(raw: string): string {
  return JSON.stringify(raw);
}

function parseInteger(raw: string, name: string, min: number, max: number): number {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) {
    fail(name, `must be an integer between ${min} and ${max} (got ${quote(raw)})`);
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const what = value < 0 && min >= 0 ? 'must not be negative' : 'is out of range';
    fail(name, `${what}: expected an integer between ${min} and ${max} (got ${quote(raw)})`);
  }
  return value;
}

const port = (raw: string, name: string): number => parseInteger(raw, name, 0, 65_535);

function parseHost(raw: string, name: string): string {
  const host = raw.trim();
  if (isIP(host) === 0) {
    fail(name, `must be an IP address such as 127.0.0.1, 0.0.0.0 or :: (got ${quote(raw)})`);
  }
  return host;
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function parseAnnounce(raw: string, name: string): string[] {
  return splitList(raw).map((text) => {
    let ma;
    try {
      ma = multiaddr(text);
    } catch (err) {
      fail(name, `${quote(text)} is not a multiaddr (${(err as Error).message})`);
    }
    if (ma.getComponents().some((c) => c.name === 'p2p')) {
      fail(name, `${quote(text)} must not contain /p2p/<peerId>: the relay appends its own`);
    }
    if (!WebSockets.exactMatch(ma) && !WebSocketsSecure.exactMatch(ma)) {
      fail(
        name,
        `${quote(text)} is not a WebSocket address browsers can dial ` +
          '(e.g. /dns4/relay.example.org/tcp/443/wss or /ip4/203.0.113.7/tcp/9090/ws)'
      );
    }
    return ma.toString();
  });
}

const ICE_URL = /^(stun|stuns|turn|turns):[^\s,]+$/;

function checkIceUrl(url: unknown, name: string): string {
  if (typeof url !== 'string' || !ICE_URL.test(url)) {
    fail(name, `${quote(String(url))} is not a stun:, stuns:, turn: or turns: URL`);
  }
  return url;
}

function parseIceServers(raw: string, name: string): IceServer[] {
  const text = raw.trim();
  if (!text.startsWith('[')) {
    return splitList(text).map((url) => ({ urls: checkIceUrl(url, name) }));
  }
  // JSON form, for TURN servers that need credentials:
  // [{"urls":"turn:turn.example.org:3478","username":"u","credential":"p"}]
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    fail(name, `not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) fail(name, 'the JSON form must be an array of {urls, ...}');
  return parsed.map((entry: unknown) => {
    if (entry == null || typeof entry !== 'object') fail(name, 'each entry must be an object');
    const { urls, username, credential, ...rest } = entry as Record<string, unknown>;
    const unknownKeys = Object.keys(rest);
    if (unknownKeys.length > 0) fail(name, `unknown key ${quote(unknownKeys[0] ?? '')}`);
    const server: IceServer = {
      urls: Array.isArray(urls) ? urls.map((u) => checkIceUrl(u, name)) : checkIceUrl(urls, name)
    };
    if (username !== undefined) {
      if (typeof username !== 'string') fail(name, 'username must be a string');
      server.username = username;
    }
    if (credential !== undefined) {
      if (typeof credential !== 'string') fail(name, 'credential must be a string');
      server.credential = credential;
    }
    return server;
  });
}

function parseDir(raw: string, name: string, cwd: string): string {
  if (raw.trim() === '') fail(name, 'must not be empty');
  return path.resolve(cwd, raw);
}

function parseLogLevel(raw: string, name: string): LogLevel {
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    fail(name, `must be one of ${LOG_LEVELS.join(', ')} (got ${quote(raw)})`);
  }
  return level as LogLevel;
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
    help: 'Directory for persistent state (the relay identity key, data-dir/relay-key).',
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
    key: 'logLevel',
    flag: '--log-level',
    env: 'P2P4E_LOG_LEVEL',
    defaultText: 'info',
    help: `Log level: ${LOG_LEVELS.join(', ')}.`,
    parse: parseLogLevel
  })
] as const;

type AnySetting = Setting<keyof RelayConfig>;

const BY_FLAG = new Map<string, AnySetting>(SETTINGS.map((s) => [s.flag, s as AnySetting]));

/**
 * Parse flags (`--name value` or `--name=value`) and environment variables into a config.
 * Throws `ConfigError` naming the offending setting.
 */
export function parseConfig(
  argv: readonly string[],
  env: Env = {},
  cwd: string = process.cwd()
): ParseResult {
  // --help and --version win wherever they appear, even next to an unknown flag.
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  if (argv.includes('--version') || argv.includes('-v')) return { kind: 'version' };

  const fromFlags = new Map<AnySetting, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      throw new ConfigError(arg, `unexpected argument ${quote(arg)} (see --help)`);
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const s = BY_FLAG.get(flag);
    if (s === undefined) {
      throw new ConfigError(flag, `unknown flag ${flag} (see --help)`);
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new ConfigError(flag, `missing value for ${flag}`);
      }
      i++;
    }
    fromFlags.set(s, value);
  }

  const config: Partial<Record<keyof RelayConfig, unknown>> = {};
  for (const s of SETTINGS as readonly AnySetting[]) {
    const flagValue = fromFlags.get(s);
    const envValue = env[s.env];
    let raw: string;
    let name: string;
    if (flagValue !== undefined) {
      raw = flagValue;
      name = s.flag;
    } else if (envValue !== undefined && envValue.trim() !== '') {
      raw = envValue;
      name = `${s.env} (${s.flag})`;
    } else {
      raw = s.defaultText;
      name = s.flag;
    }
    try {
      config[s.key] = s.parse(raw, name, cwd);
    } catch (err) {
      // Name the flag as the setting even when the bad value came from the environment.
      if (err instanceof ConfigError) throw new ConfigError(s.flag, err.message);
      throw err;
    }
  }

  const result = config as RelayConfig;
  if (result.httpPort !== 0 && result.httpPort === result.wsPort) {
    throw new ConfigError(
      '--ws-port',
      `invalid --ws-port: ${result.wsPort} is also the --http-port; use two different ports`
    );
  }
  return { kind: 'config', config: result };
}

/** The --help text: every flag with its environment variable and default. */
export function helpText(): string {
  const lines = [
    'p2p4e-relay: community relay for p2p4everything',
    '',
    'A libp2p node (WebSockets, circuit relay v2, gossipsub) and an HTTP server for the app.',
    '',
    'Usage: node relay/dist/index.js [--flag value | --flag=value]...',
    '',
    'Flags take precedence over environment variables, which take precedence over defaults.',
    '',
    'Options:'
  ];
  for (const s of SETTINGS as readonly AnySetting[]) {
    const def = s.defaultText === '' ? 'none' : s.defaultText;
    lines.push(`  ${s.flag} <value>`);
    lines.push(`      env ${s.env}, default ${def}`);
    for (const helpLine of s.help.split('\n')) lines.push(`      ${helpLine}`);
  }
  lines.push('  -h, --help       Show this text and exit.');
  lines.push('  -v, --version    Print the version and exit.');
  lines.push('');
  lines.push(
    'Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 invalid configuration.'
  );
  lines.push('');
  return lines.join('\n');
}
