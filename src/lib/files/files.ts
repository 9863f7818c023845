/**
 * The files service: add a file (encrypted in segments, then imported with UnixFS), fetch one
 * from the members who have it, read it back (whole or a byte range, decrypted as it streams),
 * delete a local copy. Everything streams: no file is ever held whole in memory.
 *
 * ```ts
 * const files = await createFiles({ libp2p: node.libp2p, blockstore });
 * const record = await files.add(file); // File/Blob or any { name, type, size, stream() }
 * // … the record goes into a message; on another member's device:
 * await files.fetch(record, { providers: [sender], onProgress: (p) => show(p.bytes / p.total) });
 * for await (const chunk of files.read(record)) save(chunk);
 * ```
 */
import type { Libp2p } from '@libp2p/interface';
import { unixfs, type UnixFS } from '@helia/unixfs';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import type { Blockstore } from 'interface-blockstore';
import { CID } from 'multiformats/cid';
import { startBlockService, type BlockService } from './blocks.js';
import { FileUnavailableError, StorageFullError } from './errors.js';
import { fetchFile, storedBlocks, type FetchOptions, type FetchReport } from './fetch.js';
import { safeFileName } from './names.js';
import { countServed, createServingIndex, type Served, type ServingIndex } from './serving.js';
import { encodeKey, fileKeyOf, isPublic, safeMediaType, type FileRecord } from './record.js';
import {
  decryptSegments,
  encryptedSize,
  encryptSegments,
  newFileKey,
  SEGMENT_SIZE,
  spanOf,
  TAG_BYTES
} from './segments.js';

/**
 * A blockstore that may write behind its puts (IdbBlockstore with `writeBehindBytes`), and may
 * tell which of many blocks it has at once (a resumed fetch checks a node's children together).
 */
interface WriteBehind {
  flush?(): Promise<void>;
  onWriteFailure?(listener: (err: Error) => void): () => void;
  hasMany?(keys: CID[]): Promise<boolean[]>;
}

export interface FilesInit {
  libp2p: Libp2p;
  /**
   * Where blocks are kept (the app: a batched IndexedDB blockstore). A store with `flush` and
   * `onWriteFailure` may resolve puts before they are durable: add and fetch stop at a failed
   * write and flush before they report success.
   */
  blockstore: Blockstore & WriteBehind;
  /** Defaults of every fetch. */
  stallMs?: number;
  concurrency?: number;
  windowBytes?: number;
}

/** What `add` reads: a File or Blob, or anything shaped like one. */
export interface FileSource {
  name: string;
  type: string;
  size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface AddOptions {
  /** Add the plain file (no key): its CID is the ordinary UnixFS one anyone can fetch. */
  public?: boolean;
  signal?: AbortSignal;
  /** Plaintext bytes read so far. */
  onProgress?: (bytes: number, total: number) => void;
  /** A preview made by the caller (images, video). */
  preview?: { thumb: string; w: number; h: number };
}

export interface Files {
  add(source: FileSource, options?: AddOptions): Promise<FileRecord>;
  /** Stores every missing block of the file (see fetch.ts). */
  fetch(record: FileRecord, options: FetchOptions): Promise<FetchReport>;
  /** Whether every block of the file is stored here. */
  isComplete(record: FileRecord, options?: { signal?: AbortSignal }): Promise<boolean>;
  /**
   * Data bytes stored here, counted in order up to the first missing block (storedSize(record)
   * when complete).
   */
  stored(record: FileRecord, options?: { signal?: AbortSignal }): Promise<number>;
  /** Plaintext bytes [start, end) (default: all) from the stored blocks, in order. */
  read(record: FileRecord, range?: { start: number; end: number }): AsyncGenerator<Uint8Array>;
  /** Deletes the local copy's blocks (other members keep theirs). */
  remove(record: FileRecord): Promise<void>;
  /**
   * Calls `listener` for each block of the file this device sends to a peer (serving.ts): its
   * data bytes (stored bytes: ciphertext for an encrypted file), `pass` when a peer started
   * fetching it. Returns `off`.
   */
  watchServing(record: FileRecord, listener: (served: Served) => void): () => void;
  stop(): Promise<void>;
}

/** Encrypted files: one block per sealed segment, so a segment is fetched as one block. */
const SEALED_CHUNKER = fixedSize({ chunkSize: SEGMENT_SIZE + TAG_BYTES });

export async function createFiles(init: FilesInit): Promise<Files> {
  const started: { blocks?: BlockService } = {};
  // Walks a served file's DAG once its root is asked for (blocks started by then).
  const serving = createServingIndex((root) => storedBlocks(started.blocks!.helia, root));
  const blocks = await startBlockService(init.libp2p, countServed(init.blockstore, serving));
  started.blocks = blocks;
  return new FilesService(init, blocks, serving);
}

/** Data bytes of the stored file: the ciphertext for an encrypted one. */
export function storedSize(record: FileRecord): number {
  return isPublic(record) ? record.size : encryptedSize(record.size, record.seg);
}

function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'BlockstoreQuotaError' || name === 'QuotaExceededError';
}

