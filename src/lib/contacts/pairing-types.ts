/** Public types of short-code pairing (pairing.ts). */
import type { GossipSub } from '@libp2p/gossipsub';
import type { ProtocolHost } from '../p2p/host.js';
import type { Contact, Contacts } from './contacts.js';
import type { PairingClock } from './pairing-clock.js';
import type { HandshakeLimits } from './invites.js';
import type { Profile } from './profile.js';

/** The part of gossipsub pairing uses (`node.libp2p.services.pubsub`). */
export type PairingPubSub = Pick<
  GossipSub,
  'subscribe' | 'unsubscribe' | 'publish' | 'addEventListener' | 'removeEventListener'
>;

export interface PairingInit extends HandshakeLimits {
  /** How long both people have to confirm the safety number (DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS). */
  confirmTimeoutMs?: number;
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
  /** Timers and time for expiry, announcements and deadlines (default realPairingClock). */
  clock?: PairingClock;
}

/**
 * Both devices proved the same code (CPace). Nobody is a contact yet: both people compare the
 * safety number and both press confirm, or nothing is added.
 */
export interface PairingResult {
  /** The other device's peer ID (Noise-authenticated). */
  peerId: string;
  /** The profile it sent, after it proved the code. */
  profile: Profile;
  /** 12 groups of 5 digits; both devices show the same one if nobody is in the middle. */
  safetyNumber: string;
  role: 'host' | 'joiner';
  /**
   * This person's "the numbers match". Resolves with the new contact (`verified: true`) once the
   * other person confirmed too; rejects as `outcome` does.
   */
  confirm(): Promise<Contact>;
  /** This person's "the numbers don't match" (or a cancel): tells the other side, adds nobody. */
  decline(): void;
  /**
   * Settles when the confirmation ends: the contact once both confirmed; HandshakeRefusedError
   * (reason 'declined') when the other person declined, HandshakeTimeoutError when someone did
   * not answer in time, an AbortError after decline(), or a connection error.
   */
  readonly outcome: Promise<Contact>;
}

export interface PairingSession {
  /** The code to show (host) or the one typed (joiner), digits only. */
  readonly code: string;
  readonly topic: string;
  /**
   * Resolves when both devices proved the code (then confirm on both). Rejects with
   * PairingTimeoutError when the code expires,
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
