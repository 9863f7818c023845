/**
 * A conversation as a Yjs document. Pure over a Y.Doc: no I/O, so every member device holds the
 * same doc and Yjs merges their changes.
 *
 * Schema (top-level shared types of the doc):
 * - `meta`: Y.Map { kind: '1:1' | 'group', name: string, createdAt: number }
 * - `members`: Y.Map peerId -> joinedAt (number)
 * - `messages`: Y.Map messageId -> Y.Map { h: { a: author, c: createdAt, w: HLC wall,
 *   n: HLC counter, r?: replyTo } (immutable header, one plain value), text, edited?,
 *   deleted?, s? (Ed25519 signature, see Trust), and one key `r:${emoji}\n${reactor}` ->
 *   true per reaction }. Absent flags are false. Reactions are keys of the message map
 *   itself rather than a nested map: a nested map created lazily by two devices at once
 *   would lose one side's reactions, and one created with every message costs space. Each key of a Y.Map costs an item
 *   (~30 bytes plus the key), so a new message is only two (10,000 messages: ~1 MiB).
 * - `receipts`: Y.Map peerId -> Y.Map { delivered?: orderKey, read?: orderKey }
 *
 * Why a Y.Map of messages rather than a Y.Array of ids: appending to a Y.Array from several
 * devices at once orders by CRDT position, not by time, and lookups by id would need a second
 * map anyway. A Y.Map gives O(1) lookup by id and each message carries its own hybrid logical
 * clock (wall, ctr); the order is kept in a sorted in-memory index, updated incrementally from
 * map events (binary insertion), so listing 100,000 messages never re-sorts on every change.
 *
 * Ordering: by order key = (HLC wall, HLC counter, author, id). The HLC never goes backwards
 * and moves past every message already seen, so a reply always sorts after what it answers
 * even when the author's clock is behind. The displayed time is the author's clock clamped
 * to not be later than when this device first saw the message.
 *
 * Trust: any member can write anything into the shared types. Every reader validates and
 * skips malformed entries. Authorship rules (edit/delete only by the author, receipts and
 * leaving only for oneself) are enforced by this API on the writing side; Yjs can't say who
 * wrote a change, so a modified client of a member could break them. Messages therefore carry
 * a signature (key `s`) by the author's device key over the conversation id, message id,
 * header and current text/edited/deleted, made again on every edit and deletion: a message
 * written in someone else's name, or changed by anyone but its author, fails `authenticity()`
 * and the UI says so. Reactions, receipts, members and names are not signed.
 */
import * as Y from 'yjs';
import type { Signer, Verifier } from '../crypto/signing.js';
import { MAX_EMOJI_LENGTH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH } from './constants.js';
import {
  DocSet,
  HEAD,
  indexEntryOf,
  LOAD_ORIGIN,
  SEGMENT_MESSAGES,
  type DocSetListener
} from './doc-set.js';
import {
  InvalidInputError,
  NotAGroupError,
  NotAuthorError,
  NotMemberError,
  UnknownMessageError
} from './errors.js';
import {
  checkId,
  checkName,
  checkText,
  isCounter,
  isId,
  isKey,
  isWall,
  MAX_WALL,
  orderKey,
  readHeader,
  REACTION_PREFIX,
  type Header
} from './message-format.js';
import { WindowIndex, type WindowEntry } from './window-index.js';
import type {
  Authenticity,
  Conversation,
  ConversationMeta,
  CreateConversationInit,
  GroupAnnouncement,
  Hlc,
  Message,
  Receipts,
  SendOptions,
  ConversationOptions
} from './conversation-types.js';

export type * from './conversation-types.js';
export { orderKey } from './message-format.js';

/** Key of the announcements map in a 1:1 conversation's head (group id -> GroupAnnouncement). */
const ANNOUNCEMENTS_KEY = 'groups';
/** Messages of the window when a stored conversation is opened. */
export const INITIAL_WINDOW = 100;
/** Messages loadOlder() adds by default. */
export const OLDER_PAGE = 200;

