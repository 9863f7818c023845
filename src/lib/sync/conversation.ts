/**
 * A conversation as a Yjs document. Pure over a Y.Doc: no I/O, so every member device holds the
 * same doc and Yjs merges their changes.
 *
 * Schema (top-level shared types of the doc):
 * - `meta`: Y.Map { kind: '1:1' | 'group', name: string, createdAt: number }
 * - `members`: Y.Map peerId -> joinedAt (number)
 * - `messages`: Y.Map messageId -> Y.Map { h: { a: author, c: createdAt, w: HLC wall,
 *   n: HLC counter, r?: replyTo, f?: file record } (immutable header, one plain value;
 *   the file record is an opaque string of the files layer, the text then an optional
 *   caption), text, edited?, deleted?, s? (Ed25519 signature, see Trust), and one key
 *   `r:${emoji}\n${reactor}` -> true per reaction }. Absent flags are false. Reactions are
 *   keys of the message map itself rather than a nested map: a nested map created lazily by
 *   two devices at once would lose one side's reactions, and one created with every message
 *   costs space. Each key of a Y.Map costs an item (~30 bytes plus the key), so a new message
 *   is only two (10,000 messages: ~1 MiB).
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
 * header (file record included) and current text/edited/deleted, made again on every edit
 * and deletion: a message written in someone else's name, or changed by anyone but its
 * author, fails `authenticity()` and the UI says so. Reactions, receipts, members and names
 * are not signed.
 */
import * as Y from 'yjs';
import type { Signer } from '../crypto/signing.js';
import { INITIAL_WINDOW, MAX_CLOCK_SKEW_MS, MAX_EMOJI_LENGTH, OLDER_PAGE } from './constants.js';
import type { DocSet } from './doc-set.js';
import { InvalidInputError, NotAuthorError, UnknownMessageError } from './errors.js';
import {
  checkCaption,
  checkFileRecord,
  checkId,
  checkText,
  isId,
  MAX_COUNTER,
  MAX_WALL,
  readHeader,
  REACTION_PREFIX,
  type Header
} from './message-format.js';
import { SignatureChecks, signedBytes } from './message-read.js';
import { ConversationHead } from './conversation-head.js';
import { SegmentWindow } from './segment-window.js';
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
  await conversation.docs.pinAll(newest.map((e) => e.segment));
  await conversation.docs.refreshCounts();
  return conversation;
}

/** For the sync service: the Yjs item of a message (its client and clock) and its segment. */
export function messageItem(
  conversation: Conversation,
  id: string
): { segment: number; client: number; clock: number } | undefined {
  return conversation instanceof SegmentedConversation ? conversation.docs.itemOf(id) : undefined;
}

class SegmentedConversation implements Conversation {
  readonly self: string;
  /** What is in memory: head maps, observed segments, the window. */
  readonly docs: SegmentWindow;
  /** Meta, members, receipts, announcements. */
  private readonly head: ConversationHead;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly conversationId: string;
  private readonly sign: Signer | undefined;
  private readonly signatures: SignatureChecks;
  private hlc: Hlc = { wall: 0, counter: 0 };

  constructor(set: DocSet, options: ConversationOptions, floor: string | undefined) {
    if (!isId(options.self)) throw new InvalidInputError('self must be a peer ID');
    this.self = options.self;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.conversationId = options.id ?? set.id;
    this.sign = options.sign;
    this.signatures = new SignatureChecks(this.conversationId, options.verify);
    this.docs = new SegmentWindow(set, floor, this.now);
    this.head = new ConversationHead(this.docs, this.self, this.now);
  }

  /** The docs (tests reach them through sync/testing.ts). */
  get set(): DocSet {
    return this.docs.set;
  }

  destroy(): void {
    this.docs.destroy();
  }

  onChange(listener: (change: { local: boolean }) => void): () => void {
    return this.docs.onChange(listener);
  }

  onMessagesChange(listener: (ids: string[]) => void): () => void {
    return this.docs.onMessagesChange(listener);
  }

  ids(): readonly string[] {
    return this.docs.ids();
  }

  position(id: string): number {
    return this.docs.position(id);
  }

  size(): number {
    return this.docs.size();
  }

  loadOlder(count = OLDER_PAGE): Promise<number> {
    return this.docs.loadOlder(count);
  }

  following(atNewest: boolean): void {
    this.docs.following(atNewest);
  }

  reveal(id: string): Promise<boolean> {
    return this.docs.reveal(id);
  }

  scan(
    visit: (batch: Message[]) => void | Promise<void>,
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    return this.docs.scan(visit, options);
  }

  // --- metadata and members (the head: conversation-head.ts) ------------------------------

  announceGroup(groupId: string, info: GroupAnnouncement): void {
    this.head.announceGroup(groupId, info);
  }

  announcements(): [string, unknown][] {
    return this.head.announcements();
  }

  init(init: CreateConversationInit): void {
    this.head.init(init);
  }

  meta(): ConversationMeta | undefined {
    return this.head.meta();
  }

  members(): string[] {
    return this.head.members();
  }

  isMember(peerId: string): boolean {
    return this.head.isMember(peerId);
  }

  addMembers(peers: string[]): void {
    this.head.addMembers(peers);
  }

  leave(): void {
    this.head.leave();
  }

  rename(name: string): void {
    this.head.rename(name);
  }

