/**
 * Pairing codes and what both devices derive from one: the gossipsub topic they meet on, the
 * handshake key and its MACs (design in pairing.ts). Pure functions.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toBase64Url, utf8 } from '../crypto/encoding.js';
import { PAIRING_CODE_DIGITS, PAIRING_TOPIC_PREFIX } from './constants.js';
import { InvalidPairingCodeError } from './errors.js';

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

export function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
