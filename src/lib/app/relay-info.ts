/**
 * The relay's self-description: inlined into the page by the relay that served it
 * (`readInlineRelayInfo`, no request), or fetched from `GET /api/relay-info` (`fetchRelayInfo`,
 * e.g. under `npm run dev`, where Vite serves the page).
 */
import { RelayInfoUnavailableError } from './errors.js';
import { markStart, START_MARKS } from './start-marks.js';

export interface RelayInfo {
  peerId: string;
  /** Full WebSocket multiaddrs ending in /p2p/<peerId>. */
  multiaddrs: string[];
  version: string;
  iceServers: RTCIceServer[];
  /** The relay keeps public shares it is asked to, up to this size, and serves `/ipfs/<cid>`. */
  publicShares?: { maxBytes: number };
}

export const RELAY_INFO_PATH = '/api/relay-info';

/** Id of the `<script type="application/json">` the relay puts into the app's index.html. */
export const RELAY_INFO_ELEMENT_ID = 'p2p4e-relay-info';

/** Where the inline relay-info is looked up (`document` in the browser). */
export interface RelayInfoDocument {
  getElementById(id: string): { textContent: string | null } | null;
}

/**
 * The relay-info the relay inlined into this page, read synchronously; undefined when the page
 * has none (not served by a relay) or it is not valid relay-info.
 */
export function readInlineRelayInfo(
  doc: RelayInfoDocument | undefined = globalThis.document
): RelayInfo | undefined {
  const text = doc?.getElementById(RELAY_INFO_ELEMENT_ID)?.textContent;
  if (text === undefined || text === null || text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const info = parseRelayInfo(body);
  if (info !== undefined) markStart(START_MARKS.relayInfo);
  return info;
}

export interface FetchRelayInfoOptions {
  fetch?: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Fetches relay-info from `url`; any failure becomes a RelayInfoUnavailableError in words. */
export async function fetchRelayInfo(
  url: string,
  options: FetchRelayInfoOptions
): Promise<RelayInfo> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const where = describeUrl(url);
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await doFetch(url, { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    throw new RelayInfoUnavailableError(`Can't reach the relay at ${where}`, { cause: err });
  }
  if (!response.ok) {
    throw new RelayInfoUnavailableError(
      `The relay at ${where} answered with an error (HTTP ${response.status})`
    );
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (err) {
    throw new RelayInfoUnavailableError(`The relay at ${where} sent an answer that isn't JSON`, {
      cause: err
    });
  }
  const info = parseRelayInfo(body);
  if (info === undefined) {
    throw new RelayInfoUnavailableError(`The relay at ${where} sent an unexpected answer`);
  }
  markStart(START_MARKS.relayInfo);
  return info;
}

/** Checks the shape of a relay-info body; undefined if it is not one. Pure. */
export function parseRelayInfo(body: unknown): RelayInfo | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.peerId !== 'string' || b.peerId === '') return undefined;
  if (!Array.isArray(b.multiaddrs)) return undefined;
  const multiaddrs = b.multiaddrs.filter((m): m is string => typeof m === 'string' && m !== '');
  const iceServers = Array.isArray(b.iceServers)
    ? b.iceServers.filter(isIceServer).map((s) => ({ ...s }))
    : [];
  const shares = b.publicShares as { maxBytes?: unknown } | null | undefined;
  const maxBytes = typeof shares === 'object' && shares !== null ? shares.maxBytes : undefined;
  return {
    peerId: b.peerId,
    multiaddrs,
    version: typeof b.version === 'string' ? b.version : '',
    iceServers,
    ...(typeof maxBytes === 'number' && Number.isSafeInteger(maxBytes) && maxBytes > 0
      ? { publicShares: { maxBytes } }
      : {})
  };
}

function isIceServer(value: unknown): value is RTCIceServer {
  if (typeof value !== 'object' || value === null) return false;
  const urls = (value as { urls?: unknown }).urls;
  return (
    typeof urls === 'string' ||
    (Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === 'string'))
  );
}

function describeUrl(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
