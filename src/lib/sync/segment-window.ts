/**
 * The part of a conversation model that is in memory: the head's maps, the segments it
 * observes, and its window (the messages it holds in order: the newest ones, then older ones
 * as loadOlder/reveal extend it, pinning the segments that hold them). Counts beyond the window
 * come from the stored index (stored-counts.ts).
 */
import * as Y from 'yjs';
import { INITIAL_WINDOW, OLDER_PAGE, SEGMENT_MESSAGES, WINDOW_TRIM_AT } from './constants.js';
import type { Message } from './conversation-types.js';
import { HEAD, indexEntryOf, LOAD_ORIGIN, type DocSet, type DocSetListener } from './doc-set.js';
import { InvalidInputError } from './errors.js';
import { entryIn, readHeader, isId } from './message-format.js';
import { readMessage } from './message-read.js';
import { onChangedTransaction, SegmentObservers, type Observed } from './segment-observers.js';
import { StoredCounts } from './stored-counts.js';
import { applyStored } from './update-check.js';
import { WindowIndex, type WindowEntry } from './window-index.js';

/** Older messages reveal() loads beyond the one asked for. */
const REVEAL_CONTEXT = 20;

export class SegmentWindow {
  readonly set: DocSet;
  metaMap!: Y.Map<unknown>;
  membersMap!: Y.Map<unknown>;
  receiptsMap!: Y.Map<unknown>;
  private headOff: (() => void) | undefined;
  /** Observes the hot segments (see SegmentObservers). */
  private readonly observers: SegmentObservers;
  /** Segments this model keeps in memory (those with messages in the window). */
  private readonly pinned = new Set<number>();
  /** Key of the oldest message in the window; undefined: the window is all of history. */
  private floor: string | undefined;
  /** The reader scrolled back to the first message: the window is never trimmed. */
  private scrolledToStart = false;
  /** The reader is scrolled up, away from the newest messages: trimming waits (following()). */
  private readerAway = false;
  private readonly window = new WindowIndex();
  /** Counts beyond the window, from the store. */
  private readonly counts: StoredCounts;
  private readonly changeListeners = new Set<(change: { local: boolean }) => void>();
  /** When this model was made: messages seen before it (stored ones) show no later than this. */
  private readonly createdAtLoad: number;
  private readonly unsubscribe: () => void;
  private destroyed = false;

  constructor(set: DocSet, floor: string | undefined, now: () => number) {
    this.set = set;
    this.createdAtLoad = now();
    this.counts = new StoredCounts(
      set,
      () => this.destroyed,
      () => this.changed(LOAD_ORIGIN)
    );
    this.observers = new SegmentObservers(
      {
        track: (n, id, value, tr) => this.track(n, id, value, tr),
        changed: (o) => this.changed(o)
      },
      now
    );
    this.floor = floor;
    this.attachHead(set.head);
    const listener: DocSetListener = {
      attached: (part, doc, reloaded) => {
        if (part === HEAD) return this.attachHead(doc);
        if (reloaded) this.dropGone(part, doc);
        this.observers.observe(part, doc, reloaded ? 'all' : 'track');
      },
      detached: (part) => this.unobserve(part),
      segmentAdded: (part) => {
        if (this.floor === undefined) void this.pinAll([part]);
      },
      persisted: () => this.counts.queue()
    };
    this.unsubscribe = set.subscribe(listener);
    for (const n of set.hotSegments()) {
      const doc = set.doc(n);
      if (doc !== undefined) this.observers.observe(n, doc, 'none');
    }
    if (floor === undefined) void this.pinAll(set.segments());
    this.rebuild();
    this.counts.queue();
  }

  /** Hot segments observed: their messages are readable (owned by SegmentObservers). */
  private get observed(): ReadonlyMap<number, Observed> {
    return this.observers.observed;
  }

  /** When this device first saw each message (its displayed time is never later). */
  get firstSeen(): Map<string, number> {
    return this.observers.firstSeen;
  }

  private attachHead(doc: Y.Doc): void {
    this.headOff?.();
    this.metaMap = doc.getMap('meta');
    this.membersMap = doc.getMap('members');
    this.receiptsMap = doc.getMap('receipts');
    const onUpdate = onChangedTransaction((origin) => this.changed(origin));
    doc.on('afterTransaction', onUpdate);
    this.headOff = () => doc.off('afterTransaction', onUpdate);
    if (this.destroyed) this.headOff();
  }

  /** Stops observing segment `n` (`drop`: its messages leave the window). */
  private unobserve(n: number, drop = true): void {
    if (!this.observers.unobserve(n) || !drop) return;
    for (const e of [...this.window.sorted()]) if (e.segment === n) this.window.remove(e.id);
  }

