/**
 * The "Pair with code" panel: show a code or type one, then compare the safety number and
 * confirm it (verified) or reject it (contact removed). The protocol and the conversation it
 * opens live in the Chat service (src/lib/app/pairing.ts); this only mirrors them into state.
 *
 * ```svelte
 * <button aria-expanded={chat.pairing.open} onclick={() => chat.pairing.toggle()}>Pair with code</button>
 * <PairWithCode pairing={chat.pairing} />
 * ```
 */
import type { Chat } from '$lib/app/chat-types';
import { formatTime } from '$lib/app/format';
import {
  groupCode,
  pairingErrorMessage,
  type ChatPairingSession,
  type Paired
} from '$lib/app/pairing';

const CONVERSATION_HASH = '#/c/';

/** A person-readable duration in whole minutes or seconds. */
function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s >= 60 && s % 60 === 0) return `${s / 60} minute${s === 60 ? '' : 's'}`;
  return `${s} seconds`;
}

export interface PairedView {
  peerId: string;
  name: string;
  safetyNumber: string;
  conversationId: string;
}

export class PairingStore {
  readonly #chat: Chat;
  readonly #ready: () => Promise<void>;

  /** The panel under the conversation list. */
  open = $state(false);
  /** 'idle': nothing running; 'hosting': showing a code; 'joining': looking for the code. */
  phase = $state<'idle' | 'hosting' | 'joining'>('idle');
  /** "Show a code" or "Pair" was pressed and the app is still starting ("Starting…"). */
  starting = $state(false);
  /** The code shown, digits only ('' when none). */
  code = $state('');
  /** "The code stays valid for 2 minutes, until 00:32." */
  validity = $state('');
  codeDraft = $state('');
  status = $state<string | undefined>(undefined);
  error = $state<string | undefined>(undefined);
  notice = $state<string | undefined>(undefined);
  /** Paired, numbers not compared yet. */
  paired = $state.raw<PairedView | undefined>(undefined);
  confirming = $state(false);

  #session: ChatPairingSession | undefined;
  /** Bumped by cancel(): a #run that waited for the app to start checks it is still wanted. */
  #generation = 0;

  constructor(chat: Chat, ready: () => Promise<void>) {
    this.#chat = chat;
    this.#ready = ready;
  }

  readonly groupedCode = $derived(groupCode(this.code));

  toggle(): void {
    this.open = !this.open;
    this.error = undefined;
    this.notice = undefined;
    if (!this.open) this.cancel();
  }

  /** "Show a code". */
  async showCode(): Promise<void> {
    await this.#run('hosting', () => this.#chat.pairing.host());
  }

  /** "Pair": joins with the typed code. */
  async pair(): Promise<void> {
    const draft = this.codeDraft;
    await this.#run('joining', () => this.#chat.pairing.join(draft));
  }

  /** "Cancel": stops showing (or looking for) the code. */
  cancel(): void {
    this.#generation++;
    const session = this.#session;
    this.#session = undefined;
    session?.cancel();
    this.#reset();
  }

  /** "Numbers match". */
  async confirmMatch(): Promise<void> {
    const paired = this.paired;
    if (paired === undefined || this.confirming) return;
    this.confirming = true;
    this.error = undefined;
    try {
      await this.#chat.pairing.confirm(paired.peerId);
      this.paired = undefined;
      this.open = false;
      this.notice = `${paired.name} is now a verified contact.`;
      location.hash = `${CONVERSATION_HASH}${encodeURIComponent(paired.conversationId)}`;
    } catch (err) {
      this.error = pairingErrorMessage(err);
    } finally {
      this.confirming = false;
    }
  }

  /** "Numbers don't match". */
  async confirmMismatch(): Promise<void> {
    const paired = this.paired;
    if (paired === undefined || this.confirming) return;
    this.confirming = true;
    this.error = undefined;
    try {
      await this.#chat.pairing.reject(paired.peerId);
      this.paired = undefined;
      this.notice =
        `The numbers didn't match, so ${paired.name} was removed from your contacts. ` +
        'Someone may have come between you: pair again, in person or on a call.';
    } catch (err) {
      this.error = pairingErrorMessage(err);
    } finally {
      this.confirming = false;
    }
  }

  async #run(phase: 'hosting' | 'joining', begin: () => ChatPairingSession): Promise<void> {
    this.cancel();
    const generation = this.#generation;
    this.error = undefined;
    this.notice = undefined;
    this.starting = true;
    this.status = 'Starting…';
    let session: ChatPairingSession;
    try {
      await this.#ready();
      // Cancelled, closed or started again while the app was starting: begin nothing (a
      // session begun now would run hidden and could pop up a comparison later).
      if (generation !== this.#generation) return;
      if (!this.open) return this.#reset();
      session = begin();
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#reset();
      this.error = pairingErrorMessage(err);
      return;
    }
    this.starting = false;
    this.#session = session;
    this.phase = phase;
    if (phase === 'hosting') {
      this.code = session.code;
      const left = Math.max(0, session.expiresAt - Date.now());
      this.validity = `The code stays valid for ${duration(left)}, until ${formatTime(session.expiresAt)}.`;
      this.status = 'Waiting for the other person…';
    } else {
      this.status = `Looking for the device showing ${groupCode(session.code)}…`;
    }
    try {
      const result = await session.result;
      if (this.#session !== session) return;
      this.#session = undefined;
      this.#reset();
      this.codeDraft = '';
      // Only the comparison stays on screen until the people answer it.
      this.open = false;
      this.paired = this.#view(result);
    } catch (err) {
      if (this.#session !== session) return;
      this.#session = undefined;
      this.#reset();
      this.error = pairingErrorMessage(err);
    }
  }

  #view(result: Paired): PairedView {
    const peerId = result.contact.peerId;
    return {
      peerId,
      name: this.#chat.contacts.displayName(peerId) ?? result.contact.name,
      safetyNumber: result.safetyNumber,
      conversationId: result.conversationId
    };
  }

  #reset(): void {
    this.phase = 'idle';
    this.starting = false;
    this.code = '';
    this.validity = '';
    this.status = undefined;
  }
}
