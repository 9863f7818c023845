/**
 * The relay's HTTP server (node:http, no framework):
 *
 * - `GET /api/relay-info`: `{ peerId, multiaddrs, version, iceServers, publicShares? }` for the
 *   app, with `Access-Control-Allow-Origin: *` and `Cache-Control: no-store`;
 * - `GET /healthz`: 200 `{ status: 'ok', ... }` while the libp2p node runs, 503 otherwise;
 * - `GET /metrics`: Prometheus text;
 * - `GET /ipfs/<cid>`: the public shares the relay keeps, as an IPFS trustless gateway
 *   (gateway.ts); 404 when the relay keeps none (--public-shares-quota 0);
 * - everything else: the built app from the static directory, with `index.html` as the
 *   fallback for client-side routes, immutable caching for `/_app/immutable/`, revalidation
 *   (ETag) for the rest, precompressed `.br`/`.gz` siblings when present, and no path
 *   traversal, dotfiles or symlinks out of the directory. The app's `index.html` carries the
 *   relay-info inline (`<script type="application/json" id="p2p4e-relay-info">`, see
 *   `injectRelayInfo`), so the app needs no extra request before it dials the relay; its ETag
 *   covers that JSON, so a browser revalidating it never keeps stale relay-info.
 *
 * @example
 * ```ts
 * const http = await startHttpServer({ host, port: 8080, staticDir, logger, metrics, info });
 * http.port; // bound port
 * await http.close();
 * ```
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { IceServer } from './config.js';
import { ListenError } from './errors.js';
import type { Gateway } from './gateway.js';
import type { Logger } from './log.js';
import { contentTypeFor, sendText, StaticFiles } from './static-files.js';

export { contentTypeFor };
import type { RelayMetrics } from './metrics.js';

/** What the HTTP server needs to know about the running relay. */
export interface RelayStatus {
  running: boolean;
  peerId: string;
  multiaddrs: string[];
  connections: number;
  reservations: number;
}

export interface HttpServerInit {
  host: string;
  port: number;
  staticDir: string;
  version: string;
  iceServers: IceServer[];
  logger: Logger;
  metrics: RelayMetrics;
  status: () => RelayStatus;
  /** Serves /ipfs/ (public shares); absent when the relay keeps none. */
  gateway?: Gateway;
  /** Largest public share the relay keeps (told to the app in relay-info with the gateway). */
  publicShareMax?: number;
}

export interface RelayHttpServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

/** Id of the inline relay-info element in the app's index.html (read by src/lib/app/relay-info.ts). */
export const RELAY_INFO_ELEMENT_ID = 'p2p4e-relay-info';
/** The body of `GET /api/relay-info`, also inlined into the app's index.html. */
export interface RelayInfoBody {
  peerId: string;
  multiaddrs: string[];
  version: string;
  iceServers: IceServer[];
  /**
   * Present when the relay keeps public shares it is asked to (/p2p4e/public-share/1.0.0) and
   * serves them at `/ipfs/<cid>` on this HTTP origin: the largest share it keeps, in bytes.
   */
  publicShares?: { maxBytes: number };
}

/**
 * JSON that is safe inside a `<script>` element: every `<` (so no `</script>` or `<!--` can
 * end or change it), `>`, `&` and the JavaScript line separators are written as \u escapes,
 * which JSON.parse turns back into the same characters.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/**
 * The app's index.html with the relay-info inlined as
 * `<script type="application/json" id="p2p4e-relay-info">` at the end of `<head>` (or of the
 * document when it has no `</head>`).
 */
export function injectRelayInfo(html: string, info: RelayInfoBody): string {
  const tag = `<script type="application/json" id="${RELAY_INFO_ELEMENT_ID}">${scriptSafeJson(info)}</script>`;
  const at = html.search(/<\/head\s*>/i);
  return at === -1 ? `${html}\n${tag}` : `${html.slice(0, at)}${tag}\n${html.slice(at)}`;
}

type Route = 'relay-info' | 'healthz' | 'metrics' | 'api' | 'ipfs' | 'static';

/** What /ipfs/ answers (404) when the relay keeps no public shares. */
export const GATEWAY_DISABLED_TEXT =
  'Not found: this relay does not keep public shares (it runs without --public-shares-quota).\n';

