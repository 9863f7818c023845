/**
 * The Chat façade's types: the commands the UI calls by conversation id and the read models it
 * renders. Plain data only: nothing here is a Yjs type (those stay inside src/lib/sync).
 */
import type {
  Contact,
  Contacts,
  ContactsStorage,
  Profile,
  ProfileStore
} from '../contacts/index.js';
import type { P2PNode } from '../p2p/types.js';
import type { DocStore } from '../storage/doc-store.js';
import type { HistoryStore } from '../storage/history-store.js';
import type {
  Authenticity,
  ConversationKind,
  Message,
  MessageStatus,
  SyncInit,
  SyncTransport
} from '../sync/index.js';
import type { ChatPairing } from './pairing.js';
import type { Presence, PresenceTimers, VisibilitySource } from './presence.js';

export interface ChatConfig {
  node: P2PNode;
  /** Where conversations are kept: head and segment docs plus the message index. */
  history: HistoryStore;
  /** Where conversations were kept before segments: moved into `history` when opened. */
  docs?: DocStore;
  storage: ContactsStorage;
  /** Base of invite links. */
  origin: string;
  /**
   * Where the page itself was loaded from: relay addresses on private networks found in an
   * invite are dialed only when this is a private address too (default: no private relays).
   */
  pageOrigin?: string;
  /** Dial contacts in the background (default true). */
  dialContacts?: boolean;
  /** Sync frames over this instead of the node's libp2p streams (tests). */
  syncTransport?: SyncTransport;
  /** Options of the sync service (tests: `{ deflate: 'inline' }` with a stepped network). */
  syncInit?: SyncInit;
  /** Presence and receipt timers (default: the real ones) and page visibility (default: `document`). */
  presenceTimers?: PresenceTimers;
  visibility?: VisibilitySource;
  /** Receipts wait at most this long to be written, coalesced (default RECEIPT_INTERVAL_MS). */
  receiptIntervalMs?: number;
}

/** One row of the conversation list. */
export interface ConversationSummary {
  id: string;
  kind: ConversationKind;
  /** The contact's display name (1:1) or the group name. */
  name: string;
  members: string[];
  unread: number;
  last?: Message;
  /** The last message is this device's own: its status ("pending" shows a marker). */
  lastStatus?: MessageStatus;
}

/** The header of an open conversation. */
export interface ConversationInfo {
  id: string;
  kind: ConversationKind;
  /** The contact's display name (1:1) or the group name. */
  name: string;
  /** The group's own name ('' for 1:1). */
  groupName: string;
  /** Member peer IDs, sorted. */
  members: string[];
  /** 1:1 only: the other device. */
  peer?: string;
  /** Group only: this device left it. */
  left: boolean;
  /** Number of messages. */
  size: number;
  /**
   * Display names of members whose app speaks no sync version this one does: nothing reaches
   * them, or comes from them, until one side updates.
   */
  outdated: string[];
}

/** What `Chat.send` takes besides the text. */
export interface SendMessageOptions {
  /** Id of the quoted message. */
  replyTo?: string;
  /** A file attachment record (opaque: made by the files layer); the text is its caption. */
  file?: string;
}

/** A quoted message as its reply shows it. */
export interface ReplyPreview {
  id: string;
  /** "You", the contact's name, or a short peer ID. */
  author: string;
  /** Empty when the quoted message was deleted, or is a file without a caption. */
  text: string;
  /** The quoted message's file record (undefined when none or deleted). */
  file?: string;
}

export interface ReactionView {
  emoji: string;
  count: number;
  /** This device reacted with it. */
  mine: boolean;
}

/** One message as the conversation view renders it. */
export interface MessageRow {
  id: string;
  /** Order key (messages sort by it). */
  key: string;
  author: string;
  /** "You", the contact's name, or a short peer ID. */
  authorName: string;
  mine: boolean;
  /** Empty once deleted; may be empty when the message carries a file (its caption). */
  text: string;
  /**
   * The file attachment record (opaque: the files layer reads it), undefined when none or
   * once deleted.
   */
  file?: string;
  /** When it was written (ms since epoch, clamped to when this device first saw it). */
  at: number;
  edited: boolean;
  deleted: boolean;
  /** Whether its signature matches its author (checked for the rows asked for only). */
  authenticity: Authenticity;
  replyTo?: ReplyPreview;
  reactions: ReactionView[];
  /** Own messages only. */
  status?: MessageStatus;
}

/** What changed: a conversation (its id), the contact book, or the list of conversations. */
export type ChatChange =
  | { type: 'conversation'; conversationId: string }
  | { type: 'contacts' }
  | { type: 'list' }
  | { type: 'typing'; conversationId: string; peer: string }
  | { type: 'presence'; peer: string };

/** Counters of work done, for benchmarks and diagnostics. */
export interface ChatStats {
  /** Delivered/read marks written (each one document update). */
  receiptWrites: number;
}

/**
 * The messenger as the UI sees it: commands by conversation id, read models to render, and
 * change notifications. Errors are typed (`err.name`); `describeError()` puts them in words.
 */
