/**
 * The Chat façade (types in chat-types.ts): the messenger the UI lives on. It runs the profile,
 * contact book, invites, pairing, presence and conversation sync on a started P2PNode, and offers
 * commands by conversation id and plain read models; no Yjs type reaches the UI.
 *
 * ```ts
 * const chat = createChat({ node: app.node, history: createIdbHistoryStore(), storage, origin });
 * await chat.start(); // INVITE_PROTOCOL + SYNC_PROTOCOL registered, stored conversations open
 * const id = chat.summaries()[0].id;
 * chat.send(id, 'hello');
 * chat.onChange((c) => c.type === 'conversation' && render(chat.messageIds(c.conversationId)));
 * ```
 *
 * Rules it enforces:
 * - a peer may sync a conversation only if it is a member of it and not blocked;
 * - an accepted invite gives both devices the same 1:1 conversation, whose id is derived from
 *   the two sorted peer IDs (directConversationId), so nobody has to announce it;
 * - groups: see group-service.ts; receipts: see receipts.ts (one policy, coalesced).
 */
import {
  createContacts,
  createProfileStore,
  type Contact,
  type Contacts,
  type Invites,
  type ProfileStore
} from '../contacts/index.js';
import {
  type Conversation,
  type Message,
  type Sync,
  UnknownConversationError
} from '../sync/index.js';
import { SEGMENT_MESSAGES } from '../sync/constants.js';
import { decodeEphemeral, encodeEphemeral } from '../sync/ephemeral.js';
import type {
  Chat,
  ChatChange,
  ChatConfig,
  ChatStats,
  ConversationInfo,
  ConversationSummary,
  MessageRow,
  SendMessageOptions
} from './chat-types.js';
import { createContactDialer, type ContactDialer } from './contact-dialer.js';
import { ChatNotStartedError } from './errors.js';
import type { GroupService } from './group-service.js';
import { createChatServices } from './chat-services.js';
import type { ChatPairing } from './pairing.js';
import type { ChatPresence } from './chat-presence.js';
import type { Presence } from './presence.js';
import type { ReceiptPolicy } from './receipts.js';
import { createDeferredSignatureChecks } from './signature-checks.js';
import { IncompatiblePeers } from './incompatible-peers.js';
import { conversationInfo, messageRow, summaryOf } from './rows.js';
import { createChatChanges } from './chat-changes.js';
import { directConversationId, storedConversationIds } from './chat-sync.js';

export { directConversationId } from './chat-sync.js';

export { CONTACT_REDIAL_MS } from './contact-dialer.js';

/** Older messages loadOlder() adds by default. */
export const LOAD_OLDER_COUNT = 200;
/** Messages per batch of scanMessages() at most (one segment). */
export const SCAN_BATCH_SIZE = SEGMENT_MESSAGES;

const TYPING = encodeEphemeral({ v: 1, t: 'typing' });

/** A service made by start(): used before it, a named error. */
function started<T>(service: T | undefined): T {
  if (service === undefined) throw new ChatNotStartedError('The app has not started yet.');
  return service;
}

/** The Sync behind each Chat, for tests only (see testing.ts): the façade does not expose it. */
export const syncs = new WeakMap<Chat, () => Sync | undefined>();

export function createChat(config: ChatConfig): Chat {
  const chat = new ChatService(config);
  syncs.set(chat, () => chat.sync);
  return chat;
}