function routeOf(pathname: string): Route {
  if (pathname === '/ipfs' || pathname.startsWith('/ipfs/')) return 'ipfs';
  if (pathname === '/api/relay-info') return 'relay-info';
  if (pathname === '/healthz') return 'healthz';
  if (pathname === '/metrics') return 'metrics';
  if (pathname === '/api' || pathname.startsWith('/api/')) return 'api';
  return 'static';
}

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

export async function startHttpServer(init: HttpServerInit): Promise<RelayHttpServer> {
  const { logger: log, metrics } = init;
  const relayInfo = (): RelayInfoBody => {
    const status = init.status();
    return {
      peerId: status.peerId,
      multiaddrs: status.multiaddrs,
      version: init.version,
      iceServers: init.iceServers,
      ...(init.gateway !== undefined && init.publicShareMax !== undefined
        ? { publicShares: { maxBytes: init.publicShareMax } }
        : {})
    };
  };
  const files = new StaticFiles(path.resolve(init.staticDir), (html) =>
    injectRelayInfo(html, relayInfo())
  );
  const startedAt = Date.now();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0] ?? '/';
    if (!pathname.startsWith('/')) {
      sendText(req, res, 400, 'Bad request');
      return 400;
    }
    const route = routeOf(pathname);
    res.setHeader('X-Content-Type-Options', 'nosniff');

    if (route === 'relay-info' || route === 'api') {
      const cors = { 'Access-Control-Allow-Origin': '*' };
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          ...cors,
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': '*',
          'Access-Control-Max-Age': '86400'
        });
        res.end();
        return 204;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(req, res, 405, { error: 'method not allowed' }, { ...cors, Allow: 'GET, HEAD' });
        return 405;
      }
      if (route === 'api') {
        sendJson(req, res, 404, { error: 'not found' }, cors);
        return 404;
      }
      sendJson(req, res, 200, relayInfo(), cors);
      return 200;
    }

    if (route === 'ipfs' && req.method === 'OPTIONS') {
      // CORS preflight: public shares are for any origin (trustless clients verify them).
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': '*',
        'Access-Control-Max-Age': '86400'
      });
      res.end();
      return 204;
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendText(req, res, 405, 'Method not allowed');
      return 405;
    }

    if (route === 'healthz') {
      const status = init.status();
      const code = status.running ? 200 : 503;
      sendJson(req, res, code, {
        status: status.running ? 'ok' : 'unavailable',
        peerId: status.peerId,
        version: init.version,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        connections: status.connections,
        reservations: status.reservations
      });
      return code;
    }

    if (route === 'metrics') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, {
        'Content-Type': metrics.registry.contentType,
        'Content-Length': Buffer.byteLength(text),
        'Cache-Control': 'no-store'
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return 200;
    }

    if (route === 'ipfs') {
      if (init.gateway === undefined) {
        sendText(req, res, 404, GATEWAY_DISABLED_TEXT);
        return 404;
      }
      return init.gateway.serve(req, res, new URL(url, 'http://relay.invalid'));
    }

    return files.serve(req, res, pathname);
  }

  const server = http.createServer(
    {
      requestTimeout: 30_000,
      headersTimeout: 15_000,
      keepAliveTimeout: 5_000,
      maxHeaderSize: 16 * 1024
    },
    (req, res) => {
      const route = routeOf((req.url ?? '/').split('?')[0] ?? '/');
      handle(req, res)
        .then((status) => {
          metrics.httpRequests.inc({ route, status: String(status) });
          log.debug({ method: req.method, url: req.url, status }, 'http request');
        })
        .catch((err: unknown) => {
          metrics.httpRequests.inc({ route, status: '500' });
          log.error({ err, method: req.method, url: req.url }, 'http request failed');
          if (!res.headersSent) {
            sendText(req, res, 500, 'Internal server error');
          } else {
            res.destroy();
          }
        });
    }
  );
  server.maxConnections = 4096;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const reason =
        err.code === 'EADDRINUSE'
          ? `address already in use (another process listens on port ${init.port})`
          : err.code === 'EADDRNOTAVAIL'
            ? `address not available (${init.host} is not an address of this machine)`
            : String(err);
      reject(
        new ListenError('--http-port', `cannot listen on ${init.host}:${init.port}: ${reason}`, {
          cause: err
        })
      );
    };
    server.once('error', onError);
    server.listen(init.port, init.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : init.port;

  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })
  };
}
