/**
 * Public shares: a peer asks the relay to keep a file it shared publicly (unencrypted, so its
 * CID is the ordinary UnixFS one), the relay fetches it from that peer with bitswap and serves
 * it at `/ipfs/<cid>` (gateway.ts), so a public link opens for people without the app.
 *
 * Protocol `/p2p4e/public-share/1.0.0` (PUBLIC_SHARE_PROTOCOL in src/lib/p2p/constants.ts,
 * repeated here because the relay compiles relay/src only): the peer sends one length-prefixed
 * UTF-8 JSON request `{ "cid": "<CIDv1>", "size": <file bytes> }` (at most 1 KiB); the relay
 * fetches the whole DAG from that peer, then answers with one length-prefixed JSON object:
 * `{ "ok": true }`, or `{ "ok": false, "reason": "disabled" | "too-big" | "quota" |
 * "bad-request" | "unavailable", "message": "<for people>" }`, and closes the stream.
 *
 * Only public shares are useful to the relay: it cannot tell a public file from an encrypted
 * one (both are UnixFS DAGs), but it never gets the keys, so an encrypted share it kept would be
 * ciphertext nobody without the conversation can read. The app asks only for public ones.
 *
 * Off by default (`--public-shares-quota 0`): the protocol then answers 'disabled' and nothing
 * is stored. When on, the relay runs a light Helia (no routing, no gateways) with bitswap over
 * its own libp2p node, asks only the requesting peer for blocks (a bitswap session with that
 * one provider, never a broadcast want), verifies every block against its CID (Helia does),
 * reserves the share's budget out of the quota before fetching and refuses a DAG bigger than it
 * declared (the store never writes a block past the budget). A failed fetch deletes what it
 * stored. One request at a time per peer, a few peers at a time.
 *
 * ```ts
 * const shares = await startPublicShares({ libp2p, config, logger, metrics });
 * shares.store?.hasShare(cid);
 * await shares.stop();
 * ```
 */
import path from 'node:path';
import type { HeliaWithLibp2p } from '@helia/libp2p';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { Helia } from 'helia';
import { CID } from 'multiformats/cid';
import type { RelayConfig } from './config.js';
import { ShareRefusedError, type ShareRefusalReason } from './errors.js';
import type { Logger } from './log.js';
import type { RelayMetrics } from './metrics.js';
import { isFileCid, walkShare } from './public-share-fetch.js';
import {
  BlockRefusedError,
  openShareStore,
  readWhole,
  type ShareStore
} from './public-share-store.js';

/** Same value as PUBLIC_SHARE_PROTOCOL in src/lib/p2p/constants.ts. */
export const PUBLIC_SHARE_PROTOCOL = '/p2p4e/public-share/1.0.0';
/** Largest request or answer frame. */
export const MAX_SHARE_MESSAGE_BYTES = 1024;
/** The request must arrive within this time after the stream opens. */
export const SHARE_REQUEST_TIMEOUT_MS = 10_000;
/** A block the peer has not sent within this time ends the fetch ('unavailable'). */
export const SHARE_BLOCK_STALL_MS = 15_000;
/** A whole fetch must finish within this time. */
export const SHARE_FETCH_TIMEOUT_MS = 10 * 60_000;
/** Blocks asked for at once (1 MiB each for a public file). */
export const SHARE_FETCH_CONCURRENCY = 4;
/** Fetches in progress at once, over all peers. */
export const MAX_CONCURRENT_SHARE_FETCHES = 4;
/** Directory under --data-dir. */
export const PUBLIC_SHARES_DIR = 'public-shares';

/**
 * Bitswap limits of the app (src/lib/files/constants.ts BITSWAP_LIMITS). Bitswap cannot split a
 * block: one 1 MiB public leaf plus framing must fit in an outgoing message.
 */
