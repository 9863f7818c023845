/**
 * How the IndexedDB blockstore lays blocks out (schema 2). Chromium writes every IndexedDB value
 * over 64 KiB, and every Blob, as a file of its own: with one file per 256 KiB block, writes ran
 * at half the speed and deleting a 64 MiB copy took ~0.7 s instead of ~0.05 s (bench/README.md).
 * So the big blocks of one batch are stored as ONE Blob (a "pack", in the `packs` store under a
 * random id) and each block's record says where it is: `{ p: pack id, o: offset, l: length }`;
 * reads go through a PackReader. Blocks under `PACK_MIN_BYTES` (DAG nodes) stay inline as bytes, as every block of schema 1 did
 * (both kinds are read). A pack lives while a record points into it: the `pack` index counts them
 * when a batch deletes records, and a pack no record points to is deleted in that transaction.
 * A put of a block already stored is skipped (same multihash, same bytes), so none is orphaned.
 */

export const BLOCKS = 'blocks';
export const PACKS = 'packs';
/** Index of `blocks` on the pack id of packed records. */
const BY_PACK = 'pack';
/** Smaller blocks are stored inline (Chromium keeps values up to 64 KiB in its database). */
export const PACK_MIN_BYTES = 32 * 1024;
const VERSION = 2;

/** Where a packed block is: pack id, offset and length in the pack. */
export interface PackRef {
  p: string;
  o: number;
  l: number;
}

/** A stored record: inline bytes, or where in a pack. */
export type BlockRecord = Uint8Array | PackRef;

export function isPackRef(value: unknown): value is PackRef {
  if (typeof value !== 'object' || value === null) return false;
  const ref = value as Partial<PackRef>;
  return typeof ref.p === 'string' && Number.isSafeInteger(ref.o) && Number.isSafeInteger(ref.l);
}

/** The stored length of a record's block (0 for what is not a record). */
export function recordBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  return isPackRef(value) ? value.l : 0;
}

/**
 * Writes `writes` (key -> bytes, or null: delete) in `tx` (readwrite on BLOCKS and PACKS). First
 * reads the records the batch touches, then: new big blocks -> one pack + a record each, new small
 * blocks inline, deletes, and packs left without a record deleted. Errors abort `tx` (its caller
 * reports them from `onabort`); `onError` receives what was thrown synchronously.
 */
export function writeBatch(
  tx: IDBTransaction,
  writes: Map<string, Uint8Array | null>,
  packMinBytes = PACK_MIN_BYTES,
  onError: (err: unknown) => void
): void {
  const blocks = tx.objectStore(BLOCKS);
  const old = new Map<string, unknown>();
  let pending = writes.size;
  const guard = (step: () => void) => {
    try {
      step();
    } catch (err) {
      onError(err);
      tx.abort();
    }
  };
  const apply = () =>
    guard(() => {
      const packed: Array<[string, Uint8Array]> = [];
      const emptied = new Set<string>();
      for (const [key, bytes] of writes) {
        const before = old.get(key);
        if (bytes === null) {
          if (before === undefined) continue;
          blocks.delete(key);
          if (isPackRef(before)) emptied.add(before.p);
        } else if (before === undefined) {
          if (bytes.byteLength < packMinBytes) blocks.put(bytes, key);
          else packed.push([key, bytes]);
        }
      }
      if (packed.length > 0) {
        const id = packId();
        // (Blocks never live on a SharedArrayBuffer; if one did, Blob throws: the batch fails.)
        const parts = packed.map(([, bytes]) => bytes as Uint8Array<ArrayBuffer>);
        tx.objectStore(PACKS).put(new Blob(parts), id);
        let at = 0;
        for (const [key, bytes] of packed) {
          const ref: PackRef = { p: id, o: at, l: bytes.byteLength };
          blocks.put(ref, key);
          at += bytes.byteLength;
        }
      }
      for (const id of emptied) {
        const left = blocks.index(BY_PACK).count(IDBKeyRange.only(id));
        left.onsuccess = () => guard(() => left.result === 0 && tx.objectStore(PACKS).delete(id));
      }
    });
  if (pending === 0) return;
  guard(() => {
    for (const key of writes.keys()) {
      const read = blocks.get(key);
      read.onsuccess = () => {
        old.set(key, read.result);
        if (--pending === 0) apply();
      };
    }
  });
}