  /** Keeps a message of segment `n` in the window or out of it, as its key says. */
  private track(n: number, id: string, value: unknown, tr?: Y.Transaction): void {
    const entry = entryIn(tr, id, value, n);
    if (entry === undefined) {
      if (this.window.get(id)?.segment === n) this.window.remove(id);
      return;
    }
    if (this.floor !== undefined && entry.key < this.floor) return;
    this.window.put({ key: entry.key, id, segment: n });
    if (!this.pinned.has(n)) {
      this.pinned.add(n);
      this.set.pin(n);
    }
  }

  /**
   * A segment read again from storage (an update failed while applying): what it brought is
   * gone, so are its messages from the window.
   */
  private dropGone(n: number, doc: Y.Doc): void {
    const messages = doc.getMap<unknown>('messages');
    for (const id of [...this.window.ids()]) {
      if (this.window.get(id)?.segment === n && !messages.has(id)) this.window.remove(id);
    }
  }

  /** Rebuilds the window from the observed segments. */
  private rebuild(): void {
    const entries: WindowEntry[] = [];
    for (const [n, o] of this.observed) {
      for (const [id, value] of o.messages.entries()) {
        const e = indexEntryOf(id, value, n);
        if (e !== undefined && (this.floor === undefined || e.key >= this.floor)) {
          entries.push({ key: e.key, id, segment: n });
        }
      }
    }
    this.window.reset(entries);
    // A segment with messages in the window stays in memory (as track() ensures).
    for (const e of entries) {
      if (this.pinned.has(e.segment)) continue;
      this.pinned.add(e.segment);
      this.set.pin(e.segment);
    }
  }

  /** Loads and pins segments (their messages at or after the floor join the window). */
  async pinAll(segments: Iterable<number>): Promise<void> {
    const wanted = [...new Set(segments)].filter((n) => !this.pinned.has(n));
    for (const n of wanted) {
      this.pinned.add(n);
      this.set.pin(n);
    }
    await Promise.all(wanted.map((n) => this.set.warm(n)));
    for (const n of wanted) {
      const doc = this.set.doc(n);
      if (doc !== undefined && this.observed.get(n)?.doc !== doc)
        this.observers.observe(n, doc, 'track');
    }
  }

  changed(origin: unknown): void {
    this.trim();
    const change = { local: origin === null || origin === undefined };
    for (const listener of this.changeListeners) listener(change);
  }

  /**
   * Whether the reader is at the newest messages. While they are scrolled up, the window is not
   * trimmed (that would take the rows they read from under them); back at the newest, it is.
   */
  following(atNewest: boolean): void {
    this.readerAway = !atNewest;
    if (this.trimmable()) this.changed(LOAD_ORIGIN);
  }

  private trimmable(): boolean {
    return (
      this.floor === undefined &&
      !this.scrolledToStart &&
      !this.readerAway &&
      this.window.size() > WINDOW_TRIM_AT
    );
  }

  /** See WINDOW_TRIM_AT: older messages leave the window, their segments are unpinned. */
  private trim(): void {
    if (!this.trimmable()) return;
    const sorted = this.window.sorted();
    const cut = sorted.length - (INITIAL_WINDOW + OLDER_PAGE);
    const kept = sorted.slice(cut);
    this.floor = kept[0]?.key;
    this.window.reset(kept);
    const shown = new Set(kept.map((e) => e.segment));
    for (const n of [...this.pinned]) {
      if (shown.has(n)) continue;
      this.pinned.delete(n);
      this.set.unpin(n);
    }
  }

  refreshCounts(): Promise<void> {
    return this.counts.refresh();
  }

  destroy(): void {
    this.destroyed = true;
    this.unsubscribe();
    this.headOff?.();
    for (const n of [...this.observed.keys()]) this.unobserve(n, false);
    for (const n of this.pinned) this.set.unpin(n);
    this.pinned.clear();
  }