async function* counted(
  stream: ReadableStream<Uint8Array>,
  total: number,
  signal: AbortSignal | undefined,
  onProgress: AddOptions['onProgress']
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) return;
      bytes += value.length;
      onProgress?.(bytes, total);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

class FilesService implements Files {
  private readonly fs: UnixFS;

  constructor(
    private readonly init: FilesInit,
    private readonly blocks: BlockService,
    private readonly serving: ServingIndex
  ) {
    this.fs = unixfs(blocks.helia);
  }

  async add(source: FileSource, options: AddOptions = {}): Promise<FileRecord> {
    const name = safeFileName(source.name);
    const plain = counted(source.stream(), source.size, options.signal, options.onProgress);
    const written: CID[] = [];
    const store = this.blocks.helia.blockstore;
    const key = options.public === true ? undefined : newFileKey();
    // Records what this import writes, so a failed one leaves nothing behind. An encrypted
    // file's blocks are all new (a fresh key): only a public one can share blocks with a file
    // stored before, which must then stay.
    const recording = {
      get: store.get.bind(store),
      has: store.has.bind(store),
      put: async (cid: CID, block: Uint8Array) => {
        const had = key === undefined && (await store.has(cid));
        const out = await store.put(cid, block, { signal: options.signal });
        if (!had) written.push(cid);
        return out;
      }
    };
    const fs = unixfs({ blockstore: recording });
    try {
      const cid = await this.durably(options.signal, (signal) =>
        key === undefined
          ? fs.addByteStream(plain, { signal })
          : fs.addByteStream(encryptSegments(key, plain), { signal, chunker: SEALED_CHUNKER })
      );
      const record: FileRecord = {
        v: 1,
        cid: cid.toString(),
        name,
        size: source.size,
        type: safeMediaType(source.type)
      };
      if (key !== undefined) {
        record.key = encodeKey(key);
        record.seg = SEGMENT_SIZE;
      }
      if (options.preview !== undefined) Object.assign(record, options.preview);
      return record;
    } catch (err) {
      for (const cid of written) await Promise.resolve(store.delete(cid)).catch(() => {});
      if (isQuotaError(err)) {
        throw new StorageFullError(
          `There is not enough storage space on this device for “${name}”. Free some space and try again.`,
          { cause: err }
        );
      }
      throw err;
    }
  }

  async fetch(record: FileRecord, options: FetchOptions): Promise<FetchReport> {
    try {
      return await this.durably(options.signal, (signal) =>
        fetchFile(this.blocks.helia, CID.parse(record.cid), storedSize(record), {
          hasMany: this.hasMany,
          stallMs: this.init.stallMs,
          concurrency: this.init.concurrency,
          windowBytes: this.init.windowBytes,
          reachable: (id) => this.isDirect(id),
          ...options,
          signal
        })
      );
    } catch (err) {
      if (!isQuotaError(err)) throw err;
      await this.remove(record);
      throw new StorageFullError(
        `There is not enough storage space on this device for “${record.name}”. Free some space and try again.`,
        { cause: err }
      );
    }
  }