export interface Chat {
  readonly profile: ProfileStore;
  readonly contacts: Contacts;
  /** This device's peer ID (after start). */
  readonly self: string;
  /** Short-code pairing (after start): see pairing.ts. */
  readonly pairing: ChatPairing;
  /** Loads the contacts; registers the invite and sync protocols; opens stored conversations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stores what is still queued for storage now (the page is being hidden or closed). */
  flush(): Promise<void>;
  onChange(listener: (change: ChatChange) => void): () => void;

  // --- read models ---
  /** Conversations this device belongs to, newest activity first. */
  summaries(): ConversationSummary[];
  /** Ids of the conversations this device belongs to (cheaper than summaries()). */
  conversationIds(): string[];
  /** The header of a conversation, or undefined while it has not arrived. */
  info(conversationId: string): ConversationInfo | undefined;
  /**
   * Ids of the loaded window of messages (the newest ones, then older ones as loadOlder/reveal
   * extend it), oldest first: the same array until it changes.
   */
  messageIds(conversationId: string): readonly string[];
  /** Number of messages in all of history (messageIds() may hold fewer). */
  messageCount(conversationId: string): number;
  /**
   * Extends the window by up to `count` (default LOAD_OLDER_COUNT) older messages; resolves
   * with how many were added (0: the oldest message is already in the window). Emits a
   * 'conversation' change.
   */
  loadOlder(conversationId: string, count?: number): Promise<number>;
  /** Whether the reader is at the newest messages of the conversation (see Conversation). */
  following(conversationId: string, atNewest: boolean): void;
  /**
   * Extends the window until it holds `messageId` (a search result); false when there is no
   * such message.
   */
  reveal(conversationId: string, messageId: string): Promise<boolean>;
  /**
   * Visits every message, oldest first, batch by batch (one segment at a time): the search
   * index build. Resolves after the last batch; stops early once `signal` aborts.
   */
  scanMessages(
    conversationId: string,
    visit: (batch: Message[]) => void | Promise<void>,
    options?: { signal?: AbortSignal }
  ): Promise<void>;
  /** Position of a message in messageIds() (the window), or -1. */
  position(conversationId: string, messageId: string): number;
  /** A message as the view renders it: status, authenticity and reply preview included. */
  row(conversationId: string, messageId: string): MessageRow | undefined;
  /** The plain message (no status or names), e.g. for the search index. */
  message(conversationId: string, messageId: string): Message | undefined;
  /** Calls `listener` with the ids of messages added, changed or removed. */
  onMessagesChange(conversationId: string, listener: (ids: string[]) => void): () => void;
  /** A contact's presence (ephemeral: from notices heard while connected); own state for self. */
  presence(peer: string): Presence;
  stats(): ChatStats;

  // --- commands ---
  /**
   * Sends a message (a reply when `replyTo` is set); returns its id. With `file` (a file
   * record of the files layer, at most MAX_FILE_RECORD_LENGTH UTF-16 units) the message
   * carries that attachment and `text` is its optional caption (may be empty).
   */
  send(conversationId: string, text: string, options?: SendMessageOptions): string;
  /** Only the author. The caption of a message with a file may be emptied. */
  edit(conversationId: string, messageId: string, text: string): void;
  /** Deletes for everyone: only the author. */
  remove(conversationId: string, messageId: string): void;
  /** Toggles this device's reaction; returns whether it is now set. */
  react(conversationId: string, messageId: string, emoji: string): boolean;
  /** Marks everything in the conversation read (now). */
  markRead(conversationId: string): void;
  /**
   * The conversation on screen (undefined: none). While the page is visible, what arrives in it
   * is marked read; everything else that arrives is marked delivered.
   */
  show(conversationId: string | undefined): void;
  /** Sends a short typing notice to connected members. */
  typing(conversationId: string): void;
  createInvite(): Promise<string>;
  /** Accepts an invite link; returns the 1:1 conversation id with the inviter. */
  acceptInvite(link: string): Promise<{ contact: Contact; conversationId: string }>;
  /**
   * Same name rules as renameGroup; members must be contacts (not blocked).
   * @throws InvalidGroupNameError, NotAContactError
   */
  createGroup(name: string, members: string[]): Promise<string>;
  /**
   * Renames a group this device belongs to (trimmed, 1 to MAX_GROUP_NAME_LENGTH characters).
   * @throws InvalidGroupNameError, UnknownGroupError
   */
  renameGroup(conversationId: string, name: string): Promise<void>;
  /**
   * Adds contacts to a group; each gets it announced through the 1:1 conversation with them.
   * @throws UnknownGroupError, NotAContactError
   */
  addGroupMembers(conversationId: string, peers: string[]): Promise<void>;
  /** This device stops being a member (the others keep the group). */
  leaveGroup(conversationId: string): void;
  /** Unblocks a contact and asks it again for what was refused while it was blocked. */
  unblock(peer: string): Promise<void>;
}

export type { Profile };
