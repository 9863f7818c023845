/**
 * What this device sends of its files: bitswap reads a block from the blockstore to answer a
 * peer's want, so a blockstore wrapper sees each block served. The app's own reads pass
 * `offline: true` (reading, checking, walking a DAG) and are not counted.
 *
 * A watched file is known by its root: a peer's fetch always starts there, so serving the root
 * marks a new pass (someone started fetching it) and then maps the file's other blocks (read
 * from the store, offline) so the blocks that follow are counted for that file.
 *
 * ```ts
 * const serving = createServingIndex((cid) => storedBlocks(helia, cid));
 * const store = countServed(blockstore, serving);      // the store Helia (and bitswap) use
 * const off = serving.watch(root, ({ bytes, pass }) => show(bytes, pass));
 * ```
 */
import type { Blockstore } from 'interface-blockstore';
import { base32 } from 'multiformats/bases/base32';
import type { CID } from 'multiformats/cid';

const RAW = 0x55;

/** One block of a watched file served: `pass` when it was the root (a new fetch began). */
export interface Served {
  /** File data bytes in the block (0 for the DAG's own nodes). */
  bytes: number;
  pass: boolean;
}

export interface ServingIndex {
  /** Calls `listener` for each block of the file at `root` served from now on; returns `off`. */
  watch(root: CID, listener: (served: Served) => void): () => void;
  /** Tells the index a block went to a peer (called by the wrapped store). */
  served(cid: CID, bytes: number): void;
}

interface Watch {
  listener: (served: Served) => void;
  /** Keys of the file's other blocks once mapped (undefined: not yet; a promise: mapping). */
  blocks: Set<string> | Promise<void> | undefined;
}

const keyOf = (cid: CID): string => base32.encode(cid.multihash.bytes);

/** `walk(root)`: every stored block of the file's DAG, root first (read offline). */
export function createServingIndex(walk: (root: CID) => AsyncIterable<CID>): ServingIndex {
  const roots = new Map<string, Watch>();
  const blocks = new Map<string, Watch>();

  const map = (root: CID, watch: Watch): void => {
    const keys = new Set<string>();
    watch.blocks = (async () => {
      for await (const cid of walk(root)) {
        if (roots.get(keyOf(root)) !== watch) return; // unwatched meanwhile
        const key = keyOf(cid);
        if (key === keyOf(root)) continue;
        keys.add(key);
        blocks.set(key, watch);
      }
      watch.blocks = keys;
    })().catch(() => {
      watch.blocks = keys; // what was mapped before the store failed
    });
  };

  return {
    watch(root, listener) {
      const key = keyOf(root);
      const watch: Watch = { listener, blocks: undefined };
      roots.set(key, watch);
      return () => {
        if (roots.get(key) !== watch) return;
        roots.delete(key);
        for (const [k, w] of blocks) if (w === watch) blocks.delete(k);
      };
    },
    served(cid, bytes) {
      const key = keyOf(cid);
      const root = roots.get(key);
      if (root !== undefined) {
        if (root.blocks === undefined) map(cid, root);
        // A file that is one block: its root is its data.
        root.listener({ bytes: cid.code === RAW ? bytes : 0, pass: true });
        return;
      }
      const watch = blocks.get(key);
      if (watch !== undefined) watch.listener({ bytes: cid.code === RAW ? bytes : 0, pass: false });
    }
  };
}

/**
 * `store` with its reads for peers reported to `index`: a `get` without `offline: true` that
 * yields the whole block (bitswap's way of reading the blocks it sends).
 */
export function countServed(store: Blockstore, index: ServingIndex): Blockstore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== 'get') {
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async function* (cid: CID, options?: { offline?: boolean; signal?: AbortSignal }) {
        let bytes = 0;
        for await (const part of target.get(cid, options)) {
          bytes += part.byteLength;
          yield part;
        }
        if (options?.offline !== true) index.served(cid, bytes);
      };
    }
  });
}
