/**
 * The documents of one conversation, bounded: a small head doc (meta, members, receipts, group
 * announcements, and the numbers of the segments in use) plus message segments, each its own
 * Yjs doc of at most about SEGMENT_MESSAGES messages. Only some segments are in memory ("hot"):
 * the tail (where new messages go), the ones the conversation model pins (its window on
 * screen), and up to MAX_WARM_SEGMENTS recently used others (a catch-up applying to an old
 * segment). The rest stay in the HistoryStore; their state vectors are cached so the sync
 * handshake of a long conversation does not load them, and a peer's step1 for one is answered
 * from its stored envelopes (the signed updates it was made of, authored.ts) without building
 * the doc.
 *
 * Every stored segment update is written together with the message-index entries it changed
 * (HistoryStore.appendSegment), so the index never lags the stored segments: counts, unread
 * marks, scrolling back and search use the index, not the segments.
 *
 * A conversation stored by the DocStore before segments existed (one doc) is split into head
 * and segments the first time it is opened (`migrate`).
 */
import * as Y from 'yjs';
import type { DocStore } from '../storage/doc-store.js';
import type { HistoryEntry, HistoryStore } from '../storage/history-store.js';
import { MAX_SEGMENT, MAX_WARM_SEGMENTS } from './constants.js';
import { entryIn, isId, SEGMENTS_KEY } from './message-format.js';
import { splitLegacy } from './migrate.js';
import { applyStored } from './update-check.js';
import { claimOnWrite } from './authorship.js';
import { HEAD, unitId } from './doc-ids.js';
import type { DocSetListener, DocWriter, EvictionGuard } from './doc-set-types.js';

export { indexEntryOf, SEGMENTS_KEY } from './message-format.js';
export { splitLegacy } from './migrate.js';
export { changedMessageIds, HEAD, parseUnitId, unitId } from './doc-ids.js';
export type { DocSetListener, DocWriter, EvictionGuard } from './doc-set-types.js';

/** Origin of the state loaded from storage (not saved again, not sent). */
export const LOAD_ORIGIN = Symbol('load');

const EMPTY_STATE_VECTOR = Uint8Array.of(0);

export class DocSet {
  readonly id: string;
  head: Y.Doc;
  /** Where the docs and the message index are stored. */
  readonly history: HistoryStore;
  private readonly hot = new Map<number, Y.Doc>();
  private readonly loading = new Map<number, Promise<Y.Doc>>();
  private readonly known = new Set<number>();
  private readonly stateVectors = new Map<number, Uint8Array>();
  private readonly pins = new Map<number, number>();
  /** Hot, unpinned, non-tail segments: least recently used first. */
  private warmOrder: number[] = [];
  private readonly listeners = new Set<DocSetListener>();
  private tailPart = 0;
  private closed = false;
  canEvict: EvictionGuard = () => true;
  private readonly onHeadSegments = (): void => this.readHeadSegments();

  private constructor(
    id: string,
    history: HistoryStore,
    head: Y.Doc,
    private readonly writer: DocWriter = {}
  ) {
    this.id = id;
    this.history = history;
    this.head = head;
    this.track(HEAD, head);
    head.getMap(SEGMENTS_KEY).observe(this.onHeadSegments);
  }

  /** Local changes of `doc` (part `part`) go under the author's client ids. */
  private track(part: number, doc: Y.Doc): Y.Doc {
    const { author, random } = this.writer;
    if (author !== undefined) claimOnWrite(doc, author, unitId(this.id, part), random);
    return doc;
  }

  /**
   * Loads the head and the tail segment of a conversation (empty ones when it is new), after
   * moving a DocStore conversation (`legacy`) into the HistoryStore if that is where it is.
   */
  static async open(
    id: string,
    history: HistoryStore,
    legacy?: DocStore,
    writer: DocWriter = {}
  ): Promise<DocSet> {
    let headBytes = await history.loadHead(id);
    let stored = await history.segments(id);
    if (headBytes === undefined && stored.length === 0 && legacy !== undefined) {
      const old = await legacy.load(id);
      if (old !== undefined) {
        await history.replace(id, splitLegacy(old));
        await legacy.delete(id);
        headBytes = await history.loadHead(id);
        stored = await history.segments(id);
      }
    }
    const head = new Y.Doc();
    if (headBytes !== undefined) applyStored(head, headBytes, LOAD_ORIGIN, `${id} (head)`);
    const set = new DocSet(id, history, head, writer);
    for (const n of stored) if (n <= MAX_SEGMENT) set.known.add(n);
    set.readHeadSegments();
    set.tailPart = set.maxKnown();
    await set.warm(set.tailPart);
    return set;
  }

  /** A new conversation's docs, in memory at once (nothing is read from `history`). */
  static create(id: string, history: HistoryStore, writer: DocWriter = {}): DocSet {
    const set = new DocSet(id, history, new Y.Doc(), writer);
    set.hot.set(0, set.track(0, new Y.Doc()));
    return set;
  }

