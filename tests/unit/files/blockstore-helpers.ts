/** Blocks and stores on a fresh fake-indexeddb for the IndexedDB blockstore's tests. */
import { IDBFactory } from 'fake-indexeddb';
import { base32 } from 'multiformats/bases/base32';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import {
  createIdbBlockstore,
  type IdbBlockstore,
  type IdbBlockstoreInit
} from '../../../src/lib/files/blockstore-idb.js';

export interface Block {
  cid: CID;
  bytes: Uint8Array;
  /** Its sha2-256 multihash (the one of `cid`). */
  digest: Awaited<ReturnType<typeof sha256.digest>>;
}

/** A block with distinct bytes for each `i`. */
export async function block(i: number, size = 64): Promise<Block> {
  const bytes = new Uint8Array(size).fill(i % 251);
  new DataView(bytes.buffer).setUint32(0, i);
  const digest = await sha256.digest(bytes);
  return { cid: CID.createV1(raw.code, digest), bytes, digest };
}

/** The record key: one per multihash. */
export const mh = (cid: CID): string => base32.encode(cid.multihash.bytes);

export function blocks(n: number, size = 64): Promise<Block[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => block(i, size)));
}

export async function read(store: IdbBlockstore, cid: CID): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of store.get(cid)) parts.push(part);
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}

export async function drain<T>(source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** Stores on one fresh IndexedDB, counting the transactions they open. */
export function setup(init: IdbBlockstoreInit = {}, factory = new IDBFactory()) {
  const tx: Record<IDBTransactionMode, number> = { readonly: 0, readwrite: 0, versionchange: 0 };
  const make = (): IdbBlockstore =>
    createIdbBlockstore({ indexedDB: factory, onTransaction: (mode) => tx[mode]++, ...init });
  return { tx, make, store: make(), factory };
}
