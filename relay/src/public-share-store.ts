/**
 * Where the relay keeps public shares: their blocks in a file-system blockstore
 * (`<dir>/blocks`, blockstore-fs, one file per block, written atomically) and one manifest per
 * share (`<dir>/shares/<cid>.json`: its root, file size and every block with its size), written
 * only once the whole DAG is stored. The manifests are the truth: at open, blocks no manifest
 * lists (left by a fetch the process did not live to finish or undo) are deleted, and a share
 * whose blocks are gone is forgotten.
 *
 * Blocks are shared between shares (content addressing), so the store counts references: a
 * block is deleted only when no stored share and no fetch in progress uses it. Disk use never
 * passes the quota: a fetch reserves its whole budget (declared size plus DAG overhead) before
 * it starts, and a block it did not ask for, or one past its budget, is never written.
 *
 * ```ts
 * const store = await openShareStore({ dir, quota, log });
 * const fetch = store.begin(root, size); // or a refusal: 'quota'
 * await fetch.claim(cid); // before asking the network for a block (Helia writes through store.blockstore)
 * fetch.saw(cid, bytes.length); // once the block is in
 * await fetch.commit(); // or fetch.abort(): deletes what nobody else uses
 * ```
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FsBlockstore } from 'blockstore-fs';
import type { Blockstore, InputPair } from 'interface-blockstore';
import type { AbortOptions } from '@libp2p/interface';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import type { Logger } from './log.js';

/** Largest block stored (the importer writes 1 MiB public leaves; dag-pb nodes are smaller). */
export const MAX_BLOCK_BYTES = 1024 * 1024 + 1024;

/** Version of the manifest files. */
const MANIFEST_VERSION = 1;

/** Bytes a share may take besides its file data: its dag-pb nodes (~50 bytes per 1 MiB leaf). */
export function shareBudget(size: number): number {
  return size + 64 * 1024 + Math.ceil(size / 512);
}

/** The multihash of a CID as a string: blockstore-fs keys blocks by multihash alone. */
export function blockKey(cid: CID): string {
  return base32.encode(cid.multihash.bytes);
}

/** What one stored share is. */
export interface ShareManifest {
  v: 1;
  cid: string;
  /** File size (as declared and checked against the DAG). */
  size: number;
  /** Every block of the DAG once: CID and size in bytes. */
  blocks: [string, number][];
  storedAt: string;
}

/** A block refused by the store (not asked for, or past its fetch's budget). */
export class BlockRefusedError extends Error {
  override name = 'BlockRefusedError';
  constructor(
    message: string,
    readonly overBudget = false
  ) {
    super(message);
  }
}

/** One share being fetched: the blocks it uses and the budget it reserved. */
export interface ShareFetch {
  readonly root: CID;
  readonly size: number;
  readonly budget: number;
  /** Bytes this fetch wrote (new blocks only). */
  readonly written: number;
  /** Marks a block as used by this fetch (before it is read or fetched). */
  claim(cid: CID): Promise<void>;
  /** Records a block of the DAG (fetched or already stored) and its size. */
  saw(cid: CID, bytes: number): void;
  /** Writes the manifest: the share is stored and served. */
  commit(): Promise<void>;
  /** Gives up: deletes every block it used that no stored share or other fetch uses. */
  abort(): Promise<void>;
}

export type BeginResult =
  { ok: true; fetch: ShareFetch } | { ok: false; reason: 'quota' | 'stored'; message: string };

export interface ShareStore {
  /** The blockstore Helia writes fetched blocks through (guarded: claimed blocks only). */
  readonly blockstore: Blockstore;
  readonly quota: number;
  /** Bytes of the stored shares' blocks (each block once). */
  used(): number;
  /** Budgets reserved by fetches in progress. */
  reserved(): number;
  shares(): number;
  /** Whether a share with this root is stored. */
  hasShare(cid: CID): boolean;
  /** Whether this block belongs to a stored share (only those are served). */
  isServed(cid: CID): boolean;
  /** Read-only view of the served blocks (what @helia/unixfs reads a share through). */
  readonly served: Pick<Blockstore, 'get' | 'has' | 'put'>;
  /** A served block's bytes, or undefined. */
  getBlock(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined>;
  /** Starts fetching a share of `size` bytes: reserves its budget, or refuses. */
  begin(root: CID, size: number): BeginResult;
  close(): Promise<void>;
}

export interface ShareStoreInit {
  /** `<data-dir>/public-shares`. */
  dir: string;
  quota: number;
  log: Logger;
}

interface Ref {
  bytes: number;
  /** Stored shares that list this block. */
  shares: number;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads a whole block from a blockstore (blockstore-fs yields it in 64 KiB chunks). */
export async function readWhole(
  store: Pick<Blockstore, 'get'>,
  cid: CID,
  options?: AbortOptions
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of store.get(cid, options)) {
    parts.push(part);
    length += part.length;
    if (length > MAX_BLOCK_BYTES) throw new BlockRefusedError(`block ${cid} is too big`);
  }
  return concat(parts, length);
}

function parseManifest(text: string): ShareManifest {
  const value = JSON.parse(text) as Partial<ShareManifest>;
  if (
    value.v !== MANIFEST_VERSION ||
    typeof value.cid !== 'string' ||
    typeof value.size !== 'number' ||
    !Array.isArray(value.blocks)
  ) {
    throw new Error('not a share manifest');
  }
  CID.parse(value.cid);
  for (const entry of value.blocks) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      throw new Error('bad block entry');
    }
    CID.parse(entry[0]);
  }
  return value as ShareManifest;
}

