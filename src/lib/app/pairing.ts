/**
 * Short-code pairing as the messenger uses it: runs the PAIR_PROTOCOL service
 * (src/lib/contacts/pairing.ts) in the room of the relay this device holds a reservation on, and
 * ends the safety-number comparison: nobody is a contact until both people confirmed; then the
 * contact is verified and the 1:1 conversation opened and dialed (as an accepted invite does).
 *
 * ```ts
 * const paired = createChatPairing({}, { pairing, contacts, relays: () => node.state.relays, … });
 * await paired.start();
 * const hosting = paired.host(); // show hosting.code until hosting.expiresAt
 * // other device: paired.join('123 456')
 * const { peerId, safetyNumber, outcome } = await hosting.result;
 * // both people compare safetyNumber, then each:
 * paired.confirm(peerId); // or paired.reject(peerId)
 * const { contact, conversationId } = await outcome; // once both confirmed
 * ```
 *
 * Limit: the room is the first relay with a reservation, so both people must be on the same
 * relay (the default setup has one: the relay that served the app).
 */
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_PAIRING_JOIN_TIMEOUT_MS,
  DEFAULT_PAIRING_TTL_MS
} from '../contacts/constants.js';
import {
  realPairingClock,
  type Contact,
  type Contacts,
  type Pairing,
  type PairingClock,
  type PairingResult
} from '../contacts/index.js';
import { describeError } from './error-text.js';
import type { RelayState } from '../p2p/types.js';
import { NoPairingRelayError, PairingNotFoundError } from './errors.js';

/** How long a code shown by this device stays valid (the protocol's default TTL). */
export const PAIRING_CODE_TTL_MS = DEFAULT_PAIRING_TTL_MS;

export { DEFAULT_PAIRING_JOIN_TIMEOUT_MS };

export interface ChatPairingInit {
  /** See DEFAULT_PAIRING_JOIN_TIMEOUT_MS. */
  joinTimeoutMs?: number;
  /**
   * When the join timeout comes during a handshake, how long to wait more for it to end before
   * saying nobody was found (default DEFAULT_HANDSHAKE_TIMEOUT_MS, the handshake's own limit).
   */
  handshakeGraceMs?: number;
}

export interface ChatPairingDeps {
  /** The protocol service (createPairing with the node's host and gossipsub). */
  pairing: Pairing;
  contacts: Contacts;
  /** The node's relays; the first reserved one is the pairing room. */
  relays: () => readonly RelayState[];
  /** Opens (or creates) the 1:1 conversation with `peer`; `created` when it did not exist. */
  openDirect: (peer: string) => Promise<{ conversationId: string; created: boolean }>;
  /** Connects to `peer` in the background. */
  dial: (peer: string) => void;
  /**
   * Timers for the join timeout and time for the expiry shown next to a code (default the real
   * clock; pass the same one as to createPairing).
   */
  clock?: PairingClock;
}

/** Both devices proved the code; nobody is a contact yet. */
export interface Paired {
  peerId: string;
  /** The name the other device sent. */
  name: string;
  /** 12 groups of 5 digits; the other device shows the same one if nobody is in the middle. */
  safetyNumber: string;
  role: 'host' | 'joiner';
  /**
   * Once both people confirmed: the contact (verified) and its open 1:1 conversation. Rejects
   * with HandshakeRefusedError 'declined' (the other person said no), HandshakeTimeoutError, or
   * an AbortError after reject().
   */
  outcome: Promise<{ contact: Contact; conversationId: string }>;
}

export interface ChatPairingSession {
  /** Digits only. */
  readonly code: string;
  /** Epoch ms after which the code no longer works (host: the code's TTL). */
  readonly expiresAt: number;
  /** Resolves once paired and the conversation is open; rejects with a named error. */
  readonly result: Promise<Paired>;
  cancel(): void;
}

export interface ChatPairing {
  start(): Promise<void>;
  /** Cancels a session in progress and unregisters the protocol. */
  stop(): Promise<void>;
  /** Shows a new code. Throws NoPairingRelayError without a relay reservation. */
  host(): ChatPairingSession;
  /**
   * Pairs with a code typed by the user (spaces and dashes allowed). Throws
   * InvalidPairingCodeError or NoPairingRelayError; `result` rejects with PairingNotFoundError
   * when nobody answers in time (a handshake running then may still finish, within the
   * handshake timeout), or PairingWrongAnswerError when devices that did not know the code
   * answered it too many times.
   */
  join(code: string): ChatPairingSession;
  /** Cancels the session in progress, if any. */
  cancel(): void;
  /** This person says the numbers match (the contact is added once the other one does too). */
  confirm(peer: string): void;
  /** The numbers differ (or this person cancels): tells the other device, adds nobody. */
  reject(peer: string): void;
}