const BITSWAP_LIMITS = {
  maxInboundStreams: 32,
  maxOutboundStreams: 32,
  maxOutgoingMessageSize: 1024 * 1024 + 64 * 1024,
  maxIncomingMessageSize: 2 * 1024 * 1024 + 64 * 1024,
  maxWantlistSize: 1024
} as const;

export interface ShareRequest {
  cid: CID;
  size: number;
}

export type ShareAnswer = { ok: true } | { ok: false; reason: ShareRefusalReason; message: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function badRequest(message: string): ShareRefusedError {
  return new ShareRefusedError('bad-request', message);
}

/** The request in a frame, or ShareRefusedError('bad-request') saying what is wrong. */
export function decodeShareRequest(bytes: Uint8Array): ShareRequest {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw badRequest('The request is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('The request is not a JSON object.');
  }
  const { cid: cidText, size } = value as Record<string, unknown>;
  if (typeof cidText !== 'string' || cidText.length > 200) {
    throw badRequest('The request has no CID.');
  }
  let cid: CID;
  try {
    cid = CID.parse(cidText);
  } catch {
    throw badRequest('The CID is not valid.');
  }
  if (cid.version !== 1 || !isFileCid(cid)) {
    throw badRequest('Only CIDv1 raw or dag-pb sha2-256 files can be kept.');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw badRequest('The size is not a byte count.');
  }
  return { cid, size };
}

export function encodeShareAnswer(answer: ShareAnswer): Uint8Array {
  return encoder.encode(JSON.stringify(answer));
}

/** Whether an error is the relay's own storage failing (disk full, permissions), not the peer. */
export function isStorageError(err: unknown): boolean {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  return /^(PutFailedError|DeleteFailedError|OpenFailedError)$|ENOSPC|EACCES|EROFS|EDQUOT/.test(
    `${String(e?.name)} ${String(e?.code)} ${String(e?.message)}`
  );
}

/** What a refusal says on the wire, whatever went wrong. */
export function answerOf(err: unknown): ShareAnswer & { ok: false } {
  if (err instanceof ShareRefusedError) {
    return { ok: false, reason: err.reason, message: err.message };
  }
  if (err instanceof BlockRefusedError && err.overBudget) {
    return { ok: false, reason: 'too-big', message: 'The file is bigger than it said.' };
  }
  if (isStorageError(err)) {
    return { ok: false, reason: 'unavailable', message: 'The relay could not store the file.' };
  }
  return {
    ok: false,
    reason: 'unavailable',
    message: 'The relay could not get the whole file from you; try again later.'
  };
}

export interface PublicSharesInit {
  libp2p: Libp2p;
  config: Pick<RelayConfig, 'dataDir' | 'publicSharesQuota' | 'publicShareMax'>;
  logger: Logger;
  metrics: Pick<RelayMetrics, 'publicShareRefusals' | 'publicSharesKept'>;
  /** Overrides of the defaults above (tests). */
  stallMs?: number;
  fetchTimeoutMs?: number;
  concurrency?: number;
  maxConcurrentFetches?: number;
}

export interface PublicSharesStats {
  shares: number;
  bytes: number;
  quota: number;
}

export interface PublicShares {
  readonly enabled: boolean;
  /** The stored shares (undefined when the feature is off). */
  readonly store: ShareStore | undefined;
  stats(): PublicSharesStats;
  stop(): Promise<void>;
}

/** Registers the protocol (answering 'disabled' when off) and, when on, opens the store. */
export async function startPublicShares(init: PublicSharesInit): Promise<PublicShares> {
  const service = new PublicSharesService(init);
  await service.start();
  return service;
}

class PublicSharesService implements PublicShares {
  readonly enabled: boolean;
  store: ShareStore | undefined;
  private helia: Helia | undefined;
  private readonly log: Logger;
  /** Peers with a request in progress, each with the controller that cancels it. */
  private readonly inFlight = new Map<string, AbortController>();
  private readonly stopping = new AbortController();
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString();
    this.inFlight.get(peer)?.abort(new ShareRefusedError('unavailable', 'You disconnected.'));
  };

  constructor(private readonly init: PublicSharesInit) {
    this.enabled = init.config.publicSharesQuota > 0;
    this.log = init.logger;
  }

  async start(): Promise<void> {
    const { libp2p, config } = this.init;
    if (this.enabled) {
      const dir = path.join(config.dataDir, PUBLIC_SHARES_DIR);
      this.store = await openShareStore({ dir, quota: config.publicSharesQuota, log: this.log });
      // Helia and bitswap are loaded only on relays that keep public shares.
      const [{ createHeliaLight }, { withBitswap }, { MemoryDatastore }] = await Promise.all([
        import('helia'),
        import('@helia/bitswap'),
        import('datastore-core')
      ]);
      const helia = createHeliaLight({
        blockstore: this.store.blockstore,
        // Pins and Helia's version: nothing the relay keeps (the store has its manifests).
        datastore: new MemoryDatastore(),
        holdGcLock: false
      });
      // The mixins read `helia.libp2p`: the relay's node, already started and not Helia's to stop.
      Object.defineProperty(helia, 'libp2p', { value: libp2p, enumerable: true });
      withBitswap(helia as unknown as HeliaWithLibp2p, {
        runOnLimitedConnections: false,
        ...BITSWAP_LIMITS
      });
      await helia.start();
      this.helia = helia;
      libp2p.addEventListener('peer:disconnect', this.onDisconnect);
      this.log.info(
        {
          dir,
          quota: this.store.quota,
          used: this.store.used(),
          shares: this.store.shares(),
          max: config.publicShareMax
        },
        'public shares enabled'
      );
    }
    await libp2p.handle(
      PUBLIC_SHARE_PROTOCOL,
      (stream, connection) => this.handle(stream, connection),
      // Two per connection: one request and room for the "one at a time" answer to another.
      { maxInboundStreams: 2 }
    );
  }

  stats(): PublicSharesStats {
    return {
      shares: this.store?.shares() ?? 0,
      bytes: this.store?.used() ?? 0,
      quota: this.init.config.publicSharesQuota
    };
  }

  private async handle(stream: Stream, connection: Connection): Promise<void> {
    const lp = lpStream(stream, { maxDataLength: MAX_SHARE_MESSAGE_BYTES });
    const peer = connection.remotePeer.toString();
    let answer: ShareAnswer;
    let request: ShareRequest | undefined;
    try {
      let frame;
      try {
        frame = await lp.read({ signal: AbortSignal.timeout(SHARE_REQUEST_TIMEOUT_MS) });
      } catch (err) {
        throw badRequest(`No readable request (${(err as Error).name}).`);
      }
      request = decodeShareRequest(frame.subarray());
      await this.keep(request, connection);
      answer = { ok: true };
    } catch (err) {
      answer = answerOf(err);
      // The relay's own disk failing is the operator's business; anything else came from the
      // peer (it did not have a block, went away) and is logged quietly.
      if (isStorageError(err)) {
        this.log.warn({ err, peer, cid: request?.cid.toString() }, 'public share not stored');
      } else if (!(err instanceof ShareRefusedError)) {
        this.log.debug({ err, peer, cid: request?.cid.toString() }, 'public share fetch failed');
      }
    }
    if (answer.ok) {
      this.init.metrics.publicSharesKept.inc();
    } else {
      this.init.metrics.publicShareRefusals.inc({ reason: answer.reason });
      this.log.debug(
        { peer, cid: request?.cid.toString(), reason: answer.reason, message: answer.message },
        'public share refused'
      );
    }
    const signal = AbortSignal.timeout(SHARE_REQUEST_TIMEOUT_MS);
    try {
      await lp.write(encodeShareAnswer(answer), { signal });
      await stream.close({ signal });
    } catch (err) {
      stream.abort(err as Error);
    }
  }

  private async keep(request: ShareRequest, connection: Connection): Promise<void> {
    const { store, helia } = this;
    if (!this.enabled || store === undefined || helia === undefined) {
      throw new ShareRefusedError('disabled', 'This relay does not keep public shares.');
    }
    if (this.stopping.signal.aborted) {
      throw new ShareRefusedError('unavailable', 'The relay is shutting down.');
    }
    const max = this.init.config.publicShareMax;
    if (request.size > max) {
      throw new ShareRefusedError(
        'too-big',
        `This relay keeps public shares of at most ${max} bytes.`
      );
    }
    if (store.hasShare(request.cid)) return;
    if (connection.limits !== undefined) {
      throw new ShareRefusedError(
        'unavailable',
        'Ask over a direct connection to the relay, not a relayed one.'
      );
    }
    const peer = connection.remotePeer.toString();
    if (this.inFlight.has(peer)) {
      throw new ShareRefusedError(
        'unavailable',
        'The relay is already fetching a share from you: one at a time.'
      );
    }
    if (this.inFlight.size >= (this.init.maxConcurrentFetches ?? MAX_CONCURRENT_SHARE_FETCHES)) {
      throw new ShareRefusedError('unavailable', 'The relay is busy; try again in a minute.');
    }
    const begun = store.begin(request.cid, request.size);
    if (!begun.ok) {
      if (begun.reason === 'stored') return;
      throw new ShareRefusedError(begun.reason, begun.message);
    }
    const { fetch } = begun;
    const cancel = new AbortController();
    this.inFlight.set(peer, cancel);
    const session = helia.blockstore.createSession(request.cid, {
      providers: [connection.remotePeer.toCID()],
      minProviders: 1,
      maxProviders: 1
    });
    const stallMs = this.init.stallMs ?? SHARE_BLOCK_STALL_MS;
    const signal = AbortSignal.any([
      cancel.signal,
      this.stopping.signal,
      AbortSignal.timeout(this.init.fetchTimeoutMs ?? SHARE_FETCH_TIMEOUT_MS)
    ]);
    const started = Date.now();
    try {
      await walkShare(fetch, {
        concurrency: this.init.concurrency ?? SHARE_FETCH_CONCURRENCY,
        signal,
        load: async (cid, walkSignal) => {
          const stall = AbortSignal.timeout(stallMs);
          try {
            const block = await readWhole(session, cid, {
              signal: AbortSignal.any([walkSignal, stall])
            });
            return block;
          } catch (err) {
            if (stall.aborted && !walkSignal.aborted) {
              throw new ShareRefusedError('unavailable', 'You stopped sending the file.');
            }
            throw err;
          }
        }
      });
      await fetch.commit();
      this.log.info(
        {
          peer,
          cid: request.cid.toString(),
          size: request.size,
          written: fetch.written,
          ms: Date.now() - started
        },
        'public share kept'
      );
    } catch (err) {
      await fetch.abort();
      if (signal.aborted && !(err instanceof ShareRefusedError)) {
        const reason: unknown = signal.reason;
        if (reason instanceof ShareRefusedError) throw reason;
        throw new ShareRefusedError(
          'unavailable',
          this.stopping.signal.aborted
            ? 'The relay is shutting down.'
            : 'Fetching the file took too long.',
          { cause: err }
        );
      }
      throw err;
    } finally {
      session.close();
      this.inFlight.delete(peer);
    }
  }

  async stop(): Promise<void> {
    const { libp2p } = this.init;
    this.stopping.abort(new ShareRefusedError('unavailable', 'The relay is shutting down.'));
    libp2p.removeEventListener('peer:disconnect', this.onDisconnect);
    await Promise.resolve(libp2p.unhandle(PUBLIC_SHARE_PROTOCOL)).catch(() => {});
    await this.helia?.stop().catch(() => {});
    await this.store?.close();
  }
}
