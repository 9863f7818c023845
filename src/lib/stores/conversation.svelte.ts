/**
 * The open conversation: its messages (with statuses for our own), who is typing, and the
 * composer. Refreshed by ChatStore when the Chat service reports a change to this conversation.
 */
import type { Chat } from '$lib/app/chat';
import { cleanNickname, directPeer, safetyNumberOf } from '$lib/app/contact-view';
import type { Contact } from '$lib/contacts';
import type { Message, MessageStatus } from '$lib/sync';
import { GroupDetailsStore } from './group-details.svelte';

export const STATUS_TEXT: Record<MessageStatus, string> = {
  pending: 'Pending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read'
};

/** How long "typing…" stays after the last notice. */
const TYPING_SHOW_MS = 4_000;
/** At most one typing notice per this long. */
const TYPING_SEND_MS = 2_000;

export interface MessageView {
  id: string;
  mine: boolean;
  /** The signature does not match the author: someone else wrote or changed it. */
  unverified: boolean;
  author: string;
  text: string;
  at: number;
  edited: boolean;
  deleted: boolean;
  replyTo?: { author: string; text: string };
  reactions: { emoji: string; count: number; mine: boolean }[];
  /** Own messages only. */
  status?: string;
}

export class ConversationStore {
  readonly id: string;
  readonly #chat: Chat;

  exists = $state(false);
  name = $state('');
  kind = $state<'1:1' | 'group'>('1:1');
  messages = $state.raw<Message[]>([]);
  /** Bumped on every refresh (receipts and names can change without new messages). */
  version = $state(0);
  typing = $state.raw<string[]>([]);

  draft = $state('');
  /** Message being edited / replied to. */
  editing = $state<string | undefined>(undefined);
  replying = $state<string | undefined>(undefined);
  error = $state<string | undefined>(undefined);

  /** 1:1 only: the other device, its contact entry and the safety number of the pair. */
  peer = $state<string | undefined>(undefined);
  contact = $state.raw<Contact | undefined>(undefined);
  safetyNumber = $state('');
  /** The contact details panel (1:1) and its form. */
  detailsOpen = $state(false);
  nicknameDraft = $state('');
  confirmingRemove = $state(false);
  detailsError = $state<string | undefined>(undefined);
  detailsNotice = $state<string | undefined>(undefined);
  /** Group only: true once this device left it. */
  left = $state(false);
  /** Group only: the "Group details" panel. */
  readonly group: GroupDetailsStore;
  /** A message to bring into view and highlight (from a search result); the view clears it. */
  focus = $state<string | undefined>(undefined);

  // Not state: `typing` is the reactive view of it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #typingUntil = new Map<string, number>();
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastTypingSent = 0;
  #closed = false;
  #refreshQueued = false;