/**
 * The model over a conversation's docs. A new or short conversation is all window; `open`
 * starts a long stored one at its newest INITIAL_WINDOW messages.
 */
export function createConversation(set: DocSet, options: ConversationOptions): Conversation {
  return new SegmentedConversation(set, options, undefined);
}

/** The model of a stored conversation with its newest `window` messages loaded. */
export async function openConversation(
  set: DocSet,
  options: ConversationOptions,
  window = INITIAL_WINDOW
): Promise<Conversation> {
  const newest = await set.history.window(set.id, { limit: window });
  const floor = newest.length < window ? undefined : newest[0]?.key;
  const conversation = new SegmentedConversation(set, options, floor);
  await conversation.pinAll(newest.map((e) => e.segment));
  return conversation;
}

/** For the sync service: the Yjs item of a message (its client and clock) and its segment. */
export function messageItem(
  conversation: Conversation,
  id: string
): { segment: number; client: number; clock: number } | undefined {
  return conversation instanceof SegmentedConversation ? conversation.itemOf(id) : undefined;
}

interface Observed {
  doc: Y.Doc;
  messages: Y.Map<unknown>;
  off: () => void;
}

class SegmentedConversation implements Conversation {
  readonly self: string;
  private readonly set: DocSet;
  private metaMap!: Y.Map<unknown>;
  private membersMap!: Y.Map<unknown>;
  private receiptsMap!: Y.Map<unknown>;
  private headOff: (() => void) | undefined;
  /** Hot segments observed: their messages are readable. */
  private readonly observed = new Map<number, Observed>();
  /** Segments this model keeps in memory (those with messages in the window). */
  private readonly pinned = new Set<number>();
  /** Key of the oldest message in the window; undefined: the window is all of history. */
  private floor: string | undefined;
  private readonly window = new WindowIndex();
  /** Messages in all of history, as last counted in the store (the window may know more). */
  private stored = 0;
  private countQueued = false;
  /** Unread counts of members whose read mark is older than the window (from the store). */
  private readonly unreadStored = new Map<string, { mark: string | undefined; count: number }>();
  private readonly messageListeners = new Set<(ids: string[]) => void>();
  private readonly changeListeners = new Set<(change: { local: boolean }) => void>();
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly conversationId: string;
  private readonly sign: Signer | undefined;
  private readonly verify: Verifier | undefined;
  private readonly checked = new Map<
    string,
    { sig: unknown; text: string; edited: boolean; deleted: boolean; result: Authenticity }
  >();
  private hlc: Hlc = { wall: 0, counter: 0 };
  private readonly firstSeen = new Map<string, number>();
  private readonly createdAtLoad: number;
  private readonly unsubscribe: () => void;
  private destroyed = false;

  constructor(set: DocSet, options: ConversationOptions, floor: string | undefined) {
    if (!isId(options.self)) throw new InvalidInputError('self must be a peer ID');
    this.set = set;
    this.self = options.self;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.conversationId = options.id ?? set.id;
    this.sign = options.sign;
    this.verify = options.verify;
    this.createdAtLoad = this.now();
    this.floor = floor;
    this.attachHead(set.head);
    const listener: DocSetListener = {
      attached: (part, doc) => (part === HEAD ? this.attachHead(doc) : this.observe(part, doc)),
      detached: (part) => this.unobserve(part),
      segmentAdded: (part) => {
        if (this.floor === undefined) void this.pinAll([part]);
      },
      persisted: () => this.queueCount()
    };
    this.unsubscribe = set.subscribe(listener);
    for (const n of set.hotSegments()) {
      const doc = set.doc(n);
      if (doc !== undefined) this.observe(n, doc, false);
    }
    if (floor === undefined) void this.pinAll(set.segments());
    this.rebuild();
    this.queueCount();
  }

