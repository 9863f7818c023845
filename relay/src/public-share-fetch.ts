/**
 * Fetching one public share: walk its UnixFS file DAG from the root, a few blocks at a time,
 * each block asked for (and verified against its CID by Helia) only after the walk has checked
 * its parent. The DAG must be what a UnixFS file is (raw leaves or dag-pb file nodes, sha2-256,
 * sizes that add up) and no bigger than declared: the first block that contradicts the
 * declared size, or takes the DAG past its budget, ends the fetch with 'too-big'.
 *
 * The same checks as the app's src/lib/files/fetch.ts (which the relay cannot import: its
 * tsconfig compiles relay/src only), against one provider: the peer that asked.
 */
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import type { CID } from 'multiformats/cid';
import { ShareRefusedError } from './errors.js';
import type { ShareFetch } from './public-share-store.js';

export const RAW_CODEC = 0x55;
export const DAG_PB_CODEC = 0x70;
export const SHA2_256 = 0x12;

/** Links in one dag-pb node followed (the importer writes at most 1,024). */
export const MAX_LINKS = 1024;
/** Deepest DAG walked (3 levels of 1,024 links of 1 MiB leaves hold 1 PiB). */
export const MAX_DEPTH = 4;

export interface WalkOptions {
  /** Reads a block (from the store, or from the provider through Helia). */
  load(cid: CID, signal: AbortSignal): Promise<Uint8Array>;
  /** Blocks asked for at once. */
  concurrency: number;
  signal: AbortSignal;
}

interface Item {
  cid: CID;
  depth: number;
  /** File bytes under this block, as its parent (or the request, for the root) says. */
  size: number;
}

function tooBig(message = 'The file is bigger than it said.'): ShareRefusedError {
  return new ShareRefusedError('too-big', message);
}

function damaged(message: string): ShareRefusedError {
  return new ShareRefusedError('bad-request', message);
}

/** Whether a CID is one the walk follows: CIDv1 (or v0 for dag-pb), raw or dag-pb, sha2-256. */
export function isFileCid(cid: CID): boolean {
  return cid.multihash.code === SHA2_256 && (cid.code === RAW_CODEC || cid.code === DAG_PB_CODEC);
}

function childrenOf(block: Uint8Array, item: Item): Item[] {
  let node: dagPb.PBNode;
  let data: UnixFS;
  try {
    node = dagPb.decode(block);
    data = UnixFS.unmarshal(node.Data ?? new Uint8Array());
  } catch {
    throw damaged('A part of the file is not a UnixFS node.');
  }
  if (data.type !== 'file' && data.type !== 'raw') {
    throw damaged('Only files can be kept (not directories or other UnixFS nodes).');
  }
  if (node.Links.length > MAX_LINKS || node.Links.length !== data.blockSizes.length) {
    throw damaged('A part of the file is damaged (links).');
  }
  if (node.Links.length > 0 && data.data !== undefined && data.data.length > 0) {
    throw damaged('A part of the file is damaged (inline data next to links).');
  }
  const total = Number(data.fileSize());
  if (total > item.size) throw tooBig();
  if (total !== item.size) throw damaged('A part of the file does not have the size it claims.');
  if (node.Links.length > 0 && item.depth + 1 > MAX_DEPTH) {
    throw damaged('The file is nested too deeply.');
  }
  return node.Links.map((link, i) => {
    if (!isFileCid(link.Hash)) throw damaged('A part of the file has an unsupported address.');
    return { cid: link.Hash, depth: item.depth + 1, size: Number(data.blockSizes[i]) };
  });
}

/**
 * Stores every block of the file at `fetch.root` (of `fetch.size` bytes) through `load`,
 * recording each in `fetch`. Resolves when the whole DAG is stored; rejects with
 * ShareRefusedError ('too-big', 'bad-request') when the DAG is not the declared file, or with
 * the error of the first block that could not be loaded.
 */
export async function walkShare(fetch: ShareFetch, options: WalkOptions): Promise<void> {
  const queue: Item[] = [{ cid: fetch.root, depth: 0, size: fetch.size }];
  let dagBytes = 0;
  let fileBytes = 0;
  let active = 0;
  let failure: unknown;
  const inner = new AbortController();
  const signal = AbortSignal.any([options.signal, inner.signal]);

  const visit = async (item: Item): Promise<void> => {
    await fetch.claim(item.cid);
    signal.throwIfAborted();
    const block = await options.load(item.cid, signal);
    dagBytes += block.length;
    if (dagBytes > fetch.budget) throw tooBig();
    fetch.saw(item.cid, block.length);
    if (item.cid.code === RAW_CODEC) {
      if (block.length > item.size) throw tooBig();
      if (block.length !== item.size) {
        throw damaged('A part of the file does not have the size it claims.');
      }
      fileBytes += block.length;
      return;
    }
    const children = childrenOf(block, item);
    if (children.length === 0) fileBytes += item.size;
    queue.push(...children);
  };

  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      if (failure !== undefined) {
        if (active === 0) reject(failure);
        return;
      }
      while (active < options.concurrency && queue.length > 0) {
        const item = queue.shift()!;
        active++;
        visit(item).then(
          () => {
            active--;
            pump();
          },
          (err: unknown) => {
            active--;
            failure ??= options.signal.aborted ? options.signal.reason : err;
            inner.abort(failure);
            pump();
          }
        );
      }
      if (active === 0 && queue.length === 0) resolve();
    };
    pump();
  });
  if (fileBytes !== fetch.size) throw damaged('The file does not have the size it claims.');
}