  constructor(chat: Chat, id: string) {
    this.#chat = chat;
    this.id = id;
    this.group = new GroupDetailsStore(chat, id);
    globalThis.document?.addEventListener('visibilitychange', this.#onVisible);
    this.#refreshNow();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#typingTimer);
    globalThis.document?.removeEventListener('visibilitychange', this.#onVisible);
  }

  /** Re-reads the conversation (coalesced: many changes in one task cost one re-read). */
  refresh(): void {
    if (this.#refreshQueued || this.#closed) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      this.#refreshNow();
    });
  }

  #refreshNow(): void {
    if (this.#closed) return;
    const conv = this.#chat.conversation(this.id);
    const meta = conv?.meta();
    if (conv === undefined || meta === undefined) {
      this.exists = false;
      return;
    }
    this.exists = true;
    this.kind = meta.kind;
    this.name =
      this.#chat.summaries().find((s) => s.id === this.id)?.name ??
      (meta.kind === 'group' ? meta.name : '');
    const peer = meta.kind === '1:1' ? directPeer(conv.members(), this.#chat.self) : undefined;
    if (peer !== this.peer) {
      this.peer = peer;
      this.safetyNumber = peer === undefined ? '' : safetyNumberOf(this.#chat.self, peer);
    }
    this.contact = peer === undefined ? undefined : this.#chat.contacts.get(peer);
    this.left = meta.kind === 'group' && !conv.isMember(this.#chat.self);
    // Only the models here: views (names, statuses) are made for the rendered rows only.
    this.messages = conv.messages();
    this.version++;
    this.#markRead();
    if (meta.kind === 'group') this.group.refresh();
  }

  /** What a row shows. Reads `version`, so rows re-render when receipts or names change. */
  view(m: Message): MessageView {
    void this.version;
    const self = this.#chat.self;
    const mine = m.author === self;
    const quoted =
      m.replyTo === undefined ? undefined : this.#chat.conversation(this.id)?.message(m.replyTo);
    const status = mine ? this.#chat.messageStatus(this.id, m.id) : undefined;
    // Only rendered rows get here, so this checks the signatures of what is on screen.
    const authenticity = this.#chat.conversation(this.id)?.authenticity(m.id);
    return {
      id: m.id,
      mine,
      unverified: authenticity === 'unverified',
      author: mine ? 'You' : this.#authorName(m.author),
      text: m.text,
      at: m.displayAt,
      edited: m.edited,
      deleted: m.deleted,
      ...(quoted === undefined
        ? {}
        : { replyTo: { author: this.#authorName(quoted.author), text: quoted.text } }),
      reactions: Object.entries(m.reactions).map(([emoji, who]) => ({
        emoji,
        count: who.length,
        mine: who.includes(self)
      })),
      ...(status === undefined ? {} : { status: STATUS_TEXT[status] })
    };
  }

  /** Name of the author of message `id` ('a message' when unknown). */
  authorOf(id: string): string {
    const m = this.#chat.conversation(this.id)?.message(id);
    return m === undefined ? 'a message' : this.#authorName(m.author);
  }

  #authorName(peer: string): string {
    if (peer === this.#chat.self) return 'You';
    return this.#chat.contacts.displayName(peer) ?? `${peer.slice(0, 8)}…${peer.slice(-6)}`;
  }

  /** Send the draft (or save the edit). */
  send(): boolean {
    const text = this.draft.trim();
    const conv = this.#chat.conversation(this.id);
    if (text === '' || conv === undefined) return false;
    this.error = undefined;
    try {
      if (this.editing !== undefined) conv.edit(this.editing, text);
      else if (this.replying !== undefined) conv.reply(this.replying, text);
      else conv.send(text);
      this.draft = '';
      this.editing = undefined;
      this.replying = undefined;
      return true;
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      return false;
    }
  }

  startEdit(id: string): void {
    const m = this.#chat.conversation(this.id)?.message(id);
    if (m === undefined || m.author !== this.#chat.self || m.deleted) return;
    this.editing = id;
    this.replying = undefined;
    this.draft = m.text;
  }

  startReply(id: string): void {
    this.replying = id;
    this.editing = undefined;
  }

  cancelCompose(): void {
    if (this.editing !== undefined) this.draft = '';
    this.editing = undefined;
    this.replying = undefined;
  }

  remove(id: string): void {
    try {
      this.#chat.conversation(this.id)?.remove(id);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  react(id: string, emoji: string): void {
    try {
      this.#chat.conversation(this.id)?.react(id, emoji);
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  toggleDetails(): void {
    this.detailsOpen = !this.detailsOpen;
    this.confirmingRemove = false;
    this.detailsError = undefined;
    this.detailsNotice = undefined;
    if (this.detailsOpen) this.nicknameDraft = this.contact?.nickname ?? '';
  }

  markVerified(): Promise<void> {
    return this.#contactAction((peer) => this.#chat.contacts.setVerified(peer, true));
  }

  rename(): Promise<void> {
    const nickname = cleanNickname(this.nicknameDraft);
    if (nickname === undefined) {
      this.detailsError = 'Type a nickname first.';
      return Promise.resolve();
    }
    return this.#contactAction(async (peer) => {
      await this.#chat.contacts.rename(peer, nickname);
      this.detailsNotice = `Renamed to ${nickname}.`;
    });
  }

  toggleBlocked(): Promise<void> {
    const blocked = this.contact?.blocked === true;
    return this.#contactAction(async (peer) => {
      if (blocked) await this.#chat.unblock(peer);
      else await this.#chat.contacts.block(peer);
      this.detailsNotice = blocked ? 'Unblocked.' : 'Blocked: nothing from this contact arrives.';
    });
  }

  /** First call asks for confirmation ("Confirm remove"); the second removes. */
  removeContact(): Promise<void> {
    if (!this.confirmingRemove) {
      this.confirmingRemove = true;
      return Promise.resolve();
    }
    return this.#contactAction(async (peer) => {
      await this.#chat.contacts.remove(peer);
      this.confirmingRemove = false;
      this.detailsNotice = 'Contact removed.';
    });
  }

  cancelRemove(): void {
    this.confirmingRemove = false;
  }

  async #contactAction(run: (peer: string) => Promise<unknown>): Promise<void> {
    const peer = this.peer;
    if (peer === undefined) return;
    this.detailsError = undefined;
    this.detailsNotice = undefined;
    try {
      await run(peer);
    } catch (err) {
      this.detailsError = err instanceof Error ? err.message : String(err);
    }
    this.#refreshNow();
  }

  /** Group only: this device stops being a member (the others keep the group). */
  leaveGroup(): void {
    this.error = undefined;
    try {
      this.#chat.conversation(this.id)?.leave();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
    this.refresh();
  }

  /** Called on each keystroke in the composer. */
  input(): void {
    const now = Date.now();
    if (now - this.#lastTypingSent < TYPING_SEND_MS || this.draft === '') return;
    this.#lastTypingSent = now;
    this.#chat.typing(this.id);
  }

  onTyping(peer: string): void {
    if (peer === this.#chat.self) return;
    this.#typingUntil.set(peer, Date.now() + TYPING_SHOW_MS);
    this.#updateTyping();
  }

  #updateTyping(): void {
    const now = Date.now();
    for (const [peer, until] of this.#typingUntil) if (until <= now) this.#typingUntil.delete(peer);
    this.typing = [...this.#typingUntil.keys()].map((p) => this.#authorName(p));
    clearTimeout(this.#typingTimer);
    if (this.#typingUntil.size > 0 && !this.#closed) {
      this.#typingTimer = setTimeout(() => this.#updateTyping(), 500);
    }
  }

  #onVisible = (): void => this.#markRead();

  /** Everything shown in a visible page counts as read. */
  #markRead(): void {
    if (globalThis.document?.visibilityState === 'hidden') return;
    const conv = this.#chat.conversation(this.id);
    if (conv === undefined) return;
    const newest = conv.messages({ limit: 1 })[0];
    if (newest === undefined || newest.author === this.#chat.self) return;
    const mine = conv.receipts(this.#chat.self).read;
    if (mine === undefined || mine < newest.key) conv.markRead();
  }
}
