/**
 * What travels in the sync protocol's Ephemeral frames: small, versioned JSON notices that are
 * shown and forgotten, never written to a conversation doc or to storage.
 *
 * ```ts
 * sync.sendEphemeral(id, encodeEphemeral({ v: 1, t: 'presence', s: 'away' }));
 * sync.onEvent((e) => {
 *   if (e.type !== 'ephemeral') return;
 *   const notice = decodeEphemeral(e.payload); // undefined: ignore it
 * });
 * ```
 *
 * Wire format (UTF-8 JSON object, at most MAX_EPHEMERAL_NOTICE_BYTES):
 * - `{"v":1,"t":"typing"}`: the sender is typing in this conversation;
 * - `{"v":1,"t":"presence","s":"online"|"away"}`: the sender's device is open and visible
 *   (online) or open in the background (away).
 *
 * The decoder takes bytes from other devices: anything oversized, not JSON, of another version,
 * with unknown or extra fields or values is rejected (undefined), never thrown. The bare bytes
 * `typing` (what earlier versions sent) still decode as a typing notice.
 */
import { InvalidInputError } from './errors.js';

/** Largest encoded notice accepted; the biggest valid one is ~40 bytes. */
export const MAX_EPHEMERAL_NOTICE_BYTES = 256;

/** Current version of the notice format. */
export const EPHEMERAL_VERSION = 1;

export type PresenceState = 'online' | 'away';

export type EphemeralNotice = { v: 1; t: 'typing' } | { v: 1; t: 'presence'; s: PresenceState };

const LEGACY_TYPING = 'typing';
const encoder = new TextEncoder();

export function encodeEphemeral(notice: EphemeralNotice): Uint8Array {
  const checked = validate(notice);
  if (checked === undefined) throw new InvalidInputError('not a valid ephemeral notice');
  return encoder.encode(JSON.stringify(checked));
}

/** The notice in `bytes`, or undefined when they are not a valid one (ignore them). */
export function decodeEphemeral(bytes: Uint8Array): EphemeralNotice | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_EPHEMERAL_NOTICE_BYTES) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (text === LEGACY_TYPING) return { v: 1, t: 'typing' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return validate(value);
}

/** A fresh, exact copy of a valid notice; undefined for anything else. */
function validate(value: unknown): EphemeralNotice | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort().join(',');
  if (record.v !== EPHEMERAL_VERSION) return undefined;
  if (record.t === 'typing' && keys === 't,v') return { v: 1, t: 'typing' };
  if (
    record.t === 'presence' &&
    keys === 's,t,v' &&
    (record.s === 'online' || record.s === 'away')
  ) {
    return { v: 1, t: 'presence', s: record.s };
  }
  return undefined;
}