/**
 * Reads packed blocks. The first block asked of a pack is read alone (a slice of the Blob) while
 * the whole pack is read too and kept in memory for a while (`max` packs, each dropped after
 * `idleMs` unused): whoever reads one block of a pack (bitswap serving a fetch, a save) reads the
 * next ones right after, and a pack read whole runs at ~250 MB/s where its blocks read one by one
 * ran at 85-95 MB/s. The record is looked up each time (a deleted block is not read); a pack id
 * is never reused, so kept bytes cannot go stale.
 */
export class PackReader {
  readonly #packs = new Map<string, { bytes: Promise<Uint8Array | null>; timer: Timer }>();

  constructor(
    private readonly max = 2,
    private readonly idleMs = 5_000,
    private readonly maxPackBytes = 16 * 1024 * 1024
  ) {}

  /** Whether pack `id` is kept (its Blob need not be opened). */
  has(id: string): boolean {
    return this.#packs.has(id);
  }

  /** The block `ref` points to; `pack` is its pack (needed unless `has(ref.p)`). Null: gone. */
  async read(ref: PackRef, pack?: Blob): Promise<Uint8Array | null> {
    const kept = this.#packs.get(ref.p);
    if (kept === undefined) {
      if (pack === undefined) return null;
      if (pack.size <= this.maxPackBytes) this.#keep(ref.p, readAll(pack));
      // This block at once; the whole pack, read meanwhile, serves the next ones.
      return slicePack(pack, ref);
    }
    this.#touch(ref.p, kept);
    const bytes = await kept.bytes;
    if (bytes === null) this.forget(ref.p);
    if (bytes === null || ref.o + ref.l > bytes.byteLength) return null;
    // A view, not a copy: a block is read to be sent or decrypted at once (every reader here
    // copies it on), so a view keeps its pack alive only that long.
    return bytes.subarray(ref.o, ref.o + ref.l);
  }

  #keep(id: string, bytes: Promise<Uint8Array | null>): void {
    this.#touch(id, { bytes, timer: undefined });
    for (const oldest of this.#packs.keys()) {
      if (this.#packs.size <= this.max) break;
      this.forget(oldest);
    }
  }

  /** Marks `kept` most recently used and (re)starts its idle timer. */
  #touch(id: string, kept: { bytes: Promise<Uint8Array | null>; timer: Timer }): void {
    this.#packs.delete(id);
    this.#packs.set(id, kept);
    clearTimeout(kept.timer);
    kept.timer = setTimeout(() => this.forget(id), this.idleMs);
  }

  forget(id: string): void {
    clearTimeout(this.#packs.get(id)?.timer);
    this.#packs.delete(id);
  }

  clear(): void {
    for (const id of [...this.#packs.keys()]) this.forget(id);
  }
}

type Timer = ReturnType<typeof setTimeout> | undefined;

async function readAll(pack: Blob): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await pack.arrayBuffer());
  } catch {
    return null; // NotReadableError / NotFoundError: its file was removed (another tab)
  }
}

/** A pack's bytes `[o, o + l)`; null if the pack is gone or shorter. */
async function slicePack(pack: Blob, ref: PackRef): Promise<Uint8Array | null> {
  try {
    const bytes = new Uint8Array(await pack.slice(ref.o, ref.o + ref.l).arrayBuffer());
    return bytes.byteLength === ref.l ? bytes : null;
  } catch {
    return null;
  }
}

export function openDatabase(name: string, factory: IDBFactory): Promise<IDBDatabase> {
  const req = factory.open(name, VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    const blocks = db.objectStoreNames.contains(BLOCKS)
      ? req.transaction?.objectStore(BLOCKS)
      : db.createObjectStore(BLOCKS);
    if (blocks !== undefined && !blocks.indexNames.contains(BY_PACK)) {
      blocks.createIndex(BY_PACK, 'p'); // inline records (bytes) have no `p`: not indexed
    }
    if (!db.objectStoreNames.contains(PACKS)) db.createObjectStore(PACKS);
  };
  return request(req).then((db) => {
    db.onversionchange = () => db.close(); // let another tab upgrade or delete it
    return db;
  });
}

export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function packId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
