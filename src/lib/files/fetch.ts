/**
 * Fetching a file's blocks: walk its UnixFS DAG from the root, take what is already stored, ask
 * the providers for the rest (one provider per block, spread over all of them, a few blocks in
 * flight), each block verified against its CID by Helia before it is stored. A provider that
 * fails or delivers nothing within `stallMs` is dropped for this transfer and its block goes to
 * another one. A transfer that stops part way leaves its verified blocks stored, so the next
 * fetch asks only for what is missing.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { PeerId } from '@libp2p/interface';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import type { Helia } from 'helia';
import { CID } from 'multiformats/cid';
import { FileDamagedError, FileUnavailableError } from './errors.js';
import {
  FETCH_CONCURRENCY,
  FETCH_WINDOW_BYTES,
  MAX_BLOCK_BYTES,
  MAX_DEPTH,
  MAX_LINKS,
  STALL_MS
} from './constants.js';

const RAW = 0x55;
const DAG_PB = 0x70;

export interface FetchProgress {
  /** Bytes of file data (leaf blocks) stored so far, fetched or already here. */
  bytes: number;
  /** Bytes of the whole file's data blocks. */
  total: number;
}

export interface FetchOptions {
  /** Peer IDs of members who may have the file, best first. */
  providers: string[];
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  stallMs?: number;
  /** Blocks in flight at most, and their bytes at most (as their parents say). */
  concurrency?: number;
  windowBytes?: number;
  /**
   * Providers dropped earlier in this transfer (not asked again); the ones dropped now are
   * added. Kept by the caller across retries of one transfer.
   */
  dropped?: Set<string>;
  /**
   * Whether a provider can be asked now: bitswap runs only over a direct connection, so the
   * others are skipped (not dropped) until one opens. Default: every provider.
   */
  reachable?: (peerId: string) => boolean;
  /** Which of many blocks the local store has, at once (else one `has` per block). */
  hasMany?: (cids: CID[]) => Promise<boolean[]>;
}

export interface FetchReport {
  /** Blocks that came over the network in this fetch. */
  fetchedBlocks: number;
  /** Blocks that were already stored. */
  localBlocks: number;
  /** Providers dropped because they failed or stalled. */
  dropped: string[];
}

interface Item {
  cid: CID;
  depth: number;
  /** Data bytes below this block, as its parent says (undefined for the root). */
  size: number | undefined;
  /** Whether it was stored when its parent was read (undefined: not known). */
  stored?: boolean;
}

/** BlockstoreWriteError and its BlockstoreQuotaError (by name: bundles may duplicate classes). */
function isWriteError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'BlockstoreWriteError' || name === 'BlockstoreQuotaError';
}