export function createChatPairing(init: ChatPairingInit, deps: ChatPairingDeps): ChatPairing {
  return new ChatPairingService(init, deps);
}

/** The pairing room: the peer ID of the first relay this device holds a reservation on. */
export function pairingRoom(relays: readonly RelayState[]): string | undefined {
  return relays.find((r) => r.status === 'reserved' && r.peerId !== '')?.peerId;
}

/** "123456" -> "123 456": easier to read out and to type (other lengths are left as they are). */
export function groupCode(code: string): string {
  return /^\d{6}$/.test(code) ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

/** Words for a pairing failure; undefined for a cancellation (nothing to show). */
export function pairingErrorMessage(err: unknown): string | undefined {
  if ((err as { name?: unknown } | null)?.name === 'AbortError') return undefined;
  return describeError(err, 'pairing');
}

class ChatPairingService implements ChatPairing {
  readonly #init: ChatPairingInit;
  readonly #deps: ChatPairingDeps;
  readonly #clock: PairingClock;
  /** Pairings whose numbers are being compared, by peer. */
  readonly #pending = new Map<string, PairingResult>();
  #session: ChatPairingSession | undefined;

  constructor(init: ChatPairingInit, deps: ChatPairingDeps) {
    this.#init = init;
    this.#deps = deps;
    this.#clock = deps.clock ?? realPairingClock;
  }

  start(): Promise<void> {
    return this.#deps.pairing.start();
  }

  async stop(): Promise<void> {
    this.cancel();
    this.#declineAll();
    await this.#deps.pairing.stop();
  }

  host(): ChatPairingSession {
    const room = this.#room();
    const now = this.#now();
    const session = this.#deps.pairing.host({ room });
    return this.#wrap(session.code, now + PAIRING_CODE_TTL_MS, session.result, () =>
      session.cancel()
    );
  }

  join(code: string): ChatPairingSession {
    const room = this.#room();
    const timeoutMs = this.#init.joinTimeoutMs ?? DEFAULT_PAIRING_JOIN_TIMEOUT_MS;
    const controller = new AbortController();
    // Throws InvalidPairingCodeError before anything starts.
    const session = this.#deps.pairing.join(code, { room, signal: controller.signal });
    const notFound = (): void =>
      controller.abort(new PairingNotFoundError('Nobody was found with this code in time'));
    // A handshake running when the time is up may be the one that pairs: let it end (within
    // its own limit) rather than say "nobody was found" while a contact appears.
    const clock = this.#clock;
    let timer = clock.setTimeout(() => {
      if (!session.handshaking) return notFound();
      timer = clock.setTimeout(
        notFound,
        this.#init.handshakeGraceMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
      );
      void session.whenIdle().then(notFound);
    }, timeoutMs);
    const result = session.result.finally(() => clock.clearTimeout(timer));
    return this.#wrap(session.code, this.#now() + timeoutMs, result, () => session.cancel());
  }

  cancel(): void {
    this.#session?.cancel();
    this.#session = undefined;
  }

  /** Declines every comparison still open (the app stops). */
  #declineAll(): void {
    for (const pending of this.#pending.values()) pending.decline();
  }

  confirm(peer: string): void {
    void this.#pending.get(peer)?.confirm();
  }

  reject(peer: string): void {
    this.#pending.get(peer)?.decline();
  }

  #room(): string {
    const room = pairingRoom(this.#deps.relays());
    if (room === undefined) {
      throw new NoPairingRelayError('You need to be connected to a relay to pair with a code.');
    }
    return room;
  }

  #now(): number {
    return this.#clock.now();
  }

  #wrap(
    code: string,
    expiresAt: number,
    paired: Promise<PairingResult>,
    cancel: () => void
  ): ChatPairingSession {
    const result = paired.then((r) => this.#paired(r));
    const session: ChatPairingSession = { code, expiresAt, result, cancel };
    this.#session = session;
    void result
      .catch(() => undefined)
      .finally(() => {
        if (this.#session === session) this.#session = undefined;
      });
    return session;
  }

  /** Both proved the code: wait for both people, then open and dial as an accepted invite does. */
  #paired(r: PairingResult): Paired {
    const peer = r.peerId;
    this.#pending.get(peer)?.decline();
    this.#pending.set(peer, r);
    const outcome = r.outcome
      .finally(() => {
        if (this.#pending.get(peer) === r) this.#pending.delete(peer);
      })
      .then(async (contact) => {
        const { conversationId } = await this.#deps.openDirect(peer);
        this.#deps.dial(peer);
        return { contact, conversationId };
      });
    void outcome.catch(() => {});
    return {
      peerId: peer,
      name: r.profile.name,
      safetyNumber: r.safetyNumber,
      role: r.role,
      outcome
    };
  }
}
