/**
 * `GET /ipfs/<cid>`: the public shares this relay stores (public-shares.ts), as an IPFS
 * trustless gateway (https://specs.ipfs.tech/http-gateways/trustless-gateway/) plus the plain
 * file for people without the app. Offline: it serves only blocks of stored shares and never
 * asks the network for anything.
 *
 * - `Accept: application/vnd.ipld.raw` or `?format=raw`: the one block (any block of a stored
 *   share), `Content-Type: application/vnd.ipld.raw`;
 * - `Accept: application/vnd.ipld.car` or `?format=car`: a CARv1 of the DAG from that block,
 *   streamed in depth-first order without duplicates (`version=1; order=dfs; dups=n`, or
 *   `dups=y` when asked), `dag-scope=block|entity|all`;
 * - otherwise the file's bytes (UnixFS), `application/octet-stream`, with single-range support.
 *
 * The relay's origin also serves the app, so nothing here is ever rendered: every response is
 * `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a sandboxing
 * Content-Security-Policy. Responses are immutable (`Cache-Control: public, max-age=29030400,
 * immutable`) with `Etag`, `X-Ipfs-Path` and `X-Ipfs-Roots`; `If-None-Match` answers 304.
 * `GET /ipfs/bafkqaaa` (the empty identity CID) answers as the spec's probe path.
 *
 * ```ts
 * const gateway = createGateway(store);
 * if (pathname.startsWith('/ipfs/')) return gateway.serve(req, res, url);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { unixfs, type UnixFS } from '@helia/unixfs';
import { CarWriter } from '@ipld/car';
import * as dagPb from '@ipld/dag-pb';
import { CID } from 'multiformats/cid';
import { sendText } from './static-files.js';
import { DAG_PB_CODEC, RAW_CODEC } from './public-share-fetch.js';
import type { ShareStore } from './public-share-store.js';

/** A year (in seconds) that HTTP caches keep immutable responses, as IPFS gateways send. */
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=29030400, immutable';
export const RAW_TYPE = 'application/vnd.ipld.raw';
export const CAR_TYPE = 'application/vnd.ipld.car';

const IDENTITY = 0x00;
/** Nothing the gateway sends is a page: no scripts, no plugins, no same-origin anything. */
const SANDBOX_CSP = "default-src 'none'; sandbox";
const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Content-Disposition',
  'Etag',
  'X-Ipfs-Path',
  'X-Ipfs-Roots'
].join(', ');

export type GatewayFormat = 'raw' | 'car' | 'file';

export interface CarOptions {
  dups: boolean;
  scope: 'block' | 'entity' | 'all';
}

/** A request the gateway cannot answer as asked (400). */
class BadGatewayRequest extends Error {
  override name = 'BadGatewayRequest';
}

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (header === undefined) return [];
  const ranges: MediaRange[] = [];
  for (const part of header.split(',')) {
    const [typeText, ...paramTexts] = part.split(';');
    const type = (typeText ?? '').trim().toLowerCase();
    if (type === '') continue;
    const params = new Map<string, string>();
    for (const p of paramTexts) {
      const eq = p.indexOf('=');
      if (eq === -1) continue;
      params.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, '')
      );
    }
    const q = params.has('q') ? Number(params.get('q')) : 1;
    ranges.push({ type, params, q: Number.isFinite(q) ? q : 0 });
  }
  return ranges;
}

/**
 * The response format a request asks for, and the CAR options: `?format=` first, then the
 * preferred of the IPLD types in `Accept` (anything else, e.g. a browser's `text/html, *\/*`,
 * means the file).
 */
export function negotiate(
  query: URLSearchParams,
  accept: string | undefined
): { format: GatewayFormat; fromQuery: boolean; car: CarOptions } {
  const car: CarOptions = { dups: false, scope: 'all' };
  let format: GatewayFormat = 'file';
  let carParams = new Map<string, string>();
  const formatParam = query.get('format');
  if (formatParam !== null) {
    if (formatParam !== 'raw' && formatParam !== 'car') {
      throw new BadGatewayRequest(
        `Unsupported format ${JSON.stringify(formatParam)}: use raw or car.`
      );
    }
    format = formatParam;
    const carRange = parseAccept(accept).find((r) => r.type === CAR_TYPE);
    if (carRange !== undefined) carParams = carRange.params;
  } else {
    const best = parseAccept(accept)
      .filter((r) => (r.type === RAW_TYPE || r.type === CAR_TYPE) && r.q > 0)
      .sort((a, b) => b.q - a.q)[0];
    if (best !== undefined) {
      format = best.type === RAW_TYPE ? 'raw' : 'car';
      carParams = best.params;
    }
  }
  if (format === 'car') {
    const version = query.get('car-version') ?? carParams.get('version') ?? '1';
    if (version !== '1') throw new BadGatewayRequest('Only CAR version 1 is served.');
    const order = query.get('car-order') ?? carParams.get('order') ?? 'dfs';
    if (order !== 'dfs' && order !== 'unk') {
      throw new BadGatewayRequest('Only CAR order dfs (or unk) is served.');
    }
    const dups = query.get('car-dups') ?? carParams.get('dups') ?? 'n';
    if (dups !== 'y' && dups !== 'n') throw new BadGatewayRequest('CAR dups must be y or n.');
    car.dups = dups === 'y';
    const scope = query.get('dag-scope') ?? 'all';
    if (scope !== 'block' && scope !== 'entity' && scope !== 'all') {
      throw new BadGatewayRequest('dag-scope must be block, entity or all.');
    }
    car.scope = scope;
    if (query.has('entity-bytes')) {
      throw new BadGatewayRequest('entity-bytes is not supported by this gateway.');
    }
  }
  return { format, fromQuery: formatParam !== null, car };
}

