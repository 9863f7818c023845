/** Public types of invites (invites.ts). */
import type { DenyList } from '../p2p/deny-list.js';
import type { ProtocolHost } from '../p2p/host.js';
import type { Contact, Contacts } from './contacts.js';
import type { RefusalReason } from './errors.js';
import type { Invite } from './invite-link.js';
import type { OutstandingInviteInfo, OutstandingInviteStore } from './outstanding.js';
import type { Profile } from './profile.js';

export interface HandshakeLimits {
  /** Whole-handshake deadline (default DEFAULT_HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
  /** Dial deadline (default DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS). */
  dialTimeoutMs?: number;
  /** Largest frame accepted (default MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  /** Attempts per peer per window (default DEFAULT_RATE_LIMIT_PER_PEER). */
  rateLimitPerPeer?: number;
  /** Unused since attempts have no shared budget (kept so old configs still type-check). */
  rateLimitGlobal?: number;
  rateLimitWindowMs?: number;
}

export interface InvitesInit extends HandshakeLimits {
  /** App origin for links (default `location.origin` when there is one). */
  origin?: string;
  /** Invite lifetime (default DEFAULT_INVITE_TTL_MS, at most MAX_INVITE_TTL_MS). */
  ttlMs?: number;
  /** Outstanding invites kept (default MAX_OUTSTANDING_INVITES); the oldest go first. */
  maxOutstanding?: number;
  /** Distinct peers failing one invite's proof per window (default MAX_INVITE_PROOF_FAILURES). */
  maxProofFailures?: number;
  /**
   * Where the page was loaded from (default `location.origin`): relay addresses on private
   * networks in an invite are dialed only when this is private too.
   */
  pageOrigin?: string;
}

export interface InvitesDeps {
  host: ProtocolHost;
  contacts: Contacts;
  store: OutstandingInviteStore;
  /** This device's profile; a placeholder name is sent while there is none. */
  profile: () => Promise<Profile | undefined> | Profile | undefined;
  /** Relay multiaddrs (ending in /p2p/<relay>) where this device holds a reservation. */
  relays: () => string[];
  /** Where a peer that sends junk (malformed or oversize frames) goes: dropped, kept out. */
  denyList?: Pick<DenyList, 'deny'>;
  now?: () => number;
  randomBytes?: (n: number) => Uint8Array;
}

export interface CreateInviteOptions {
  ttlMs?: number;
  label?: string;
  /** Overrides InvitesInit.origin. */
  origin?: string;
}

export interface CreatedInvite {
  id: string;
  link: string;
  invite: Invite;
}

/** Inviter side: someone used one of this device's invites. */
export interface InviteAcceptedEvent {
  inviteId: string;
  contact: Contact;
}

/** Inviter side: a handshake was refused (for diagnostics and the UI's activity list). */
export interface InviteRefusedEvent {
  peerId: string;
  reason: RefusalReason | 'protocol' | 'timeout';
}

export interface Invites {
  /** Registers the INVITE_PROTOCOL handler (also on limited, relayed connections). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Makes a one-time invite link and remembers its secret until used, revoked or expired. */
  create(options?: CreateInviteOptions): Promise<CreatedInvite>;
  /** Outstanding invites (secrets left out), expired ones dropped, newest first. */
  list(): Promise<OutstandingInviteInfo[]>;
  revoke(id: string): Promise<void>;
  /**
   * Invitee side: dials the inviter, runs the handshake, adds the inviter as a contact.
   * Throws InvalidInviteError, HandshakeDialError, HandshakeRefusedError,
   * ProtocolViolationError or HandshakeTimeoutError.
   */
  accept(linkOrInvite: string | Invite, options?: { signal?: AbortSignal }): Promise<Contact>;
  onAccepted(listener: (event: InviteAcceptedEvent) => void): () => void;
  onRefused(listener: (event: InviteRefusedEvent) => void): () => void;
}