  // --- messages ---------------------------------------------------------------------------

  send(text: string, options: SendOptions = {}): Message {
    if (options.file !== undefined) {
      checkFileRecord(options.file);
      checkCaption(text);
    } else {
      checkText(text);
    }
    const id = options.id ?? this.newId();
    checkId(id, 'message id');
    if (this.docs.locate(id) !== undefined || this.docs.inWindow(id)) {
      throw new InvalidInputError('a message with this id exists');
    }
    if (options.replyTo !== undefined && this.message(options.replyTo) === undefined) {
      throw new UnknownMessageError('the quoted message does not exist');
    }
    this.head.requireMember();
    this.catchUpClock();
    const now = this.now();
    const hlc =
      now > this.hlc.wall && now < MAX_WALL
        ? { wall: now, counter: 0 }
        : this.hlc.counter < MAX_COUNTER || this.hlc.wall + 1 >= MAX_WALL
          ? { wall: this.hlc.wall, counter: Math.min(this.hlc.counter + 1, MAX_COUNTER) }
          : { wall: this.hlc.wall + 1, counter: 0 };
    this.hlc = hlc;
    const { messages } = this.docs.writable();
    const m = new Y.Map<unknown>();
    const header: Header = { a: this.self, c: now, w: hlc.wall, n: hlc.counter };
    if (options.replyTo !== undefined) header.r = options.replyTo;
    if (options.file !== undefined) header.f = options.file;
    m.set('h', header);
    m.set('text', text);
    if (this.sign !== undefined) {
      m.set('s', this.sign(signedBytes(this.conversationId, id, header, text, false, false)));
    }
    this.docs.firstSeen.set(id, now);
    messages.set(id, m);
    const msg = this.message(id);
    if (msg === undefined) throw new InvalidInputError('message could not be written');
    return msg;
  }

  reply(quotedId: string, text: string, options: Omit<SendOptions, 'replyTo'> = {}): Message {
    return this.send(text, { ...options, replyTo: quotedId });
  }

  edit(id: string, text: string): void {
    // The caption of a message with a file may be removed; other messages keep some text.
    if (this.message(id)?.file !== undefined) checkCaption(text);
    else checkText(text);
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
      // Others' reactions stay (theirs to change); a deleted message shows none.
      this.resign(id, map, '', map.get('edited') === true, true);
    });
  }

  react(id: string, emoji: string): boolean {
    if (typeof emoji !== 'string' || emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH) {
      throw new InvalidInputError('not an emoji');
    }
    if (emoji.includes('\n')) throw new InvalidInputError('not an emoji');
    const msg = this.message(id);
    const map = this.docs.locate(id)?.map;
    if (msg === undefined || map === undefined || msg.deleted) {
      throw new UnknownMessageError('no such message');
    }
    const key = `${REACTION_PREFIX}${emoji}\n${this.self}`;
    if (map.get(key) === true) {
      // Written, not deleted: every change carries structs of its author (write-rules.ts).
      map.set(key, false);
      return false;
    }
    map.set(key, true);
    return true;
  }

  message(id: string): Message | undefined {
    const found = this.docs.locate(id);
    return found === undefined ? undefined : this.docs.read(id, found.map);
  }

  messages(options: { limit?: number } = {}): Message[] {
    return this.docs.messages(options.limit);
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
    return this.head.receipts(member);
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
    return this.docs.unreadCount(member, this.receipts(member).read);
  }

  // --- internals --------------------------------------------------------------------------

  private mark(fields: ('delivered' | 'read')[], id?: string): void {
    let key: string | undefined;
    if (id === undefined) {
      key = this.docs.newestKey();
      if (key === undefined) return;
    } else {
      const msg = this.message(id);
      if (msg === undefined) throw new UnknownMessageError('no such message');
      key = msg.key;
    }
    this.head.mark(fields, key);
  }

  private ownMessage(id: string): { map: Y.Map<unknown>; msg: Message } {
    const msg = this.message(id);
    const map = this.docs.locate(id)?.map;
    if (msg === undefined || map === undefined) throw new UnknownMessageError('no such message');
    if (msg.author !== this.self) throw new NotAuthorError('only the author can change it');
    return { map, msg };
  }

  authenticity(id: string): Authenticity {
    return this.signatures.check(this.docs.locate(id)?.map, this.message(id));
  }

  checkedAuthenticity(id: string): Authenticity | undefined {
    return this.signatures.cached(this.docs.locate(id)?.map, this.message(id));
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
    map.set('s', this.sign(signedBytes(this.conversationId, id, header, text, edited, deleted)));
  }

  /**
   * Move the HLC past the newest message in the window (received messages included), unless
   * its wall is implausibly far ahead of this device's clock (more than MAX_CLOCK_SKEW_MS): a
   * message dated 2^48 - 1 must not drag every later send of every member along.
   */
  private catchUpClock(): void {
    const last = this.docs.newestKey();
    if (last === undefined) return;
    const wall = parseInt(last.slice(0, 12), 16);
    const counter = parseInt(last.slice(12, 20), 16);
    if (wall > this.now() + MAX_CLOCK_SKEW_MS) return;
    if (wall > this.hlc.wall || (wall === this.hlc.wall && counter > this.hlc.counter)) {
      this.hlc = { wall, counter };
    }
  }
}
