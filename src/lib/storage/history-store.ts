/**
 * Where a conversation's history lives once it is split into a small head doc plus message
 * segments (issue 7): per conversation, the head doc's Yjs updates, each segment doc's Yjs
 * updates by segment number (0, 1, 2, …), and a persisted message index (order key -> message
 * id, segment, author, deleted) that keeps the order across segments, so that the newest window,
 * unread counts, positional scrolling and the search rebuild never load every segment.
 *
 * ```ts
 * const history = createIdbHistoryStore(); // or createMemoryHistoryStore() in tests
 * await history.appendHead('conv-1', headUpdate);
 * // a segment update and the index entries it produced, in one write
 * await history.appendSegment('conv-1', 0, segmentUpdate, { index: [entry] });
 * const total = await history.count('conv-1');
 * const newest = await history.window('conv-1', { limit: 40 }); // oldest first
 * const wanted = new Set(newest.map((e) => e.segment)); // load only these segments
 * const state = await history.loadSegment('conv-1', newest.at(-1)!.segment);
 * ```
 *
 * Conversations stored by a DocStore (one doc per conversation, the layout before segments)
 * stay where they are and readable through `createIdbDocStore()`. `replace()` writes a whole
 * conversation (head, segments and index) atomically, which is what a one-time migration of such
 * a doc needs: split it, `replace()`, then delete it from the DocStore. A crash in between
 * leaves the conversation in both stores, and the copy here is complete.
 *
 * Order keys are compared as plain strings (UTF-16 code units, the order IndexedDB uses too):
 * `orderKey()` of src/lib/sync/conversation.ts produces such keys.
 */
import * as Y from 'yjs';
import { StorageInputError, StorageUnavailableError } from './errors.js';
import { MessageIndex } from './history-index.js';

/** One message in the index. */
export interface HistoryEntry {
  /** Order key: entries are ordered by plain string comparison of it. Never changes. */
  key: string;
  /** Message id: unique within the conversation. */
  id: string;
  /** Number of the segment doc that holds the message. */
  segment: number;
  /** Author's peer ID. */
  author: string;
  /** Deleted for everyone (tombstone): skipped by `countAfter`. */
  deleted: boolean;
}

/** What `appendSegment` writes together with the update (in the same transaction). */
export interface SegmentWrite {
  /** Index entries to upsert (see `putIndex`). */
  index?: readonly HistoryEntry[];
  /** Message ids to remove from the index (see `removeIndex`), before `index` is applied. */
  remove?: readonly string[];
}

/** A whole conversation, for `replace()`. */
export interface HistorySnapshot {
  head?: Uint8Array;
  /** segment number -> one update (the segment's state). */
  segments: ReadonlyMap<number, Uint8Array>;
  index: readonly HistoryEntry[];
}

export interface HistoryStore {
  /** The head doc's stored updates merged into one, or undefined when none are stored. */
  loadHead(conv: string): Promise<Uint8Array | undefined>;
  /** Stores one more head update; resolves once it is durable. */
  appendHead(conv: string, update: Uint8Array): Promise<void>;
  /** Segment `n`'s stored updates merged into one, or undefined when none are stored. */
  loadSegment(conv: string, n: number): Promise<Uint8Array | undefined>;
  /**
   * Stores one more update of segment `n`; with `write.index` / `write.remove`, changes the
   * message index in the same transaction (the index never lags the stored segments).
   */
  appendSegment(conv: string, n: number, update: Uint8Array, write?: SegmentWrite): Promise<void>;
  /** Numbers of the segments that have stored updates, ascending. */
  segments(conv: string): Promise<number[]>;
  /**
   * Upserts index entries by message id, all in one transaction. An entry replaces the stored
   * one with the same id (its `deleted`, `segment` and `author` may change; if its `key`
   * differs, which callers shouldn't do, the entry moves to the new key). A key names one
   * entry: an entry put under a key another id holds replaces that one. A batch applies as
   * one put after another.
   */
  putIndex(conv: string, entries: readonly HistoryEntry[]): Promise<void>;
  /** Removes the entries of these message ids (unknown ids are ignored). One transaction. */
  removeIndex(conv: string, ids: readonly string[]): Promise<void>;
  /**
   * Up to `limit` entries ordered just before `before` (key < before; the newest ones when
   * `before` is undefined), oldest first.
   */
  window(conv: string, options: { before?: string; limit: number }): Promise<HistoryEntry[]>;
  /** Up to `limit` entries from position `from` on (position 0 = oldest), oldest first. */
  range(conv: string, options: { from: number; limit: number }): Promise<HistoryEntry[]>;
  /** Number of index entries (deleted ones included). */
  count(conv: string): Promise<number>;
  /**
   * Entries with a key after `after` (all when undefined) that are not deleted and, with
   * `notAuthor`, not by that author: the unread count over a read mark.
   */
  countAfter(
    conv: string,
    after: string | undefined,
    options?: { notAuthor?: string }
  ): Promise<number>;
  /**
   * Number of entries ordered before `key` (key < `key`): the position of the entry with that
   * key, or where it would be inserted.
   */
  position(conv: string, key: string): Promise<number>;
  /** The entry of a message id, or undefined. */
  entry(conv: string, id: string): Promise<HistoryEntry | undefined>;
  /** The segment holding a message id, or undefined when it is not indexed. */
  segmentOf(conv: string, id: string): Promise<number | undefined>;
  /**
   * Replaces everything stored for the conversation by `snapshot`, atomically (e.g. migrating
   * a single-doc conversation into head + segments).
   */
  replace(conv: string, snapshot: HistorySnapshot): Promise<void>;
  /** Ids of the conversations written to (and not deleted or emptied by `replace`), sorted. */
  list(): Promise<string[]>;
  /** Forgets a conversation: head, segments and index (no-op when unknown). */
  delete(conv: string): Promise<void>;
  /** Releases resources (open databases). Calls afterwards fail with StorageUnavailableError. */
  close(): Promise<void>;
}

