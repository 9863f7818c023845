/**
 * The messenger half of the composition root: wires the profile, the contact book, invites and
 * conversation sync onto a started P2PNode. createApp() starts the node; createChat() then runs
 * the app protocols on `node.libp2p`.
 *
 * ```ts
 * const chat = createChat({ node: app.node, docs: createIdbDocStore(), storage, origin });
 * await app.start();
 * await chat.start(); // INVITE_PROTOCOL + SYNC_PROTOCOL registered, stored conversations open
 * const { link } = await chat.createInvite();
 * chat.onChange(() => render(chat.summaries()));
 * ```
 *
 * Rules it enforces:
 * - a peer may sync a conversation only if it is a member of it and not blocked;
 * - an accepted invite gives both devices the same 1:1 conversation, whose id is derived from
 *   the two sorted peer IDs (directConversationId), so nobody has to announce it;
 * - a group is announced to each member through the 1:1 conversation with them (a `groups`
 *   map in that doc: group id -> { name, members }), so it arrives even if they are offline now.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { verifyByPeer } from '../crypto/signing.js';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  createContacts,
  createInvites,
  createPairing,
  createProfileStore,
  type Contact,
  type Contacts,
  type ContactsStorage,
  type Invites,
  type Profile,
  type ProfileStore
} from '../contacts/index.js';
import type { P2PNode } from '../p2p/types.js';
import type { DocStore } from '../storage/doc-store.js';
import {
  createLibp2pSyncTransport,
  createSync,
  type Conversation,
  type ConversationKind,
  type Message,
  type MessageStatus,
  type Sync,
  type SyncTransport
} from '../sync/index.js';
import { ChatNotStartedError } from './errors.js';
import { createChatPairing, type ChatPairing } from './pairing.js';
import { decodeEphemeral, encodeEphemeral } from '../sync/ephemeral.js';
import {
  announceGroup,
  cleanGroupName,
  createMemberWatch,
  NotAContactError,
  UnknownGroupError
} from './groups.js';
import {
  createPresenceAnnouncer,
  createPresenceTracker,
  type Presence,
  type PresenceAnnouncer,
  type PresenceTracker,
  type PresenceTimers,
  type VisibilitySource
} from './presence.js';

/** Pause between attempts to reach contacts that are not connected. */
export const CONTACT_REDIAL_MS = 15_000;

export interface ChatConfig {
  node: P2PNode;
  docs: DocStore;
  storage: ContactsStorage;
  /** Base of invite links. */
  origin: string;
  /** Dial contacts in the background (default true). */
  dialContacts?: boolean;
  /** Sync frames over this instead of the node's libp2p streams (tests). */
  syncTransport?: SyncTransport;
  /** Presence timers (default: the real ones) and page visibility (default: `document`). */
  presenceTimers?: PresenceTimers;
  visibility?: VisibilitySource;
}

export interface ConversationSummary {
  id: string;
  kind: ConversationKind;
  /** The contact's display name (1:1) or the group name. */
  name: string;
  members: string[];
  unread: number;
  last?: Message;
}

/** What changed: a conversation (its id), the contact book, or the list of conversations. */
export type ChatChange =
  | { type: 'conversation'; conversationId: string }
  | { type: 'contacts' }
  | { type: 'list' }
  | { type: 'typing'; conversationId: string; peer: string }
  | { type: 'presence'; peer: string };

