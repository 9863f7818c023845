/**
 * Invites: creating one-time invite links, and the invite handshake over INVITE_PROTOCOL.
 *
 * Handshake v1 (invitee I dials inviter R; Noise has already authenticated both peer IDs):
 *
 * ```
 * I → R  { v:1, t:"hello", invite: inviteId(secret) }
 * R → I  { v:1, t:"challenge", nonce: b64url(32 random bytes) }     or refuse
 * I → R  { v:1, t:"proof", mac: b64url(HMAC(secret, "p2p4e/invite/1 invitee" ‖ ids ‖ nonce)),
 *          profile: { name, avatar?: { type, data: b64url } } }
 * R → I  { v:1, t:"welcome", mac: b64url(HMAC(secret, "p2p4e/invite/1 inviter" ‖ ids ‖ nonce)),
 *          profile }                                                  or refuse
 * refuse = { v:1, t:"refuse", reason: "bad-secret" | "unknown-invite" | "expired" | "blocked" |
 *            "rate-limited" | "busy" }
 * ids = len ‖ inviter peer ID multihash ‖ len ‖ invitee peer ID multihash
 * ```
 *
 * The secret never crosses the wire. Each side checks the MAC before it reads anything else in
 * the frame (the profile is parsed only from a peer that proved the secret).
 *
 * Attempt limits: each peer has its own budget (DEFAULT_RATE_LIMIT_PER_PEER per window); an
 * invite stops taking newcomers for the window only after MAX_INVITE_PROOF_FAILURES distinct
 * peers named it and failed its MAC. There is no budget shared by everyone: 12 throwaway peer
 * IDs × 5 attempts used to spend it and lock the real invitee out.
 *
 * The invitee dials the invite's relay addresses only if they are public, or if the page itself
 * was loaded from a private address (private-address.ts). The proof is bound to both
 * Noise-authenticated peer IDs and to a fresh nonce, so a relay (or anyone who saw a proof)
 * cannot replay it, on this connection or another. The invite is consumed before the welcome is
 * sent, so it works once even when two attempts race.
 *
 * The invitee side (accept: dial, proof, welcome check) and inviteMac are in invite-accept.ts.
 */
import type { Connection, Stream } from '@libp2p/interface';
import { equalBytes, toBase64Url } from '../crypto/encoding.js';
import { INVITE_PROTOCOL } from '../p2p/constants.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INVITE_TTL_MS,
  DEFAULT_RATE_LIMIT_PER_PEER,
  DEFAULT_RATE_LIMIT_WINDOW_MS,
  INVITE_SECRET_BYTES,
  MAX_FRAME_BYTES,
  MAX_INVITE_PROOF_FAILURES,
  MAX_INVITE_TTL_MS,
  MAX_OUTSTANDING_INVITES,
  NONCE_BYTES
} from './constants.js';
import type { Contact } from './contacts.js';
import { NotStartedError, ProtocolViolationError, type RefusalReason } from './errors.js';
import { bytesField, encodeProfile, FrameChannel, profileField, stringField } from './frames.js';
import { acceptInvite, inviteMac, type InviteeContext } from './invite-accept.js';
import { inviteId, inviteLink, type Invite } from './invite-link.js';
import { Listeners } from './listeners.js';
import {
  isOutstandingInvite,
  type OutstandingInvite,
  type OutstandingInviteInfo
} from './outstanding.js';
import type {
  CreatedInvite,
  CreateInviteOptions,
  InviteAcceptedEvent,
  InviteRefusedEvent,
  Invites,
  InvitesDeps,
  InvitesInit
} from './invite-types.js';
import type { Profile } from './profile.js';
import { FailureBudget, RateLimiter } from './rate-limit.js';

export { inviteMac } from './invite-accept.js';
export type {
  CreatedInvite,
  CreateInviteOptions,
  HandshakeLimits,
  InviteAcceptedEvent,
  InviteRefusedEvent,
  Invites,
  InvitesDeps,
  InvitesInit
} from './invite-types.js';

export function createInvites(init: InvitesInit, deps: InvitesDeps): Invites {
  return new InviteService(init, deps);
}

