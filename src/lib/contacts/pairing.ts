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
 */
import type { GossipSub, Message } from '@libp2p/gossipsub';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, toBase64Url, utf8 } from '../crypto/encoding.js';
import { peerSafetyNumber } from '../crypto/peer-key.js';
import { PAIR_PROTOCOL } from '../p2p/constants.js';
import type { ProtocolHost } from '../p2p/host.js';
import {
  DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS,
  DEFAULT_PAIRING_TTL_MS,
  DEFAULT_RATE_LIMIT_GLOBAL,
  DEFAULT_RATE_LIMIT_PER_PEER,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  MAX_FRAME_BYTES,
  MAX_PAIRING_ANNOUNCE_BYTES,
  MAX_PAIRING_FAILURES,
  NONCE_BYTES,
  PAIRING_CODE_DIGITS,
  PAIRING_TOPIC_PREFIX
} from './constants.js';
import type { Contact, Contacts } from './contacts.js';
import {
  HandshakeRefusedError,
  InvalidPairingCodeError,
  NotStartedError,
  PairingTimeoutError,
  PairingWrongAnswerError,
  type RefusalReason
} from './errors.js';
import { bytesField, encodeProfile, FrameChannel, profileField, refusalMessage } from './frames.js';
import { placeholderProfile, type HandshakeLimits } from './invites.js';
import type { Profile } from './profile.js';
import { RateLimiter } from './rate-limit.js';

/** The part of gossipsub pairing uses (`node.libp2p.services.pubsub`). */
export type PairingPubSub = Pick<
  GossipSub,
  'subscribe' | 'unsubscribe' | 'publish' | 'addEventListener' | 'removeEventListener'
>;

export interface PairingInit extends HandshakeLimits {
  /** How long a code is valid (default DEFAULT_PAIRING_TTL_MS). */
  ttlMs?: number;
  /** Joiner re-announce period (default DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS). */
  announceIntervalMs?: number;
  /** Failed handshakes before a session gives up (default MAX_PAIRING_FAILURES). */
  maxFailures?: number;
}

export interface PairingDeps {
  host: ProtocolHost;
  pubsub: PairingPubSub;
  contacts: Contacts;
  profile: () => Promise<Profile | undefined> | Profile | undefined;
  /** This device's multiaddrs (the joiner announces its relay circuit addresses). */
  addresses: () => string[];
  randomBytes?: (n: number) => Uint8Array;
}

export interface PairingResult {
  /** The new (or refreshed) contact, `verified: false` until the people compare numbers. */
  contact: Contact;
  /** 12 groups of 5 digits; both devices show the same one if nobody is in the middle. */
  safetyNumber: string;
  role: 'host' | 'joiner';
}

export interface PairingSession {
  /** The code to show (host) or the one typed (joiner), digits only. */
  readonly code: string;
  readonly topic: string;
  /**
   * Resolves when paired. Rejects with PairingTimeoutError when the code expires,
   * HandshakeRefusedError (reason 'bad-code') after too many failed attempts, or the signal's
   * reason / an AbortError on cancel().
   */
  readonly result: Promise<PairingResult>;
  /**
   * True while a handshake for this session runs (the host dialing or talking to a joiner, or
   * the joiner answering a host). It ends within the dial and handshake timeouts.
   */
  readonly handshaking: boolean;
  /** Resolves once no handshake runs (at once if none does, or when the session is over). */
  whenIdle(): Promise<void>;
  cancel(): void;
}

export interface PairingOptions {
  /** Salt for the topic and key: the relay's peer ID (both sides must use the same). */
  room?: string;
  signal?: AbortSignal;
}

export interface Pairing {
  /** Registers the PAIR_PROTOCOL handler (also on limited, relayed connections). */
  start(): Promise<void>;
  /** Cancels any session and unregisters the handler. */
  stop(): Promise<void>;
  /** Starts hosting: makes a code (or uses `code`) and waits for the other device. */
  host(options?: PairingOptions & { code?: string }): PairingSession;
  /** Joins with a code typed by the user. Throws InvalidPairingCodeError for a bad code. */
  join(code: string, options?: PairingOptions): PairingSession;
  /** The session in progress, if any (one at a time: a new one cancels the old). */
  readonly active: PairingSession | undefined;
}

export function createPairing(init: PairingInit, deps: PairingDeps): Pairing {
  return new PairingService(init, deps);
}

/** Digits only, exactly PAIRING_CODE_DIGITS of them (spaces and dashes typed by people are removed). */
export function normalizePairingCode(input: string): string {
  const code = typeof input === 'string' ? input.replace(/[\s-]/g, '') : '';
  if (!new RegExp(`^\\d{${PAIRING_CODE_DIGITS}}$`).test(code)) {
    throw new InvalidPairingCodeError(`Enter the ${PAIRING_CODE_DIGITS}-digit code`);
  }
  return code;
}

