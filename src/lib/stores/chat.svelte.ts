/**
 * The UI's view of the messenger: onboarding (profile), contacts, invites, groups and the list
 * of conversations, mirrored from the Chat service (src/lib/app/chat.ts) into $state fields.
 * The open conversation has its own store (conversation.svelte.ts).
 *
 * ```svelte
 * <script lang="ts">
 *   const { node, chat } = createBrowserStores();
 *   onMount(() => { void chat.start(); return () => void chat.stop(); });
 * </script>
 * {#if chat.me.onboarding === 'needed'}<Onboarding … />{/if}
 * ```
 */
import type { App } from '$lib/app';
import { createBrowserApp } from '$lib/app/app.browser';
import { browserSaveTarget } from '$lib/app/save.browser';
import type { Chat, ChatChange, ConversationSummary } from '$lib/app/chat-types';
import { describeError } from '$lib/app/error-text';
import { createDraftStore, pageStorage, type DraftStore } from '$lib/app/drafts';
import { parseConversationHash } from '$lib/app/links';
import type { Contact } from '$lib/contacts';
import { ConversationStore } from './conversation.svelte';
import { FilesStore, type SaveTarget } from './files.svelte';
import { NodeStore } from './node.svelte';
import { OwnProfileStore } from './own-profile.svelte';
import { PairingStore } from './pairing.svelte';
import { PresenceStore } from './presence.svelte';
import { SearchStore } from './search.svelte';

const INVITE_HASH = '#/invite/';

/** Six digits, maybe grouped with a space or dash: a pairing code, not an invite. */
function isPairingCode(text: string): boolean {
  return /^\d{3}[\s-]?\d{3}$/.test(text);
}
const CONVERSATION_HASH = '#/c/';

const noSaving: SaveTarget = {
  save: () => Promise.reject(new Error('saving files is not available here'))
};

export class ChatStore {
  readonly #app: App;
  readonly #chat: Chat;
  readonly #node: NodeStore;
  /** "Pair with code" (short-code pairing and the safety-number check). */
  readonly pairing: PairingStore;

  /** This device's own profile: onboarding, and Settings → Profile. */
  readonly me: OwnProfileStore;

  /** Files in conversations: transfers, attaching, saving, previews. */
  readonly files: FilesStore;

  ready = $state(false);
  contacts = $state.raw<Contact[]>([]);
  conversations = $state.raw<ConversationSummary[]>([]);

  /** Which panel is open under the conversation list. */
  panel = $state<'none' | 'invite' | 'add' | 'group'>('none');
  inviteLink = $state('');
  inviteQr = $state('');
  inviteError = $state<string | undefined>(undefined);

  addDraft = $state('');
  /** An invite from the page's URL (or pasted), waiting for "Accept invite". */
  pendingInvite = $state<string | undefined>(undefined);
  accepting = $state(false);
  acceptError = $state<string | undefined>(undefined);
  notice = $state<string | undefined>(undefined);

  groupName = $state('');
  groupMembers = $state<string[]>([]);
  groupError = $state<string | undefined>(undefined);

  /** The conversation shown (from `#/c/<id>`). */
  openId = $state<string | undefined>(undefined);
  open = $state.raw<ConversationStore | undefined>(undefined);

  readonly activeContacts = $derived(this.contacts.filter((c) => !c.blocked));
  /** Contacts' online presence (ephemeral). */
  readonly presence: PresenceStore;

  /** Unsent drafts per conversation (this page's storage). */
  readonly #drafts: DraftStore;
  #started: Promise<void> | undefined;
  /** The contacts were listed once (later refreshes can tell who is new). */
  #listed = false;
  #off: (() => void) | undefined;
  /** Message to bring into view once its conversation is shown (`#/c/<id>/m/<message>`). */
  #focus: string | undefined;
  #refreshQueued = false;

