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

/** Key of the announcements map in a 1:1 conversation doc (group id -> GroupAnnouncement). */
const ANNOUNCEMENTS_KEY = 'groups';

export function createConversation(doc: Y.Doc, options: ConversationOptions): Conversation {
  return new YConversation(doc, options);
}

/**
 * For the sync service only: `conversation` continues over `doc`, the same conversation
 * reloaded from storage (after an update failed to apply). Its listeners stay subscribed.
 */
export function replaceDoc(conversation: Conversation, doc: Y.Doc): void {
  if (!(conversation instanceof YConversation)) {
    throw new InvalidInputError('not a conversation over a Yjs doc');
  }
  conversation.replaceDoc(doc);
}

interface IndexEntry {
  key: string;
  id: string;
}

class YConversation implements Conversation {
  readonly self: string;
  private metaMap!: Y.Map<unknown>;
  private membersMap!: Y.Map<unknown>;
  private messagesMap!: Y.Map<unknown>;
  private receiptsMap!: Y.Map<unknown>;
  /** Listeners of onMessagesChange / onChange: they follow the model across replaceDoc(). */
  private readonly messageListeners = new Set<(ids: string[]) => void>();
  private readonly changeListeners = new Set<(change: { local: boolean }) => void>();
  private readonly deepObserver = (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
    if (this.messageListeners.size === 0) return;
    const ids = new Set<string>();
    for (const event of events) {
      if (event.target === this.messagesMap) {
        for (const id of event.keys.keys()) ids.add(id);
      } else if (typeof event.path[0] === 'string') {
        ids.add(event.path[0]);
      }
    }
    if (ids.size === 0) return;
    const list = [...ids];
    for (const listener of this.messageListeners) listener(list);
  };
  private readonly updateObserver = (_update: Uint8Array, origin: unknown): void => {
    const change = { local: origin === null || origin === undefined };
    for (const listener of this.changeListeners) listener(change);
  };
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly conversationId: string;
  private readonly sign: Signer | undefined;
  private readonly verify: Verifier | undefined;
  /** authenticity() results, with what they were computed from (reused while it matches). */
  private readonly checked = new Map<
    string,
    { sig: unknown; text: string; edited: boolean; deleted: boolean; result: Authenticity }
  >();
  private hlc: Hlc = { wall: 0, counter: 0 };
  /** Sorted by key. Rebuilt lazily when `dirty`. */
  private index: IndexEntry[] = [];
  /** ids() of `index`, rebuilt lazily after the index changed. */
  private idList: readonly string[] | undefined;
  private keyById = new Map<string, string>();
  private added = new Set<string>();
  private removed = new Set<string>();
  private rebuild = true;
  private readonly firstSeen = new Map<string, number>();
  private readonly createdAtLoad: number;
  private readonly observer: (event: Y.YMapEvent<unknown>) => void;

  doc: Y.Doc;

  constructor(doc: Y.Doc, options: ConversationOptions) {
    this.doc = doc;
    if (!isId(options.self)) throw new InvalidInputError('self must be a peer ID');
    this.self = options.self;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.conversationId = options.id ?? '';
    this.sign = options.sign;
    this.verify = options.verify;
    this.createdAtLoad = this.now();
    this.observer = (event) => {
      const t = this.now();
      for (const [id, change] of event.changes.keys) {
        if (change.action === 'add') {
          if (!this.firstSeen.has(id)) this.firstSeen.set(id, t);
          this.added.add(id);
          this.removed.delete(id);
        } else if (change.action === 'delete') {
          this.removed.add(id);
          this.added.delete(id);
        } else {
          this.removed.add(id);
          this.added.add(id);
        }
      }
    };
    this.attach(doc);
  }

  private attach(doc: Y.Doc): void {
    this.doc = doc;
    this.metaMap = doc.getMap('meta');
    this.membersMap = doc.getMap('members');
    this.messagesMap = doc.getMap('messages');
    this.receiptsMap = doc.getMap('receipts');
    this.messagesMap.observe(this.observer);
    this.messagesMap.observeDeep(this.deepObserver);
    doc.on('update', this.updateObserver);
  }