/** A uniformly random code (rejection sampling, no modulo bias). */
export function randomPairingCode(random: (n: number) => Uint8Array = defaultRandom): string {
  const limit = 10 ** PAIRING_CODE_DIGITS;
  const max = Math.floor(0x1_0000_0000 / limit) * limit;
  for (;;) {
    const b = random(4);
    const n = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
    if (n < max) return String(n % limit).padStart(PAIRING_CODE_DIGITS, '0');
  }
}

export function pairingTopic(room: string, code: string): string {
  const digest = sha256(utf8(`p2p4e-pair-topic/1\u0000${room}\u0000${code}`));
  return PAIRING_TOPIC_PREFIX + toBase64Url(digest.slice(0, 16));
}

export function pairingKey(room: string, code: string): Uint8Array {
  return sha256(utf8(`p2p4e-pair-key/1\u0000${room}\u0000${code}`));
}

export function pairingMac(
  key: Uint8Array,
  role: 'host' | 'joiner',
  host: string,
  joiner: string,
  nonce: Uint8Array
): Uint8Array {
  const a = peerIdFromString(host).toMultihash().bytes;
  const b = peerIdFromString(joiner).toMultihash().bytes;
  return hmac(
    sha256,
    key,
    concatBytes(
      utf8(`p2p4e/pair/1 ${role}`),
      new Uint8Array([a.byteLength]),
      a,
      new Uint8Array([b.byteLength]),
      b,
      nonce
    )
  );
}

function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

class PairingAbortError extends Error {
  override name = 'AbortError';
}

interface SessionState extends PairingSession {
  role: 'host' | 'joiner';
  room: string;
  key: Uint8Array;
  busy: boolean;
  failures: number;
  done: boolean;
  /** Aborted when the session ends: every dial and FrameChannel of the session listens to it. */
  controller: AbortController;
  /** Marks the handshake over (busy = false) and wakes whenIdle() callers. */
  idle(): void;
  resolve(result: PairingResult): void;
  fail(err: Error): void;
}

class PairingService implements Pairing {
  readonly #init: PairingInit;
  readonly #deps: PairingDeps;
  readonly #random: (n: number) => Uint8Array;
  readonly #limiter: RateLimiter;
  #session: SessionState | undefined;
  #started = false;

