/**
 * Invite links: `<origin>/#/invite/<payload>`. The payload sits in the URL fragment, which
 * browsers never send to a server. Pure encode/parse, no I/O.
 *
 * Payload v1 (base64url, no padding), all integers big-endian:
 *
 * | bytes | field                                                              |
 * |-------|--------------------------------------------------------------------|
 * | 1     | version = 1                                                        |
 * | 32    | one-time secret                                                    |
 * | 4     | expiry, seconds since the Unix epoch                               |
 * | 1 + n | inviter peer ID: length n (1–64), multihash bytes                  |
 * | 1     | relay count r (0–4)                                                |
 * | r×(1+m) | each relay: length m (1–255), binary multiaddr                   |
 *
 * Nothing may follow the last relay. Anything else is refused with InvalidInviteError.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { toString as bytesToString } from 'uint8arrays/to-string';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from '../crypto/encoding.js';
import {
  INVITE_LINK_HASH_PREFIX,
  INVITE_SECRET_BYTES,
  INVITE_VERSION,
  MAX_INVITE_MULTIADDR_BYTES,
  MAX_INVITE_PAYLOAD_CHARS,
  MAX_INVITE_RELAYS
} from './constants.js';
import { InvalidInviteError } from './errors.js';

/** What an invite link carries. */
export interface Invite {
  version: number;
  /** Canonical peer ID string of the inviting device. */
  inviter: string;
  /** Relay multiaddrs (each ending in /p2p/<relay>) where the inviter holds a reservation. */
  relays: string[];
  /** The one-time secret (INVITE_SECRET_BYTES). */
  secret: Uint8Array;
  /** ms since the epoch (whole seconds). */
  expiresAt: number;
}

/** Encodes the payload part of an invite link. Throws InvalidInviteError if a field is out of range. */
export function encodeInvitePayload(invite: Invite): string {
  if (invite.secret.byteLength !== INVITE_SECRET_BYTES) {
    throw new InvalidInviteError('The invite secret has the wrong size', 'malformed');
  }
  const peer = peerIdFromString(invite.inviter).toMultihash().bytes;
  if (peer.byteLength > 64) throw new InvalidInviteError('Peer ID too long', 'malformed');
  const relays = invite.relays.slice(0, MAX_INVITE_RELAYS).map((r) => multiaddr(r).bytes);
  const parts: Uint8Array[] = [new Uint8Array([INVITE_VERSION]), invite.secret];
  const expiry = new Uint8Array(4);
  new DataView(expiry.buffer).setUint32(0, Math.floor(invite.expiresAt / 1000));
  parts.push(expiry, new Uint8Array([peer.byteLength]), peer, new Uint8Array([relays.length]));
  for (const r of relays) {
    if (r.byteLength > MAX_INVITE_MULTIADDR_BYTES) {
      throw new InvalidInviteError('A relay address is too long for an invite', 'too-large');
    }
    parts.push(new Uint8Array([r.byteLength]), r);
  }
  const text = toBase64Url(concatBytes(...parts));
  if (text.length > MAX_INVITE_PAYLOAD_CHARS) {
    throw new InvalidInviteError('The invite is too large', 'too-large');
  }
  return text;
}

