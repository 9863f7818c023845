/**
 * Parsers of single relay setting values: each takes the raw text of one flag or environment
 * variable and returns the typed value, or throws `ConfigError` saying what is wrong with it.
 * Also the value types they produce (`IceServer`, `LogLevel`). Used by the settings table in
 * `config-settings.ts`; pure apart from `path.resolve` against the given `cwd`.
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

function fail(name: string, message: string): never {
  throw new ConfigError(name, `invalid ${name}: ${message}`);
}

export function quote(raw: string): string {
  return JSON.stringify(raw);
}

export function parseInteger(raw: string, name: string, min: number, max: number): number {
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

export const port = (raw: string, name: string): number => parseInteger(raw, name, 0, 65_535);

/** Byte units of `parseSize`: SI (kB, MB, GB, TB: powers of 1000) and IEC (KiB, ...: of 1024). */
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4
};

/** Formats a byte count the way `parseSize` reads it back (`100MB`, `1.5GiB` stays bytes). */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['TB', 1e12],
    ['GB', 1e9],
    ['MB', 1e6],
    ['kB', 1e3]
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}

/**
 * A size in bytes: a plain integer (`1048576`) or a number with a unit, SI or IEC, any case,
 * optionally with a space (`100MB`, `1.5 GB`, `512KiB`). Fractions are rounded down to a byte.
 */
export function parseSize(raw: string, name: string, min: number, max: number): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw.trim());
  const factor = match === null ? undefined : SIZE_UNITS[(match[2] ?? '').toLowerCase()];
  if (match === null || factor === undefined) {
    fail(
      name,
      `must be a size in bytes such as 1073741824, 500MB, 1GB or 2GiB (got ${quote(raw)})`
    );
  }
  const value = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(
      name,
      `is out of range: expected between ${formatSize(min)} and ${formatSize(max)} bytes ` +
        `(got ${quote(raw)})`
    );
  }
  return value;
}

export function parseHost(raw: string, name: string): string {
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

export function parseAnnounce(raw: string, name: string): string[] {
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

export function parseIceServers(raw: string, name: string): IceServer[] {
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

export function parseDir(raw: string, name: string, cwd: string): string {
  if (raw.trim() === '') fail(name, 'must not be empty');
  return path.resolve(cwd, raw);
}

export function parseLogLevel(raw: string, name: string): LogLevel {
  const level = raw.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    fail(name, `must be one of ${LOG_LEVELS.join(', ')} (got ${quote(raw)})`);
  }
  return level as LogLevel;
}
