/**
 * The open conversation: the ids of its loaded window of messages in order (the newest ones,
 * extended backwards on demand by `loadOlder()`, or up to a search result by `focus`; rows are
 * read from the Chat façade for the rendered ones only), who is typing, and the composer.
 * Refreshed by ChatStore when the Chat service reports a change to this conversation. Read marks are the façade's business
 * (`chat.show(id)` while this conversation is on screen).
 */
import { createSubscriber } from 'svelte/reactivity';
import type { Chat, MessageRow } from '$lib/app/chat-types';
import { safetyNumberOf } from '$lib/app/contact-view';
import { createMemoryDraftStore, type DraftStore } from '$lib/app/drafts';
import { describeError } from '$lib/app/error-text';
import type { Contact } from '$lib/contacts';
import type { MessageStatus } from '$lib/sync';
import { ComposerStore } from './composer.svelte';
import { ContactDetailsStore } from './contact-details.svelte';
import { GroupDetailsStore } from './group-details.svelte';

export const STATUS_TEXT: Record<MessageStatus, string> = {
  pending: 'Pending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read'
};

/** How long "typing…" stays after the last notice. */
const TYPING_SHOW_MS = 4_000;

/** A row as the view shows it: the façade's row plus words for its status. */
export interface MessageView extends Omit<MessageRow, 'status'> {
  /** The signature does not match the author: someone else wrote or changed it. */
  unverified: boolean;
  /** Own messages only: "Pending", "Sent", "Delivered" or "Read". */
  status?: string;
}

/**
 * A rendered row: its last view and the signal its row's effects follow (only rows whose view
 * changed re-render on a refresh, not every rendered row).
 */
interface RenderedRow {
  view: MessageView | undefined;
  subscribe: () => void;
  changed: (() => void) | undefined;
}

/** Structural equality of plain row values (strings, numbers, booleans, arrays, records). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && sameValue(ra[k], rb[k]));
}

/** `next` is `prev` with messages added in front only (and at least one added). */
function onlyPrepended(prev: readonly string[], next: readonly string[]): boolean {
  const added = next.length - prev.length;
  return (
    prev.length > 0 &&
    added > 0 &&
    next[added] === prev[0] &&
    next[next.length - 1] === prev[prev.length - 1]
  );
}

export class ConversationStore {
  readonly id: string;
  readonly #chat: Chat;

  exists = $state(false);
  name = $state('');
  kind = $state<'1:1' | 'group'>('1:1');
  /**
   * Ids of the loaded window of messages, oldest first (rows are read for the rendered ones
   * only): the newest ones, then older ones as `loadOlder()` or `focus` extend it.
   */
  ids = $state.raw<readonly string[]>([]);
  /** Number of messages in all of history (`ids` may hold fewer). */
  total = $state(0);
  /** Older messages exist outside the window: `loadOlder()` brings them in. */
  readonly hasOlder = $derived(this.total > this.ids.length);
  /** A `loadOlder()` call is in flight. */
  loadingOlder = $state(false);
  /**
   * The last change to `ids` only added older messages in front (the view keeps its scroll
   * position steady across it: virtua's `shift`).
   */
  prepended = $state(false);
  /** Bumped on every refresh (receipts and names can change without new messages). */
  version = $state(0);
  /** Rows on screen (read by an effect), by message id. */
  // Not state: each row has its own signal (`RenderedRow.changed`).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #rendered = new Map<string, RenderedRow>();
  typing = $state.raw<string[]>([]);

  /** An error in words (loading, reactions, deleting, leaving). */
  error = $state<string | undefined>(undefined);
  /** The composer: draft, edit, reply, send. */
  readonly composer: ComposerStore;
  /** 1:1 only: the "Contact details" side panel. */
  readonly details: ContactDetailsStore;
  /**
   * The first message that was unread when the conversation opened (the "Unread messages"
   * divider sits above it; undefined: nothing was unread or it is not in the loaded window).
   */
  readonly firstUnread: string | undefined;