export interface Chat {
  readonly profile: ProfileStore;
  readonly contacts: Contacts;
  /** This device's peer ID (after start). */
  readonly self: string;
  /** Loads the contacts; registers the invite and sync protocols; opens stored conversations. */
  start(): Promise<void>;
  stop(): Promise<void>;
  summaries(): ConversationSummary[];
  conversation(id: string): Conversation | undefined;
  messageStatus(conversationId: string, messageId: string): MessageStatus | undefined;
  createInvite(): Promise<string>;
  /** Accepts an invite link; returns the 1:1 conversation id with the inviter. */
  acceptInvite(link: string): Promise<{ contact: Contact; conversationId: string }>;
  /** Creates a group with `members` (contact peer IDs); returns its id. */
  /**
   * Same name rules as renameGroup; members must be contacts (not blocked).
   * @throws InvalidGroupNameError, NotAContactError
   */
  createGroup(name: string, members: string[]): Promise<string>;
  /** Sends a short typing notice to connected members. */
  typing(conversationId: string): void;
  /**
   * Renames a group this device belongs to (trimmed, 1 to 64 characters).
   * @throws InvalidGroupNameError, UnknownGroupError
   */
  renameGroup(conversationId: string, name: string): Promise<void>;
  /**
   * Adds contacts to a group; each gets it announced through the 1:1 conversation with them.
   * @throws UnknownGroupError, NotAContactError
   */
  addGroupMembers(conversationId: string, peers: string[]): Promise<void>;
  /** A contact's presence (ephemeral: from notices heard while connected); own state for self. */
  presence(peer: string): Presence;
  /** Unblocks a contact and asks it again for what was refused while it was blocked. */
  unblock(peer: string): Promise<void>;
  /** Short-code pairing (after start): see pairing.ts. */
  readonly pairing: ChatPairing;
  onChange(listener: (change: ChatChange) => void): () => void;
}

/** The 1:1 conversation id of two devices: hex SHA-256 of the sorted peer IDs. */
export function directConversationId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  const bytes = sha256(new TextEncoder().encode(`p2p4e/1:1\n${x}\n${y}`));
  return `d-${[...bytes].map((n) => n.toString(16).padStart(2, '0')).join('')}`;
}

/** Groups announced to this device and not arrived yet: per contact, and in all. */
const MAX_PENDING_JOINS_PER_CONTACT = 16;
const MAX_PENDING_JOINS = 64;
/** Members an announcement may list. */
const MAX_ANNOUNCED_MEMBERS = 256;

function isPeerId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 128) return false;
  try {
    peerIdFromString(value);
    return true;
  } catch {
    return false;
  }
}

const TYPING = encodeEphemeral({ v: 1, t: 'typing' });
const GROUPS_KEY = 'groups';

export function createChat(config: ChatConfig): Chat {
  return new ChatService(config);
}

class ChatService implements Chat {
  readonly profile: ProfileStore;
  readonly contacts: Contacts;
  readonly #config: ChatConfig;
  readonly #listeners = new Set<(change: ChatChange) => void>();
  readonly #watched = new Map<string, () => void>();
  /** Groups announced to this device whose doc has not arrived yet: id -> who may send it. */
  readonly #joining = new Map<string, Set<string>>();
  /** Who announced each of those (caps what one contact can make this device wait for). */
  readonly #joiningBy = new Map<string, string>();
  #invites: Invites | undefined;
  #pairing: ChatPairing | undefined;
  #sync: Sync | undefined;
  #self = '';
  #unsubscribe: (() => void)[] = [];
  #redialTimer: ReturnType<typeof setInterval> | undefined;
  #dialing = new Set<string>();
  #running = false;
  readonly #memberWatch = createMemberWatch();
  readonly #presence: PresenceTracker;
  #announcer: PresenceAnnouncer | undefined;