// eslint-disable-next-line require-yield
async function* notStored(cid: CID): AsyncGenerator<Uint8Array> {
  const err = new Error(`block ${cid} is not stored`);
  err.name = 'NotFoundError';
  throw err;
}

export async function openShareStore(init: ShareStoreInit): Promise<ShareStore> {
  const store = new Store(init);
  await store.open();
  return store;
}

class Store implements ShareStore {
  readonly blockstore: Blockstore;
  readonly served: Pick<Blockstore, 'get' | 'has' | 'put'>;
  readonly quota: number;
  private readonly fs: FsBlockstore;
  private readonly sharesDir: string;
  private readonly log: Logger;
  /** Stored shares by root CID string. */
  private readonly manifests = new Map<string, ShareManifest>();
  /** Blocks of stored shares, by multihash. */
  private readonly refs = new Map<string, Ref>();
  /** Fetches in progress using each block, by multihash. */
  private readonly claims = new Map<string, Set<Fetch>>();
  /** Deletions under way, by multihash (a new claim waits for them). */
  private readonly deleting = new Map<string, Promise<void>>();
  private readonly fetches = new Set<Fetch>();
  private usedBytes = 0;

  constructor(init: ShareStoreInit) {
    this.quota = init.quota;
    this.log = init.log;
    this.fs = new FsBlockstore(path.join(init.dir, 'blocks'));
    this.sharesDir = path.join(init.dir, 'shares');
    this.blockstore = this.guarded();
    this.served = {
      has: async (cid) => this.isServed(cid),
      get: (cid, options) => (this.isServed(cid) ? this.fs.get(cid, options) : notStored(cid)),
      put: async () => {
        throw new BlockRefusedError('public shares are read only here');
      }
    };
  }

  async open(): Promise<void> {
    await this.fs.open();
    await mkdir(this.sharesDir, { recursive: true });
    for (const name of await readdir(this.sharesDir)) {
      const file = path.join(this.sharesDir, name);
      if (!name.endsWith('.json')) {
        // A manifest write the process did not finish.
        if (name.endsWith('.tmp')) await rm(file, { force: true });
        continue;
      }
      let manifest: ShareManifest;
      try {
        manifest = parseManifest(await readFile(file, 'utf8'));
      } catch (err) {
        this.log.warn({ err, file }, 'unreadable public share manifest; ignoring it');
        continue;
      }
      let complete = true;
      for (const [cid] of manifest.blocks) {
        if (!(await this.fs.has(CID.parse(cid)))) {
          complete = false;
          break;
        }
      }
      if (!complete) {
        this.log.warn({ cid: manifest.cid }, 'public share lost blocks; forgetting it');
        await rm(file, { force: true });
        continue;
      }
      this.add(manifest);
    }
    // Blocks no manifest lists: what a fetch wrote before the process stopped.
    let removed = 0;
    for await (const { cid } of this.fs.getAll()) {
      if (this.refs.has(blockKey(cid))) continue;
      await this.fs.delete(cid);
      removed++;
    }
    if (removed > 0) this.log.info({ removed }, 'removed blocks of unfinished public shares');
  }

  private add(manifest: ShareManifest): void {
    this.manifests.set(manifest.cid, manifest);
    for (const [cid, bytes] of manifest.blocks) {
      const key = blockKey(CID.parse(cid));
      const ref = this.refs.get(key);
      if (ref === undefined) {
        this.refs.set(key, { bytes, shares: 1 });
        this.usedBytes += bytes;
      } else {
        ref.shares++;
      }
    }
  }

  used(): number {
    return this.usedBytes;
  }

  reserved(): number {
    let total = 0;
    for (const f of this.fetches) total += f.budget;
    return total;
  }

  shares(): number {
    return this.manifests.size;
  }

  hasShare(cid: CID): boolean {
    return this.manifests.has(cid.toV1().toString());
  }

  isServed(cid: CID): boolean {
    return this.refs.has(blockKey(cid));
  }