  private detach(): void {
    this.messagesMap.unobserve(this.observer);
    this.messagesMap.unobserveDeep(this.deepObserver);
    this.doc.off('update', this.updateObserver);
  }

  destroy(): void {
    this.detach();
  }

  /**
   * For the sync service only: the model continues over `doc` (the same conversation reloaded
   * from storage after an update failed to apply). Listeners stay subscribed and hear about
   * every message, as if they all changed.
   */
  replaceDoc(doc: Y.Doc): void {
    this.detach();
    this.attach(doc);
    this.rebuild = true;
    this.idList = undefined;
    this.checked.clear();
    const ids = [...this.messagesMap.keys()];
    if (ids.length > 0) for (const listener of this.messageListeners) listener(ids);
    for (const listener of this.changeListeners) listener({ local: false });
  }

  onChange(listener: (change: { local: boolean }) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  announceGroup(groupId: string, info: GroupAnnouncement): void {
    if (this.meta()?.kind !== '1:1') throw new InvalidInputError('not a 1:1 conversation');
    checkId(groupId, 'group id');
    this.doc.getMap(ANNOUNCEMENTS_KEY).set(groupId, {
      name: info.name,
      members: [...info.members]
    });
  }

  announcements(): [string, unknown][] {
    return [...this.doc.getMap<unknown>(ANNOUNCEMENTS_KEY).entries()];
  }

  ids(): readonly string[] {
    const index = this.sorted();
    this.idList ??= index.map((e) => e.id);
    return this.idList;
  }

  position(id: string): number {
    const key = this.keyOf(id);
    if (key === undefined) return -1;
    this.sorted();
    return this.find(key);
  }

  onMessagesChange(listener: (ids: string[]) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  // --- metadata and members ---------------------------------------------------------------

  init(init: CreateConversationInit): void {
    if (this.meta() !== undefined) return;
    const name = init.name ?? '';
    checkName(name);
    for (const m of init.members) checkId(m, 'member');
    this.doc.transact(() => {
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
    this.doc.transact(() => {
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

  send(text: string, options: SendOptions = {}): Message {
    checkText(text);
    const id = options.id ?? this.newId();
    checkId(id, 'message id');
    if (this.messagesMap.has(id)) throw new InvalidInputError('a message with this id exists');
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
    const m = new Y.Map<unknown>();
    const header: Header = { a: this.self, c: now, w: hlc.wall, n: hlc.counter };
    if (options.replyTo !== undefined) header.r = options.replyTo;
    m.set('h', header);
    m.set('text', text);
    if (this.sign !== undefined) {
      m.set('s', this.sign(this.signedBytes(id, header, text, false, false)));
    }
    this.firstSeen.set(id, now);
    this.messagesMap.set(id, m);
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
    this.doc.transact(() => {
      map.set('text', text);
      map.set('edited', true);
      this.resign(id, map, text, true, false);
    });
  }

  remove(id: string): void {
    const { map } = this.ownMessage(id);
    this.doc.transact(() => {
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
    const map = this.messagesMap.get(id);
    if (msg === undefined || !(map instanceof Y.Map) || msg.deleted) {
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
    if (!isId(id)) return undefined;
    const map = this.messagesMap.get(id);
    return this.readMessage(id, map);
  }

  messages(options: { limit?: number } = {}): Message[] {
    const index = this.sorted();
    const start = options.limit === undefined ? 0 : Math.max(0, index.length - options.limit);
    const out: Message[] = [];
    for (let i = start; i < index.length; i++) {
      const entry = index[i] as IndexEntry;
      const msg = this.readMessage(entry.id, this.messagesMap.get(entry.id));
      if (msg !== undefined) out.push(msg);
    }
    return out;
  }

  size(): number {
    return this.sorted().length;
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
    const index = this.sorted();
    const mark = this.receipts(member).read;
    let lo = 0;
    if (mark !== undefined) {
      let hi = index.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((index[mid] as IndexEntry).key <= mark) lo = mid + 1;
        else hi = mid;
      }
    }
    let count = 0;
    for (let i = lo; i < index.length; i++) {
      const entry = index[i] as IndexEntry;
      const map = this.messagesMap.get(entry.id);
      if (!(map instanceof Y.Map)) continue;
      if (readHeader(map)?.a !== member && map.get('deleted') !== true) count++;
    }
    return count;
  }

  // --- internals --------------------------------------------------------------------------

  private mark(fields: ('delivered' | 'read')[], id?: string): void {
    let key: string | undefined;
    if (id === undefined) {
      const index = this.sorted();
      key = index[index.length - 1]?.key;
      if (key === undefined) return;
    } else {
      const msg = this.message(id);
      if (msg === undefined) throw new UnknownMessageError('no such message');
      key = msg.key;
    }
    this.doc.transact(() => {
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
    const map = this.messagesMap.get(id);
    if (msg === undefined || !(map instanceof Y.Map)) {
      throw new UnknownMessageError('no such message');
    }
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

  /** Validates one stored message; undefined when anything about it is wrong. */
  authenticity(id: string): Authenticity {
    if (this.verify === undefined) return 'unknown';
    const map = this.messagesMap.get(id);
    const header = map instanceof Y.Map ? readHeader(map) : undefined;
    const msg = this.message(id);
    if (!(map instanceof Y.Map) || header === undefined || msg === undefined) return 'unverified';
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
    this.checked.set(id, {
      sig,
      text: msg.text,
      edited: msg.edited,
      deleted: msg.deleted,
      result
    });
    return result;
  }

  /**
   * What a message signature covers: version, conversation, message id, the immutable header
   * (author, times, quoted message) and the current text and deletion. Reactions and receipts
   * are not covered (each member writes its own).
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

  /** Signs the message's new state (after an edit or deletion by its author). */
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

  /** The key of a stored message if it is valid enough to be listed. */
  private keyOf(id: string): string | undefined {
    if (!isId(id)) return undefined;
    const map = this.messagesMap.get(id);
    if (!(map instanceof Y.Map)) return undefined;
    const header = readHeader(map);
    const text = map.get('text');
    if (header === undefined) return undefined;
    if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) return undefined;
    return orderKey({ wall: header.w, counter: header.n }, header.a, id);
  }

  private sorted(): IndexEntry[] {
    if (!this.rebuild && this.added.size + this.removed.size > 256) this.rebuild = true;
    if (this.added.size + this.removed.size > 0 || this.rebuild) this.idList = undefined;
    if (this.rebuild) {
      this.rebuild = false;
      this.added.clear();
      this.removed.clear();
      this.keyById.clear();
      const entries: IndexEntry[] = [];
      for (const id of this.messagesMap.keys()) {
        const key = this.keyOf(id);
        if (key === undefined) continue;
        entries.push({ key, id });
        this.keyById.set(id, key);
      }
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.index = entries;
      return this.index;
    }
    for (const id of this.removed) {
      const key = this.keyById.get(id);
      if (key === undefined) continue;
      const at = this.find(key);
      if (at >= 0) this.index.splice(at, 1);
      this.keyById.delete(id);
    }
    this.removed.clear();
    for (const id of this.added) {
      const key = this.keyOf(id);
      if (key === undefined || this.keyById.has(id)) continue;
      this.keyById.set(id, key);
      this.index.splice(this.insertionPoint(key), 0, { key, id });
    }
    this.added.clear();
    return this.index;
  }

  private insertionPoint(key: string): number {
    let lo = 0;
    let hi = this.index.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.index[mid] as IndexEntry).key < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private find(key: string): number {
    const at = this.insertionPoint(key);
    return this.index[at]?.key === key ? at : -1;
  }

  /** Move the HLC past the newest message in the doc (received messages included). */
  private catchUpClock(): void {
    const index = this.sorted();
    const last = index[index.length - 1];
    if (last === undefined) return;
    const wall = parseInt(last.key.slice(0, 12), 16);
    const counter = parseInt(last.key.slice(12, 20), 16);
    if (wall > this.hlc.wall || (wall === this.hlc.wall && counter > this.hlc.counter)) {
      this.hlc = { wall, counter };
    }
  }
}