  constructor(config: ChatConfig) {
    this.#config = config;
    this.profile = createProfileStore(config.storage.profile);
    this.contacts = createContacts({ store: config.storage.contacts });
    this.#presence = createPresenceTracker(
      config.presenceTimers === undefined ? {} : { timers: config.presenceTimers }
    );
  }

  get self(): string {
    return this.#self;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const { node } = this.#config;
    const host = node.libp2p;
    this.#self = node.peerId;
    await this.contacts.start();
    const sync = createSync(
      {},
      {
        transport: this.#config.syncTransport ?? createLibp2pSyncTransport(host),
        self: this.#self,
        docs: this.#config.docs,
        // Messages are signed with the device key; signatures are checked per shown message.
        sign: (data) => node.sign(data),
        verify: verifyByPeer,
        access: {
          canSync: (peer, id) => {
            if (this.contacts.isBlocked(peer)) return false;
            const conv = sync.conversation(id);
            if (conv?.meta() !== undefined) return conv.isMember(peer);
            // A group announced to us whose doc has not arrived: its announced members.
            return this.#joining.get(id)?.has(peer) ?? false;
          }
        }
      }
    );
    this.#sync = sync;
    const invites = createInvites(
      { origin: this.#config.origin },
      {
        host,
        contacts: this.contacts,
        store: this.#config.storage.invites,
        profile: () => this.profile.load(),
        relays: () =>
          node.state.relays
            .filter((r) => r.status === 'reserved' && r.peerId !== '')
            .map((r) => r.addr)
      }
    );
    this.#invites = invites;
    const pairing = createChatPairing(
      {},
      {
        pairing: createPairing(
          {},
          {
            host,
            pubsub: host.services.pubsub,
            contacts: this.contacts,
            profile: () => this.profile.load(),
            addresses: () => node.state.addresses
          }
        ),
        contacts: this.contacts,
        relays: () => node.state.relays,
        openDirect: async (peer) => {
          const id = directConversationId(this.#self, peer);
          const created = sync.conversation(id)?.meta() === undefined;
          return { conversationId: await this.#openDirect(peer), created };
        },
        dial: (peer) => this.#dial(peer),
        forget: (id) => this.#forget(id)
      }
    );
    this.#pairing = pairing;
    await sync.start();
    await invites.start();
    await pairing.start();
    for (const id of await this.#config.docs.list()) {
      try {
        await this.#open(id);
      } catch {
        // An unreadable conversation is skipped; the others still open.
      }
    }
    this.#unsubscribe.push(
      invites.onAccepted(({ contact }) => {
        void this.#openDirect(contact.peerId).then(() => this.#dial(contact.peerId));
      }),
      this.contacts.onChange(() => {
        // A blocked or removed contact's last presence notice no longer counts.
        for (const peer of this.#presence.peers()) {
          const contact = this.contacts.get(peer);
          if (contact === undefined || contact.blocked) this.#presence.disconnected(peer);
        }
        this.#emit({ type: 'contacts' });
      }),
      sync.onEvent((event) => {
        if (event.type === 'status') {
          this.#emit({ type: 'conversation', conversationId: event.conversationId });
        } else if (event.type === 'ephemeral') {
          this.#onEphemeral(event.conversationId, event.peer, event.payload);
        } else if (
          event.type === 'synced' &&
          this.#isDirectWith(event.conversationId, event.peer)
        ) {
          // The 1:1 conversation with this contact just went live: tell it we're here.
          this.#announcer?.announceTo(event.peer);
        }
      }),
      this.#presence.onChange((peer) => this.#emit({ type: 'presence', peer }))
    );
    this.#announcer = createPresenceAnnouncer({
      send: (peer, s) => this.#sendEphemeral(directConversationId(this.#self, peer), s),
      peers: () => this.contacts.list().flatMap((c) => (c.blocked ? [] : [c.peerId])),
      ...(this.#config.presenceTimers === undefined ? {} : { timers: this.#config.presenceTimers }),
      ...(this.#config.visibility === undefined ? {} : { visibility: this.#config.visibility }),
      onOwnChange: () => this.#emit({ type: 'presence', peer: this.#self })
    });
    this.#announcer.start();
    node.addEventListener('state', this.#onPresenceState);
    if (this.#config.dialContacts !== false) {
      node.addEventListener('state', this.#onNodeState);
      this.#redialTimer = setInterval(() => this.#dialAll(), CONTACT_REDIAL_MS);
      this.#dialAll();
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearInterval(this.#redialTimer);
    this.#config.node.removeEventListener('state', this.#onNodeState);
    this.#config.node.removeEventListener('state', this.#onPresenceState);
    this.#announcer?.stop();
    this.#presence.clear();
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
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  summaries(): ConversationSummary[] {
    const sync = this.#sync;
    if (sync === undefined) return [];
    const out: ConversationSummary[] = [];
    for (const id of sync.conversations()) {
      const conv = sync.conversation(id);
      const meta = conv?.meta();
      if (conv === undefined || meta === undefined) continue;
      if (!conv.isMember(this.#self)) continue;
      const members = conv.members();
      const last = conv.messages({ limit: 1 })[0];
      out.push({
        id,
        kind: meta.kind,
        name: this.#nameOf(meta.kind, meta.name, members),
        members,
        unread: conv.unreadCount(this.#self),
        ...(last === undefined ? {} : { last })
      });
    }
    // Newest activity first; conversations without messages keep their creation order.
    return out.sort((a, b) => (b.last?.key ?? '').localeCompare(a.last?.key ?? ''));
  }

  conversation(id: string): Conversation | undefined {
    return this.#sync?.conversation(id);
  }

  messageStatus(conversationId: string, messageId: string): MessageStatus | undefined {
    return this.#sync?.messageStatus(conversationId, messageId);
  }

  async createInvite(): Promise<string> {
    const { link } = await this.#requireInvites().create();
    return link;
  }

  async acceptInvite(link: string): Promise<{ contact: Contact; conversationId: string }> {
    const contact = await this.#requireInvites().accept(link);
    const conversationId = await this.#openDirect(contact.peerId);
    this.#dial(contact.peerId);
    return { contact, conversationId };
  }

  async createGroup(name: string, members: string[]): Promise<string> {
    name = cleanGroupName(name);
    members = [...new Set(members)].filter((p) => p !== this.#self);
    for (const peer of members) {
      const contact = this.contacts.get(peer);
      if (contact === undefined || contact.blocked) {
        throw new NotAContactError('Only your contacts can be added to a group.');
      }
    }
    const id = `g-${crypto.randomUUID()}`;
    const conv = await this.#open(id);
    conv.init({ kind: 'group', name, members });
    for (const peer of members) this.#sync?.resync(peer);
    const all = conv.members();
    // Announce it in the 1:1 conversation with each member (stored, so it reaches them later).
    for (const peer of members) {
      if (peer === this.#self) continue;
      const direct = await this.#openDirect(peer);
      const doc = this.conversation(direct)?.doc;
      doc?.getMap(GROUPS_KEY).set(id, { name, members: all });
    }
    this.#emit({ type: 'list' });
    return id;
  }

  typing(conversationId: string): void {
    try {
      this.#sync?.sendEphemeral(conversationId, TYPING);
    } catch {
      // Typing notices are best effort.
    }
  }

  async renameGroup(conversationId: string, name: string): Promise<void> {
    const conv = this.#requireGroup(conversationId);
    const clean = cleanGroupName(name);
    if (conv.meta()?.name === clean) return;
    conv.rename(clean);
    await this.#announceGroup(conversationId, conv);
    this.#emit({ type: 'list' });
  }

  async addGroupMembers(conversationId: string, peers: string[]): Promise<void> {
    const conv = this.#requireGroup(conversationId);
    const added = [...new Set(peers)].filter((p) => p !== this.#self && !conv.isMember(p));
    for (const peer of added) {
      const contact = this.contacts.get(peer);
      if (contact === undefined || contact.blocked) {
        throw new NotAContactError('Only your contacts can be added to a group.');
      }
    }
    if (added.length === 0) return;
    conv.addMembers(added);
    this.#memberWatch.added(conversationId, conv.members());
    for (const peer of added) this.#sync?.resync(peer);
    await this.#announceGroup(conversationId, conv);
    this.#emit({ type: 'list' });
  }

  presence(peer: string): Presence {
    if (peer === this.#self) return this.#announcer?.state() ?? 'offline';
    return this.#presence.get(peer);
  }

  #requireGroup(conversationId: string): Conversation {
    const conv = this.conversation(conversationId);
    if (conv?.meta()?.kind !== 'group' || !conv.isMember(this.#self)) {
      throw new UnknownGroupError('This group is not available on this device.');
    }
    return conv;
  }

  /** Updates the group's announcement in the 1:1 conversation with every member who is a contact. */
  async #announceGroup(groupId: string, conv: Conversation): Promise<void> {
    const name = conv.meta()?.name ?? '';
    const members = conv.members();
    for (const peer of members) {
      if (peer === this.#self || this.contacts.get(peer) === undefined) continue;
      const direct = this.conversation(await this.#openDirect(peer));
      if (direct !== undefined) announceGroup(direct.doc, groupId, { name, members });
    }
  }

  #onEphemeral(conversationId: string, peer: string, payload: Uint8Array): void {
    const notice = decodeEphemeral(payload);
    if (notice === undefined) return; // malformed or from a newer version: ignored
    if (notice.t === 'typing') {
      this.#emit({ type: 'typing', conversationId, peer });
    } else if (this.#isDirectWith(conversationId, peer) && !this.contacts.isBlocked(peer)) {
      this.#presence.heard(peer, notice.s);
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

  #onPresenceState = (): void => {
    const connected = new Set(this.#config.node.state.peers.map((p) => p.peerId));
    for (const contact of this.contacts.list()) {
      if (!connected.has(contact.peerId)) this.#presence.disconnected(contact.peerId);
    }
  };

  async unblock(peer: string): Promise<void> {
    await this.contacts.unblock(peer);
    this.#sync?.resync(peer);
    this.#dial(peer);
  }

  get pairing(): ChatPairing {
    if (this.#pairing === undefined) throw new ChatNotStartedError('The app has not started yet.');
    return this.#pairing;
  }

  #requireInvites(): Invites {
    if (this.#invites === undefined) throw new ChatNotStartedError('The app has not started yet.');
    return this.#invites;
  }

  #nameOf(kind: ConversationKind, name: string, members: string[]): string {
    if (kind === 'group') return name;
    const other = members.find((m) => m !== this.#self);
    if (other === undefined) return name || 'Me';
    return this.contacts.displayName(other) ?? `${other.slice(0, 8)}…${other.slice(-6)}`;
  }

  async #openDirect(peer: string): Promise<string> {
    const id = directConversationId(this.#self, peer);
    const conv = await this.#open(id);
    if (conv.meta() === undefined) {
      conv.init({ kind: '1:1', members: [peer] });
      // Opened before it had members: nobody was asked for it yet.
      this.#sync?.resync(peer);
    }
    this.#emit({ type: 'list' });
    return id;
  }

  async #forget(id: string): Promise<void> {
    this.#watched.get(id)?.();
    this.#watched.delete(id);
    await this.#sync?.delete(id);
    this.#emit({ type: 'list' });
  }

  async #open(id: string): Promise<Conversation> {
    const sync = this.#sync;
    if (sync === undefined) throw new ChatNotStartedError('The app has not started yet.');
    if (sync.conversation(id) === undefined) await sync.open(id);
    const conv = sync.conversation(id);
    if (conv === undefined) throw new Error(`conversation ${id} did not open`);
    if (!this.#watched.has(id)) {
      const onUpdate = (): void => this.#onDocUpdate(id);
      conv.doc.on('update', onUpdate);
      this.#watched.set(id, () => conv.doc.off('update', onUpdate));
      this.#onDocUpdate(id);
    }
    return conv;
  }

  #onDocUpdate(id: string): void {
    const conv = this.#sync?.conversation(id);
    if (conv === undefined) return;
    // Everything that reached this device is delivered.
    const newest = conv.messages({ limit: 1 })[0];
    if (newest !== undefined && newest.author !== this.#self) {
      const mine = conv.receipts(this.#self).delivered;
      if (mine === undefined || mine < newest.key) conv.markDelivered();
    }
    if (conv.meta() !== undefined && this.#joining.delete(id)) {
      this.#joiningBy.delete(id);
      this.#emit({ type: 'list' });
    }
    if (conv.meta()?.kind === '1:1') this.#joinAnnouncedGroups(conv);
    if (conv.meta()?.kind === 'group') {
      // Members added by someone else: ask them for the group (they may be connected already).
      for (const peer of this.#memberWatch.added(id, conv.members())) {
        if (peer !== this.#self) this.#sync?.resync(peer);
      }
    }
    this.#emit({ type: 'conversation', conversationId: id });
  }

  /**
   * Joins the groups announced in a 1:1 conversation. The group's own doc is the truth (name,
   * members, who left): it is not written here, only asked for from the announced members,
   * who may sync it with us until it arrives. (Writing the announced name and members into
   * an empty doc would race with renames and departures made since the announcement.)
   */
  #joinAnnouncedGroups(direct: Conversation): void {
    const announcer = direct.members().find((m) => m !== this.#self);
    if (announcer === undefined) return;
    const announced = direct.doc.getMap<unknown>(GROUPS_KEY);
    const ask = new Set<string>();
    for (const [groupId, value] of announced.entries()) {
      if (this.#sync?.conversation(groupId)?.meta() !== undefined) continue;
      if (!/^g-[0-9a-f-]{36}$/.test(groupId)) continue;
      const info = value as { name?: unknown; members?: unknown } | undefined;
      if (typeof info?.name !== 'string' || !Array.isArray(info.members)) continue;
      // Untrusted (the contact wrote it): bounded, well-formed, and naming both of us.
      if (info.members.length > MAX_ANNOUNCED_MEMBERS) continue;
      const members = info.members.filter(isPeerId);
      if (!members.includes(this.#self) || !members.includes(announcer)) continue;
      let from = this.#joining.get(groupId);
      if (from === undefined) {
        const byAnnouncer = [...this.#joiningBy.values()].filter((a) => a === announcer).length;
        if (byAnnouncer >= MAX_PENDING_JOINS_PER_CONTACT) continue;
        if (this.#joining.size >= MAX_PENDING_JOINS) continue;
        from = new Set<string>();
        this.#joining.set(groupId, from);
        this.#joiningBy.set(groupId, announcer);
      }
      const fresh = members.filter((m) => m !== this.#self && !from.has(m));
      if (fresh.length === 0) continue;
      for (const peer of fresh) {
        from.add(peer);
        ask.add(peer);
      }
      void this.#open(groupId).catch(() => undefined);
    }
    // Once per peer (a resync asks for every conversation it may sync), after the opens.
    if (ask.size > 0) {
      void Promise.resolve().then(() => {
        for (const peer of ask) this.#sync?.resync(peer);
      });
    }
  }

  #emit(change: ChatChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  #onNodeState = (): void => {
    if (this.#config.node.state.status === 'online') this.#dialAll();
  };

  #dialAll(): void {
    if (!this.#running || this.#config.node.state.status !== 'online') return;
    const connected = new Set(this.#config.node.state.peers.map((p) => p.peerId));
    for (const contact of this.contacts.list()) {
      if (contact.blocked || connected.has(contact.peerId)) continue;
      this.#dial(contact.peerId);
    }
  }

  #dial(peer: string): void {
    if (this.#dialing.has(peer) || !this.#running) return;
    if (this.#config.node.state.peers.some((p) => p.peerId === peer && p.connection === 'direct')) {
      return;
    }
    this.#dialing.add(peer);
    void this.#config.node
      .connect(peer)
      .catch(() => undefined)
      .finally(() => this.#dialing.delete(peer));
  }
}

export type { Profile };