  constructor(init: PairingInit, deps: PairingDeps) {
    this.#init = init;
    this.#deps = deps;
    this.#random = deps.randomBytes ?? defaultRandom;
    this.#limiter = new RateLimiter({
      perPeer: init.rateLimitPerPeer ?? DEFAULT_RATE_LIMIT_PER_PEER,
      global: init.rateLimitGlobal ?? DEFAULT_RATE_LIMIT_GLOBAL,
      windowMs: init.rateLimitWindowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS
    });
  }

  get active(): PairingSession | undefined {
    return this.#session;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.#deps.host.handle(
      PAIR_PROTOCOL,
      (stream, connection) => this.#handleInbound(stream, connection),
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
      if (evt.detail.topic === session.topic) void this.#onAnnounce(session, evt.detail);
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
    const interval = this.#init.announceIntervalMs ?? DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS;
    const announce = (): void => {
      if (session.done || session.busy) return;
      const me = this.#deps.host.peerId.toString();
      const rank = (a: string): number =>
        (roomRelayPrefix(a, session.room, me) === undefined ? 2 : 0) +
        Number(a.includes('/webrtc'));
      const addrs = this.#deps
        .addresses()
        .filter((a) => a.includes('/p2p-circuit') && a.endsWith(`/p2p/${me}`))
        // Hosts only dial addresses through the room relay: those go first.
        .sort((a, b) => rank(a) - rank(b))
        .slice(0, 4);
      const data = utf8(JSON.stringify({ v: 1, t: 'announce', addrs }));
      // No topic peers yet (the relay has not seen our subscription): try again next time.
      this.#deps.pubsub.publish(session.topic, data).catch(() => {});
    };
    const timer = setInterval(announce, interval);
    setTimeout(announce, Math.min(interval, 100));
    void session.result.catch(() => {}).finally(() => clearInterval(timer));
    return session;
  }

  #open(role: 'host' | 'joiner', code: string, options: PairingOptions): SessionState {
    if (!this.#started) throw new NotStartedError('Pairing is not started');
    this.#session?.cancel();
    const room = options.room ?? '';
    const topic = pairingTopic(room, code);
    let resolve!: (r: PairingResult) => void;
    let reject!: (e: Error) => void;
    const result = new Promise<PairingResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const ttl = setTimeout(
      () => session.fail(new PairingTimeoutError('Nobody paired with this code in time')),
      this.#init.ttlMs ?? DEFAULT_PAIRING_TTL_MS
    );
    const onAbort = (): void =>
      session.fail(
        options.signal?.reason instanceof Error
          ? options.signal.reason
          : new PairingAbortError('Pairing was cancelled')
      );
    let idleWaiters: Array<() => void> = [];
    const wake = (): void => {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    };
    const finish = (): void => {
      session.done = true;
      session.controller.abort(new PairingAbortError('The pairing session ended'));
      wake();
      clearTimeout(ttl);
      options.signal?.removeEventListener('abort', onAbort);
      try {
        this.#deps.pubsub.unsubscribe(topic);
      } catch {
        // The node may be stopping.
      }
      if (this.#session === session) this.#session = undefined;
    };
    const session: SessionState = {
      code,
      topic,
      result,
      role,
      room,
      key: pairingKey(room, code),
      busy: false,
      failures: 0,
      done: false,
      controller: new AbortController(),
      get handshaking() {
        return session.busy && !session.done;
      },
      whenIdle: () =>
        session.handshaking ? new Promise<void>((res) => idleWaiters.push(res)) : Promise.resolve(),
      idle: () => {
        session.busy = false;
        wake();
      },
      resolve: (r) => {
        if (session.done) return;
        finish();
        resolve(r);
      },
      fail: (e) => {
        if (session.done) return;
        finish();
        reject(e);
      },
      cancel: () => session.fail(new PairingAbortError('Pairing was cancelled'))
    };
    this.#session = session;
    if (options.signal?.aborted === true) {
      onAbort();
      return session;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.#deps.pubsub.subscribe(topic);
    return session;
  }

  async #profile(): Promise<Profile> {
    return (await this.#deps.profile()) ?? placeholderProfile(this.#deps.host.peerId.toString());
  }

  /** A channel that ends with the session (cancel, expiry, or the other handshake winning). */
  #channel(stream: Stream, session: SessionState): FrameChannel {
    return new FrameChannel(stream, {
      maxFrameBytes: this.#init.maxFrameBytes ?? MAX_FRAME_BYTES,
      timeoutMs: this.#init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      signal: session.controller.signal
    });
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

  // --- Host: an announcement arrived on the topic -------------------------------------------

  async #onAnnounce(session: SessionState, msg: Message): Promise<void> {
    if (session.done || session.busy || msg.type !== 'signed') return;
    const peer = msg.from.toString();
    if (peer === this.#deps.host.peerId.toString() || this.#deps.contacts.isBlocked(peer)) return;
    const target = this.#dialTarget(session, msg.data, peer);
    if (target === undefined) return;
    session.busy = true;
    let stream: Stream | undefined;
    try {
      const signal = AbortSignal.any([
        AbortSignal.timeout(this.#init.dialTimeoutMs ?? DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS),
        session.controller.signal
      ]);
      stream = await this.#deps.host.dialProtocol(target, PAIR_PROTOCOL, {
        runOnLimitedConnection: true,
        signal
      });
    } catch {
      session.idle();
      return; // Unreachable: the joiner announces again, we try again.
    }
    if (session.done) {
      stream.abort(new PairingAbortError('The pairing session ended'));
      session.idle();
      return;
    }
    const channel = this.#channel(stream, session);
    try {
      const me = this.#deps.host.peerId.toString();
      const nonce = this.#random(NONCE_BYTES);
      await channel.send({ t: 'hello', nonce: toBase64Url(nonce) });
      const proof = await channel.receive('proof');
      const mac = bytesField(proof, 'mac', 32);
      const profile = profileField(proof);
      if (!equalBytes(mac, pairingMac(session.key, 'joiner', me, peer, nonce))) {
        await channel.refuse('bad-code');
        this.#failed(session);
        return;
      }
      if (session.done) return await channel.refuse('not-pairing');
      await channel.send({
        t: 'welcome',
        mac: toBase64Url(pairingMac(session.key, 'host', me, peer, nonce)),
        profile: encodeProfile(await this.#profile())
      });
      await channel.close();
      // The joiner closes its end once it accepted the welcome, and resets it when its session
      // ended meanwhile (cancelled, timed out): then it has no contact, so neither do we.
      if (!(await channel.remoteClosed())) return channel.abort();
      await this.#finish(session, peer, profile);
    } catch (err) {
      channel.abort(err instanceof Error ? err : undefined);
      if ((err as { name?: string }).name !== 'HandshakeRefusedError') this.#failed(session);
    } finally {
      session.idle();
    }
  }

  /**
   * Where to dial an announcing peer. With a room, only circuit addresses through the room relay
   * count (`…/p2p/<room>/p2p-circuit/p2p/<peer>`), and they are dialed through this device's own
   * address of that relay, so an announcement never makes us open a connection to a host it
   * chose; without such an address, the announcement is dropped. Without a room (tests, or a
   * relay-less setup), only the peer ID is dialed (known connections and addresses).
   */
  #dialTarget(
    session: SessionState,
    data: Uint8Array,
    peer: string
  ): Multiaddr[] | PeerId | undefined {
    const announced = parseAnnounce(data, peer, session.room);
    if (announced === undefined) return undefined;
    if (session.room === '') return peerIdFromString(peer);
    if (announced.length === 0) return undefined;
    const me = this.#deps.host.peerId.toString();
    const relays = new Set<string>();
    for (const own of this.#deps.addresses()) {
      const relay = roomRelayPrefix(own, session.room, me);
      if (relay !== undefined) relays.add(relay);
    }
    const out = [...relays].map((relay) => multiaddr(`${relay}/p2p-circuit/p2p/${peer}`));
    return out.length > 0 ? out : undefined;
  }

  // --- Joiner: the host dialed us ------------------------------------------------------------

  async #handleInbound(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const me = this.#deps.host.peerId.toString();
    const session = this.#session;
    const channel =
      session === undefined
        ? new FrameChannel(stream, {
            maxFrameBytes: this.#init.maxFrameBytes ?? MAX_FRAME_BYTES,
            timeoutMs: this.#init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS
          })
        : this.#channel(stream, session);
    const refuse = (reason: RefusalReason): Promise<void> => channel.refuse(reason);
    if (this.#deps.contacts.isBlocked(peer)) return refuse('blocked');
    if (!this.#limiter.take(peer)) return refuse('rate-limited');
    if (session === undefined || session.role !== 'joiner' || session.done) {
      return refuse('not-pairing');
    }
    if (session.busy) return refuse('busy');
    session.busy = true;
    try {
      const hello = await channel.receive('hello');
      const nonce = bytesField(hello, 'nonce', NONCE_BYTES);
      await channel.send({
        t: 'proof',
        mac: toBase64Url(pairingMac(session.key, 'joiner', peer, me, nonce)),
        profile: encodeProfile(await this.#profile())
      });
      const welcome = await channel.receive('welcome');
      // Cancelled or timed out while waiting: the user was told, do not pair behind their back.
      if (session.done) return channel.abort();
      const mac = bytesField(welcome, 'mac', 32);
      const profile = profileField(welcome);
      if (!equalBytes(mac, pairingMac(session.key, 'host', peer, me, nonce))) {
        // Someone answered who does not know the code: only this ends the join early.
        channel.abort();
        this.#failed(session);
        return;
      }
      await channel.close();
      await this.#finish(session, peer, profile);
    } catch (err) {
      // Timeouts, refusals, junk or a closed stream: any peer on the topic can cause them, so
      // they do not count toward the failures (the join timeout ends a join nobody completes).
      channel.abort(err instanceof Error ? err : undefined);
    } finally {
      session.idle();
    }
  }
}

/**
 * `<relay transport>/p2p/<room>` when `addr` is exactly `<relay transport>/p2p/<room>/p2p-circuit/
 * p2p/<peer>` (a circuit address of `peer` through the room relay); otherwise undefined.
 */
function roomRelayPrefix(addr: string, room: string, peer: string): string | undefined {
  let components;
  try {
    components = multiaddr(addr).getComponents();
  } catch {
    return undefined;
  }
  const n = components.length;
  if (n < 4) return undefined;
  const [relay, circuit, target] = components.slice(n - 3);
  if (relay?.name !== 'p2p' || relay.value !== room) return undefined;
  if (circuit?.name !== 'p2p-circuit' || target?.name !== 'p2p' || target.value !== peer) {
    return undefined;
  }
  if (components.slice(0, n - 3).some((c) => c.name === 'p2p' || c.name === 'p2p-circuit')) {
    return undefined;
  }
  return multiaddr(addr).decapsulate('/p2p-circuit').toString();
}

/**
 * The announced addresses that are circuit addresses of `peer` through the room relay
 * (`…/p2p/<room>/p2p-circuit/p2p/<peer>`; every other address is dropped); undefined if the
 * announcement itself is malformed.
 */
function parseAnnounce(data: Uint8Array, peer: string, room: string): Multiaddr[] | undefined {
  if (data.byteLength > MAX_PAIRING_ANNOUNCE_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return undefined;
  }
  const v = value as { v?: unknown; t?: unknown; addrs?: unknown } | null;
  if (typeof v !== 'object' || v === null || v.v !== 1 || v.t !== 'announce') return undefined;
  if (!Array.isArray(v.addrs) || v.addrs.length > 4) return undefined;
  const out: Multiaddr[] = [];
  for (const a of v.addrs) {
    if (typeof a !== 'string' || a.length > 512) return undefined;
    try {
      multiaddr(a);
    } catch {
      return undefined;
    }
    if (room !== '' && roomRelayPrefix(a, room, peer) !== undefined) out.push(multiaddr(a));
  }
  return out;
}
