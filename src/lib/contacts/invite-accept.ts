/**
 * The invitee side of the invite handshake (protocol and limits in invites.ts): checks the
 * invite, dials the inviter, proves the secret, checks the inviter's welcome MAC before it reads
 * the inviter's profile, and adds the inviter as a contact. Also the proof both sides compute
 * (inviteMac, re-exported by invites.ts): it lives here so that invites.ts imports this file and
 * not the other way round.
 *
 * The inviter is dialed through the invite's relay addresses, or by peer ID when it names none.
 * An invite is text from a stranger: relays on a private network are dialed only when the page
 * itself was loaded from a private address (private-address.ts); if that leaves none of the
 * invite's relays, nothing is dialed.
 */
import type { Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, toBase64Url, utf8 } from '../crypto/encoding.js';
import { INVITE_PROTOCOL } from '../p2p/constants.js';
import { DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS, NONCE_BYTES } from './constants.js';
import type { Contact } from './contacts.js';
import { HandshakeDialError, HandshakeRefusedError, InvalidInviteError } from './errors.js';
import {
  bytesField,
  encodeProfile,
  profileField,
  refusalMessage,
  type FrameChannel
} from './frames.js';
import { inviteId, parseInvite, type Invite } from './invite-link.js';
import type { InvitesDeps, InvitesInit } from './invite-types.js';
import { dialableRelays } from './private-address.js';
import type { Profile } from './profile.js';

const LABEL_INVITEE = utf8('p2p4e/invite/1 invitee');
const LABEL_INVITER = utf8('p2p4e/invite/1 inviter');

/** HMAC over the role label, both peer IDs (length-prefixed multihashes) and the nonce. */
export function inviteMac(
  secret: Uint8Array,
  role: 'invitee' | 'inviter',
  inviter: string,
  invitee: string,
  nonce: Uint8Array
): Uint8Array {
  const a = peerIdFromString(inviter).toMultihash().bytes;
  const b = peerIdFromString(invitee).toMultihash().bytes;
  const message = concatBytes(
    role === 'invitee' ? LABEL_INVITEE : LABEL_INVITER,
    new Uint8Array([a.byteLength]),
    a,
    new Uint8Array([b.byteLength]),
    b,
    nonce
  );
  return hmac(sha256, secret, message);
}

/** What the invitee side uses of the invite service. */
export interface InviteeContext {
  readonly init: InvitesInit;
  readonly deps: InvitesDeps;
  now(): number;
  /** This device's profile (a placeholder when it has none yet). */
  profile(): Promise<Profile>;
  /** A channel with the handshake deadline and frame limit, ending with `signal` too. */
  channel(stream: Stream, signal?: AbortSignal): FrameChannel;
  /** Junk (malformed or oversize frames) gets the peer dropped and kept out. */
  denyJunk(peer: string, err: unknown): void;
}

/**
 * Dials the inviter, runs the handshake, adds the inviter as a contact (Invites.accept once
 * started). Throws InvalidInviteError, HandshakeDialError, HandshakeRefusedError,
 * ProtocolViolationError or HandshakeTimeoutError.
 */
export async function acceptInvite(
  ctx: InviteeContext,
  linkOrInvite: string | Invite,
  signal?: AbortSignal
): Promise<Contact> {
  const me = ctx.deps.host.peerId.toString();
  const invite =
    typeof linkOrInvite === 'string'
      ? parseInvite(linkOrInvite, { now: ctx.now(), self: me })
      : linkOrInvite;
  if (invite.inviter === me) throw new InvalidInviteError('That is your own invite', 'own-invite');
  if (invite.expiresAt <= ctx.now()) {
    throw new InvalidInviteError('That invite has expired: ask for a new one', 'expired');
  }
  if (ctx.deps.contacts.isBlocked(invite.inviter)) {
    throw new HandshakeRefusedError(refusalMessage('blocked'), 'blocked', false);
  }

  const stream = await dial(ctx, invite, signal);
  const channel = ctx.channel(stream, signal);
  try {
    await channel.send({ t: 'hello', invite: inviteId(invite.secret) });
    const challenge = await channel.receive('challenge');
    const nonce = bytesField(challenge, 'nonce', NONCE_BYTES);
    await channel.send({
      t: 'proof',
      mac: toBase64Url(inviteMac(invite.secret, 'invitee', invite.inviter, me, nonce)),
      profile: encodeProfile(await ctx.profile())
    });
    const welcome = await channel.receive('welcome');
    const mac = bytesField(welcome, 'mac', 32);
    if (!equalBytes(mac, inviteMac(invite.secret, 'inviter', invite.inviter, me, nonce))) {
      throw new HandshakeRefusedError(refusalMessage('bad-secret'), 'bad-secret', false);
    }
    const profile = profileField(welcome);
    await channel.close();
    return await ctx.deps.contacts.add({
      peerId: invite.inviter,
      name: profile.name,
      ...(profile.avatar !== undefined ? { avatar: profile.avatar } : {}),
      source: 'invite',
      relays: dialableInviteRelays(ctx, invite)
    });
  } catch (err) {
    channel.abort(err instanceof Error ? err : undefined);
    ctx.denyJunk(invite.inviter, err);
    throw err;
  }
}

/** The invite's relays this page may dial (private ones only from a private page). */
function dialableInviteRelays(ctx: InviteeContext, invite: Invite): string[] {
  const origin =
    ctx.init.pageOrigin ?? (globalThis as { location?: { origin?: string } }).location?.origin;
  return dialableRelays(invite.relays, origin);
}

async function dial(ctx: InviteeContext, invite: Invite, signal?: AbortSignal): Promise<Stream> {
  const timeout = AbortSignal.timeout(ctx.init.dialTimeoutMs ?? DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS);
  const dialSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  const relays = dialableInviteRelays(ctx, invite);
  if (relays.length === 0 && invite.relays.length > 0) {
    // Every relay of the invite is on a private network and this page is not: dial nothing.
    throw new HandshakeDialError(
      "This invite's relay is on a private network this app was not opened from"
    );
  }
  const target =
    relays.length > 0
      ? relays.map((r) => multiaddr(`${r}/p2p-circuit/p2p/${invite.inviter}`))
      : peerIdFromString(invite.inviter);
  try {
    return await ctx.deps.host.dialProtocol(target, INVITE_PROTOCOL, {
      runOnLimitedConnection: true,
      signal: dialSignal
    });
  } catch (err) {
    if (signal?.aborted === true) throw err;
    throw new HandshakeDialError('Could not reach the device that made this invite', {
      cause: err
    });
  }
}