  subscribe(listener: DocSetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Segment numbers known here, ascending. */
  segments(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  /** Whether segment `n` exists here (stored or announced). */
  has(n: number): boolean {
    return this.known.has(n);
  }

  /** The segment new messages go to. */
  tail(): number {
    return this.tailPart;
  }

  /** The doc of a part if it is in memory. */
  doc(part: number): Y.Doc | undefined {
    return part === HEAD ? this.head : this.hot.get(part);
  }

  /** Segments in memory, ascending. */
  hotSegments(): number[] {
    return [...this.hot.keys()].sort((a, b) => a - b);
  }

  /**
   * Writers use segment `n` (the model calls this before every write into it): it is
   * announced in the head, if it is not yet, so every member learns about it. (Also when it is
   * known here from storage only: a segment stored without its announcement, after a crash
   * between the two writes, is announced by the next write; members accept a segment only
   * after the one before it, write-rules.ts.)
   */
  announce(n: number): void {
    const map = this.head.getMap(SEGMENTS_KEY);
    if (!map.has(String(n))) map.set(String(n), 1);
    this.addKnown(n);
  }

  /** Brings segment `n` into memory (loading it from storage), marks it recently used. */
  async warm(n: number): Promise<Y.Doc> {
    const hot = this.hot.get(n);
    if (hot !== undefined) {
      this.touch(n);
      return hot;
    }
    let pending = this.loading.get(n);
    if (pending === undefined) {
      pending = this.load(n).finally(() => this.loading.delete(n));
      this.loading.set(n, pending);
    }
    return pending;
  }

  /** Keeps segment `n` in memory until unpin (counted). */
  pin(n: number): void {
    this.pins.set(n, (this.pins.get(n) ?? 0) + 1);
    this.warmOrder = this.warmOrder.filter((p) => p !== n);
  }

  unpin(n: number): void {
    const count = (this.pins.get(n) ?? 0) - 1;
    if (count > 0) {
      this.pins.set(n, count);
      return;
    }
    this.pins.delete(n);
    if (this.hot.has(n)) this.touch(n);
  }

  /** The state vector of a part: from its doc when hot, else cached or read from storage. */
  async stateVector(part: number): Promise<Uint8Array> {
    const doc = this.doc(part);
    if (doc !== undefined) return Y.encodeStateVector(doc);
    const cached = this.stateVectors.get(part);
    if (cached !== undefined) return cached;
    const stored = await this.history.loadSegment(this.id, part);
    const live = this.doc(part);
    if (live !== undefined) return Y.encodeStateVector(live);
    const sv = stored === undefined ? EMPTY_STATE_VECTOR : Y.encodeStateVectorFromUpdate(stored);
    this.stateVectors.set(part, sv);
    return sv;
  }

  /** The cached state vector of a cold segment (undefined: not computed yet). */
  cachedStateVector(part: number): Uint8Array | undefined {
    const doc = this.doc(part);
    return doc !== undefined ? Y.encodeStateVector(doc) : this.stateVectors.get(part);
  }

  /**
   * Stores an update of a part; for a segment, with the index entries of the messages it
   * changed (`ids`), read from the segment doc as it is now (`tr`: the transaction that made
   * the update, whose entries the window may have computed already).
   */
  async persist(
    part: number,
    update: Uint8Array,
    ids: readonly string[] = [],
    tr?: Y.Transaction,
    envelope?: Uint8Array
  ): Promise<void> {
    if (part === HEAD) {
      await this.history.appendHead(this.id, update, envelope);
      return;
    }
    this.addKnown(part);
    const doc = this.hot.get(part);
    const index: HistoryEntry[] = [];
    const remove: string[] = [];
    if (doc !== undefined) {
      const messages = doc.getMap('messages');
      for (const id of ids) {
        const entry = entryIn(tr, id, messages.get(id), part);
        if (entry !== undefined) index.push(entry);
        else if (isId(id)) remove.push(id);
      }
    } else {
      this.stateVectors.delete(part);
    }
    await this.history.appendSegment(this.id, part, update, {
      index,
      remove,
      ...(envelope !== undefined ? { envelope } : {})
    });
    for (const l of this.listeners) l.persisted?.(part);
  }

  /** The author-signed envelopes stored for a part, in the order they were stored. */
  envelopes(part: number): Promise<Uint8Array[]> {
    return this.history.envelopes(this.id, part === HEAD ? undefined : part);
  }

  /**
   * Forgets envelopes of a part (positions in what `envelopes` gave) and stores `add`, the
   * merged one that covers them, in the same write.
   */
  dropEnvelopes(part: number, positions: readonly number[], add?: Uint8Array): Promise<void> {
    return this.history.dropEnvelopes(this.id, part === HEAD ? undefined : part, positions, add);
  }

  /**
   * A new, empty segment `n` in memory at once (a writer filled the tail): undefined when `n`
   * is already known here (it may have stored content; warm() it instead).
   */
  createSegment(n: number): Y.Doc | undefined {
    if (n < 0 || n > MAX_SEGMENT) return undefined;
    const hot = this.hot.get(n);
    if (hot !== undefined || this.known.has(n) || this.loading.has(n)) return hot;
    const doc = this.track(n, new Y.Doc());
    this.hot.set(n, doc);
    for (const l of this.listeners) l.attached?.(n, doc, false);
    return doc;
  }

  /**
   * Replaces the doc of a part by its stored state (an update failed to apply and may have left
   * it half-changed). Listeners get the new doc through `attached`.
   */
  async reload(part: number): Promise<Y.Doc> {
    const bytes =
      part === HEAD
        ? await this.history.loadHead(this.id)
        : await this.history.loadSegment(this.id, part);
    const doc = this.track(part, new Y.Doc());
    if (bytes !== undefined) applyStored(doc, bytes, LOAD_ORIGIN, `${this.id}#${part}`);
    const old = this.doc(part);
    if (part === HEAD) {
      old?.getMap(SEGMENTS_KEY).unobserve(this.onHeadSegments);
      this.head = doc;
      doc.getMap(SEGMENTS_KEY).observe(this.onHeadSegments);
      this.readHeadSegments();
    } else {
      this.hot.set(part, doc);
    }
    for (const l of this.listeners) l.attached?.(part, doc, true);
    old?.destroy();
    return doc;
  }

  /** Drops every doc from memory (storage is kept). */
  close(): void {
    this.closed = true;
    this.head.getMap(SEGMENTS_KEY).unobserve(this.onHeadSegments);
    for (const [n, doc] of this.hot) {
      for (const l of this.listeners) l.detached?.(n, doc);
      doc.destroy();
    }
    this.hot.clear();
    this.listeners.clear();
  }

  // --- internals --------------------------------------------------------------------------

  private async load(n: number): Promise<Y.Doc> {
    const bytes = await this.history.loadSegment(this.id, n);
    const existing = this.hot.get(n);
    if (existing !== undefined) return existing;
    const doc = this.track(n, new Y.Doc());
    if (bytes !== undefined) applyStored(doc, bytes, LOAD_ORIGIN, `${this.id}#${n}`);
    if (this.closed) return doc;
    this.hot.set(n, doc);
    this.stateVectors.delete(n);
    for (const l of this.listeners) l.attached?.(n, doc, false);
    this.touch(n);
    return doc;
  }

  /** Marks a hot segment recently used and lets the least recently used ones go. */
  private touch(n: number): void {
    if (n === this.tailPart || this.pins.has(n)) return;
    this.warmOrder = this.warmOrder.filter((p) => p !== n);
    this.warmOrder.push(n);
    this.evict();
  }

  /** Lets the least recently used segments go until at most MAX_WARM_SEGMENTS are left. */
  private evict(): void {
    // Only hot segments that are neither the tail nor pinned count (either may have changed
    // since they were put in the order).
    const candidates = this.warmOrder.filter(
      (n) => this.hot.has(n) && n !== this.tailPart && !this.pins.has(n)
    );
    let excess = candidates.length - MAX_WARM_SEGMENTS;
    const keep: number[] = [];
    for (const n of candidates) {
      const doc = this.hot.get(n) as Y.Doc;
      if (excess <= 0 || !this.canEvict(n)) {
        keep.push(n);
        continue;
      }
      excess--;
      this.stateVectors.set(n, Y.encodeStateVector(doc));
      this.hot.delete(n);
      for (const l of this.listeners) l.detached?.(n, doc);
      doc.destroy();
    }
    this.warmOrder = keep;
  }

  private maxKnown(): number {
    let max = 0;
    for (const n of this.known) if (n > max) max = n;
    return max;
  }

  private addKnown(n: number): void {
    if (this.known.has(n) || n < 0 || n > MAX_SEGMENT) return;
    this.known.add(n);
    for (const l of this.listeners) l.segmentAdded?.(n);
    if (n > this.tailPart) {
      // A newer tail (another device moved on): it becomes the one kept in memory.
      const old = this.tailPart;
      this.tailPart = n;
      void this.warm(n).then(
        () => {
          if (this.hot.has(old)) this.touch(old);
        },
        () => undefined
      );
    }
  }

  /**
   * Segments listed in the head become known newest first: a catch-up asks for (and shows)
   * the newest messages before older ones.
   */
  private readHeadSegments(): void {
    const parts: number[] = [];
    for (const key of this.head.getMap(SEGMENTS_KEY).keys()) {
      if (/^(0|[1-9][0-9]{0,5})$/.test(key)) parts.push(Number(key));
    }
    parts.sort((x, y) => y - x);
    for (const part of parts) this.addKnown(part);
  }
}