  onChange(listener: (change: { local: boolean }) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onMessagesChange(listener: (ids: string[]) => void): () => void {
    return this.observers.onMessagesChange(listener);
  }

  ids(): readonly string[] {
    return this.window.ids();
  }

  position(id: string): number {
    return this.window.position(id);
  }

  size(): number {
    return Math.max(this.counts.total, this.window.size());
  }

  async loadOlder(count = OLDER_PAGE): Promise<number> {
    if (this.floor === undefined) return 0;
    const before = this.window.size();
    const older = await this.set.history.window(this.set.id, { before: this.floor, limit: count });
    if (older.length === 0) return 0;
    this.floor = older.length < count ? undefined : older[0]?.key;
    if (this.floor === undefined) this.scrolledToStart = true;
    await this.pinAll(older.map((e) => e.segment));
    if (this.floor === undefined) await this.pinAll(this.set.segments());
    // The index said which messages these are: they join the window (checked against their
    // segment doc), without walking what is already there.
    for (const e of older)
      this.track(e.segment, e.id, this.observed.get(e.segment)?.messages.get(e.id));
    this.changed(LOAD_ORIGIN);
    return this.window.size() - before;
  }

  async reveal(id: string): Promise<boolean> {
    if (this.window.get(id) !== undefined) return true;
    const entry = await this.set.history.entry(this.set.id, id);
    if (entry === undefined || this.floor === undefined) return false;
    if (entry.key >= this.floor) return this.window.get(id) !== undefined;
    const from = await this.set.history.position(this.set.id, entry.key);
    const to = await this.set.history.position(this.set.id, this.floor);
    // A little of what came before it too, so it does not open at the very top.
    await this.loadOlder(to - from + REVEAL_CONTEXT);
    return this.window.get(id) !== undefined;
  }

  async scan(
    visit: (batch: Message[]) => void | Promise<void>,
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    const aborted = (): boolean => options.signal?.aborted === true;
    for (const n of this.set.segments()) {
      if (aborted()) return;
      let doc = this.set.doc(n);
      let temporary = false;
      if (doc === undefined) {
        const bytes = await this.set.history.loadSegment(this.set.id, n);
        if (bytes === undefined) continue;
        doc = new Y.Doc();
        applyStored(doc, bytes, LOAD_ORIGIN, `${this.set.id}#${n}`);
        temporary = true;
      }
      const batch: Message[] = [];
      for (const [id, value] of doc.getMap<unknown>('messages').entries()) {
        const m = this.read(id, value);
        if (m !== undefined) batch.push(m);
      }
      if (temporary) doc.destroy();
      batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (batch.length > 0 && !aborted()) await visit(batch);
    }
  }

  /** The Yjs map of a message and its segment, from the window or any segment in memory. */
  locate(id: string): { map: Y.Map<unknown>; segment: number } | undefined {
    if (!isId(id)) return undefined;
    const known = this.window.get(id);
    if (known !== undefined) {
      const map = this.observed.get(known.segment)?.messages.get(id);
      if (map instanceof Y.Map) return { map, segment: known.segment };
    }
    for (const [n, o] of this.observed) {
      const map = o.messages.get(id);
      if (map instanceof Y.Map) return { map, segment: n };
    }
    return undefined;
  }

  itemOf(id: string): { segment: number; client: number; clock: number } | undefined {
    const found = this.locate(id);
    const item = found?.map._item;
    if (found === undefined || item === null || item === undefined) return undefined;
    return { segment: found.segment, client: item.id.client, clock: item.id.clock };
  }

  /** The messages map new messages go to: the tail segment, or the next one once it is full. */
  writable(): { messages: Y.Map<unknown>; segment: number } {
    let n = this.set.tail();
    let doc = this.set.doc(n);
    if (doc === undefined) {
      // The tail moved on (another device) and is still loading: write into the newest in memory.
      n = Math.max(...this.observed.keys());
      doc = this.set.doc(n);
    }
    if (doc === undefined) throw new InvalidInputError('the conversation is not loaded');
    // Y.Map.size walks every entry: the number of keys (messages are never removed, only
    // marked deleted) is what bounds a segment, and it is O(1).
    if (
      (doc.getMap('messages') as unknown as { _map: Map<string, unknown> })._map.size >=
      SEGMENT_MESSAGES
    ) {
      const next = this.set.createSegment(n + 1);
      if (next !== undefined) {
        n += 1;
        doc = next;
        if (this.observed.get(n)?.doc !== doc) this.observers.observe(n, doc, 'none');
      }
    }
    this.set.announce(n);
    if (!this.pinned.has(n)) {
      this.pinned.add(n);
      this.set.pin(n);
    }
    return { messages: doc.getMap('messages'), segment: n };
  }

  /** A stored message as plain data (undefined when malformed). */
  read(id: string, map: unknown): Message | undefined {
    return readMessage(id, map, this.firstSeen.get(id) ?? this.createdAtLoad);
  }

  /** The window's messages in order (`limit`: the newest ones). */
  messages(limit?: number): Message[] {
    const entries = this.window.sorted();
    const start = limit === undefined ? 0 : Math.max(0, entries.length - limit);
    const out: Message[] = [];
    for (let i = start; i < entries.length; i++) {
      const e = entries[i] as WindowEntry;
      const msg = this.read(e.id, this.observed.get(e.segment)?.messages.get(e.id));
      if (msg !== undefined) out.push(msg);
    }
    return out;
  }

  /** Whether an id is in the window. */
  inWindow(id: string): boolean {
    return this.window.get(id) !== undefined;
  }

  /** Key of the newest message in the window. */
  newestKey(): string | undefined {
    return this.window.last()?.key;
  }

  /** See Conversation.unreadCount: `mark` is the member's read mark. */
  unreadCount(member: string, mark: string | undefined): number {
    if (this.floor !== undefined && (mark === undefined || mark < this.floor)) {
      // Older than the window: the stored index counts (in the background).
      return this.counts.unreadAfter(member, mark);
    }
    let count = 0;
    for (const e of this.window.after(mark)) {
      const map = this.observed.get(e.segment)?.messages.get(e.id);
      if (!(map instanceof Y.Map)) continue;
      if (readHeader(map)?.a !== member && map.get('deleted') !== true) count++;
    }
    return count;
  }
}
