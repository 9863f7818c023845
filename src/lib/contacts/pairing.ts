/**
 * Short-code pairing (PairDrop-style) over PAIR_PROTOCOL, for two people online on the same
 * relay at the same time.
 *
 * Design:
 * 1. One device (the host) shows a random 6-digit code; the other (the joiner) types it.
 * 2. Rendezvous: both subscribe to the gossipsub topic
 *    `/p2p4e/pair/2/<b64url(SHA-256("p2p4e-pair-rendezvous/2" ‖ room ‖ code[0])[0..16])>`: the
 *    room (the relay's peer ID) and the code's FIRST DIGIT only. The relay joins and announces
 *    every topic, so the topic is public; it tells an observer one digit and nothing more (see
 *    pairingTopic()). The joiner publishes `{ v:1, t:"announce", addrs }` every second until
 *    paired; gossipsub signs it, so `from` is the joiner's real peer ID.
 * 3. The host dials the announcing peer on PAIR_PROTOCOL (a libp2p stream, Noise-authenticated,
 *    also over the limited relayed connection) and runs CPace (draft-irtf-cfrg-cpace,
 *    ristretto255 + SHA-512, src/lib/crypto/cpace.ts) over the whole code, then key confirmation:
 *    ```
 *    H → J  { v:1, t:"hello",   sid: b64url(16), share: Ya }
 *    J → H  { v:1, t:"share",   share: Yb, tag: Tb }
 *    H → J  { v:1, t:"proof",   tag: Ta, profile }          (H checked Tb first)
 *    J → H  { v:1, t:"profile", profile }                   (J checked Ta first)
 *    CI = lv_cat("p2p4e/pair/2", room, host multihash, joiner multihash); AD = role; PRS = code
 *    refuse = { v:1, t:"refuse", reason: "bad-code" | "not-pairing" | "busy" | "blocked" | … }
 *    ```
 *    What crosses the wire (shares, tags) lets nobody test codes offline: a wrong code is one
 *    failed online guess, and a session ends after MAX_PAIRING_FAILURES of them.
 * 4. The session resolves with the confirmation step (pairing-confirm.ts): both screens show
 *    the safety number of the two keys; each person presses confirm (`{ t:"confirm" }`) or
 *    declines (`refuse "declined"`). A side adds the contact (verified) only after it confirmed
 *    and read the other's confirm; a decline or timeout adds nothing anywhere.
 *
 * Codes expire (2 min), a session pairs once. Ending a session (success, cancel, expiry) aborts
 * any handshake still running for it. The host only dials circuit addresses through the room
 * relay, and through its own address of that relay (never a transport address a stranger
 * announced).
 *
 * Files: pairing-code.ts (codes, topic, CPace inputs), pairing-announce.ts (the announcement
 * and which addresses count), pairing-session.ts (one session's state and end), pairing-host.ts
 * and pairing-joiner.ts (the two sides of the handshake), pairing-confirm.ts (both people
 * confirm), pairing-clock.ts (the timers every expiry, announcement and deadline runs on:
 * `deps.clock`, so tests move time themselves), pairing-types.ts (public types).
 */
import type { Message } from '@libp2p/gossipsub';
import type { Stream } from '@libp2p/interface';
import { PAIR_PROTOCOL } from '../p2p/constants.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_PAIRING_TTL_MS,
  DEFAULT_RATE_LIMIT_PER_PEER,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  MAX_FRAME_BYTES,
  MAX_PAIRING_FAILURES
} from './constants.js';
import { HandshakeRefusedError, NotStartedError, PairingWrongAnswerError } from './errors.js';
import { FrameChannel, refusalMessage } from './frames.js';
import { placeholderProfile } from './invites.js';
import { clockDeadline, realPairingClock, type PairingClock } from './pairing-clock.js';
import { defaultRandom, normalizePairingCode, randomPairingCode } from './pairing-code.js';
import { awaitConfirmation } from './pairing-confirm.js';
import { onAnnounce } from './pairing-host.js';
import { answerHost, startAnnouncing } from './pairing-joiner.js';
import {
  openSession,
  PairingAbortError,
  type PairingContext,
  type SessionState
} from './pairing-session.js';
import type {
  Pairing,
  PairingDeps,
  PairingInit,
  PairingOptions,
  PairingSession
} from './pairing-types.js';
import type { Profile } from './profile.js';
import { RateLimiter } from './rate-limit.js';

export {
  normalizePairingCode,
  pairingAd,
  pairingPake,
  pairingTopic,
  randomPairingCode
} from './pairing-code.js';
export type {
  Pairing,
  PairingDeps,
  PairingInit,
  PairingOptions,
  PairingPubSub,
  PairingResult,
  PairingSession
} from './pairing-types.js';

export function createPairing(init: PairingInit, deps: PairingDeps): Pairing {
  return new PairingService(init, deps);
}