  // --- docs --------------------------------------------------------------------------------

  private attachHead(doc: Y.Doc): void {
    this.headOff?.();
    this.metaMap = doc.getMap('meta');
    this.membersMap = doc.getMap('members');
    this.receiptsMap = doc.getMap('receipts');
    const onUpdate = (_u: Uint8Array, origin: unknown): void => this.changed(origin);
    doc.on('update', onUpdate);
    this.headOff = () => doc.off('update', onUpdate);
    if (this.destroyed) this.headOff();
  }

  private observe(n: number, doc: Y.Doc, notify = true): void {
    this.unobserve(n, false);
    const messages = doc.getMap<unknown>('messages');
    const onMessages = (event: Y.YMapEvent<unknown>): void => {
      const t = this.now();
      for (const [id, change] of event.changes.keys) {
        if (change.action === 'add' && !this.firstSeen.has(id)) this.firstSeen.set(id, t);
        this.track(n, id, messages.get(id));
      }
    };
    const onDeep = (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
      if (this.messageListeners.size === 0) return;
      const ids = new Set<string>();
      for (const event of events) {
        if (event.target === messages) for (const id of event.keys.keys()) ids.add(id);
        else if (typeof event.path[0] === 'string') ids.add(event.path[0]);
      }
      if (ids.size === 0) return;
      const list = [...ids];
      for (const listener of this.messageListeners) listener(list);
    };
    const onUpdate = (_u: Uint8Array, origin: unknown): void => this.changed(origin);
    messages.observe(onMessages);
    messages.observeDeep(onDeep);
    doc.on('update', onUpdate);
    this.observed.set(n, {
      doc,
      messages,
      off: () => {
        messages.unobserve(onMessages);
        messages.unobserveDeep(onDeep);
        doc.off('update', onUpdate);
      }
    });
    if (!notify) return;
    // A reloaded or newly loaded segment: what it holds joins the window if it belongs there.
    const ids: string[] = [];
    for (const [id, value] of messages.entries()) {
      this.track(n, id, value);
      ids.push(id);
    }
    if (ids.length > 0) for (const listener of this.messageListeners) listener(ids);
    this.changed(LOAD_ORIGIN);
  }

  private unobserve(n: number, drop = true): void {
    const o = this.observed.get(n);
    if (o === undefined) return;
    o.off();
    this.observed.delete(n);
    if (!drop) return;
    for (const e of [...this.window.sorted()]) if (e.segment === n) this.window.remove(e.id);
  }

