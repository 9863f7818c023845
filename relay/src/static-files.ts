/**
 * The relay's static file server for the built app (http.ts routes everything that is not the
 * API to it): `index.html` as the fallback for client-side routes (rendered through
 * `renderIndex`, which inlines the relay-info), immutable caching for `/_app/immutable/`,
 * revalidation (ETag) for the rest, precompressed `.br`/`.gz` siblings when present, and no path
 * traversal, dotfiles or symlinks out of the directory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.pdf': 'application/pdf'
};

const IMMUTABLE_PREFIX = '/_app/immutable/';
const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
const REVALIDATE_CACHE = 'no-cache';

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** A plain-text answer (errors), never cached. */
export function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string
): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store'
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

async function statFile(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch {
    return undefined;
  }
}

/** Serves files from one directory; its index.html goes through `renderIndex`. */
export class StaticFiles {
  private realRoot: string | undefined;
  private readonly indexFile: string;
  private indexCache: { key: string; html: string } | undefined;

  constructor(
    private readonly root: string,
    private readonly renderIndex: (html: string) => string
  ) {
    this.indexFile = path.join(root, 'index.html');
  }

  /**
   * Map a URL path to a file inside the root, or a reason to refuse. `undefined` file means
   * "not there" (the caller may fall back to index.html).
   */
  private async resolve(
    pathname: string
  ): Promise<{ status: 400 | 403 | 404 } | { file: string; stats: Stats } | undefined> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return { status: 400 };
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400 };
    const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.includes('..')) return { status: 403 };
    // No dotfiles (.env, .git, ...), except the conventional .well-known directory.
    if (segments.some((s) => s.startsWith('.') && s !== '.well-known')) return { status: 404 };

    let file = path.join(this.root, ...segments);
    if (file !== this.root && !file.startsWith(this.root + path.sep)) return { status: 403 };

    let stats = await statFile(file);
    if (stats?.isDirectory() === true) {
      file = path.join(file, 'index.html');
      stats = await statFile(file);
    }
    if (stats === undefined || !stats.isFile()) return undefined;

    // A symlink inside the directory must not lead out of it.
    this.realRoot ??= await realpath(this.root).catch(() => undefined);
    const real = await realpath(file).catch(() => undefined);
    if (
      this.realRoot === undefined ||
      real === undefined ||
      !real.startsWith(this.realRoot + path.sep)
    ) {
      return { status: 403 };
    }
    return { file, stats };
  }

  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<number> {
    const found = await this.resolve(pathname);
    if (found !== undefined && 'status' in found) {
      const messages = { 400: 'Bad request', 403: 'Forbidden', 404: 'Not found' };
      sendText(req, res, found.status, messages[found.status]);
      return found.status;
    }
    if (found !== undefined) {
      if (found.file === this.indexFile) return this.sendIndex(req, res, found.stats);
      const cache = pathname.startsWith(IMMUTABLE_PREFIX) ? IMMUTABLE_CACHE : REVALIDATE_CACHE;
      return this.sendFile(req, res, found.file, found.stats, cache);
    }
    // Not a file. Paths that look like assets (have an extension other than .html) get a 404
    // rather than HTML, which a browser would try to run as a script or style.
    const ext = path.extname(pathname);
    if (ext !== '' && ext !== '.html') {
      sendText(req, res, 404, 'Not found');
      return 404;
    }
    const index = this.indexFile;
    const indexStats = await statFile(index);
    if (indexStats === undefined || !indexStats.isFile()) {
      sendText(
        req,
        res,
        404,
        `The app is not built (no ${index}). Run \`npm run build:app\` or set --static-dir.`
      );
      return 404;
    }
    return this.sendIndex(req, res, indexStats);
  }

  /**
   * The app's index.html, rendered per request (it carries the current relay-info). Revalidated
   * on every use (`no-cache`) with an ETag of the rendered bytes: a page is never reused once
   * the relay-info in it changed. Sent uncompressed (a precompressed sibling would lack it).
   */
  private async sendIndex(
    req: IncomingMessage,
    res: ServerResponse,
    stats: Stats
  ): Promise<number> {
    const key = `${stats.size}-${stats.mtimeMs}`;
    if (this.indexCache?.key !== key) {
      this.indexCache = { key, html: await readFile(this.indexFile, 'utf8') };
    }
    const body = Buffer.from(this.renderIndex(this.indexCache.html));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    const headers: Record<string, string | number> = {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': REVALIDATE_CACHE,
      ETag: etag,
      'Referrer-Policy': 'no-referrer'
    };
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag)) {
      res.writeHead(304, headers);
      res.end();
      return 304;
    }
    headers['Content-Length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
    return 200;
  }

  private async sendFile(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    stats: Stats,
    cacheControl: string
  ): Promise<number> {
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    const headers: Record<string, string | number> = {
      'Content-Type': contentTypeFor(file),
      'Cache-Control': cacheControl,
      ETag: etag,
      'Last-Modified': stats.mtime.toUTCString(),
      Vary: 'Accept-Encoding'
    };
    if (file.endsWith('.html')) headers['Referrer-Policy'] = 'no-referrer';

    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag)) {
      res.writeHead(304, headers);
      res.end();
      return 304;
    }

    // Precompressed siblings (adapter-static `precompress: true`) when the client accepts them.
    let body = file;
    let size = stats.size;
    const accept = String(req.headers['accept-encoding'] ?? '');
    for (const [encoding, suffix] of [
      ['br', '.br'],
      ['gzip', '.gz']
    ] as const) {
      if (!new RegExp(`\\b${encoding}\\b`).test(accept)) continue;
      const compressed = await statFile(file + suffix);
      if (compressed?.isFile() === true) {
        body = file + suffix;
        size = compressed.size;
        headers['Content-Encoding'] = encoding;
        break;
      }
    }
    headers['Content-Length'] = size;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return 200;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(body);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      res.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(res);
    });
    return 200;
  }
}