/** Decodes a payload (the part after `#/invite/`). Does not check expiry. */
export function decodeInvitePayload(payload: string): Invite {
  if (payload.length > MAX_INVITE_PAYLOAD_CHARS) {
    throw new InvalidInviteError('That invite is too large', 'too-large');
  }
  const bytes = fromBase64Url(payload);
  if (bytes === undefined || bytes.byteLength === 0) {
    throw new InvalidInviteError('That invite link is damaged', 'encoding');
  }
  if (bytes[0] !== INVITE_VERSION) {
    throw new InvalidInviteError(
      'That invite was made by a different version of the app',
      'version'
    );
  }
  let offset = 1;
  const take = (n: number): Uint8Array => {
    if (offset + n > bytes.byteLength) {
      throw new InvalidInviteError('That invite link is incomplete', 'truncated');
    }
    const out = bytes.slice(offset, offset + n);
    offset += n;
    return out;
  };
  const secret = take(INVITE_SECRET_BYTES);
  const expiresAt = new DataView(take(4).buffer).getUint32(0) * 1000;
  const peerLength = take(1)[0]!;
  if (peerLength === 0 || peerLength > 64) {
    throw new InvalidInviteError('That invite has no valid device ID', 'malformed');
  }
  let inviter: string;
  try {
    const id = peerIdFromString(bytesToString(take(peerLength), 'base58btc'));
    // An identity multihash that decodes to no key is a URL peer ID: nobody to dial or verify.
    if (id.type === 'url') throw new Error('a URL peer ID');
    inviter = id.toString();
  } catch (err) {
    if (err instanceof InvalidInviteError) throw err;
    throw new InvalidInviteError('That invite has no valid device ID', 'malformed');
  }
  const relayCount = take(1)[0]!;
  if (relayCount > MAX_INVITE_RELAYS) {
    throw new InvalidInviteError('That invite lists too many relays', 'malformed');
  }
  const relays: string[] = [];
  for (let i = 0; i < relayCount; i++) {
    const length = take(1)[0]!;
    if (length === 0) throw new InvalidInviteError('That invite has an empty relay', 'malformed');
    const raw = take(length);
    try {
      const ma = multiaddr(raw);
      const last = ma.getComponents().at(-1);
      if (last?.name !== 'p2p' || last.value === undefined) throw new Error('no /p2p/');
      // A relay nobody could dial: its /p2p/ part is no peer ID, or a URL one (an identity
      // multihash whose bytes are no key but happen to read as a URL).
      if (peerIdFromString(last.value).type === 'url') throw new Error('a URL peer ID');
      relays.push(ma.toString());
    } catch {
      throw new InvalidInviteError('That invite has an invalid relay address', 'malformed');
    }
  }
  if (offset !== bytes.byteLength) {
    throw new InvalidInviteError('That invite link has extra data', 'malformed');
  }
  return { version: INVITE_VERSION, inviter, relays, secret, expiresAt };
}

/** Builds the link for an invite. `origin` is the app's origin (plus path). */
export function inviteLink(origin: string, invite: Invite): string {
  const root = origin.replace(/#.*$/, '').replace(/\/+$/, '');
  return `${root}/${INVITE_LINK_HASH_PREFIX}${encodeInvitePayload(invite)}`;
}

export interface ParseInviteOptions {
  /** Current time (default Date.now()); an invite past its expiry is refused. */
  now?: number;
  /** This device's peer ID: opening one's own invite is refused. */
  self?: string;
}

/**
 * Reads an invite from what the user pasted or opened: a full link, the `#/invite/…` fragment,
 * or the bare payload. Throws InvalidInviteError with a reason for anything else.
 */
export function parseInvite(linkOrText: string, options: ParseInviteOptions = {}): Invite {
  const text = typeof linkOrText === 'string' ? linkOrText.trim() : '';
  if (text === '') throw new InvalidInviteError('Paste an invite link', 'empty');
  if (text.length > MAX_INVITE_PAYLOAD_CHARS + 2_048) {
    throw new InvalidInviteError('That is too long to be an invite link', 'too-large');
  }
  let payload: string;
  const at = text.indexOf(INVITE_LINK_HASH_PREFIX);
  if (at >= 0) {
    payload = text.slice(at + INVITE_LINK_HASH_PREFIX.length).split(/[\s?&#/]/, 1)[0] ?? '';
  } else if (/^[A-Za-z0-9_-]+$/.test(text)) {
    payload = text;
  } else {
    throw new InvalidInviteError('That is not an invite link', 'not-an-invite');
  }
  if (payload === '') throw new InvalidInviteError('That invite link is empty', 'truncated');
  const invite = decodeInvitePayload(payload);
  if (invite.expiresAt <= (options.now ?? Date.now())) {
    throw new InvalidInviteError('That invite has expired: ask for a new one', 'expired');
  }
  if (options.self !== undefined && invite.inviter === options.self) {
    throw new InvalidInviteError('That is your own invite', 'own-invite');
  }
  return invite;
}

/**
 * The invite's ID: what the invitee names when it connects (so the secret itself never goes
 * over the wire). base64url of the first 16 bytes of SHA-256(label || secret).
 */
export function inviteId(secret: Uint8Array): string {
  return toBase64Url(sha256(concatBytes(utf8('p2p4e-invite-id/1'), secret)).slice(0, 16));
}