function randomBytesDefault(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export function placeholderProfile(peerId: string): Profile {
  return { name: `Device ${peerId.slice(-6)}` };
}

class InviteService implements Invites {
  readonly #init: InvitesInit;
  readonly #deps: InvitesDeps;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #limiter: RateLimiter;
  readonly #proofFailures: FailureBudget;
  readonly #accepted = new Listeners<InviteAcceptedEvent>();
  readonly #refused = new Listeners<InviteRefusedEvent>();
  /** Invite IDs being consumed right now (two racing attempts: only one wins). */
  readonly #consuming = new Set<string>();
  readonly #ctx: InviteeContext;
  #started = false;

  constructor(init: InvitesInit, deps: InvitesDeps) {
    this.#init = init;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.randomBytes ?? randomBytesDefault;
    const windowMs = init.rateLimitWindowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS;
    this.#limiter = new RateLimiter({
      perPeer: init.rateLimitPerPeer ?? DEFAULT_RATE_LIMIT_PER_PEER,
      windowMs,
      now: this.#now
    });
    this.#proofFailures = new FailureBudget({
      max: init.maxProofFailures ?? MAX_INVITE_PROOF_FAILURES,
      windowMs,
      now: this.#now
    });
    this.#ctx = {
      init,
      deps,
      now: () => this.#now(),
      profile: () => this.#profile(),
      channel: (stream, signal) => this.#channel(stream, signal),
      denyJunk: (peer, err) => this.#denyJunk(peer, err)
    };
  }

  async start(): Promise<void> {
    if (this.#started) return;
    await this.#deps.host.handle(
      INVITE_PROTOCOL,
      (stream, connection) => this.#handleInbound(stream, connection),
      { runOnLimitedConnection: true, maxInboundStreams: 4 }
    );
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.#deps.host.unhandle(INVITE_PROTOCOL);
  }

  onAccepted(listener: (event: InviteAcceptedEvent) => void): () => void {
    return this.#accepted.on(listener);
  }

  onRefused(listener: (event: InviteRefusedEvent) => void): () => void {
    return this.#refused.on(listener);
  }

  async create(options: CreateInviteOptions = {}): Promise<CreatedInvite> {
    const ttl = Math.min(
      Math.max(options.ttlMs ?? this.#init.ttlMs ?? DEFAULT_INVITE_TTL_MS, 1_000),
      MAX_INVITE_TTL_MS
    );
    const now = this.#now();
    const secret = this.#random(INVITE_SECRET_BYTES);
    // Whole seconds: that is what the link can carry.
    const expiresAt = Math.floor((now + ttl) / 1000) * 1000;
    const invite: Invite = {
      version: 1,
      inviter: this.#deps.host.peerId.toString(),
      relays: this.#deps.relays(),
      secret,
      expiresAt
    };
    const origin =
      options.origin ??
      this.#init.origin ??
      (globalThis as { location?: { origin?: string } }).location?.origin ??
      'http://localhost';
    const link = inviteLink(origin, invite);
    const id = inviteId(secret);
    const record: OutstandingInvite = { id, secret, createdAt: now, expiresAt };
    if (options.label !== undefined) record.label = options.label.slice(0, 64);
    await this.#deps.store.put(id, record);
    await this.#prune();
    return { id, link, invite };
  }

  async list(): Promise<OutstandingInviteInfo[]> {
    await this.#prune();
    const all = await this.#deps.store.entries();
    return all
      .map(([, v]) => v)
      .filter(isOutstandingInvite)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(({ secret: _secret, ...info }) => info);
  }

  async revoke(id: string): Promise<void> {
    await this.#deps.store.delete(id);
  }

  /** Drops expired and unreadable invites, and the oldest beyond the limit. */
  async #prune(): Promise<void> {
    const now = this.#now();
    const all = await this.#deps.store.entries();
    const keep: OutstandingInvite[] = [];
    for (const [key, value] of all) {
      if (!isOutstandingInvite(value) || value.expiresAt <= now) await this.#deps.store.delete(key);
      else keep.push(value);
    }
    const max = this.#init.maxOutstanding ?? MAX_OUTSTANDING_INVITES;
    keep.sort((a, b) => b.createdAt - a.createdAt);
    for (const old of keep.slice(max)) await this.#deps.store.delete(old.id);
  }

  async #profile(): Promise<Profile> {
    return (await this.#deps.profile()) ?? placeholderProfile(this.#deps.host.peerId.toString());
  }

  #channel(stream: Stream, signal?: AbortSignal): FrameChannel {
    return new FrameChannel(stream, {
      maxFrameBytes: this.#init.maxFrameBytes ?? MAX_FRAME_BYTES,
      timeoutMs: this.#init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      ...(signal !== undefined ? { signal } : {})
    });
  }

  // --- Inviter side ---------------------------------------------------------------------------

  async #handleInbound(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    const me = this.#deps.host.peerId.toString();
    const channel = this.#channel(stream);
    const refuse = async (reason: RefusalReason): Promise<void> => {
      this.#refused.emit({ peerId: peer, reason });
      await channel.refuse(reason);
    };
    try {
      if (this.#deps.contacts.isBlocked(peer)) return await refuse('blocked');
      if (!this.#limiter.take(peer)) return await refuse('rate-limited');

      const hello = await channel.receive('hello');
      const id = stringField(hello, 'invite', 64);
      const stored = await this.#deps.store.get(id);
      if (!isOutstandingInvite(stored) || this.#consuming.has(id)) {
        return await refuse('unknown-invite');
      }
      if (stored.expiresAt <= this.#now()) {
        await this.#deps.store.delete(id);
        return await refuse('expired');
      }
      if (this.#proofFailures.exhausted(id)) return await refuse('rate-limited');

      const nonce = this.#random(NONCE_BYTES);
      await channel.send({ t: 'challenge', nonce: toBase64Url(nonce) });

      const proof = await channel.receive('proof');
      // The MAC before anything else: a peer that does not know the secret gets 'bad-secret'
      // whatever else it sent, and its profile is never parsed.
      const mac = bytesField(proof, 'mac', 32);
      if (!equalBytes(mac, inviteMac(stored.secret, 'invitee', me, peer, nonce))) {
        this.#proofFailures.fail(id, peer);
        return await refuse('bad-secret');
      }
      const profile = profileField(proof);

      // Consume before answering: one invite, one contact, even if two attempts race.
      if (this.#consuming.has(id)) return await refuse('unknown-invite');
      this.#consuming.add(id);
      try {
        if (!isOutstandingInvite(await this.#deps.store.get(id))) {
          return await refuse('unknown-invite');
        }
        await this.#deps.store.delete(id);
      } finally {
        this.#consuming.delete(id);
      }
      if (this.#deps.contacts.isBlocked(peer)) return await refuse('blocked');

      const contact = await this.#deps.contacts.add({
        peerId: peer,
        name: profile.name,
        ...(profile.avatar !== undefined ? { avatar: profile.avatar } : {}),
        source: 'invite'
      });
      await channel.send({
        t: 'welcome',
        mac: toBase64Url(inviteMac(stored.secret, 'inviter', me, peer, nonce)),
        profile: encodeProfile(await this.#profile())
      });
      await channel.close();
      this.#accepted.emit({ inviteId: id, contact });
    } catch (err) {
      this.#denyJunk(peer, err);
      const name = (err as { name?: string }).name;
      this.#refused.emit({
        peerId: peer,
        reason: name === 'HandshakeTimeoutError' ? 'timeout' : 'protocol'
      });
      channel.abort(err instanceof Error ? err : undefined);
    }
  }

  // --- Invitee side (the handshake itself: invite-accept.ts) ----------------------------------

  async accept(
    linkOrInvite: string | Invite,
    options: { signal?: AbortSignal } = {}
  ): Promise<Contact> {
    if (!this.#started) throw new NotStartedError('Invites are not started');
    return acceptInvite(this.#ctx, linkOrInvite, options.signal);
  }

  /** Junk (not a refusal, a timeout or a version mismatch) gets the peer dropped and kept out. */
  #denyJunk(peer: string, err: unknown): void {
    if (
      err instanceof ProtocolViolationError &&
      (err.reason === 'too-large' || err.reason === 'malformed')
    ) {
      this.#deps.denyList?.deny(peer, err.message);
    }
  }
}
