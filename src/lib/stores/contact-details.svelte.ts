/**
 * The "Contact details" side panel of a 1:1 conversation: nickname, verification, block and
 * remove. Part of ConversationStore (which knows the contact and refreshes after each action).
 */
import type { Chat } from '$lib/app/chat-types';
import { cleanNickname } from '$lib/app/contact-view';
import { describeError } from '$lib/app/error-text';

export class ContactDetailsStore {
  readonly #chat: Chat;
  readonly #peer: () => string | undefined;
  readonly #blocked: () => boolean;
  readonly #nickname: () => string | undefined;
  readonly #changed: () => void;

  open = $state(false);
  nicknameDraft = $state('');
  confirmingRemove = $state(false);
  error = $state<string | undefined>(undefined);
  notice = $state<string | undefined>(undefined);

  constructor(
    chat: Chat,
    contact: {
      peer: () => string | undefined;
      blocked: () => boolean;
      nickname: () => string | undefined;
    },
    changed: () => void
  ) {
    this.#chat = chat;
    this.#peer = contact.peer;
    this.#blocked = contact.blocked;
    this.#nickname = contact.nickname;
    this.#changed = changed;
  }

  toggle(open = !this.open): void {
    this.open = open;
    this.confirmingRemove = false;
    this.error = undefined;
    this.notice = undefined;
    if (this.open) this.nicknameDraft = this.#nickname() ?? '';
  }

  markVerified(): Promise<void> {
    return this.#act((peer) => this.#chat.contacts.setVerified(peer, true));
  }

  rename(): Promise<void> {
    const nickname = cleanNickname(this.nicknameDraft);
    if (nickname === undefined) {
      this.error = 'Type a nickname first.';
      return Promise.resolve();
    }
    return this.#act(async (peer) => {
      await this.#chat.contacts.rename(peer, nickname);
      this.notice = `Renamed to ${nickname}.`;
    });
  }

  toggleBlocked(): Promise<void> {
    const blocked = this.#blocked();
    return this.#act(async (peer) => {
      if (blocked) await this.#chat.unblock(peer);
      else await this.#chat.contacts.block(peer);
      this.notice = blocked ? 'Unblocked.' : 'Blocked: nothing from this contact arrives.';
    });
  }

  /** First call asks for confirmation ("Confirm remove"); the second removes. */
  removeContact(): Promise<void> {
    if (!this.confirmingRemove) {
      this.confirmingRemove = true;
      return Promise.resolve();
    }
    return this.#act(async (peer) => {
      await this.#chat.contacts.remove(peer);
      this.confirmingRemove = false;
      this.notice = 'Contact removed.';
    });
  }

  cancelRemove(): void {
    this.confirmingRemove = false;
  }

  async #act(run: (peer: string) => Promise<unknown>): Promise<void> {
    const peer = this.#peer();
    if (peer === undefined) return;
    this.error = undefined;
    this.notice = undefined;
    try {
      await run(peer);
    } catch (err) {
      this.error = describeError(err, 'contact');
    }
    this.#changed();
  }
}
