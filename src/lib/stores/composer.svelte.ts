/**
 * The composer of the open conversation: the draft (kept per conversation across switching and
 * reloads), the message being edited or replied to, and sending. Part of ConversationStore.
 */
import type { Chat } from '$lib/app/chat-types';
import { describeError } from '$lib/app/error-text';
import type { DraftStore } from '$lib/app/drafts';
import type { FileSource } from '$lib/files/files';

/** At most one typing notice per this long. */
const TYPING_SEND_MS = 2_000;
/** How far back (messages in the loaded window) Up looks for the last own message. */
const EDIT_LAST_SCAN = 500;

/** A file chosen (picked, dropped or pasted) to go with the next message. */
export interface StagedFile {
  /** Key for the tray (unique in this composer). */
  id: number;
  file: FileSource;
}

/** Sends files as messages (FilesStore.attach): false when it failed (the error is shown there). */
export type AttachFiles = (
  conversationId: string,
  files: FileSource[],
  options: { caption?: string; public?: boolean; replyTo?: string }
) => Promise<boolean>;

export class ComposerStore {
  readonly #chat: Chat;
  readonly #id: string;
  readonly #drafts: DraftStore;
  readonly #exists: () => boolean;

  draft = $state('');
  /** Message being edited / replied to. */
  editing = $state<string | undefined>(undefined);
  replying = $state<string | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  /** Files waiting in the tray for Send; the draft becomes their caption. */
  staged = $state.raw<StagedFile[]>([]);
  /** Send the staged files unencrypted, with a public link ("Share publicly"). */
  sharePublic = $state(false);

  #nextStaged = 1;
  /** The draft put aside while an edit uses the field; it comes back after. */
  #aside = '';
  #lastTypingSent = 0;

  constructor(chat: Chat, conversationId: string, drafts: DraftStore, exists: () => boolean) {
    this.#chat = chat;
    this.#id = conversationId;
    this.#drafts = drafts;
    this.#exists = exists;
    this.draft = drafts.get(conversationId);
  }

  /** Send the draft (or save the edit). */
  send(): boolean {
    const text = this.draft.trim();
    if (text === '' || !this.#exists()) return false;
    this.error = undefined;
    try {
      if (this.editing !== undefined) this.#chat.edit(this.#id, this.editing, text);
      else {
        const replyTo = this.replying;
        this.#chat.send(this.#id, text, replyTo === undefined ? {} : { replyTo });
      }
    } catch (err) {
      this.error = describeError(err, 'message');
      return false;
    }
    const wasEditing = this.editing !== undefined;
    this.editing = undefined;
    this.replying = undefined;
    this.#setDraft(wasEditing ? this.#aside : '');
    this.#aside = '';
    return true;
  }

  startEdit(id: string): boolean {
    const m = this.#chat.message(this.#id, id);
    if (m === undefined || m.author !== this.#chat.self || m.deleted) return false;
    if (this.editing === undefined) this.#aside = this.draft;
    this.editing = id;
    this.replying = undefined;
    this.draft = m.text;
    return true;
  }

  /** Up in an empty composer: edit this device's newest message (false: none to edit). */
  editLast(): boolean {
    if (this.draft !== '' || this.editing !== undefined) return false;
    const ids = this.#chat.messageIds(this.#id);
    for (let i = ids.length - 1; i >= Math.max(0, ids.length - EDIT_LAST_SCAN); i--) {
      const id = ids[i];
      if (id === undefined) continue;
      const m = this.#chat.message(this.#id, id);
      if (m !== undefined && m.author === this.#chat.self && !m.deleted) return this.startEdit(id);
    }
    return false;
  }

  startReply(id: string): void {
    if (this.editing !== undefined) this.cancel();
    this.replying = id;
  }

  /** Escape: no more reply or edit; an edit gives the field back to the draft put aside. */
  cancel(): void {
    if (this.editing !== undefined) {
      this.draft = this.#aside;
      this.#aside = '';
    }
    this.editing = undefined;
    this.replying = undefined;
  }

  /** Called on each change of the field: keeps the draft, tells members "typing…". */
  input(): void {
    if (this.editing === undefined) this.#drafts.set(this.#id, this.draft);
    const now = Date.now();
    if (now - this.#lastTypingSent < TYPING_SEND_MS || this.draft === '') return;
    this.#lastTypingSent = now;
    this.#chat.typing(this.#id);
  }

  get conversationId(): string {
    return this.#id;
  }

  /** Puts files in the tray (the same file object twice counts once); returns how many. */
  stage(files: Iterable<FileSource> | ArrayLike<FileSource>): number {
    // A local lookup, not state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const have = new Set(this.staged.map((s) => s.file));
    const added: StagedFile[] = [];
    for (const file of Array.from(files)) {
      if (have.has(file)) continue;
      have.add(file);
      added.push({ id: this.#nextStaged++, file });
    }
    if (added.length > 0) this.staged = [...this.staged, ...added];
    return added.length;
  }

  unstage(id: number): void {
    this.staged = this.staged.filter((s) => s.id !== id);
    if (this.staged.length === 0) this.sharePublic = false;
  }

  /** Send would send something: text, or staged files (an edit needs text). */
  get canSend(): boolean {
    if (this.editing !== undefined) return this.draft.trim() !== '';
    return this.staged.length > 0 || this.draft.trim() !== '';
  }

  /**
   * Sends the staged files (the draft is the first one's caption, a reply quotes the message
   * replied to) through `attach`, and empties the tray and the draft at once: the files show
   * as "Preparing…" while they are encrypted and stored. False when there is nothing to send
   * (no files, an edit in progress, or the conversation is not here).
   */
  sendFiles(attach: AttachFiles): boolean {
    if (this.staged.length === 0 || this.editing !== undefined || !this.#exists()) return false;
    const files = this.staged.map((s) => s.file);
    const caption = this.draft.trim();
    const replyTo = this.replying;
    const options = {
      caption,
      public: this.sharePublic,
      ...(replyTo === undefined ? {} : { replyTo })
    };
    this.error = undefined;
    this.staged = [];
    this.sharePublic = false;
    this.replying = undefined;
    this.#setDraft('');
    void attach(this.#id, files, options);
    return true;
  }

  #setDraft(text: string): void {
    this.draft = text;
    this.#drafts.set(this.#id, text);
  }
}