  /**
   * Runs `run` with a signal that also aborts when the store fails a write it holds back, then
   * has the store write everything: resolves only once all `run` put is stored. A failed write
   * of another transfer stops this one too (it may have held this one's blocks).
   */
  private async durably<T>(
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>
  ): Promise<T> {
    const store = this.init.blockstore;
    const failed = new AbortController();
    const off = store.onWriteFailure?.((err) => failed.abort(err));
    try {
      const result = await run(
        signal === undefined ? failed.signal : AbortSignal.any([signal, failed.signal])
      );
      await store.flush?.();
      failed.signal.throwIfAborted();
      return result;
    } catch (err) {
      throw failed.signal.aborted ? failed.signal.reason : err;
    } finally {
      off?.();
    }
  }

  /** The store's "which of these blocks are here" in one go, when it has one. */
  private get hasMany() {
    return this.init.blockstore.hasMany?.bind(this.init.blockstore);
  }

  /** Bitswap runs over direct connections only (relayed ones have a data budget). */
  private isDirect(peerId: string): boolean {
    return this.init.libp2p
      .getConnections()
      .some(
        (c) => c.remotePeer.toString() === peerId && c.limits === undefined && c.status === 'open'
      );
  }

  async isComplete(record: FileRecord, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return (await this.stored(record, options)) === storedSize(record);
  }

  async stored(record: FileRecord, options: { signal?: AbortSignal } = {}): Promise<number> {
    let bytes = 0;
    try {
      await fetchFile(this.blocks.helia, CID.parse(record.cid), storedSize(record), {
        hasMany: this.hasMany,
        providers: [],
        signal: options.signal,
        // One block at a time: the count stops at the first missing one, not at random.
        concurrency: 1,
        onProgress: (p) => {
          bytes = p.bytes;
        }
      });
    } catch (err) {
      if (!(err instanceof FileUnavailableError)) throw err;
    }
    return bytes;
  }

  async *read(
    record: FileRecord,
    range?: { start: number; end: number }
  ): AsyncGenerator<Uint8Array> {
    const cid = CID.parse(record.cid);
    const start = range?.start ?? 0;
    const end = range?.end ?? record.size;
    if (end <= start) return;
    if (isPublic(record)) {
      yield* this.fs.cat(cid, { offset: start, length: end - start, offline: true });
      return;
    }
    const segmentSize = record.seg ?? SEGMENT_SIZE;
    const span = spanOf(record.size, { start, end }, segmentSize);
    const cipher = this.fs.cat(cid, {
      offset: span.cipherStart,
      length: span.cipherEnd - span.cipherStart,
      offline: true
    });
    let at = span.first * segmentSize;
    for await (const plain of decryptSegments(fileKeyOf(record), record.size, cipher, {
      first: span.first,
      segmentSize
    })) {
      const lo = Math.max(start - at, 0);
      const hi = Math.min(end - at, plain.length);
      at += plain.length;
      if (hi > lo) yield lo === 0 && hi === plain.length ? plain : plain.subarray(lo, hi);
    }
  }

  async remove(record: FileRecord): Promise<void> {
    const cids: CID[] = [];
    for await (const cid of storedBlocks(this.blocks.helia, CID.parse(record.cid))) cids.push(cid);
    // Deleted together (the blockstore batches them), not one transaction each.
    await Promise.all(cids.map((cid) => this.blocks.helia.blockstore.delete(cid)));
  }

  watchServing(record: FileRecord, listener: (served: Served) => void): () => void {
    return this.serving.watch(CID.parse(record.cid), listener);
  }

  async stop(): Promise<void> {
    await this.blocks.stop();
  }
}