/** Stored updates per head or segment before they are merged into one (as DocStore). */
export const HISTORY_COMPACT_AFTER = 500;

// --- input checks shared by both implementations ---------------------------------------------

export function checkConv(conv: unknown): asserts conv is string {
  if (typeof conv !== 'string' || conv.length === 0)
    throw new StorageInputError('conversation id must be a non-empty string');
}

export function checkSegment(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new StorageInputError(`segment number must be an integer >= 0, got ${String(n)}`);
}

export function checkCount(what: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new StorageInputError(`${what} must be an integer >= 0, got ${String(n)}`);
}

export function checkKey(what: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new StorageInputError(`${what} must be a string`);
}

export function checkUpdate(update: unknown): asserts update is Uint8Array {
  if (!(update instanceof Uint8Array)) throw new StorageInputError('update must be a Uint8Array');
}

/** A validated plain copy of an entry (no extra properties are stored). */
export function checkEntry(e: HistoryEntry): HistoryEntry {
  if (typeof e !== 'object' || e === null) throw new StorageInputError('entry must be an object');
  if (typeof e.key !== 'string' || e.key.length === 0)
    throw new StorageInputError('entry key must be a non-empty string');
  if (typeof e.id !== 'string' || e.id.length === 0)
    throw new StorageInputError('entry id must be a non-empty string');
  if (typeof e.author !== 'string') throw new StorageInputError('entry author must be a string');
  if (typeof e.deleted !== 'boolean')
    throw new StorageInputError('entry deleted must be a boolean');
  checkSegment(e.segment);
  return { key: e.key, id: e.id, segment: e.segment, author: e.author, deleted: e.deleted };
}

export function checkIds(ids: readonly string[]): void {
  for (const id of ids)
    if (typeof id !== 'string' || id.length === 0)
      throw new StorageInputError('message ids must be non-empty strings');
}

/** What calls on a closed store fail with. */
export const closedError = (): StorageUnavailableError =>
  new StorageUnavailableError('The history store is closed');

/** Runs operations on one key one after another (a failed one doesn't stop the next). */
export function createSerializer(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const queues = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  };
}

// --- memory implementation -------------------------------------------------------------------

/** One conversation in a MemoryHistoryBacking. */
export interface MemoryConversation {
  head: Uint8Array[];
  segments: Map<number, Uint8Array[]>;
  index: MessageIndex;
}

function mergeUpdates(updates: Uint8Array[]): Uint8Array {
  const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
  updates.splice(0, updates.length, merged);
  return merged.slice();
}

function appendUpdate(updates: Uint8Array[], update: Uint8Array): void {
  updates.push(update.slice());
  if (updates.length > HISTORY_COMPACT_AFTER)
    updates.splice(0, updates.length, Y.mergeUpdates(updates));
}

/** What a memory HistoryStore keeps: share one between stores to "reopen" (tests). */
export interface MemoryHistoryBacking {
  readonly conversations: Map<string, MemoryConversation>;
}

export function createMemoryHistoryBacking(): MemoryHistoryBacking {
  return { conversations: new Map() };
}