  constructor(app: App, node: NodeStore, saveTarget: SaveTarget = noSaving) {
    this.#app = app;
    this.files = new FilesStore(app.files, saveTarget, app.webShares);
    this.files.start();
    const chat = app.chat;
    this.#chat = chat;
    this.#node = node;
    this.me = new OwnProfileStore(chat.profile);
    this.pairing = new PairingStore(chat, () => this.start());
    this.presence = new PresenceStore(chat);
    this.#drafts = createDraftStore(pageStorage());
  }

  get node(): NodeStore {
    return this.#node;
  }

  /** Reads the profile, starts the node, then the messenger on top of it. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    void this.me.load();
    await this.#node.start();
    if (this.#node.startError !== undefined) return;
    try {
      await this.#app.startMessenger();
    } catch (err) {
      this.#node.startError = describeError(err, 'start');
      return;
    }
    this.#off = this.#chat.onChange((change) => this.#onChange(change));
    this.presence.start();
    this.ready = true;
    this.#refresh();
    if (this.openId !== undefined) this.#openConversation(this.openId);
  }

  async stop(): Promise<void> {
    this.#off?.();
    this.presence.stop();
    this.open?.close();
    await this.#node.stop();
    this.#started = undefined;
  }

  /** Follows the page's hash: `#/invite/…` waits for "Accept invite", `#/c/<id>` opens it. */
  route(href: string): void {
    const at = href.indexOf('#');
    const hash = at < 0 ? '' : href.slice(at);
    if (hash.startsWith(INVITE_HASH)) {
      this.pendingInvite = href;
      this.acceptError = undefined;
    }
    const target = parseConversationHash(hash);
    const id = target?.conversationId;
    this.#focus = target?.messageId;
    if (id !== this.openId) {
      this.openId = id;
      if (this.ready) this.#openConversation(id);
    } else if (this.#focus !== undefined && this.open !== undefined) {
      this.open.focus = this.#focus;
    }
  }

  /** "New invite" always makes a fresh one-time link. */
  showInvite(): void {
    this.panel = 'invite';
    void this.newInvite();
  }

  togglePanel(panel: 'invite' | 'add' | 'group'): void {
    this.panel = this.panel === panel ? 'none' : panel;
    if (this.panel === 'invite') void this.newInvite();
    if (this.panel === 'group') {
      this.groupName = '';
      this.groupMembers = [];
      this.groupError = undefined;
    }
    if (this.panel === 'add') this.acceptError = undefined;
  }

  async newInvite(): Promise<void> {
    this.inviteError = undefined;
    this.inviteLink = '';
    this.inviteQr = '';
    try {
      await this.start();
      const link = await this.#chat.createInvite();
      this.inviteLink = link;
      const { inviteQrSvg } = await import('$lib/contacts/qr');
      const svg = await inviteQrSvg(link);
      this.inviteQr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
    } catch (err) {
      this.inviteError = describeError(err, 'invite');
    }
  }

  /** "Add": takes the pasted link or code as the invite to accept. */
  async addContact(): Promise<boolean> {
    const text = this.addDraft.trim();
    if (text === '') {
      this.acceptError = 'Paste the invite link you were given, or type the pairing code.';
      return false;
    }
    if (isPairingCode(text)) {
      // A short code shown on the other device ("Pair with code" → "Show a code"): pair with
      // it in the pairing panel, which then asks to compare the safety number.
      this.addDraft = '';
      this.panel = 'none';
      this.pairing.open = true;
      this.pairing.codeDraft = text;
      await this.pairing.pair();
      return this.pairing.error === undefined;
    }
    const ok = await this.acceptInvite(text);
    if (ok) {
      this.addDraft = '';
      this.panel = 'none';
    }
    return ok;
  }

