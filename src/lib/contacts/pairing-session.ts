/**
 * The state of one pairing session (hosting or joining a code) and what the host and joiner
 * sides share (PairingContext). A session ends once: paired, cancelled, expired or failed; ending
 * aborts every handshake still running for it and unsubscribes from its topic.
 */
import type { Stream } from '@libp2p/interface';
import type { Contacts } from './contacts.js';
import { PairingTimeoutError } from './errors.js';
import type { FrameChannel } from './frames.js';
import type { PairingClock } from './pairing-clock.js';
import { pairingTopic } from './pairing-code.js';
import type {
  PairingDeps,
  PairingInit,
  PairingPubSub,
  PairingResult,
  PairingSession
} from './pairing-types.js';
import type { Profile } from './profile.js';
import type { RateLimiter } from './rate-limit.js';

export class PairingAbortError extends Error {
  override name = 'AbortError';
}

export interface SessionState extends PairingSession {
  role: 'host' | 'joiner';
  room: string;
  busy: boolean;
  failures: number;
  /** Host: join sessions (`peer/n`) whose PAKE failed; each gets one guess. */
  failed: Set<string>;
  done: boolean;
  /** Aborted when the session ends: every dial and FrameChannel of the session listens to it. */
  controller: AbortController;
  /** Marks the handshake over (busy = false) and wakes whenIdle() callers. */
  idle(): void;
  resolve(result: PairingResult): void;
  fail(err: Error): void;
}

/** What the host and joiner sides of a handshake use of the pairing service. */
export interface PairingContext {
  readonly init: PairingInit;
  readonly deps: PairingDeps;
  readonly contacts: Contacts;
  readonly random: (n: number) => Uint8Array;
  readonly limiter: RateLimiter;
  readonly clock: PairingClock;
  /** The session in progress, if any. */
  readonly session: SessionState | undefined;
  /** This device's profile (a placeholder when it has none yet). */
  profile(): Promise<Profile>;
  /**
   * A channel that ends with `session` (cancel, expiry, or the other handshake winning) or at the
   * handshake deadline; `release()` once the handshake is over (clears the deadline).
   */
  channel(
    stream: Stream,
    session: SessionState | undefined
  ): { channel: FrameChannel; release(): void };
  /** Counts a failed handshake; ends the session after too many. */
  failed(session: SessionState): void;
  /**
   * Both proved the code: resolves the session with the confirmation step (nobody is added
   * yet), unless the session ended meanwhile.
   */
  finish(
    session: SessionState,
    peer: string,
    profile: Profile,
    channel: FrameChannel,
    release: () => void
  ): void;
}

export interface OpenSessionInit {
  role: 'host' | 'joiner';
  code: string;
  room: string;
  ttlMs: number;
  pubsub: PairingPubSub;
  clock: PairingClock;
  /** Called once when the session ends. */
  onEnd(session: SessionState): void;
}

/**
 * A new session, already counting down its TTL. Call `listen(session, signal)` next: it
 * subscribes to the topic (or ends the session at once if `signal` is already aborted).
 */
export function openSession(o: OpenSessionInit): SessionState & {
  listen(signal: AbortSignal | undefined): void;
} {
  const topic = pairingTopic(o.room, o.code);
  let resolve!: (r: PairingResult) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<PairingResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const ttl = o.clock.setTimeout(
    () => session.fail(new PairingTimeoutError('Nobody paired with this code in time')),
    o.ttlMs
  );
  let signal: AbortSignal | undefined;
  const onAbort = (): void =>
    session.fail(
      signal?.reason instanceof Error
        ? signal.reason
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
    o.clock.clearTimeout(ttl);
    signal?.removeEventListener('abort', onAbort);
    try {
      o.pubsub.unsubscribe(topic);
    } catch {
      // The node may be stopping.
    }
    o.onEnd(session);
  };
  const session: SessionState & { listen(signal: AbortSignal | undefined): void } = {
    code: o.code,
    topic,
    result,
    role: o.role,
    room: o.room,
    busy: false,
    failures: 0,
    failed: new Set(),
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
    cancel: () => session.fail(new PairingAbortError('Pairing was cancelled')),
    listen: (s) => {
      signal = s;
      if (s?.aborted === true) return onAbort();
      s?.addEventListener('abort', onAbort, { once: true });
      o.pubsub.subscribe(topic);
    }
  };
  return session;
}