/**
 * A HistoryStore in memory: tests and throwaway nodes. Updates and entries are copied in and
 * out, like IndexedDB does. Stores created over the same `backing` see the same data.
 */
export function createMemoryHistoryStore(
  backing: MemoryHistoryBacking = createMemoryHistoryBacking()
): HistoryStore {
  const convs = backing.conversations;
  const serial = createSerializer();
  let closed = false;

  const run = <T>(conv: string, fn: () => T): Promise<T> => {
    checkConv(conv);
    return serial(conv, async () => {
      if (closed) throw closedError();
      return fn();
    });
  };
  const get = (conv: string): MemoryConversation | undefined => convs.get(conv);
  const make = (conv: string): MemoryConversation => {
    let c = convs.get(conv);
    if (c === undefined) {
      c = { head: [], segments: new Map(), index: new MessageIndex() };
      convs.set(conv, c);
    }
    return c;
  };

  return {
    async loadHead(conv) {
      return run(conv, () => {
        const head = get(conv)?.head;
        return head === undefined || head.length === 0 ? undefined : mergeUpdates(head);
      });
    },
    async appendHead(conv, update) {
      checkUpdate(update);
      const copy = update.slice();
      return run(conv, () => appendUpdate(make(conv).head, copy));
    },
    async loadSegment(conv, n) {
      checkSegment(n);
      return run(conv, () => {
        const updates = get(conv)?.segments.get(n);
        return updates === undefined || updates.length === 0 ? undefined : mergeUpdates(updates);
      });
    },
    async appendSegment(conv, n, update, write = {}) {
      checkSegment(n);
      checkUpdate(update);
      const copy = update.slice();
      const entries = (write.index ?? []).map(checkEntry);
      const remove = [...(write.remove ?? [])];
      checkIds(remove);
      return run(conv, () => {
        const c = make(conv);
        let updates = c.segments.get(n);
        if (updates === undefined) c.segments.set(n, (updates = []));
        appendUpdate(updates, copy);
        c.index.remove(remove);
        c.index.upsert(entries);
      });
    },
    async segments(conv) {
      return run(conv, () => [...(get(conv)?.segments.keys() ?? [])].sort((a, b) => a - b));
    },
    async putIndex(conv, entries) {
      const checked = entries.map(checkEntry);
      return run(conv, () => {
        if (checked.length > 0) make(conv).index.upsert(checked);
      });
    },
    async removeIndex(conv, ids) {
      const copy = [...ids];
      checkIds(copy);
      return run(conv, () => {
        const c = get(conv);
        c?.index.remove(copy);
      });
    },
    async window(conv, { before, limit }) {
      if (before !== undefined) checkKey('before', before);
      checkCount('limit', limit);
      return run(conv, () => get(conv)?.index.window(before, limit) ?? []);
    },
    async range(conv, { from, limit }) {
      checkCount('from', from);
      checkCount('limit', limit);
      return run(conv, () => get(conv)?.index.range(from, limit) ?? []);
    },
    async count(conv) {
      return run(conv, () => get(conv)?.index.count() ?? 0);
    },
    async countAfter(conv, after, options = {}) {
      if (after !== undefined) checkKey('after', after);
      return run(conv, () => get(conv)?.index.countAfter(after, options.notAuthor) ?? 0);
    },
    async position(conv, key) {
      checkKey('key', key);
      return run(conv, () => get(conv)?.index.position(key) ?? 0);
    },
    async entry(conv, id) {
      checkKey('id', id);
      return run(conv, () => get(conv)?.index.entry(id));
    },
    async segmentOf(conv, id) {
      checkKey('id', id);
      return run(conv, () => get(conv)?.index.segmentOf(id));
    },
    async replace(conv, snapshot) {
      if (snapshot.head !== undefined) checkUpdate(snapshot.head);
      const head = snapshot.head?.slice();
      const segments = new Map<number, Uint8Array[]>();
      for (const [n, u] of snapshot.segments) {
        checkSegment(n);
        checkUpdate(u);
        segments.set(n, [u.slice()]);
      }
      const entries = snapshot.index.map(checkEntry);
      return run(conv, () => {
        convs.delete(conv);
        if (head === undefined && segments.size === 0 && entries.length === 0) return;
        const c = make(conv);
        if (head !== undefined) c.head.push(head);
        c.segments = segments;
        c.index.upsert(entries);
      });
    },
    async list() {
      if (closed) throw closedError();
      return [...convs.keys()].sort();
    },
    async delete(conv) {
      return run(conv, () => {
        convs.delete(conv);
      });
    },
    async close() {
      closed = true;
    }
  };
}
