/**
 * Presence of contacts for the UI: reads the Chat service's ephemeral presence and re-renders
 * whoever shows it when a 'presence' change arrives. One instance, owned by ChatStore.
 *
 * ```svelte
 * <span role="status" aria-label="Presence">{presence.text(peer)}</span>
 * ```
 */
import type { Chat, ConversationSummary } from '$lib/app/chat-types';
import type { Presence } from '$lib/app/presence';

export const PRESENCE_TEXT: Record<Presence, string> = {
  online: 'Online',
  away: 'Away',
  offline: 'Offline'
};

export class PresenceStore {
  readonly #chat: Chat;
  /** Bumped on every presence change: reading it makes `of()` reactive. */
  #version = $state(0);
  #off: (() => void) | undefined;

  constructor(chat: Chat) {
    this.#chat = chat;
  }

  start(): void {
    this.#off ??= this.#chat.onChange((change) => {
      if (change.type === 'presence' || change.type === 'contacts') this.#version++;
    });
    this.#version++;
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
  }

  /**
   * Presence of this device or of a contact; undefined for anyone else (e.g. a group member who is
   * not a contact), whose presence is never heard: showing them "Offline" would be a guess.
   */
  of(peer: string): Presence | undefined {
    void this.#version;
    if (peer !== this.#chat.self && this.#chat.contacts.displayName(peer) === undefined)
      return undefined;
    return this.#chat.presence(peer);
  }

  /** "Online", "Away" or "Offline"; empty for someone who is not a contact. */
  text(peer: string): string {
    const state = this.of(peer);
    return state === undefined ? '' : PRESENCE_TEXT[state];
  }

  /** Presence of the contact of a 1:1 conversation; undefined for groups. */
  ofConversation(summary: ConversationSummary): Presence | undefined {
    const peer = this.peerOf(summary);
    return peer === undefined ? undefined : this.of(peer);
  }

  /** The contact of a 1:1 conversation, undefined for groups. */
  peerOf(summary: ConversationSummary): string | undefined {
    if (summary.kind !== '1:1') return undefined;
    return summary.members.find((m) => m !== this.#chat.self);
  }
}
