/**
 * The "Pair with code" panel: show a code or type one, then compare the safety number. Nobody is
 * added until both people pressed "Numbers match"; "Numbers don't match" (on either side), or no
 * answer in time, adds nobody. The protocol and the conversation it
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
  /** Both devices proved the code; the people compare the numbers. */
  paired = $state.raw<PairedView | undefined>(undefined);
  /** This person pressed "Numbers match": waiting for the other one to do the same. */
  confirming = $state(false);
  /** "Waiting for Bob to confirm…" while `confirming`. */
  waiting = $state<string | undefined>(undefined);

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

  /** "Numbers match": the contact is added once the other person confirms too. */
  confirmMatch(): void {
    const paired = this.paired;
    if (paired === undefined || this.confirming) return;
    this.confirming = true;
    this.error = undefined;
    this.waiting = `Waiting for ${paired.name} to confirm…`;
    this.#chat.pairing.confirm(paired.peerId);
  }

  /** "Numbers don't match": tells the other device; nobody is added on either side. */
  confirmMismatch(): void {
    const paired = this.paired;
    if (paired === undefined) return;
    this.#chat.pairing.reject(paired.peerId);
    this.#endCompare();
    this.notice =
      `The numbers didn't match, so ${paired.name} was not added to your contacts. ` +
      'Someone may have come between you: pair again, in person or on a call.';
  }

  /** Follows a comparison to its end: both confirmed, the other declined, or time ran out. */
  async #follow(view: PairedView, result: Paired): Promise<void> {
    try {
      const { conversationId } = await result.outcome;
      if (this.paired !== view) return;
      this.#endCompare();
      this.open = false;
      this.notice = `${view.name} is now a verified contact.`;
      location.hash = `${CONVERSATION_HASH}${encodeURIComponent(conversationId)}`;
    } catch (err) {
      if (this.paired !== view) return;
      this.#endCompare();
      const reason = (err as { reason?: unknown } | null)?.reason;
      if (reason === 'declined') {
        this.notice =
          `${view.name} said the numbers don't match, so nobody was added. ` +
          'Someone may have come between you: pair again, in person or on a call.';
      } else {
        // A notice, not an error: the panel is closed, and the error line shows only with it.
        this.notice =
          (err as { name?: unknown } | null)?.name === 'HandshakeTimeoutError'
            ? 'The numbers were not confirmed on both devices in time, so nobody was added. Pair again.'
            : `${pairingErrorMessage(err) ?? 'The pairing ended.'} Nobody was added.`;
      }
    }
  }

  #endCompare(): void {
    this.paired = undefined;
    this.confirming = false;
    this.waiting = undefined;
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
      const view = this.#view(result);
      this.paired = view;
      void this.#follow(view, result);
    } catch (err) {
      if (this.#session !== session) return;
      this.#session = undefined;
      this.#reset();
      this.error = pairingErrorMessage(err);
    }
  }

  #view(result: Paired): PairedView {
    const peerId = result.peerId;
    return {
      peerId,
      name: this.#chat.contacts.displayName(peerId) ?? result.name,
      safetyNumber: result.safetyNumber
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