  async acceptInvite(link: string | undefined = this.pendingInvite): Promise<boolean> {
    if (link === undefined || this.accepting) return false;
    this.accepting = true;
    this.acceptError = undefined;
    this.notice = undefined;
    try {
      await this.start();
      const { contact, conversationId } = await this.#chat.acceptInvite(link);
      this.pendingInvite = undefined;
      this.notice = `${this.#chat.contacts.displayName(contact.peerId) ?? contact.name} is now a contact.`;
      this.#refresh();
      location.hash = `${CONVERSATION_HASH}${encodeURIComponent(conversationId)}`;
      return true;
    } catch (err) {
      this.acceptError = describeError(err, 'invite');
      return false;
    } finally {
      this.accepting = false;
    }
  }

  dismissInvite(): void {
    this.pendingInvite = undefined;
    this.acceptError = undefined;
    if (location.hash.startsWith(INVITE_HASH)) history.replaceState(null, '', location.pathname);
  }

  async createGroup(): Promise<boolean> {
    this.groupError = undefined;
    const name = this.groupName.trim();
    if (name === '') {
      this.groupError = 'Give the group a name.';
      return false;
    }
    // A contact ticked and then blocked or removed is no longer offered.
    const offered = this.activeContacts.map((c) => c.peerId);
    this.groupMembers = this.groupMembers.filter((p) => offered.includes(p));
    if (this.groupMembers.length === 0) {
      this.groupError = 'Choose at least one contact.';
      return false;
    }
    try {
      const id = await this.#chat.createGroup(name, [...this.groupMembers]);
      this.panel = 'none';
      this.#refresh();
      location.hash = `${CONVERSATION_HASH}${encodeURIComponent(id)}`;
      return true;
    } catch (err) {
      this.groupError = describeError(err, 'group');
      return false;
    }
  }

  contactName(contact: Contact): string {
    return contact.nickname ?? contact.name;
  }

  /** Written on this device (the list shows "You:" before it). */
  isOwn(message: { author: string }): boolean {
    return message.author === this.#chat.self;
  }

  linkTo(id: string): string {
    return `${CONVERSATION_HASH}${encodeURIComponent(id)}`;
  }

  #openConversation(id: string | undefined): void {
    this.open?.close();
    const unread = this.conversations.find((c) => c.id === id)?.unread ?? 0;
    this.open =
      id === undefined ? undefined : new ConversationStore(this.#chat, id, this.#drafts, unread);
    if (this.open !== undefined && this.#focus !== undefined) this.open.focus = this.#focus;
  }

  #onChange(change: ChatChange): void {
    if (change.type === 'presence') return; // PresenceStore follows it
    if (change.type === 'typing') {
      if (this.open?.id === change.conversationId) this.open.onTyping(change.peer);
      return;
    }
    if (change.type === 'conversation' && this.open?.id === change.conversationId) {
      this.open.refresh();
    }
    if (change.type === 'contacts') this.open?.refresh();
    if (change.type === 'list' && this.open !== undefined && !this.open.exists) {
      this.open.refresh();
    }
    this.#scheduleRefresh();
  }

  #scheduleRefresh(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      this.#refresh();
    });
  }

  #refresh(): void {
    const before = this.#listed ? this.contacts : undefined;
    this.contacts = this.#chat.contacts.list();
    this.conversations = this.#chat.summaries();
    this.#listed = true;
    // The invite shown was accepted (someone new is a contact): the dialog has done its job,
    // and must not cover the new conversation (on a phone it would).
    if (this.panel === 'invite' && before !== undefined) {
      const added = this.contacts.find((c) => !before.some((b) => b.peerId === c.peerId));
      if (added !== undefined) {
        this.panel = 'none';
        this.notice = `${this.contactName(added)} accepted your invite.`;
      }
    }
  }
}

export interface BrowserStores {
  node: NodeStore;
  chat: ChatStore;
  search: SearchStore;
}

/** The stores over this browser's app (createBrowserApp: IndexedDB, the page's relay). */
export function createBrowserStores(): BrowserStores {
  const app = createBrowserApp();
  const node = new NodeStore(app);
  return {
    node,
    chat: new ChatStore(app, node, browserSaveTarget()),
    search: new SearchStore(app.chat, {}, { live: app.search })
  };
}
