/**
 * Where conversation documents live: an append-only log of Yjs updates per conversation id.
 * The sync service appends every update (local or from a peer) as soon as it is applied, and
 * loads the merged state when a conversation is opened.
 *
 * ```ts
 * const docs = createIdbDocStore(); // or createMemoryDocStore() in tests
 * await docs.append('conv-1', Y.encodeStateAsUpdate(doc));
 * const state = await docs.load('conv-1'); // one merged update, or undefined
 * Y.applyUpdate(new Y.Doc(), state!);
 * ```
 */
import * as Y from 'yjs';

export interface DocStore {
  /** The stored updates of a conversation merged into one, or undefined when none are stored. */
  load(id: string): Promise<Uint8Array | undefined>;
  /** Stores one more update; resolves once it is durable. */
  append(id: string, update: Uint8Array): Promise<void>;
  /** Ids of all stored conversations, sorted. */
  list(): Promise<string[]>;
  /** Forgets a conversation (no-op when unknown). */
  delete(id: string): Promise<void>;
  /** Releases resources (open databases). The store can't be used afterwards. */
  close(): Promise<void>;
}

/** Stored updates per conversation before they are merged into one (y-indexeddb's value). */
export const DOC_STORE_COMPACT_AFTER = 500;

/** A DocStore in memory: tests and throwaway nodes. */
export function createMemoryDocStore(): DocStore {
  const docs = new Map<string, Uint8Array[]>();
  return {
    async load(id) {
      const updates = docs.get(id);
      if (updates === undefined || updates.length === 0) return undefined;
      const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
      docs.set(id, [merged]);
      return merged.slice();
    },
    async append(id, update) {
      const updates = docs.get(id) ?? [];
      updates.push(update.slice());
      if (updates.length > DOC_STORE_COMPACT_AFTER)
        updates.splice(0, updates.length, Y.mergeUpdates(updates));
      docs.set(id, updates);
    },
    async list() {
      return [...docs.keys()].sort();
    },
    async delete(id) {
      docs.delete(id);
    },
    async close() {}
  };
}