  async getBlock(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined> {
    if (!this.isServed(cid)) return undefined;
    try {
      return await readWhole(this.fs, cid, options);
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined;
      throw err;
    }
  }

  begin(root: CID, size: number): BeginResult {
    if (this.hasShare(root)) return { ok: false, reason: 'stored', message: 'already stored' };
    const budget = shareBudget(size);
    const free = this.quota - this.usedBytes - this.reserved();
    if (budget > free) {
      return {
        ok: false,
        reason: 'quota',
        message:
          `This relay has no room for a share of ${size} bytes ` +
          `(${Math.max(free, 0)} bytes of its quota are free).`
      };
    }
    const fetch = new Fetch(this, root, size, budget);
    this.fetches.add(fetch);
    return { ok: true, fetch };
  }

  // --- used by Fetch -------------------------------------------------------------------------

  async claim(fetch: Fetch, cid: CID): Promise<void> {
    const key = blockKey(cid);
    // A block being deleted (a failed fetch's) is gone before this fetch asks for it again.
    // The claim is added in the same turn as the last check, so no deletion starts between.
    while (this.deleting.has(key)) await this.deleting.get(key);
    let set = this.claims.get(key);
    if (set === undefined) {
      set = new Set();
      this.claims.set(key, set);
    }
    set.add(fetch);
  }

  async commit(fetch: Fetch, manifest: ShareManifest): Promise<void> {
    const name = `${manifest.cid}.json`;
    const tmp = path.join(this.sharesDir, `.${name}.${process.pid}.tmp`);
    await writeFile(tmp, JSON.stringify(manifest));
    await rename(tmp, path.join(this.sharesDir, name));
    this.add(manifest);
    this.release(fetch);
  }

  async abort(fetch: Fetch): Promise<void> {
    const keys = this.release(fetch);
    const deletions: Promise<void>[] = [];
    for (const [key, cid] of keys) {
      // Still used by a stored share or by another fetch in progress: kept.
      if (this.refs.has(key) || this.claims.has(key) || this.deleting.has(key)) continue;
      const deletion = this.fs
        .delete(cid)
        .catch((err: unknown) => this.log.warn({ err, cid: cid.toString() }, 'delete failed'))
        .finally(() => this.deleting.delete(key));
      this.deleting.set(key, deletion);
      deletions.push(deletion);
    }
    await Promise.all(deletions);
  }

  /** Ends a fetch's claims and reservation; returns the blocks it had claimed. */
  private release(fetch: Fetch): Map<string, CID> {
    this.fetches.delete(fetch);
    for (const key of fetch.claimed.keys()) {
      const set = this.claims.get(key);
      set?.delete(fetch);
      if (set?.size === 0) this.claims.delete(key);
    }
    return fetch.claimed;
  }

  /** The blockstore handed to Helia: writes only blocks a fetch claimed, within its budget. */
  private guarded(): Blockstore {
    const fs = (): FsBlockstore => this.fs;
    const put = async (cid: CID, value: InputPair['bytes'], options?: AbortOptions) => {
      if (!(value instanceof Uint8Array)) throw new BlockRefusedError('unexpected block source');
      const set = this.claims.get(blockKey(cid));
      const fetch = set?.values().next().value;
      if (fetch === undefined) throw new BlockRefusedError(`block ${cid} was not asked for`);
      if (value.length > MAX_BLOCK_BYTES) {
        throw new BlockRefusedError(`block ${cid} is too big`, true);
      }
      if (await fs().has(cid, options)) return cid;
      if (fetch.written + value.length > fetch.budget) {
        throw new BlockRefusedError('the share is bigger than it said', true);
      }
      fetch.wrote(value.length);
      return fs().put(cid, value, options);
    };
    return {
      put,
      async *putMany(source: Iterable<InputPair> | AsyncIterable<InputPair>, options?) {
        for await (const { cid, bytes } of source) yield await put(cid, bytes, options);
      },
      get: (cid, options) => fs().get(cid, options),
      getMany: (source, options) => fs().getMany(source, options),
      getAll: (options) => fs().getAll(options),
      has: (cid, options) => fs().has(cid, options),
      delete: (cid, options) => fs().delete(cid, options),
      deleteMany: (source, options) => fs().deleteMany(source, options)
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.fetches].map((f) => f.abort()));
    await this.fs.close();
  }
}

class Fetch implements ShareFetch {
  readonly claimed = new Map<string, CID>();
  /** Blocks of the DAG seen so far, by multihash: CID string and size. */
  private readonly blocks = new Map<string, [string, number]>();
  written = 0;
  private done = false;

  constructor(
    private readonly store: Store,
    readonly root: CID,
    readonly size: number,
    readonly budget: number
  ) {}

  wrote(bytes: number): void {
    this.written += bytes;
  }

  async claim(cid: CID): Promise<void> {
    if (this.done) throw new Error('fetch already finished');
    const key = blockKey(cid);
    if (this.claimed.has(key)) return;
    this.claimed.set(key, cid);
    await this.store.claim(this, cid);
  }

  saw(cid: CID, bytes: number): void {
    this.blocks.set(blockKey(cid), [cid.toString(), bytes]);
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.store.commit(this, {
        v: MANIFEST_VERSION,
        cid: this.root.toV1().toString(),
        size: this.size,
        blocks: [...this.blocks.values()],
        storedAt: new Date().toISOString()
      });
    } catch (err) {
      await this.store.abort(this);
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.store.abort(this);
  }
}
