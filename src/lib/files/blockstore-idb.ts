/**
 * A Blockstore in IndexedDB that batches writes: IndexedDB's cost is per readwrite transaction
 * (each waits for a commit), and `blockstore-idb` opens one per block, ~10x slower. Puts and
 * deletes join a batch written in ONE transaction at `maxBatchBlocks` / `maxBatchBytes` or on the
 * next macrotask; a put resolves once its batch committed (durable) or rejects with it
 * (BlockstoreQuotaError / BlockstoreWriteError: nothing of it stored). Reads see pending writes.
 * With `writeBehindBytes`, a put resolves once staged while at most that many bytes wait to be
 * written: writers watch `onWriteFailure` and call `flush()` before they report blocks stored.
 * Records are keyed by base32 multihash: CIDv0/v1 and raw/dag-pb CIDs of the same bytes share one.
 * The big blocks of a batch are stored together as one Blob, small ones inline (./idb-packs.ts).
 */
import type { Blockstore, InputPair, Pair } from 'interface-blockstore';
import { NotFoundError, OpenFailedError } from 'interface-store';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { BlockstoreQuotaError, BlockstoreWriteError } from './errors.js';
import {
  BLOCKS,
  PACKS,
  PACK_MIN_BYTES,
  PackReader,
  isPackRef,
  openDatabase,
  recordBytes,
  request,
  writeBatch
} from './idb-packs.js';

export interface IdbBlockstoreInit {
  /** Database name (default 'p2p4e-blocks'); `indexedDB` defaults to globalThis.indexedDB. */
  name?: string;
  indexedDB?: IDBFactory;
  /** A batch is written once it holds this many blocks (default 64) or bytes (default 8 MiB). */
  maxBatchBlocks?: number;
  maxBatchBytes?: number;
  /**
   * Puts resolve before their batch commits while at most this many bytes are unwritten (a put
   * over it waits for the oldest batch); a batch that fails is reported to `onWriteFailure`
   * listeners. Default 0: every put waits for its own commit.
   */
  writeBehindBytes?: number;
  /** Blocks from this size on are stored in packs (default PACK_MIN_BYTES; Infinity: never). */
  packMinBytes?: number;
  /** Called for every transaction this store opens (makes the batching observable). */
  onTransaction?: (mode: IDBTransactionMode) => void;
}

export interface IdbBlockstore extends Blockstore {
  /** Opens the database (the other methods open it on first use); reopens after `close()`. */
  open(): Promise<void>;
  /** Writes what is pending, then closes; the other methods throw until `open()`. */
  close(): Promise<void>;
  /** Writes everything pending; rejects with the error of a batch that failed meanwhile. */
  flush(): Promise<void>;
  /** Calls `listener` with the error of every batch that fails from now on; returns `off`. */
  onWriteFailure(listener: (err: BlockstoreWriteError) => void): () => void;
  /** Blocks stored and their bytes (one cursor over the store, a value at a time). */
  usage(): Promise<{ blocks: number; bytes: number }>;
  /** Which of `keys` are stored (pending writes included), in one transaction. */
  hasMany(keys: CID[], options?: { signal?: AbortSignal }): Promise<boolean[]>;
  /** As Blockstore's; `knownAbsent`: only pending writes are looked at (see the class). */
  has(key: CID, options?: { signal?: AbortSignal; knownAbsent?: boolean }): Promise<boolean>;
}

const PAGE = 64; // keys per read transaction of getAll
type Input = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
type Source<T> = Iterable<T> | AsyncIterable<T>;
type Options = { signal?: AbortSignal };
type Staged = [CID, Batch | Promise<Batch>];

/** Writes waiting for one transaction: key -> bytes, or null for a delete. */
class Batch {
  readonly writes = new Map<string, Uint8Array | null>();
  bytes = 0;
  settled = false;
  settle: (err?: Error) => void = () => undefined;
  readonly done = new Promise<void>((resolve, reject) => {
    this.settle = (err) => {
      this.settled = true;
      if (err === undefined) return resolve();
      this.done.catch(() => undefined); // each put reports the failure: not unhandled
      reject(err);
    };
  });
}