  /** 1:1 only: the other device, its contact entry and the safety number of the pair. */
  peer = $state<string | undefined>(undefined);
  contact = $state.raw<Contact | undefined>(undefined);
  /** Computed when first read (Contact details): hashing it costs tens of ms. */
  #safety: { peer: string; number: string } | undefined;
  /** Group only: true once this device left it. */
  left = $state(false);
  /** Members whose app can't sync with this one (ConversationInfo.outdated). */
  outdated = $state<string[]>([]);
  /** Group only: the "Group details" panel. */
  readonly group: GroupDetailsStore;
  #focus = $state<string | undefined>(undefined);

  // Not state: `typing` is the reactive view of it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #typingUntil = new Map<string, number>();
  #typingTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #refreshQueued = false;
  #loading: Promise<void> | undefined;
  /** `#reveal` calls in flight. */
  #revealing = 0;

  /**
   * `unread`: how many messages were unread when it opened (the divider goes above the first).
   * `drafts`: where unsent drafts are kept (default: in memory).
   */
  constructor(chat: Chat, id: string, drafts: DraftStore = createMemoryDraftStore(), unread = 0) {
    this.#chat = chat;
    this.id = id;
    this.group = new GroupDetailsStore(chat, id);
    this.composer = new ComposerStore(chat, id, drafts, () => this.exists);
    this.details = new ContactDetailsStore(
      chat,
      {
        peer: () => this.peer,
        blocked: () => this.contact?.blocked === true,
        nickname: () => this.contact?.nickname
      },
      () => this.#refreshNow()
    );
    this.#refreshNow();
    // More unread than loaded: the first of them is far back; the view opens at the newest.
    this.firstUnread = unread > 0 && unread <= this.ids.length ? this.ids.at(-unread) : undefined;
    // On screen: what arrives here is read while the page is visible.
    chat.show(id);
  }

  /** 1:1 only: the safety number of this device and the contact ('' for groups). */
  get safetyNumber(): string {
    const peer = this.peer;
    if (peer === undefined) return '';
    if (this.#safety?.peer !== peer) {
      this.#safety = { peer, number: safetyNumberOf(this.#chat.self, peer) };
    }
    return this.#safety.number;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#typingTimer);
    this.#chat.show(undefined);
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
    const info = this.#chat.info(this.id);
    if (info === undefined) {
      this.exists = false;
      return;
    }
    this.exists = true;
    this.kind = info.kind;
    this.name = info.name;
    if (info.peer !== this.peer) this.peer = info.peer;
    this.contact = info.peer === undefined ? undefined : this.#chat.contacts.get(info.peer);
    this.left = info.left;
    if (info.outdated.join('\n') !== this.outdated.join('\n')) this.outdated = info.outdated;
    // Only the order here (the same array while it does not change): rows are made for the
    // rendered ones only.
    const ids = this.#chat.messageIds(this.id);
    if (ids !== this.ids) {
      // While a search result is revealed the view jumps to it: no position to hold still.
      this.prepended = this.#revealing === 0 && onlyPrepended(this.ids, ids);
      this.ids = ids;
    }
    const total = this.#chat.messageCount(this.id);
    const grew = total !== this.total;
    this.total = total;
    this.version++;
    this.#refreshRows();
    // A search result that was nowhere yet: ask again once new messages arrived.
    const target = this.#focus;
    if (grew && target !== undefined && this.position(target) < 0) void this.#reveal(target);
    if (info.kind === 'group') this.group.refresh();
  }