  /** Keeps a message of segment `n` in the window or out of it, as its key says. */
  private track(n: number, id: string, value: unknown): void {
    const entry = indexEntryOf(id, value, n);
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
      if (doc !== undefined && this.observed.get(n)?.doc !== doc) this.observe(n, doc);
    }
  }

  private changed(origin: unknown): void {
    const change = { local: origin === null || origin === undefined };
    for (const listener of this.changeListeners) listener(change);
  }

  private queueCount(): void {
    if (this.countQueued || this.destroyed) return;
    this.countQueued = true;
    queueMicrotask(() => {
      this.countQueued = false;
      void this.refreshCounts();
    });
  }

  private async refreshCounts(): Promise<void> {
    try {
      const stored = await this.set.history.count(this.set.id);
      let moved = stored !== this.stored;
      this.stored = stored;
      for (const [member, cached] of this.unreadStored) {
        const count = await this.set.history.countAfter(this.set.id, cached.mark, {
          notAuthor: member
        });
        if (count !== cached.count) moved = true;
        this.unreadStored.set(member, { mark: cached.mark, count });
      }
      if (moved && !this.destroyed) this.changed(LOAD_ORIGIN);
    } catch {
      // The store is closing (or gone): the counts stay as they were.
    }
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
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  // --- window --------------------------------------------------------------------------------

  ids(): readonly string[] {
    return this.window.ids();
  }

  position(id: string): number {
    return this.window.position(id);
  }

  size(): number {
    return Math.max(this.stored, this.window.size());
  }

  async loadOlder(count = 200): Promise<number> {
    if (this.floor === undefined) return 0;
    const before = this.window.size();
    const older = await this.set.history.window(this.set.id, { before: this.floor, limit: count });
    if (older.length === 0) return 0;
    this.floor = older.length < count ? undefined : older[0]?.key;
    await this.pinAll(older.map((e) => e.segment));
    if (this.floor === undefined) await this.pinAll(this.set.segments());
    this.rebuild();
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
    await this.loadOlder(to - from);
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
        Y.applyUpdate(doc, bytes, LOAD_ORIGIN);
        temporary = true;
      }
      const batch: Message[] = [];
      for (const [id, value] of doc.getMap<unknown>('messages').entries()) {
        const m = this.readMessage(id, value);
        if (m !== undefined) batch.push(m);
      }
      if (temporary) doc.destroy();
      batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      if (batch.length > 0 && !aborted()) await visit(batch);
    }
  }

  /** The Yjs map of a message and its segment, from the window or any segment in memory. */
  private locate(id: string): { map: Y.Map<unknown>; segment: number } | undefined {
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

  // --- metadata and members ---------------------------------------------------------------

  announceGroup(groupId: string, info: GroupAnnouncement): void {
    if (this.meta()?.kind !== '1:1') throw new InvalidInputError('not a 1:1 conversation');
    checkId(groupId, 'group id');
    this.set.head.getMap(ANNOUNCEMENTS_KEY).set(groupId, {
      name: info.name,
      members: [...info.members]
    });
  }

  announcements(): [string, unknown][] {
    return [...this.set.head.getMap<unknown>(ANNOUNCEMENTS_KEY).entries()];
  }

  init(init: CreateConversationInit): void {
    if (this.meta() !== undefined) return;
    const name = init.name ?? '';
    checkName(name);
    for (const m of init.members) checkId(m, 'member');
    this.set.head.transact(() => {
      this.metaMap.set('kind', init.kind);
      this.metaMap.set('name', name);
      this.metaMap.set('createdAt', this.now());
      const t = this.now();
      for (const m of new Set([...init.members, this.self])) this.membersMap.set(m, t);
    });
  }

  meta(): ConversationMeta | undefined {
    const kind = this.metaMap.get('kind');
    const name = this.metaMap.get('name');
    const createdAt = this.metaMap.get('createdAt');
    if (kind !== '1:1' && kind !== 'group') return undefined;
    return {
      kind,
      name: typeof name === 'string' && name.length <= MAX_NAME_LENGTH ? name : '',
      createdAt: isWall(createdAt) ? createdAt : 0
    };
  }

  members(): string[] {
    const out: string[] = [];
    for (const [peer, joined] of this.membersMap.entries()) {
      if (isId(peer) && isWall(joined)) out.push(peer);
    }
    return out.sort();
  }

  isMember(peerId: string): boolean {
    return isId(peerId) && isWall(this.membersMap.get(peerId));
  }

  addMembers(peers: string[]): void {
    this.requireGroup();
    this.requireMember();
    for (const p of peers) checkId(p, 'member');
    const t = this.now();
    this.set.head.transact(() => {
      for (const p of peers) if (!this.isMember(p)) this.membersMap.set(p, t);
    });
  }

  leave(): void {
    this.requireGroup();
    this.membersMap.delete(this.self);
  }

  rename(name: string): void {
    this.requireGroup();
    this.requireMember();
    checkName(name);
    this.metaMap.set('name', name);
  }

  // --- messages ---------------------------------------------------------------------------

  /** The messages map new messages go to: the tail segment, or the next one once it is full. */
  private writable(): { messages: Y.Map<unknown>; segment: number } {
    let n = this.set.tail();
    let doc = this.set.doc(n);
    if (doc === undefined) {
      // The tail moved on (another device) and is still loading: write into the newest in memory.
      n = Math.max(...this.observed.keys());
      doc = this.set.doc(n);
    }
    if (doc === undefined) throw new InvalidInputError('the conversation is not loaded');
    if (doc.getMap('messages').size >= SEGMENT_MESSAGES) {
      const next = this.set.createSegment(n + 1);
      if (next !== undefined) {
        n += 1;
        doc = next;
        if (this.observed.get(n)?.doc !== doc) this.observe(n, doc, false);
      }
    }
    if (!this.set.has(n)) this.set.announce(n);
    if (!this.pinned.has(n)) {
      this.pinned.add(n);
      this.set.pin(n);
    }
    return { messages: doc.getMap('messages'), segment: n };
  }

  send(text: string, options: SendOptions = {}): Message {
    checkText(text);
    const id = options.id ?? this.newId();
    checkId(id, 'message id');
    if (this.locate(id) !== undefined || this.window.get(id) !== undefined) {
      throw new InvalidInputError('a message with this id exists');
    }
    if (options.replyTo !== undefined && this.message(options.replyTo) === undefined) {
      throw new UnknownMessageError('the quoted message does not exist');
    }
    this.requireMember();
    this.catchUpClock();
    const now = this.now();
    const hlc =
      now > this.hlc.wall && now < MAX_WALL
        ? { wall: now, counter: 0 }
        : { wall: this.hlc.wall, counter: this.hlc.counter + 1 };
    this.hlc = hlc;
    const { messages } = this.writable();
    const m = new Y.Map<unknown>();
    const header: Header = { a: this.self, c: now, w: hlc.wall, n: hlc.counter };
    if (options.replyTo !== undefined) header.r = options.replyTo;
    m.set('h', header);
    m.set('text', text);
    if (this.sign !== undefined) {
      m.set('s', this.sign(this.signedBytes(id, header, text, false, false)));
    }
    this.firstSeen.set(id, now);
    messages.set(id, m);
    const msg = this.message(id);
    if (msg === undefined) throw new InvalidInputError('message could not be written');
    return msg;
  }

  reply(quotedId: string, text: string, options: Omit<SendOptions, 'replyTo'> = {}): Message {
    return this.send(text, { ...options, replyTo: quotedId });
  }

  edit(id: string, text: string): void {
    checkText(text);
    const { map, msg } = this.ownMessage(id);
    if (msg.deleted) throw new UnknownMessageError('the message was deleted');
    map.doc?.transact(() => {
      map.set('text', text);
      map.set('edited', true);
      this.resign(id, map, text, true, false);
    });
  }

  remove(id: string): void {
    const { map } = this.ownMessage(id);
    map.doc?.transact(() => {
      map.set('text', '');
      map.set('deleted', true);
      for (const key of [...map.keys()]) if (key.startsWith(REACTION_PREFIX)) map.delete(key);
      this.resign(id, map, '', map.get('edited') === true, true);
    });
  }

  react(id: string, emoji: string): boolean {
    if (typeof emoji !== 'string' || emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH) {
      throw new InvalidInputError('not an emoji');
    }
    if (emoji.includes('\n')) throw new InvalidInputError('not an emoji');
    const msg = this.message(id);
    const map = this.locate(id)?.map;
    if (msg === undefined || map === undefined || msg.deleted) {
      throw new UnknownMessageError('no such message');
    }
    const key = `${REACTION_PREFIX}${emoji}\n${this.self}`;
    if (map.get(key) === true) {
      map.delete(key);
      return false;
    }
    map.set(key, true);
    return true;
  }

  message(id: string): Message | undefined {
    const found = this.locate(id);
    return found === undefined ? undefined : this.readMessage(id, found.map);
  }

  messages(options: { limit?: number } = {}): Message[] {
    const entries = this.window.sorted();
    const start = options.limit === undefined ? 0 : Math.max(0, entries.length - options.limit);
    const out: Message[] = [];
    for (let i = start; i < entries.length; i++) {
      const e = entries[i] as WindowEntry;
      const msg = this.readMessage(e.id, this.observed.get(e.segment)?.messages.get(e.id));
      if (msg !== undefined) out.push(msg);
    }
    return out;
  }

  clock(): Hlc {
    this.catchUpClock();
    return { ...this.hlc };
  }

  // --- receipts ---------------------------------------------------------------------------

  markDelivered(id?: string): void {
    this.mark(['delivered'], id);
  }

  markRead(id?: string): void {
    this.mark(['delivered', 'read'], id);
  }

  receipts(member: string): Receipts {
    const r = this.receiptsMap.get(member);
    if (!(r instanceof Y.Map)) return {};
    const out: Receipts = {};
    const delivered = r.get('delivered');
    const read = r.get('read');
    if (isKey(delivered)) out.delivered = delivered;
    if (isKey(read)) out.read = read;
    return out;
  }

  receiptStatus(id: string): 'read' | 'delivered' | undefined {
    const msg = this.message(id);
    if (msg === undefined) return undefined;
    let status: 'read' | 'delivered' | undefined;
    for (const member of this.members()) {
      if (member === msg.author) continue;
      const r = this.receipts(member);
      if (r.read !== undefined && r.read >= msg.key) return 'read';
      if (r.delivered !== undefined && r.delivered >= msg.key) status = 'delivered';
    }
    return status;
  }

  unreadCount(member: string): number {
    const mark = this.receipts(member).read;
    if (this.floor !== undefined && (mark === undefined || mark < this.floor)) {
      // Older than the window: the stored index counts (in the background).
      const cached = this.unreadStored.get(member);
      if (cached === undefined || cached.mark !== mark) {
        this.unreadStored.set(member, { mark, count: cached?.count ?? 0 });
        this.queueCount();
      }
      return this.unreadStored.get(member)?.count ?? 0;
    }
    let count = 0;
    for (const e of this.window.after(mark)) {
      const map = this.observed.get(e.segment)?.messages.get(e.id);
      if (!(map instanceof Y.Map)) continue;
      if (readHeader(map)?.a !== member && map.get('deleted') !== true) count++;
    }
    return count;
  }

  // --- internals --------------------------------------------------------------------------

  private mark(fields: ('delivered' | 'read')[], id?: string): void {
    let key: string | undefined;
    if (id === undefined) {
      key = this.window.last()?.key;
      if (key === undefined) return;
    } else {
      const msg = this.message(id);
      if (msg === undefined) throw new UnknownMessageError('no such message');
      key = msg.key;
    }
    this.set.head.transact(() => {
      let r = this.receiptsMap.get(this.self);
      if (!(r instanceof Y.Map)) {
        r = new Y.Map<unknown>();
        this.receiptsMap.set(this.self, r);
      }
      const map = r as Y.Map<unknown>;
      for (const field of fields) {
        const current = map.get(field);
        if (!isKey(current) || current < (key as string)) map.set(field, key);
      }
    });
  }

  private ownMessage(id: string): { map: Y.Map<unknown>; msg: Message } {
    const msg = this.message(id);
    const map = this.locate(id)?.map;
    if (msg === undefined || map === undefined) throw new UnknownMessageError('no such message');
    if (msg.author !== this.self) throw new NotAuthorError('only the author can change it');
    return { map, msg };
  }

  private requireGroup(): void {
    if (this.meta()?.kind !== 'group') throw new NotAGroupError('not a group conversation');
  }

  private requireMember(): void {
    if (this.meta() !== undefined && !this.isMember(this.self)) {
      throw new NotMemberError('this device is not a member of the conversation');
    }
  }

  authenticity(id: string): Authenticity {
    if (this.verify === undefined) return 'unknown';
    const map = this.locate(id)?.map;
    const header = map !== undefined ? readHeader(map) : undefined;
    const msg = this.message(id);
    if (map === undefined || header === undefined || msg === undefined) return 'unverified';
    const sig = map.get('s');
    const cached = this.checked.get(id);
    if (
      cached !== undefined &&
      cached.sig === sig &&
      cached.text === msg.text &&
      cached.edited === msg.edited &&
      cached.deleted === msg.deleted
    ) {
      return cached.result;
    }
    const ok =
      sig instanceof Uint8Array &&
      this.verify(msg.author, this.signedBytes(id, header, msg.text, msg.edited, msg.deleted), sig);
    const result: Authenticity = ok ? 'verified' : 'unverified';
    if (this.checked.size > 10_000) this.checked.clear();
    this.checked.set(id, { sig, text: msg.text, edited: msg.edited, deleted: msg.deleted, result });
    return result;
  }

  /**
   * What a message signature covers: version, conversation, message id, the immutable header
   * (author, times, quoted message) and the current text and deletion. Reactions and receipts
   * are not covered (each member writes its own). The segment is not covered either: a
   * message means the same wherever it is stored.
   */
  private signedBytes(
    id: string,
    h: Header,
    text: string,
    edited: boolean,
    deleted: boolean
  ): Uint8Array {
    const fields = ['p2p4e/msg/1', this.conversationId, id, h.a, h.c, h.w, h.n, h.r ?? null];
    return new TextEncoder().encode(JSON.stringify([...fields, text, edited, deleted]));
  }

  private resign(
    id: string,
    map: Y.Map<unknown>,
    text: string,
    edited: boolean,
    deleted: boolean
  ): void {
    if (this.sign === undefined) return;
    const header = readHeader(map);
    if (header === undefined) return;
    map.set('s', this.sign(this.signedBytes(id, header, text, edited, deleted)));
  }

  private readMessage(id: string, map: unknown): Message | undefined {
    if (!isId(id) || !(map instanceof Y.Map)) return undefined;
    const header = readHeader(map);
    if (header === undefined) return undefined;
    const { a: author, c: createdAt, w: wall, n: ctr, r: replyTo } = header;
    const text = map.get('text');
    const edited = map.get('edited');
    const deleted = map.get('deleted');
    if (!isId(author) || typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) {
      return undefined;
    }
    if (!isWall(createdAt) || !isWall(wall) || !isCounter(ctr)) return undefined;
    if (replyTo !== undefined && !isId(replyTo)) return undefined;
    const isDeleted = deleted === true;
    const reactions: Record<string, string[]> = {};
    if (!isDeleted) {
      for (const [k, v] of map.entries()) {
        if (v !== true || !k.startsWith(REACTION_PREFIX)) continue;
        const nl = k.lastIndexOf('\n');
        const emoji = k.slice(REACTION_PREFIX.length, nl);
        const reactor = k.slice(nl + 1);
        if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || !isId(reactor)) continue;
        (reactions[emoji] ??= []).push(reactor);
      }
      for (const list of Object.values(reactions)) list.sort();
    }
    const hlc = { wall, counter: ctr };
    const seen = this.firstSeen.get(id) ?? this.createdAtLoad;
    return {
      id,
      author,
      text: isDeleted ? '' : text,
      createdAt,
      displayAt: Math.min(createdAt, seen),
      hlc,
      key: orderKey(hlc, author, id),
      ...(replyTo !== undefined ? { replyTo } : {}),
      edited: edited === true,
      deleted: isDeleted,
      reactions
    };
  }

  /** Move the HLC past the newest message in the window (received messages included). */
  private catchUpClock(): void {
    const last = this.window.last();
    if (last === undefined) return;
    const wall = parseInt(last.key.slice(0, 12), 16);
    const counter = parseInt(last.key.slice(12, 20), 16);
    if (wall > this.hlc.wall || (wall === this.hlc.wall && counter > this.hlc.counter)) {
      this.hlc = { wall, counter };
    }
  }
}