export function createIdbBlockstore(init: IdbBlockstoreInit = {}): IdbBlockstore {
  return new BatchingIdbBlockstore(init);
}

class BatchingIdbBlockstore implements IdbBlockstore {
  #opening: Promise<IDBDatabase> | null = null;
  #closed = false;
  #filling: Batch | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Batches handed to IndexedDB whose transaction has not completed yet (oldest first). */
  readonly #inflight: Batch[] = [];
  readonly #failureListeners = new Set<(err: BlockstoreWriteError) => void>();
  readonly #packs = new PackReader();

  constructor(private readonly init: IdbBlockstoreInit) {}

  async open(): Promise<void> {
    this.#closed = false;
    await this.#db();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#packs.clear();
    await this.#drain();
    (await this.#opening?.catch(() => null))?.close();
    this.#opening = null;
  }

  async flush(): Promise<void> {
    for (const result of await this.#drain()) if (result.status === 'rejected') throw result.reason;
  }

  onWriteFailure(listener: (err: BlockstoreWriteError) => void): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  async put(key: CID, val: Input, options?: Options): Promise<CID> {
    options?.signal?.throwIfAborted();
    const limit = this.init.writeBehindBytes ?? 0;
    if (limit <= 0) return (await this.#stage(key, val)).done.then(() => key);
    await this.#stage(key, val);
    // Backpressure: wait for the oldest batch while too much is unwritten.
    while (this.#unwritten() > limit) {
      if (this.#inflight.length === 0) this.#dispatch();
      await this.#inflight[0]?.done.catch(() => undefined);
    }
    return key;
  }

  async *putMany(source: Source<InputPair>, options?: Options): AsyncGenerator<CID> {
    yield* this.#durable(source, ({ cid, bytes }) => [cid, this.#stage(cid, bytes)], options);
  }

  async delete(key: CID, options?: Options): Promise<void> {
    options?.signal?.throwIfAborted();
    return (await this.#stage(key, null)).done;
  }

  async *deleteMany(source: Source<CID>, options?: Options): AsyncGenerator<CID> {
    yield* this.#durable(source, (cid) => [cid, this.#stage(cid, null)], options);
  }

  async *get(key: CID, options?: Options): AsyncGenerator<Uint8Array> {
    options?.signal?.throwIfAborted();
    const bytes = await this.#load(key);
    if (bytes === null) throw new NotFoundError(`Block ${key} not found`);
    yield bytes;
  }

  /**
   * `knownAbsent`: the caller learned just before (`hasMany`) that the block is not stored, and
   * asks only to know about pending writes: a read transaction waits for every write queued
   * before it (up to a batch of 8 MiB), which a fetch would pay before each block it asks for.
   */
  async has(key: CID, options?: Options & { knownAbsent?: boolean }): Promise<boolean> {
    options?.signal?.throwIfAborted();
    if (options?.knownAbsent === true) {
      if (this.#closed) throw new Error('The blockstore is closed');
      return (this.#staged(base32.encode(key.multihash.bytes)) ?? null) !== null;
    }
    const [found] = await this.hasMany([key], options);
    return found === true;
  }

  /** Which of `keys` are stored (pending writes included), in one transaction. */
  async hasMany(keys: CID[], options?: Options): Promise<boolean[]> {
    options?.signal?.throwIfAborted();
    const store = this.#tx(await this.#db(), 'readonly').objectStore(BLOCKS);
    // Every request is made before the first await: the transaction stays active.
    return Promise.all(
      keys.map(async (cid) => {
        const key = base32.encode(cid.multihash.bytes);
        const staged = this.#staged(key);
        if (staged !== undefined) return staged !== null;
        return (await request(store.count(key))) > 0;
      })
    );
  }

  async *getMany(source: Source<CID>, options?: Options): AsyncGenerator<Pair> {
    for await (const cid of source) yield { cid, bytes: this.get(cid, options) };
  }

  /**
   * Every block as a CIDv1 with the raw codec (only multihashes are stored), after pending writes:
   * PAGE keys per transaction; bytes are read when consumed (NotFoundError if deleted meanwhile).
   */
  async *getAll(options?: Options): AsyncGenerator<Pair> {
    await this.#drain();
    for (let after: string | null = null; ;) {
      options?.signal?.throwIfAborted();
      const store = this.#tx(await this.#db(), 'readonly').objectStore(BLOCKS);
      const range: IDBKeyRange | null = after === null ? null : IDBKeyRange.lowerBound(after, true);
      const keys: IDBValidKey[] = await request(store.getAllKeys(range, PAGE));
      for (const key of keys.map(String)) {
        const cid = CID.createV1(raw.code, Digest.decode(base32.decode(key)));
        yield { cid, bytes: this.get(cid, options) };
        after = key;
      }
      if (keys.length < PAGE) return;
    }
  }

  async usage(): Promise<{ blocks: number; bytes: number }> {
    await this.#drain();
    const db = await this.#db();
    const cursor = this.#tx(db, 'readonly').objectStore(BLOCKS).openCursor();
    const total = { blocks: 0, bytes: 0 };
    return new Promise((resolve, reject) => {
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        if (cursor.result === null) return resolve(total);
        total.blocks += 1;
        total.bytes += recordBytes(cursor.result.value);
        cursor.result.continue();
      };
    });
  }

  /** Bytes staged or being written, not committed yet. */
  #unwritten(): number {
    return this.#inflight.reduce((n, batch) => n + batch.bytes, this.#filling?.bytes ?? 0);
  }

  /** The database, opened on first use (`check`: refuse once closed). */
  #db(check = true): Promise<IDBDatabase> {
    if (check && this.#closed) return Promise.reject(new Error('The blockstore is closed'));
    const { name = 'p2p4e-blocks', indexedDB = globalThis.indexedDB } = this.init;
    return (this.#opening ??= openDatabase(name, indexedDB).catch((err: unknown) => {
      this.#opening = null;
      throw new OpenFailedError(`Cannot open the blockstore: ${String(err)}`);
    }));
  }

  #tx(db: IDBDatabase, mode: IDBTransactionMode): IDBTransaction {
    this.init.onTransaction?.(mode);
    // Relaxed durability: committed without waiting for the disk flush (blocks are checked
    // against their CIDs; one lost in a power cut is fetched again), several times faster.
    return db.transaction([BLOCKS, PACKS], mode, { durability: 'relaxed' });
  }

  /** The block's bytes (a pending write first; null: not stored), a packed one via #packs. */
  async #load(cid: CID): Promise<Uint8Array | null> {
    const key = base32.encode(cid.multihash.bytes);
    const db = await this.#db();
    const staged = this.#staged(key);
    if (staged !== undefined) return staged;
    const tx = this.#tx(db, 'readonly');
    const record: unknown = await request(tx.objectStore(BLOCKS).get(key));
    if (record instanceof Uint8Array) return record;
    if (!isPackRef(record)) return null;
    if (this.#packs.has(record.p)) return this.#packs.read(record);
    const pack: unknown = await request(tx.objectStore(PACKS).get(record.p));
    return pack instanceof Blob ? this.#packs.read(record, pack) : null;
  }

  /** A write of `key` not yet stored: its bytes, null for a delete, undefined for none. */
  #staged(key: string): Uint8Array | null | undefined {
    for (const batch of [this.#filling, ...[...this.#inflight].reverse()]) {
      const bytes = batch?.writes.get(key);
      if (bytes !== undefined) return bytes;
    }
    return undefined;
  }

  /** Queues a put, or a delete (null); synchronously for a Uint8Array, so calls keep order. */
  #stage(cid: CID, val: Input | null): Batch | Promise<Batch> {
    if (this.#closed) throw new Error('The blockstore is closed');
    if (val !== null && !(val instanceof Uint8Array)) {
      return concat(val).then((bytes) => this.#stage(cid, bytes));
    }
    const key = base32.encode(cid.multihash.bytes);
    const batch = (this.#filling ??= new Batch());
    batch.bytes += (val?.byteLength ?? 0) - (batch.writes.get(key)?.byteLength ?? 0);
    // A block bound for a pack is copied once, by the pack's Blob; one stored inline is
    // structured-cloned with its whole ArrayBuffer, so it is copied out of a bigger one first.
    const packed = val !== null && val.byteLength >= (this.init.packMinBytes ?? PACK_MIN_BYTES);
    batch.writes.set(key, val === null ? null : packed ? val : own(val));
    const { maxBatchBlocks = 64, maxBatchBytes = 8 * 1024 * 1024 } = this.init;
    if (batch.writes.size >= maxBatchBlocks || batch.bytes >= maxBatchBytes) this.#dispatch();
    else this.#timer ??= setTimeout(() => this.#dispatch(), 0);
    return batch;
  }

  /** Hands the batch being filled to IndexedDB: one readwrite transaction. */
  #dispatch(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#filling;
    if (batch === null) return;
    this.#filling = null;
    this.#inflight.push(batch);
    this.#db(false)
      .then((db) => this.#commit(this.#tx(db, 'readwrite'), batch))
      .catch((err: unknown) => this.#finish(batch, err));
  }

  #commit(tx: IDBTransaction, batch: Batch): void {
    let thrown: unknown;
    tx.oncomplete = () => this.#finish(batch);
    tx.onabort = () => this.#finish(batch, tx.error ?? thrown ?? new Error('Transaction aborted'));
    // An error aborts tx: none of this batch is stored; onabort settles it.
    writeBatch(tx, batch.writes, this.init.packMinBytes, (err) => (thrown = err));
  }

  #finish(batch: Batch, err?: unknown): void {
    if (this.#inflight.includes(batch)) this.#inflight.splice(this.#inflight.indexOf(batch), 1);
    if (err === undefined) return batch.settle();
    const name = typeof err === 'object' && err !== null && 'name' in err ? err.name : undefined;
    const Type = name === 'QuotaExceededError' ? BlockstoreQuotaError : BlockstoreWriteError;
    const error = new Type(`Writing ${batch.writes.size} block(s) failed: ${err}`, { cause: err });
    batch.settle(error);
    for (const listener of this.#failureListeners) listener(error);
  }

  /** Writes what is pending; settles when every batch handed to IndexedDB has. */
  #drain(): Promise<PromiseSettledResult<void>[]> {
    this.#dispatch();
    return Promise.allSettled(this.#inflight.map((batch) => batch.done));
  }

  /** Yields each key once its batch is durable; waits while two batches are being written. */
  async *#durable<T>(source: Source<T>, stage: (item: T) => Staged, options?: Options) {
    const queue: Array<{ cid: CID; batch: Batch }> = [];
    for await (const item of source) {
      options?.signal?.throwIfAborted();
      const [cid, batch] = stage(item);
      queue.push({ cid, batch: await batch });
      for (let head = queue[0]; head !== undefined; head = queue[0]) {
        if (!head.batch.settled && this.#inflight.length < 2) break;
        await head.batch.done;
        queue.shift();
        yield head.cid;
      }
    }
    for (const { cid, batch } of queue) {
      await batch.done;
      yield cid;
    }
  }
}

/** The bytes on a buffer of their own: IndexedDB would store the whole buffer of a view. */
function own(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole && bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}

async function concat(chunks: Source<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  parts.reduce((at, part) => (out.set(part, at), at + part.byteLength), 0);
  return out;
}