class PairingService implements Pairing {
  readonly #init: PairingInit;
  readonly #deps: PairingDeps;
  readonly #random: (n: number) => Uint8Array;
  readonly #clock: PairingClock;
  readonly #ctx: PairingContext;
  #session: SessionState | undefined;
  #started = false;

  constructor(init: PairingInit, deps: PairingDeps) {
    this.#init = init;
    this.#deps = deps;
    this.#random = deps.randomBytes ?? defaultRandom;
    this.#clock = deps.clock ?? realPairingClock;
    // Per peer only: a global cap would let throwaway peer IDs lock the real host out.
    const limiter = new RateLimiter({
      perPeer: init.rateLimitPerPeer ?? DEFAULT_RATE_LIMIT_PER_PEER,
      windowMs: init.rateLimitWindowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS,
      now: this.#clock.now
    });
    const current = (): SessionState | undefined => this.#session;
    this.#ctx = {
      init,
      deps,
      contacts: deps.contacts,
      random: this.#random,
      limiter,
      clock: this.#clock,
      get session() {
        return current();
      },
      profile: () => this.#profile(),
      channel: (stream, session) => this.#channel(stream, session),
      failed: (session) => this.#failed(session),
      finish: (session, peer, profile, channel, release) =>
        this.#finish(session, peer, profile, channel, release)
    };
  }

  get active(): PairingSession | undefined {
    return this.#session;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.#deps.host.handle(
      PAIR_PROTOCOL,
      (stream, connection) => answerHost(this.#ctx, stream, connection),
      { runOnLimitedConnection: true, maxInboundStreams: 4 }
    );
    this.#started = true;
  }

  async stop(): Promise<void> {
    this.#session?.cancel();
    if (!this.#started) return;
    this.#started = false;
    await this.#deps.host.unhandle(PAIR_PROTOCOL);
  }

  host(options: PairingOptions & { code?: string } = {}): PairingSession {
    const code =
      options.code === undefined
        ? randomPairingCode(this.#random)
        : normalizePairingCode(options.code);
    const session = this.#open('host', code, options);
    const onMessage = (evt: CustomEvent<Message>): void => {
      if (evt.detail.topic === session.topic) void onAnnounce(this.#ctx, session, evt.detail);
    };
    this.#deps.pubsub.addEventListener('message', onMessage);
    void session.result
      .catch(() => {})
      .finally(() => {
        this.#deps.pubsub.removeEventListener('message', onMessage);
      });
    return session;
  }

  join(input: string, options: PairingOptions = {}): PairingSession {
    const code = normalizePairingCode(input);
    const session = this.#open('joiner', code, options);
    startAnnouncing(this.#ctx, session);
    return session;
  }

  #open(role: 'host' | 'joiner', code: string, options: PairingOptions): SessionState {
    if (!this.#started) throw new NotStartedError('Pairing is not started');
    this.#session?.cancel();
    const session = openSession({
      role,
      code,
      room: options.room ?? '',
      ttlMs: this.#init.ttlMs ?? DEFAULT_PAIRING_TTL_MS,
      pubsub: this.#deps.pubsub,
      clock: this.#clock,
      onEnd: (s) => {
        if (this.#session === s) this.#session = undefined;
      }
    });
    this.#session = session;
    session.listen(options.signal);
    return session;
  }

  async #profile(): Promise<Profile> {
    return (await this.#deps.profile()) ?? placeholderProfile(this.#deps.host.peerId.toString());
  }

  /** A channel that ends with the session (cancel, expiry, or the other handshake winning). */
  #channel(
    stream: Stream,
    session: SessionState | undefined
  ): { channel: FrameChannel; release(): void } {
    const timeoutMs = this.#init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const deadline = clockDeadline(this.#clock, timeoutMs);
    const channel = new FrameChannel(stream, {
      maxFrameBytes: this.#init.maxFrameBytes ?? MAX_FRAME_BYTES,
      timeoutMs,
      deadline: deadline.signal,
      ...(session === undefined ? {} : { signal: session.controller.signal })
    });
    return { channel, release: deadline.clear };
  }

  #failed(session: SessionState): void {
    session.failures++;
    if (session.failures >= (this.#init.maxFailures ?? MAX_PAIRING_FAILURES)) {
      session.fail(
        session.role === 'host'
          ? new HandshakeRefusedError(refusalMessage('bad-code'), 'bad-code', false)
          : new PairingWrongAnswerError('Devices that did not know the code answered it')
      );
    }
  }

  #finish(
    session: SessionState,
    peer: string,
    profile: Profile,
    channel: FrameChannel,
    release: () => void
  ): void {
    // Cancelled or expired meanwhile: the other side may have been told so, go no further.
    if (session.done) {
      channel.abort(new PairingAbortError('The pairing session ended'));
      release();
      return;
    }
    // Resolving ends the session (topic left, its signal aborted): the confirmation step has
    // its own deadline and signal.
    const result = awaitConfirmation({
      ctx: this.#ctx,
      channel,
      release,
      peer,
      profile,
      role: session.role
    });
    session.resolve(result);
  }
}
