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
 * Next to the updates, the author-signed envelopes they came in can be kept (opaque bytes, to
 * forward unchanged later): stored in the same transaction as their update, one record per
 * envelope in the order stored, never merged or compacted away (only `dropEnvelopes`, `delete`
 * and `replace` remove them).
 *
 * ```ts
 * await history.appendSegment('conv-1', 0, update, { index: [entry], envelope: signed });
 * const kept = await history.envelopes('conv-1', 0); // [signed]
 * ```
 *
 * Order keys are compared as plain strings (UTF-16 code units, the order IndexedDB uses too):
 * `orderKey()` of src/lib/sync/conversation.ts produces such keys.
 */
import * as Y from 'yjs';
import {
  checkConv,
  checkCount,
  checkEntry,
  checkIds,
  checkKey,
  checkPart,
  checkPositions,
  checkSegment,
  checkUpdate,
  closedError,
  copyEnvelope,
  keepable,
  createSerializer
} from './history-checks.js';
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
  /** The signed envelope the update came in, kept as it is (see `envelopes`). */
  envelope?: Uint8Array;
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
  /**
   * Stores one more head update; resolves once it is durable. With `envelope` (the signed
   * envelope the update came in), stores that too, in the same transaction (see `envelopes`).
   */
  appendHead(conv: string, update: Uint8Array, envelope?: Uint8Array): Promise<void>;
  /** Segment `n`'s stored updates merged into one, or undefined when none are stored. */
  loadSegment(conv: string, n: number): Promise<Uint8Array | undefined>;
  /**
   * Stores one more update of segment `n`; with `write.index` / `write.remove`, changes the
   * message index in the same transaction (the index never lags the stored segments); with
   * `write.envelope`, stores that envelope in the same transaction too.
   */
  appendSegment(conv: string, n: number, update: Uint8Array, write?: SegmentWrite): Promise<void>;
  /** Numbers of the segments that have stored updates, ascending. */
  segments(conv: string): Promise<number[]>;
  /**
   * The envelopes stored with the updates of the head (`n` undefined) or of segment `n`, in the
   * order they were stored (copies). Never merged or compacted: one per envelope given. `[]` for
   * an unknown conversation or part.
   */
  envelopes(conv: string, n?: number): Promise<Uint8Array[]>;
  /**
   * Removes the envelopes of the head (`n` undefined) or segment `n` at these positions (indexes
   * into what `envelopes()` returned last, e.g. those a merged envelope supersedes), in one
   * transaction. Positions out of range are ignored; the rest keep their order. With
   * `replacement` (the merged envelope that supersedes them), it is stored after the rest in
   * the same transaction.
   */
  dropEnvelopes(
    conv: string,
    n: number | undefined,
    which: readonly number[],
    replacement?: Uint8Array
  ): Promise<void>;
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
   * a single-doc conversation into head + segments). Its envelopes go (a snapshot has none).
   */
  replace(conv: string, snapshot: HistorySnapshot): Promise<void>;
  /** Ids of the conversations written to (and not deleted or emptied by `replace`), sorted. */
  list(): Promise<string[]>;
  /** Forgets a conversation: head, segments, index and envelopes (no-op when unknown). */
  delete(conv: string): Promise<void>;
  /** Releases resources (open databases). Calls afterwards fail with StorageUnavailableError. */
  close(): Promise<void>;
}

/** Stored updates per head or segment before they are merged into one (as DocStore). */
export const HISTORY_COMPACT_AFTER = 500;

// --- memory implementation -------------------------------------------------------------------

/** One conversation in a MemoryHistoryBacking. */
export interface MemoryConversation {
  head: Uint8Array[];
  segments: Map<number, Uint8Array[]>;
  index: MessageIndex;
  /** Envelopes per part (-1 = head, n >= 0 = segment n), in the order stored. */
  envelopes: Map<number, Uint8Array[]>;
}

function mergeUpdates(updates: Uint8Array[]): Uint8Array {
  const merged = updates.length === 1 ? (updates[0] as Uint8Array) : Y.mergeUpdates(updates);
  updates.splice(0, updates.length, merged);
  return merged.slice();
}

/** Appends `update`, the store's own copy. */
function appendUpdate(updates: Uint8Array[], update: Uint8Array): void {
  updates.push(update);
  if (updates.length > HISTORY_COMPACT_AFTER)
    updates.splice(0, updates.length, Y.mergeUpdates(updates));
}

/** Keeps `envelope` (a copy already) as the last one of `part`. */
function appendEnvelope(c: MemoryConversation, part: number, envelope: Uint8Array): void {
  let list = c.envelopes.get(part);
  if (list === undefined) c.envelopes.set(part, (list = []));
  list.push(envelope);
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
      c = { head: [], segments: new Map(), index: new MessageIndex(), envelopes: new Map() };
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
    async appendHead(conv, update, envelope) {
      checkUpdate(update);
      const copy = keepable(update);
      const sealed = copyEnvelope(envelope);
      return run(conv, () => {
        const c = make(conv);
        appendUpdate(c.head, copy);
        if (sealed !== undefined) appendEnvelope(c, -1, sealed);
      });
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
      const copy = keepable(update);
      const entries = (write.index ?? []).map(checkEntry);
      const remove = [...(write.remove ?? [])];
      checkIds(remove);
      const sealed = copyEnvelope(write.envelope);
      return run(conv, () => {
        const c = make(conv);
        let updates = c.segments.get(n);
        if (updates === undefined) c.segments.set(n, (updates = []));
        appendUpdate(updates, copy);
        c.index.remove(remove);
        c.index.upsert(entries);
        if (sealed !== undefined) appendEnvelope(c, n, sealed);
      });
    },
    async segments(conv) {
      return run(conv, () => [...(get(conv)?.segments.keys() ?? [])].sort((a, b) => a - b));
    },
    async envelopes(conv, n) {
      checkPart(n);
      return run(conv, () => (get(conv)?.envelopes.get(n ?? -1) ?? []).map((e) => e.slice()));
    },
    async dropEnvelopes(conv, n, which, replacement) {
      checkPart(n);
      const gone = new Set(checkPositions(which));
      const add = replacement === undefined ? undefined : copyEnvelope(replacement);
      return run(conv, () => {
        if (add !== undefined) {
          const c = make(conv);
          if (!c.envelopes.has(n ?? -1)) c.envelopes.set(n ?? -1, []);
        }
        const list = get(conv)?.envelopes.get(n ?? -1);
        if (list === undefined) return;
        let kept = 0;
        list.forEach((e, i) => {
          if (!gone.has(i)) list[kept++] = e;
        });
        list.length = kept;
        if (add !== undefined) list.push(add);
      });
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
