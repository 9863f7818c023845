/**
 * The conversation model's types: plain data in and out (no Yjs type crosses the Conversation
 * interface; the doc stays inside src/lib/sync).
 */
import type { Signer, Verifier } from '../crypto/signing.js';

export type ConversationKind = '1:1' | 'group';

export interface ConversationMeta {
  kind: ConversationKind;
  name: string;
  createdAt: number;
}

/** A hybrid logical clock reading: wall-clock ms plus a counter for same-ms/backward clocks. */
export interface Hlc {
  wall: number;
  counter: number;
}

export interface Message {
  id: string;
  author: string;
  /** Empty once deleted. May be empty when the message carries a file (an optional caption). */
  text: string;
  /**
   * The file attachment record (opaque: made and read by the files layer), signed with the
   * message and never changed. Undefined when there is none or once the message is deleted.
   */
  file?: string;
  /** The author's clock when sent (ms since epoch). */
  createdAt: number;
  /** createdAt clamped to not be later than when this device first saw the message. */
  displayAt: number;
  hlc: Hlc;
  /** Sortable string: messages are listed in ascending key order. */
  key: string;
  replyTo?: string;
  edited: boolean;
  deleted: boolean;
  /** emoji -> reactor peer IDs (sorted). */
  reactions: Record<string, string[]>;
}

export interface Receipts {
  /** Order key of the newest message this member has received. */
  delivered?: string;
  /** Order key of the newest message this member has read. */
  read?: string;
}

export interface CreateConversationInit {
  kind: ConversationKind;
  name?: string;
  /** Member peer IDs (the local device is added too). */
  members: string[];
}

export interface SendOptions {
  /** Message id (default: a random UUID). */
  id?: string;
  /** Id of the quoted message. */
  replyTo?: string;
  /**
   * A file attachment record (opaque, 1..MAX_FILE_RECORD_LENGTH UTF-16 units): the text is
   * then an optional caption and may be empty.
   */
  file?: string;
}

export interface ConversationOptions {
  /** Peer ID of the local device: author of what it sends. */
  self: string;
  /** Wall clock (default Date.now). */
  now?: () => number;
  /** New message ids (default crypto.randomUUID). */
  newId?: () => string;
  /** The conversation's id: part of what message signatures cover (no replay elsewhere). */
  id?: string;
  /** Signs this device's messages, edits and deletions (key 's' of the message). */
  sign?: Signer;
  /** Checks message signatures; without it `authenticity()` says 'unknown'. */
  verify?: Verifier;
}

/**
 * Whether a message's current text (or deletion) was signed by the device named as its author:
 * 'verified'; 'unverified' when the signature is missing or wrong (another member wrote or
 * changed it); 'unknown' when this conversation has no verifier.
 */
export type Authenticity = 'verified' | 'unverified' | 'unknown';

/** A group announced in a 1:1 conversation (untrusted: written by the other member). */
export interface GroupAnnouncement {
  name: string;
  members: string[];
}

/**
 * The model of one conversation. Plain data in and out: no Yjs type crosses this interface
 * (the doc stays inside src/lib/sync).
 */
export interface Conversation {
  readonly self: string;
  /** Fill in metadata and members of a new conversation. No-op if it already has metadata. */
  init(init: CreateConversationInit): void;
  meta(): ConversationMeta | undefined;
  /** Valid member peer IDs, sorted. */
  members(): string[];
  isMember(peerId: string): boolean;
  send(text: string, options?: SendOptions): Message;
  /** Quote `quotedId` in a new message. */
  reply(quotedId: string, text: string, options?: Omit<SendOptions, 'replyTo'>): Message;
  /** Only the author; sets `edited`. A message with a file may have its caption emptied. */
  edit(id: string, text: string): void;
  /** Delete for everyone (tombstone): only the author. */
  remove(id: string): void;
  /** Toggle the local device's `emoji` reaction; returns whether it is now set. */
  react(id: string, emoji: string): boolean;
  /** Move the local delivered mark up to `id` (default: newest message). Never moves back. */
  markDelivered(id?: string): void;
  /** Move the local read (and delivered) mark up to `id` (default: newest). Never moves back. */
  markRead(id?: string): void;
  receipts(member: string): Receipts;
  /** 'read' / 'delivered' when another member's mark covers the message. */
  receiptStatus(id: string): 'read' | 'delivered' | undefined;
  /** Group only: add members. */
  addMembers(peers: string[]): void;
  /** Group only: remove the local device from the members. */
  leave(): void;
  /** Group only. */
  rename(name: string): void;
  /**
   * Valid messages of the window (see ids()) in order, oldest first. `limit` keeps the newest
   * ones.
   */
  messages(options?: { limit?: number }): Message[];
  /**
   * Ids of the window's valid messages in order (oldest first): the newest messages of the
   * conversation, then older ones as `loadOlder`/`reveal` extend it (a short conversation is
   * all window). The same array is returned until the order changes (a new array then): cheap
   * to call on every refresh.
   */
  ids(): readonly string[];
  /** Position of a message in `ids()`, or -1. */
  position(id: string): number;
  /** A message of the window, or of a segment in memory; undefined otherwise. */
  message(id: string): Message | undefined;
  /** Number of messages in all of history (the window may hold fewer). */
  size(): number;
  /**
   * Extends the window by up to `count` older messages (loading the segments that hold them);
   * resolves with how many were added (0: the window starts at the oldest message).
   */
  loadOlder(count?: number): Promise<number>;
  /**
   * Whether the reader is at the newest messages (the view follows them). While they are
   * scrolled up, a window that grows past WINDOW_TRIM_AT by sync keeps all its rows.
   */
  following(atNewest: boolean): void;
  /** Extends the window until it holds message `id`; false when there is no such message. */
  reveal(id: string): Promise<boolean>;
  /**
   * Visits every message of the conversation segment by segment (each batch in order; a segment
   * not in memory is read from storage and let go), e.g. to build a search index. Stops early
   * once `signal` aborts.
   */
  scan(
    visit: (batch: Message[]) => void | Promise<void>,
    options?: { signal?: AbortSignal }
  ): Promise<void>;
  /**
   * Messages newer than the member's read mark, not by them and not deleted. Counted in the
   * window when the mark is in it; otherwise the count from the stored index (refreshed in the
   * background: a change event follows when it moves).
   */
  unreadCount(member: string): number;
  /** The current HLC reading (after every message seen). */
  clock(): Hlc;
  /**
   * Checks the message's signature (cached until the message changes). Costs one Ed25519
   * verification the first time: call it for the messages on screen, not for all of them.
   */
  authenticity(id: string): Authenticity;
  /**
   * The result of an earlier authenticity() check while the message has not changed since;
   * undefined when it was not checked (costs nothing: for rendering without waiting on it).
   */
  checkedAuthenticity(id: string): Authenticity | undefined;
  /** Stop observing the doc. */
  destroy(): void;
  /**
   * Calls `listener` after each change with the ids of messages added, changed (text, edit,
   * delete, reactions) or removed from the doc. Returns a function that stops it.
   */
  onMessagesChange(listener: (ids: string[]) => void): () => void;
  /**
   * Calls `listener` after every change to the conversation (messages, receipts, members,
   * name, announcements); `local` when this device made it. Returns the unsubscribe function.
   */
  onChange(listener: (change: { local: boolean }) => void): () => void;
  /** 1:1 only: announce a group to the other member (see app/groups.ts). */
  announceGroup(groupId: string, info: GroupAnnouncement): void;
  /** 1:1 only: the raw announcements (group id -> untrusted value) for the caller to validate. */
  announcements(): [string, unknown][];
}
