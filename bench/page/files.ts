/**
 * The files service (`createFiles` from src/lib/files) on this page's node, for the `files`
 * phase: A adds a generated file into an IndexedDB blockstore (encrypted, imported with
 * UnixFS), B fetches it from A over their direct connection into its own, then reads it back
 * (decrypted) and hashes it. The same bytes over one libp2p stream and the raw data channel are
 * the `ours.bulk` and `raw.bulk` baselines.
 *
 * The generated file is never held whole: a stream of 1 MiB chunks, each a copy of one random
 * 1 MiB pool with the chunk's byte offset stamped every 4 KiB (no two 4 KiB pieces of a file are
 * equal), so the file only depends on its size and this page's pool.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { MemoryBlockstore } from 'blockstore-core';
import type { Blockstore } from 'interface-blockstore';
import { createIdbBlockstore, type IdbBlockstore } from '$lib/files/blockstore-idb';
import { WRITE_BEHIND_BYTES } from '$lib/files/constants';
import { createFiles, type Files } from '$lib/files/files';
import type { FileRecord } from '$lib/files/record';
import { SEGMENT_SIZE, TAG_BYTES } from '$lib/files/segments';
import type {
  FilesAddResult,
  FilesApi,
  FilesFetchResult,
  FilesOpenOptions,
  FilesReadResult,
  StoreStats
} from './api.ts';
import { startedLibp2p } from './ours.ts';
import { randomBytes } from './util.ts';

const CHUNK = 1024 * 1024;
const SEALED_BLOCK = SEGMENT_SIZE + TAG_BYTES;
const STAMP_EVERY = 4096;

let pool: Uint8Array | undefined;
let files: Files | undefined;
let idb: IdbBlockstore | undefined;
let stats = emptyStats();

function emptyStats(): StoreStats {
  return { puts: 0, putMs: 0, putMaxMs: 0, gets: 0, getMs: 0, getMaxMs: 0, has: 0, hasMs: 0 };
}

/** Chunk `index` of a generated file of `size` bytes (a fresh buffer each time). */
function chunkOf(index: number, size: number): Uint8Array {
  pool ??= randomBytes(CHUNK);
  const start = index * CHUNK;
  const out = pool.slice(0, Math.min(CHUNK, size - start));
  const view = new DataView(out.buffer);
  for (let at = 0; at + 8 <= out.length; at += STAMP_EVERY) {
    const offset = start + at;
    view.setUint32(at, offset >>> 0);
    view.setUint32(at + 4, Math.floor(offset / 2 ** 32));
  }
  return out;
}

/** The generated file as a ReadableStream (what `File.stream()` gives), `genMs` spent making it. */
function generated(size: number, timing: { genMs: number }): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index * CHUNK >= size) return controller.close();
      const t0 = performance.now();
      const chunk = chunkOf(index++, size);
      timing.genMs += performance.now() - t0;
      controller.enqueue(chunk);
    }
  });
}

/** Times the blockstore's put (until durable), get (until the bytes) and has. */
function timed(store: Blockstore): Blockstore {
  const note = (kind: 'put' | 'get', ms: number): void => {
    if (kind === 'put') {
      stats.puts++;
      stats.putMs += ms;
      stats.putMaxMs = Math.max(stats.putMaxMs, ms);
    } else {
      stats.gets++;
      stats.getMs += ms;
      stats.getMaxMs = Math.max(stats.getMaxMs, ms);
    }
  };
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (prop === 'put') {
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return await fn.apply(target, args);
          } finally {
            note('put', performance.now() - t0);
          }
        };
      }
      if (prop === 'has') {
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return await fn.apply(target, args);
          } finally {
            stats.has++;
            stats.hasMs += performance.now() - t0;
          }
        };
      }
      if (prop === 'get') {
        return async function* (...args: unknown[]) {
          const t0 = performance.now();
          let first = true;
          for await (const part of fn.apply(target, args) as AsyncIterable<Uint8Array>) {
            if (first) note('get', performance.now() - t0);
            first = false;
            yield part;
          }
        };
      }
      return fn.bind(target);
    }
  });
}