  /** Re-reads the rendered rows; only those whose view changed re-render. */
  #refreshRows(): void {
    for (const [id, row] of this.#rendered) {
      const view = this.#read(id);
      if (sameValue(view, row.view)) continue;
      row.view = view;
      row.changed?.();
    }
  }

  /**
   * What a row shows (undefined: the message is gone). Read in an effect (a rendered row), the
   * row re-renders when its own view changes (receipts, reactions, names, authenticity), not on
   * every refresh. Only rendered rows get here: this checks the signatures of what is on screen.
   */
  view(messageId: string): MessageView | undefined {
    if (!$effect.tracking()) return this.#read(messageId);
    let row = this.#rendered.get(messageId);
    if (row === undefined) {
      const entry: RenderedRow = {
        view: this.#read(messageId),
        changed: undefined,
        subscribe: createSubscriber((changed) => {
          entry.changed = changed;
          return () => {
            // Scrolled out of the list: forget it (read again when it comes back).
            entry.changed = undefined;
            if (this.#rendered.get(messageId) === entry) this.#rendered.delete(messageId);
          };
        })
      };
      row = entry;
      this.#rendered.set(messageId, row);
    }
    row.subscribe();
    return row.view;
  }

  #read(messageId: string): MessageView | undefined {
    const row = this.#chat.row(this.id, messageId);
    if (row === undefined) return undefined;
    const { status, ...rest } = row;
    return {
      ...rest,
      unverified: row.authenticity === 'unverified',
      ...(status === undefined ? {} : { status: STATUS_TEXT[status] })
    };
  }

  /**
   * A message to bring into view and highlight (from a search result); the view clears it.
   * Setting it extends the window until it holds the message (`chat.reveal`): the view scrolls
   * once `position()` finds it there.
   */
  get focus(): string | undefined {
    return this.#focus;
  }

  set focus(messageId: string | undefined) {
    this.#focus = messageId;
    if (messageId !== undefined && this.position(messageId) < 0) void this.#reveal(messageId);
  }

  async #reveal(messageId: string): Promise<void> {
    this.#revealing++;
    try {
      // false: no such message (yet); `focus` stays set and waits for it to arrive.
      await this.#chat.reveal(this.id, messageId);
    } catch (err) {
      if (this.#focus === messageId) this.error = describeError(err, 'message');
    }
    // Also covers a refresh that ran first (the façade's change notice).
    this.#refreshNow();
    this.#revealing--;
  }

  /**
   * Extends the window by `count` older messages (default: the façade's). One call at a time:
   * a call while one is in flight returns that one. Errors land in `error`, in words.
   */
  loadOlder(count?: number): Promise<void> {
    this.#loading ??= this.#loadOlder(count).finally(() => {
      this.#loading = undefined;
      this.loadingOlder = false;
    });
    return this.#loading;
  }

  /** The view follows the newest messages, or the reader scrolled up (Chat.following). */
  following(atNewest: boolean): void {
    if (!this.#closed) this.#chat.following(this.id, atNewest);
  }

  async #loadOlder(count: number | undefined): Promise<void> {
    if (this.#closed || !this.hasOlder) return;
    this.loadingOlder = true;
    try {
      await this.#chat.loadOlder(this.id, count);
    } catch (err) {
      this.error = describeError(err, 'message');
    }
    // The façade emits a change too; re-reading now shows the rows without waiting for it.
    this.#refreshNow();
  }

  /** Position of a message in `ids` (-1: not here). */
  position(messageId: string): number {
    return this.#chat.position(this.id, messageId);
  }

  /** Name of the author of message `id` ('a message' when unknown). */
  authorOf(id: string): string {
    return this.#chat.row(this.id, id)?.authorName ?? 'a message';
  }

  #authorName(peer: string): string {
    if (peer === this.#chat.self) return 'You';
    return this.#chat.contacts.displayName(peer) ?? `${peer.slice(0, 8)}…${peer.slice(-6)}`;
  }

  remove(id: string): void {
    try {
      this.#chat.remove(this.id, id);
    } catch (err) {
      this.error = describeError(err, 'message');
    }
  }

  react(id: string, emoji: string): void {
    try {
      this.#chat.react(this.id, id, emoji);
    } catch (err) {
      this.error = describeError(err, 'message');
    }
  }

  /** Group only: this device stops being a member (the others keep the group). */
  leaveGroup(): void {
    this.error = undefined;
    try {
      this.#chat.leaveGroup(this.id);
    } catch (err) {
      this.error = describeError(err, 'group');
    }
    this.refresh();
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
}