/** Reads a stored or fetched block whole. */
async function readBlock(
  helia: Helia,
  cid: CID,
  options: Parameters<Helia['blockstore']['get']>[1]
) {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of helia.blockstore.get(cid, options)) {
    parts.push(part);
    length += part.length;
    if (length > MAX_BLOCK_BYTES) throw new FileDamagedError('A part of this file is too big.');
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes a block may take in flight: a leaf's size from its parent, else the most a block can. */
function costOf(item: Item): number {
  return Math.min(item.size ?? MAX_BLOCK_BYTES, MAX_BLOCK_BYTES);
}

/** Links of a dag-pb file node with the data size under each, checked against `expected`. */
function childrenOf(block: Uint8Array, depth: number, expected: number | undefined): Item[] {
  let node: dagPb.PBNode;
  let data: UnixFS;
  try {
    node = dagPb.decode(block);
    data = UnixFS.unmarshal(node.Data ?? new Uint8Array());
  } catch {
    throw new FileDamagedError('A part of this file is damaged.');
  }
  if (data.type !== 'file' && data.type !== 'raw') {
    throw new FileDamagedError('This is not a file.');
  }
  if (node.Links.length > MAX_LINKS || node.Links.length !== data.blockSizes.length) {
    throw new FileDamagedError('A part of this file is damaged (links).');
  }
  if (node.Links.length > 0 && data.data !== undefined && data.data.length > 0) {
    throw new FileDamagedError('A part of this file is damaged (inline data).');
  }
  const total = Number(data.fileSize());
  if (expected !== undefined && total !== expected) {
    throw new FileDamagedError('A part of this file does not have the size it claims.');
  }
  if (node.Links.length > 0 && depth + 1 > MAX_DEPTH) {
    throw new FileDamagedError('This file is nested too deeply.');
  }
  return node.Links.map((link, i) => {
    const cid = link.Hash;
    if (cid.multihash.code !== 0x12 || (cid.code !== RAW && cid.code !== DAG_PB)) {
      throw new FileDamagedError('A part of this file has an unsupported address.');
    }
    return { cid, depth: depth + 1, size: Number(data.blockSizes[i]) };
  });
}

/**
 * Stores every block of the file at `root` whose data totals `total` bytes. Resolves when all
 * are stored, rejects with FileUnavailableError when no provider is left, FileDamagedError when
 * the DAG contradicts itself or the record, or the signal's reason.
 */
export async function fetchFile(
  helia: Helia,
  root: CID,
  total: number,
  options: FetchOptions
): Promise<FetchReport> {
  const stallMs = options.stallMs ?? STALL_MS;
  const concurrency = options.concurrency ?? FETCH_CONCURRENCY;
  const windowBytes = options.windowBytes ?? FETCH_WINDOW_BYTES;
  const dropped = options.dropped ?? new Set<string>();
  const reachable = options.reachable ?? (() => true);
  const live: { id: string; peer: PeerId }[] = [];
  for (const id of new Set(options.providers)) {
    if (dropped.has(id)) continue;
    try {
      live.push({ id, peer: peerIdFromString(id) });
    } catch {
      // not a peer ID: never asked
    }
  }
  const report: FetchReport = { fetchedBlocks: 0, localBlocks: 0, dropped: [] };
  const queue: Item[] = [{ cid: root, depth: 0, size: total }];
  let bytes = 0;
  let turn = 0;
  let active = 0;
  let activeBytes = 0;
  let failure: unknown;
  // A failure stops the other blocks in flight too.
  const inner = new AbortController();
  const signal =
    options.signal === undefined ? inner.signal : AbortSignal.any([options.signal, inner.signal]);

  const store = helia.blockstore;
  const drop = (id: string) => {
    const i = live.findIndex((p) => p.id === id);
    if (i >= 0) {
      live.splice(i, 1);
      report.dropped.push(id);
      dropped.add(id);
    }
  };

  const load = async (item: Item): Promise<Uint8Array | undefined> => {
    const local = item.stored ?? (await store.has(item.cid));
    // A stored raw leaf is not read: its size is known from its parent.
    if (local) {
      report.localBlocks++;
      return item.cid.code === RAW && item.size !== undefined && item.depth > 0
        ? undefined
        : readBlock(helia, item.cid, { signal, offline: true });
    }
    // A block not here after a third of the stall time is asked for once more before its
    // provider is dropped: a want or a block can be lost on the way (a stream reset). Bitswap
    // lost such a second want itself until patches/@helia+bitswap (the asking side merged it
    // into the given-up want and dropped both; the serving side into the "sent" entry).
    let asked = false;
    for (;;) {
      signal.throwIfAborted();
      const now = live.filter((p) => reachable(p.id));
      if (now.length === 0) {
        throw new FileUnavailableError(
          'Nobody who has this file is reachable over a direct connection right now.'
        );
      }
      const provider = now[turn++ % now.length]!;
      const stall = AbortSignal.timeout(asked ? stallMs : Math.ceil(stallMs / 3));
      try {
        const block = await readBlock(helia, item.cid, {
          signal: AbortSignal.any([signal, stall]),
          providers: [provider.peer.toCID()],
          // Helia asks the store first: spare it the wait behind writes (IdbBlockstore.has).
          ...(item.stored === false ? { knownAbsent: true } : {})
        });
        report.fetchedBlocks++;
        return block;
      } catch (err) {
        signal.throwIfAborted();
        // The file's fault, or this device's storage (full, failing): not the provider's.
        if (err instanceof FileDamagedError || isWriteError(err)) throw err;
        if (!asked && stall.aborted) asked = true;
        else drop(provider.id);
      }
    }
  };

  const visit = async (item: Item): Promise<void> => {
    const block = await load(item);
    if (item.cid.code === RAW) {
      const size = block?.length ?? item.size!;
      if (item.size !== undefined && size !== item.size) {
        throw new FileDamagedError('A part of this file does not have the size it claims.');
      }
      bytes += size;
      options.onProgress?.({ bytes, total });
      return;
    }
    const children = childrenOf(block!, item.depth, item.size);
    // One question for all of a node's children (a resumed fetch of a big file would otherwise
    // ask the store once per block it already has before the first missing one).
    const stored = await options.hasMany?.(children.map((c) => c.cid));
    children.forEach((c, i) => (c.stored = stored?.[i]));
    queue.push(...children);
  };

  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failure !== undefined) {
        if (active === 0) reject(failure);
        return;
      }
      while (
        active < concurrency &&
        queue.length > 0 &&
        (active === 0 || activeBytes + costOf(queue[0]!) <= windowBytes)
      ) {
        const item = queue.shift()!;
        const cost = costOf(item);
        active++;
        activeBytes += cost;
        visit(item).then(
          () => {
            active--;
            activeBytes -= cost;
            pump();
          },
          (err: unknown) => {
            active--;
            activeBytes -= cost;
            failure ??= options.signal?.aborted === true ? options.signal.reason : err;
            inner.abort(failure);
            pump();
          }
        );
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
  if (bytes !== total) throw new FileDamagedError('This file does not have the size it claims.');
  return report;
}

/** Every CID of the stored DAG at `root` (for deleting a local copy); missing blocks skipped. */
export async function* storedBlocks(helia: Helia, root: CID): AsyncGenerator<CID> {
  const queue: Item[] = [{ cid: root, depth: 0, size: undefined }];
  while (queue.length > 0) {
    const item = queue.shift()!;
    if (!(await helia.blockstore.has(item.cid))) continue;
    if (item.cid.code === DAG_PB) {
      try {
        const block = await readBlock(helia, item.cid, { offline: true });
        queue.push(...childrenOf(block, item.depth, undefined));
      } catch {
        // a damaged node: its children cannot be found, delete what is known
      }
    }
    yield item.cid;
  }
}

export { CID };
