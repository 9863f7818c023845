/**
 * Short-code pairing (PairDrop-style) over PAIR_PROTOCOL, for two people online on the same
 * relay at the same time.
 *
 * Design:
 * 1. One device (the host) shows a random 6-digit code; the other (the joiner) types it.
 * 2. The code is only used to find each other: both subscribe to the gossipsub topic
 *    `/p2p4e/pair/1/<b64url(SHA-256("p2p4e-pair-topic/1" ‖ room ‖ code)[0..16])>`, where `room`
 *    salts the code per relay (the app passes the relay's peer ID). The relay forwards the
 *    topic. The joiner publishes `{ v:1, t:"announce", addrs: [its circuit addresses] }` every
 *    second until paired; gossipsub signs it, so `from` is the joiner's real peer ID.
 * 3. The host dials the announcing peer on PAIR_PROTOCOL (a libp2p stream, Noise-authenticated,
 *    also over the limited relayed connection) and runs a handshake:
 *    ```
 *    H → J  { v:1, t:"hello", nonce: b64url(32) }
 *    J → H  { v:1, t:"proof",   mac: HMAC(K, "p2p4e/pair/1 joiner" ‖ ids ‖ nonce), profile }
 *    H → J  { v:1, t:"welcome", mac: HMAC(K, "p2p4e/pair/1 host"   ‖ ids ‖ nonce), profile }
 *    K = SHA-256("p2p4e-pair-key/1" ‖ room ‖ code); ids = host then joiner peer ID multihashes
 *    refuse = { v:1, t:"refuse", reason: "bad-code" | "not-pairing" | "busy" | "blocked" | … }
 *    ```
 *    The MACs only make sure both typed the same code and filter stray peers on the topic.
 * 4. Both add each other as contacts with `verified: false` and get the safety number of the
 *    two keys (computed locally from the Noise-authenticated peer IDs). **The UI must show it on
 *    both screens and let the people confirm it matches** before calling
 *    `contacts.setVerified(peerId, true)` (or `contacts.remove(peerId)` if it does not). That
 *    confirmation step is left to the UI store.
 *
 * Limits: a 6-digit code has 10^6 values, and whoever sees the topic (the relay, any peer on
 * it) can find the code from the topic hash offline. So the code is not authentication: an
 * attacker who watches the relay can race to pair with either side. What protects the users is
 * the safety-number comparison (the attacker cannot make both sides show the same number,
 * because Noise binds each side to its own key). Codes expire (2 min), a session pairs once,
 * and after 3 failed handshakes the code is dropped (on the joiner, only answers whose `welcome`
 * MAC is wrong count: a host that fails for other reasons does not end the join). Ending a
 * session (success, cancel, expiry) aborts any handshake still running for it, and no contact is
 * added once it has ended. The host only dials circuit addresses through the room relay, and
 * through its own address of that relay (never a transport address a stranger announced).
 *
 * Files: pairing-code.ts (codes, topic, key, MACs), pairing-announce.ts (the announcement and
 * which addresses count), pairing-session.ts (one session's state and end), pairing-host.ts and
 * pairing-joiner.ts (the two sides of the handshake), pairing-clock.ts (the timers every
 * expiry, announcement and deadline runs on: `deps.clock`, so tests move time themselves),
 * pairing-types.ts (public types).
 */
import type { Message } from '@libp2p/gossipsub';
import type { Stream } from '@libp2p/interface';
import { peerSafetyNumber } from '../crypto/peer-key.js';
import { PAIR_PROTOCOL } from '../p2p/constants.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_PAIRING_TTL_MS,
  DEFAULT_RATE_LIMIT_GLOBAL,
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
import { onAnnounce } from './pairing-host.js';
import { answerHost, startAnnouncing } from './pairing-joiner.js';
import { openSession, type PairingContext, type SessionState } from './pairing-session.js';
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
  pairingKey,
  pairingMac,
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
    const limiter = new RateLimiter({
      perPeer: init.rateLimitPerPeer ?? DEFAULT_RATE_LIMIT_PER_PEER,
      global: init.rateLimitGlobal ?? DEFAULT_RATE_LIMIT_GLOBAL,
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
      finish: (session, peer, profile) => this.#finish(session, peer, profile)
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

  async #finish(session: SessionState, peer: string, profile: Profile): Promise<void> {
    // Cancelled or expired meanwhile: the other side may have been told so, add nobody.
    if (session.done) return;
    const existed = this.#deps.contacts.get(peer) !== undefined;
    const contact = await this.#deps.contacts.add({
      peerId: peer,
      name: profile.name,
      ...(profile.avatar !== undefined ? { avatar: profile.avatar } : {}),
      source: 'pair'
    });
    if (session.done) {
      // Ended while the contact was being written: take back a contact this pairing created.
      if (!existed) await this.#deps.contacts.remove(peer).catch(() => {});
      return;
    }
    session.resolve({
      contact,
      safetyNumber: peerSafetyNumber(this.#deps.host.peerId.toString(), peer),
      role: session.role
    });
  }
}