/** One `bytes=start-end` range of `size` bytes, 'unsatisfiable', or undefined (serve all). */
export function parseRange(
  header: string | undefined,
  size: number
): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined; // several ranges or another unit: the whole file
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** `attachment; filename="..."` with a safe ASCII name and the UTF-8 one when it differs. */
export function attachment(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').slice(0, 200) || 'download';
  const ascii = cleaned.replace(/[^\x20-\x7e]/g, '_').replace(/["%;]/g, '_');
  return ascii === cleaned
    ? `attachment; filename="${ascii}"`
    : `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(cleaned)}`;
}

/** Pipes a body into the response; a client that went away is no error. */
async function send(
  body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  res: ServerResponse
): Promise<void> {
  try {
    await pipeline(Readable.from(body, { objectMode: false }), res);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' && !res.writableFinished) {
      return;
    }
    throw err;
  }
}

/**
 * The empty identity CID (bafkqaaa and its dag-pb/v0 forms), the spec's probe path. Other
 * identity CIDs carry bytes from the URL itself: not served, so the relay's origin never
 * hands back content a link made up.
 */
function isProbe(cid: CID): boolean {
  return cid.multihash.code === IDENTITY && cid.multihash.digest.length === 0;
}

export interface Gateway {
  /** Answers a GET/HEAD under /ipfs/; resolves with the status code sent. */
  serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number>;
}

export function createGateway(store: ShareStore): Gateway {
  const fs: UnixFS = unixfs({ blockstore: store.served });

  async function block(cid: CID): Promise<Uint8Array | undefined> {
    return isProbe(cid) ? cid.multihash.digest : store.getBlock(cid);
  }

  function stored(cid: CID): boolean {
    return isProbe(cid) || store.isServed(cid);
  }

  /** The blocks of the DAG at `root`, depth first, read as they are sent. */
  async function* dagBlocks(
    root: CID,
    options: CarOptions
  ): AsyncGenerator<{ cid: CID; bytes: Uint8Array }> {
    const seen = new Set<string>();
    const stack: CID[] = [root];
    while (stack.length > 0) {
      const cid = stack.pop()!;
      // Identity blocks live inside their CID: never sent (the spec says so).
      if (cid.multihash.code === IDENTITY) continue;
      const key = cid.toString();
      if (!options.dups && seen.has(key)) continue;
      seen.add(key);
      const bytes = await store.getBlock(cid);
      if (bytes === undefined) throw new Error(`block ${key} is missing`);
      yield { cid, bytes };
      if (options.scope === 'block' || cid.code !== DAG_PB_CODEC) continue;
      const links = dagPb.decode(bytes).Links;
      for (let i = links.length - 1; i >= 0; i--) stack.push(links[i]!.Hash);
    }
  }

  async function sendCar(res: ServerResponse, root: CID, options: CarOptions): Promise<void> {
    const { writer, out } = CarWriter.create([root]);
    const done = new AbortController();
    const producing = (async () => {
      const stopped = new Promise<void>((resolve) => {
        done.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      for await (const b of dagBlocks(root, options)) {
        if (done.signal.aborted) return;
        // put() resolves once the bytes are read: the stream's backpressure reaches the disk.
        await Promise.race([writer.put(b), stopped]);
      }
      if (!done.signal.aborted) await writer.close();
    })();
    // Once the response ends (sent, or the client went away) the producer stops too.
    const sending = send(out, res).finally(() => done.abort());
    await Promise.all([
      sending,
      producing.catch((err: unknown) => {
        // A block missing part way: end the response broken, not as a valid short CAR.
        res.destroy(err as Error);
        throw err;
      })
    ]);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    const head = req.method === 'HEAD';
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    res.setHeader('Content-Security-Policy', SANDBOX_CSP);
    res.setHeader('Vary', 'Accept');

    const rest = url.pathname.slice('/ipfs/'.length).replace(/\/+$/, '');
    if (rest === '' || rest.includes('/')) {
      sendText(
        req,
        res,
        400,
        'Bad request: ask for /ipfs/<cid> (paths inside a share are not supported).\n'
      );
      return 400;
    }
    let cid: CID;
    try {
      cid = CID.parse(rest);
    } catch {
      sendText(req, res, 400, `Bad request: ${JSON.stringify(rest.slice(0, 100))} is not a CID.\n`);
      return 400;
    }
    let negotiated;
    try {
      negotiated = negotiate(url.searchParams, req.headers.accept);
    } catch (err) {
      if (!(err instanceof BadGatewayRequest)) throw err;
      sendText(req, res, 400, `Bad request: ${err.message}\n`);
      return 400;
    }
    const { format, car } = negotiated;
    if (!stored(cid)) {
      // A trustless gateway serving from its own store answers only-if-cached with 412.
      const onlyIfCached = /\bonly-if-cached\b/i.test(req.headers['cache-control'] ?? '');
      const status = onlyIfCached ? 412 : 404;
      sendText(req, res, status, 'Not found: this relay does not store that CID.\n');
      return status;
    }

    const cidText = cid.toString();
    const etag =
      format === 'raw'
        ? `"${cidText}.raw"`
        : format === 'car'
          ? `"${cidText}.car.dfs.${car.dups ? 'y' : 'n'}.${car.scope}"`
          : `"${cidText}"`;
    res.setHeader('Etag', etag);
    res.setHeader('Cache-Control', IMMUTABLE_CACHE_CONTROL);
    res.setHeader('X-Ipfs-Path', `/ipfs/${rest}`);
    res.setHeader('X-Ipfs-Roots', cidText);
    if (format !== 'file' && !negotiated.fromQuery) {
      res.setHeader('Content-Location', `/ipfs/${rest}?format=${format}`);
    }
    const ifNoneMatch = req.headers['if-none-match'];
    if (
      ifNoneMatch !== undefined &&
      (ifNoneMatch.trim() === '*' ||
        ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))
    ) {
      res.writeHead(304);
      res.end();
      return 304;
    }

    if (format === 'raw') {
      const bytes = await block(cid);
      if (bytes === undefined) {
        sendText(req, res, 404, 'Not found: this relay does not store that CID.\n');
        return 404;
      }
      res.writeHead(200, {
        'Content-Type': RAW_TYPE,
        'Content-Length': bytes.length,
        'Content-Disposition': attachment(`${cidText}.bin`)
      });
      res.end(head ? undefined : bytes);
      return 200;
    }

    if (format === 'car') {
      res.writeHead(200, {
        'Content-Type': `${CAR_TYPE}; version=1; order=dfs; dups=${car.dups ? 'y' : 'n'}`,
        'Content-Disposition': attachment(`${cidText}.car`),
        'Accept-Ranges': 'none'
      });
      if (head) {
        res.end();
        return 200;
      }
      await sendCar(res, cid, car);
      return 200;
    }

    // The file itself, for a browser: UnixFS (a raw block is a file of its own bytes).
    if (cid.code !== RAW_CODEC && cid.code !== DAG_PB_CODEC) {
      sendText(req, res, 406, 'Not acceptable: this CID is not a file; ask for format=car.\n');
      return 406;
    }
    let size: number;
    if (isProbe(cid)) {
      size = cid.multihash.digest.length;
    } else {
      const stat = await fs.stat(cid, { offline: true });
      if (stat.type === 'directory') {
        sendText(req, res, 406, 'Not acceptable: this CID is a directory; ask for format=car.\n');
        return 406;
      }
      size = Number(stat.size);
    }
    const filename = url.searchParams.get('filename') ?? cidText;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Disposition', attachment(filename));
    res.setHeader('Accept-Ranges', 'bytes');
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${size}`);
      sendText(req, res, 416, 'Range not satisfiable.\n');
      return 416;
    }
    const start = range?.start ?? 0;
    const length = range === undefined ? size : range.end - range.start + 1;
    const status = range === undefined ? 200 : 206;
    if (range !== undefined) {
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    }
    res.writeHead(status, { 'Content-Length': length });
    if (head || length === 0) {
      res.end();
      return status;
    }
    const body = isProbe(cid)
      ? [cid.multihash.digest.subarray(start, start + length)]
      : fs.cat(cid, { offset: start, length, offline: true });
    await send(body, res);
    return status;
  }

  return { serve };
}