class ChatService implements Chat {
  readonly profile: ProfileStore;
  readonly contacts: Contacts;
  readonly #config: ChatConfig;
  readonly #changes = createChatChanges();
  readonly #watched = new Map<string, () => void>();
  #invites: Invites | undefined;
  #pairing: ChatPairing | undefined;
  #sync: Sync | undefined;
  #groups: GroupService | undefined;
  #receipts: ReceiptPolicy | undefined;
  #self = '';
  #unsubscribe: (() => void)[] = [];
  readonly #dialer: ContactDialer;
  #running = false;
  #presence: ChatPresence | undefined;
  /** Signatures of rendered rows, checked right after they are drawn. */
  readonly #signatures = createDeferredSignatureChecks({
    conversation: (id) => this.#conv(id),
    failed: (id) => this.#changes.conversation(id)
  });
  readonly #stats: ChatStats = { receiptWrites: 0 };
  readonly #incompatible = new IncompatiblePeers();

  constructor(config: ChatConfig) {
    this.#config = config;
    this.profile = createProfileStore(config.storage.profile);
    this.contacts = createContacts({ store: config.storage.contacts });
    this.#dialer = createContactDialer({
      node: config.node,
      contacts: this.contacts,
      background: config.dialContacts !== false
    });
  }

  get self(): string {
    return this.#self;
  }

  /** Not part of the Chat interface: see `syncs`. */
  get sync(): Sync | undefined {
    return this.#sync;
  }

  get pairing(): ChatPairing {
    return started(this.#pairing);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { node } = this.#config;
    this.#self = node.peerId;
    await this.contacts.start();
    const { groups, sync, receipts, presence, invites, pairing } = createChatServices({
      config: this.#config,
      self: this.#self,
      contacts: this.contacts,
      profile: this.profile,
      changes: this.#changes,
      stats: this.#stats,
      open: (id) => this.#open(id),
      openDirect: (peer) => this.#openDirect(peer),
      dial: (peer) => this.#dialer.dial(peer),
      isDirectWith: (id, peer) => this.#isDirectWith(id, peer),
      sendPresence: (id, state) => this.#sendEphemeral(id, state)
    });
    this.#groups = groups;
    this.#sync = sync;
    this.#receipts = receipts;
    this.#presence = presence;
    this.#invites = invites;
    this.#pairing = pairing;
    await sync.start();
    await invites.start();
    await pairing.start();
    for (const id of await storedConversationIds(this.#config)) {
      try {
        await this.#open(id);
      } catch (err) {
        // An unreadable conversation is skipped; the others still open.
        console.warn(`p2p4e: conversation ${id} could not be opened`, err);
      }
    }
    this.#unsubscribe.push(
      invites.onAccepted(({ contact }) => {
        void this.#openDirect(contact.peerId).then(() => this.#dialer.dial(contact.peerId));
      }),
      this.contacts.onChange(() => {
        presence.contactsChanged();
        this.#changes.emit({ type: 'contacts' });
      }),
      sync.onEvent((event) => {
        if (event.type === 'status') {
          this.#changes.conversation(event.conversationId);
        } else if (event.type === 'ephemeral') {
          this.#onEphemeral(event.conversationId, event.peer, event.payload);
        } else if (event.type === 'synced') {
          presence.synced(event.conversationId, event.peer);
          if (this.#incompatible.delete(event.peer)) this.#changes.emit({ type: 'contacts' });
        } else if (event.type === 'incompatible' && this.#incompatible.add(event.peer)) {
          this.#changes.emit({ type: 'contacts' });
        }
      })
    );
    presence.start();
    this.#dialer.start();
  }

  async flush(): Promise<void> {
    await this.#sync?.flush();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#dialer.stop();
    this.#presence?.stop();
    this.#receipts?.stop();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    for (const off of this.#watched.values()) off();
    this.#watched.clear();
    await this.#pairing?.stop();
    await this.#invites?.stop();
    await this.#sync?.stop();
    this.contacts.stop();
  }

  onChange(listener: (change: ChatChange) => void): () => void {
    return this.#changes.on(listener);
  }

  // --- read models ------------------------------------------------------------------------

  summaries(): ConversationSummary[] {
    const sync = this.#sync;
    if (sync === undefined) return [];
    const out: ConversationSummary[] = [];
    for (const id of sync.conversations()) {
      const conv = sync.conversation(id);
      const summary = conv === undefined ? undefined : summaryOf(id, conv, this.#names);
      if (summary === undefined) continue;
      // The list marks an own last message still waiting to go out.
      const last = summary.last;
      if (last !== undefined && last.author === this.#self && !last.deleted) {
        const status = sync.messageStatus(id, last.id);
        if (status !== undefined) summary.lastStatus = status;
      }
      out.push(summary);
    }
    // Newest activity first; conversations without messages keep their creation order.
    return out.sort((a, b) => (b.last?.key ?? '').localeCompare(a.last?.key ?? ''));
  }

  conversationIds(): string[] {
    const sync = this.#sync;
    if (sync === undefined) return [];
    return sync.conversations().filter((id) => {
      const conv = sync.conversation(id);
      return conv?.meta() !== undefined && conv.isMember(this.#self);
    });
  }

  info(conversationId: string): ConversationInfo | undefined {
    const conv = this.#conv(conversationId);
    if (conv === undefined) return undefined;
    return conversationInfo(conversationId, conv, this.#names, (p) => this.#incompatible.has(p));
  }

  messageIds(conversationId: string): readonly string[] {
    return this.#conv(conversationId)?.ids() ?? [];
  }

  position(conversationId: string, messageId: string): number {
    return this.#conv(conversationId)?.position(messageId) ?? -1;
  }

  row(conversationId: string, messageId: string): MessageRow | undefined {
    const conv = this.#conv(conversationId);
    const sync = this.#sync;
    if (conv === undefined || sync === undefined) return undefined;
    return messageRow(
      conv,
      messageId,
      this.#names,
      (id) => sync.messageStatus(conversationId, id),
      (id) => this.#signatures.authenticity(conversationId, conv, id)
    );
  }

  message(conversationId: string, messageId: string): Message | undefined {
    return this.#conv(conversationId)?.message(messageId);
  }

  messageCount(conversationId: string): number {
    return this.#conv(conversationId)?.size() ?? 0;
  }

  /** The model's change events tell the stores (one 'conversation' change). */
  async loadOlder(conversationId: string, count = LOAD_OLDER_COUNT): Promise<number> {
    return (await this.#conv(conversationId)?.loadOlder(count)) ?? 0;
  }

  following(conversationId: string, atNewest: boolean): void {
    this.#conv(conversationId)?.following(atNewest);
  }

  async reveal(conversationId: string, messageId: string): Promise<boolean> {
    return (await this.#conv(conversationId)?.reveal(messageId)) ?? false;
  }

  /** One batch per segment (at most SCAN_BATCH_SIZE messages). */
  async scanMessages(
    conversationId: string,
    visit: (batch: Message[]) => void | Promise<void>,
    options: { signal?: AbortSignal } = {}
  ): Promise<void> {
    await this.#conv(conversationId)?.scan(visit, options);
  }

  onMessagesChange(conversationId: string, listener: (ids: string[]) => void): () => void {
    return this.#conv(conversationId)?.onMessagesChange(listener) ?? (() => {});
  }

  presence(peer: string): Presence {
    return this.#presence?.get(peer) ?? 'offline';
  }

  stats(): ChatStats {
    return { ...this.#stats };
  }

  // --- commands ---------------------------------------------------------------------------

  send(conversationId: string, text: string, options: SendMessageOptions = {}): string {
    const conv = this.#requireConv(conversationId);
    const file = options.file === undefined ? {} : { file: options.file };
    const sent =
      options.replyTo === undefined
        ? conv.send(text, file)
        : conv.reply(options.replyTo, text, file);
    return sent.id;
  }

  edit(conversationId: string, messageId: string, text: string): void {
    this.#requireConv(conversationId).edit(messageId, text);
  }

  remove(conversationId: string, messageId: string): void {
    this.#requireConv(conversationId).remove(messageId);
  }

  react(conversationId: string, messageId: string, emoji: string): boolean {
    return this.#requireConv(conversationId).react(messageId, emoji);
  }

  markRead(conversationId: string): void {
    this.#receipts?.markRead(conversationId);
  }

  show(conversationId: string | undefined): void {
    this.#receipts?.show(conversationId);
  }

  typing(conversationId: string): void {
    try {
      this.#sync?.sendEphemeral(conversationId, TYPING);
    } catch {
      // Typing notices are best effort.
    }
  }

  async createInvite(): Promise<string> {
    const { link } = await this.#requireInvites().create();
    return link;
  }

  async acceptInvite(link: string): Promise<{ contact: Contact; conversationId: string }> {
    const contact = await this.#requireInvites().accept(link);
    const conversationId = await this.#openDirect(contact.peerId);
    this.#dialer.dial(contact.peerId);
    return { contact, conversationId };
  }

  createGroup(name: string, members: string[]): Promise<string> {
    return this.#requireGroups().create(name, members);
  }

  renameGroup(conversationId: string, name: string): Promise<void> {
    return this.#requireGroups().rename(conversationId, name);
  }

  addGroupMembers(conversationId: string, peers: string[]): Promise<void> {
    return this.#requireGroups().addMembers(conversationId, peers);
  }

  leaveGroup(conversationId: string): void {
    this.#requireGroups().leave(conversationId);
  }

  async unblock(peer: string): Promise<void> {
    await this.contacts.unblock(peer);
    this.#sync?.resync(peer);
    this.#dialer.dial(peer);
  }

  // --- internals --------------------------------------------------------------------------

  /** Names as the read models show them. */
  readonly #names = {
    self: (): string => this.#self,
    of: (peer: string): string => {
      if (peer === this.#self) return 'You';
      return this.contacts.displayName(peer) ?? `${peer.slice(0, 8)}…${peer.slice(-6)}`;
    }
  };

  #conv(conversationId: string): Conversation | undefined {
    return this.#sync?.conversation(conversationId);
  }

  #requireConv(conversationId: string): Conversation {
    const conv = started(this.#sync).conversation(conversationId);
    if (conv === undefined || conv.meta() === undefined) {
      throw new UnknownConversationError('This conversation is not on this device yet.');
    }
    return conv;
  }

  #requireInvites(): Invites {
    return started(this.#invites);
  }

  #requireGroups(): GroupService {
    return started(this.#groups);
  }

  #onEphemeral(conversationId: string, peer: string, payload: Uint8Array): void {
    const notice = decodeEphemeral(payload);
    if (notice === undefined) return; // malformed or from a newer version: ignored
    if (notice.t === 'typing') {
      this.#changes.emit({ type: 'typing', conversationId, peer });
    } else {
      this.#presence?.heard(conversationId, peer, notice.s);
    }
  }

  #isDirectWith(conversationId: string, peer: string): boolean {
    return peer !== this.#self && conversationId === directConversationId(this.#self, peer);
  }

  #sendEphemeral(conversationId: string, s: 'online' | 'away'): void {
    try {
      this.#sync?.sendEphemeral(conversationId, encodeEphemeral({ v: 1, t: 'presence', s }));
    } catch {
      // Presence is best effort (e.g. the 1:1 conversation is not open yet).
    }
  }

  async #openDirect(peer: string): Promise<string> {
    const id = directConversationId(this.#self, peer);
    const conv = await this.#open(id);
    if (conv.meta() === undefined) {
      conv.init({ kind: '1:1', members: [peer] });
      // Opened before it had members: nobody was asked for it yet.
      this.#sync?.resync(peer);
    }
    this.#changes.emit({ type: 'list' });
    return id;
  }

  async #open(id: string): Promise<Conversation> {
    const sync = started(this.#sync);
    const conv = sync.conversation(id) ?? (await sync.open(id));
    if (!this.#watched.has(id)) {
      this.#watched.set(
        id,
        conv.onChange(({ local }) => this.#onConversationChange(id, conv, local))
      );
      this.#onConversationChange(id, conv, false);
    }
    return conv;
  }

  #onConversationChange(id: string, conv: Conversation, local: boolean): void {
    // What arrives from others is delivered (or read, if on screen): one coalesced mark.
    if (!local) this.#receipts?.changed(id);
    this.#groups?.changed(id, conv);
    this.#changes.conversation(id);
  }
}