function opened(): Files {
  if (files === undefined) throw new Error('files: not open (call open first)');
  return files;
}

export const filesApi: FilesApi = {
  async open(options: FilesOpenOptions) {
    await filesApi.close();
    let store: Blockstore;
    if (options.store !== 'memory') {
      idb = createIdbBlockstore({
        name: options.name,
        writeBehindBytes: WRITE_BEHIND_BYTES,
        ...(options.store === 'idb-inline' ? { packMinBytes: Infinity } : {})
      });
      await idb.open();
      store = idb;
    } else {
      store = new MemoryBlockstore();
    }
    stats = emptyStats();
    files = await createFiles({
      libp2p: startedLibp2p(),
      blockstore: timed(store),
      // N in flight: N sealed blocks, whatever the app's byte window.
      ...(options.concurrency !== undefined
        ? { concurrency: options.concurrency, windowBytes: options.concurrency * SEALED_BLOCK }
        : {})
    });
  },

  async expectedHash(size) {
    const t0 = performance.now();
    const hash = sha256.create();
    for (let i = 0; i * CHUNK < size; i++) hash.update(chunkOf(i, size));
    return { hash: bytesToHex(hash.digest()), ms: performance.now() - t0 };
  },

  async add(size): Promise<FilesAddResult> {
    const timing = { genMs: 0 };
    const source = { name: 'bench.bin', type: 'application/octet-stream', size };
    const t0 = performance.now();
    const record = await opened().add({ ...source, stream: () => generated(size, timing) });
    const ms = performance.now() - t0;
    return { record, ms, genMs: timing.genMs };
  },

  async fetch(record, provider, options): Promise<FilesFetchResult> {
    const service = opened();
    const marks: number[] = []; // when each tenth of the bytes was stored
    let firstProgressMs = Number.NaN;
    let firstByteMs = Number.NaN;
    let firstByte: number | undefined;
    let probing = false;
    let t0 = 0;
    // read() works from stored blocks only: tried at each progress until byte 0 comes out.
    const probe = async (): Promise<void> => {
      if (probing || firstByte !== undefined) return;
      probing = true;
      try {
        for await (const chunk of service.read(record, { start: 0, end: 1 })) {
          if (chunk.length > 0 && firstByte === undefined) {
            firstByte = chunk[0];
            firstByteMs = performance.now() - t0;
          }
        }
      } catch {
        // not stored yet
      } finally {
        probing = false;
      }
    };
    t0 = performance.now();
    const report = await service.fetch(record, {
      providers: [provider],
      signal: AbortSignal.timeout(options.timeoutMs),
      onProgress: ({ bytes, total }) => {
        const now = performance.now() - t0;
        if (bytes > 0 && Number.isNaN(firstProgressMs)) firstProgressMs = now;
        while (marks.length < 10 && bytes >= ((marks.length + 1) * total) / 10) marks.push(now);
        if (options.firstByte && bytes > 0) void probe();
      }
    });
    const ms = performance.now() - t0;
    if (options.firstByte && firstByte === undefined) await probe();
    return { ms, firstProgressMs, firstByteMs, firstByte, marks, report };
  },

  async firstByte(size) {
    return chunkOf(0, size)[0] as number;
  },

  async readAll(record: FileRecord): Promise<FilesReadResult> {
    const hash = sha256.create();
    let bytes = 0;
    let hashMs = 0;
    const t0 = performance.now();
    for await (const chunk of opened().read(record)) {
      const h0 = performance.now();
      hash.update(chunk);
      hashMs += performance.now() - h0;
      bytes += chunk.length;
    }
    const ms = performance.now() - t0;
    return { ms, hashMs, bytes, hash: bytesToHex(hash.digest()) };
  },

  async remove(record) {
    const t0 = performance.now();
    await opened().remove(record);
    await idb?.flush();
    const ms = performance.now() - t0;
    return { ms, left: idb === undefined ? undefined : await idb.usage() };
  },

  takeStats() {
    const out = stats;
    stats = emptyStats();
    return out;
  },

  async close() {
    await files?.stop();
    files = undefined;
    await idb?.close();
    idb = undefined;
  }
};
