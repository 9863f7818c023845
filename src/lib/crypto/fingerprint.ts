/**
 * Human-comparable numbers for device keys. Pure functions over public key bytes (for the app,
 * the protobuf-encoded libp2p Ed25519 public key, i.e. `publicKeyToProtobuf(key)` or the bytes
 * behind an Ed25519 peer ID).
 *
 * - `fingerprint(key)`: 8 groups of 5 digits for one device ("is this my device?").
 * - `safetyNumber(a, b)`: 12 groups of 5 digits for a pair of devices, the same on both sides
 *   whichever order the keys are given in (Signal's scheme: each key's digits come from its own
 *   hash, and the two halves are sorted). Two people compare it to rule out a man in the middle.
 *
 * Digits come from SHA-512 iterated over the key (as in Signal's numeric fingerprint), then
 * 5 bytes at a time read as a big-endian integer mod 100000.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from './encoding.js';
import {
  FINGERPRINT_GROUPS,
  FINGERPRINT_ITERATIONS,
  FINGERPRINT_VERSION,
  SAFETY_NUMBER_HALF_GROUPS
} from './constants.js';
import { InvalidKeyError } from './errors.js';

/** Longest public key accepted (a protobuf Ed25519 key is 36 bytes; RSA keys are far longer). */
const MAX_KEY_BYTES = 4_096;

/** Digits for one key: `groups` groups of 5, iterated hash bound to the version and key. */
function digitGroups(key: Uint8Array, groups: number, label: string): string[] {
  if (!(key instanceof Uint8Array) || key.byteLength === 0 || key.byteLength > MAX_KEY_BYTES) {
    throw new InvalidKeyError('A public key must be 1 to 4096 bytes');
  }
  const version = new Uint8Array([0, FINGERPRINT_VERSION]);
  let hash = sha512(concatBytes(version, utf8(label), key));
  for (let i = 1; i < FINGERPRINT_ITERATIONS; i++) hash = sha512(concatBytes(hash, key));
  const out: string[] = [];
  for (let g = 0; g < groups; g++) {
    // 5 bytes per group; SHA-512 gives 64 bytes, enough for 12 groups.
    let n = 0;
    for (let b = 0; b < 5; b++) n = n * 256 + hash[g * 5 + b]!;
    out.push(String(n % 100_000).padStart(5, '0'));
  }
  return out;
}

/** The fingerprint of one public key: 8 groups of 5 digits joined by spaces. */
export function fingerprint(publicKey: Uint8Array): string {
  return digitGroups(publicKey, FINGERPRINT_GROUPS, 'p2p4e-fingerprint').join(' ');
}

/**
 * The safety number of two public keys: 12 groups of 5 digits joined by spaces, identical for
 * `safetyNumber(a, b)` and `safetyNumber(b, a)`. Each key contributes 6 groups; the two halves
 * are sorted so the order of the arguments does not matter.
 */
export function safetyNumber(a: Uint8Array, b: Uint8Array): string {
  const halves = [a, b]
    .map((key) => digitGroups(key, SAFETY_NUMBER_HALF_GROUPS, 'p2p4e-safety-number').join(' '))
    .sort();
  return halves.join(' ');
}

/** Splits a safety number or fingerprint into lines of `perLine` groups, for display. */
export function formatDigitGroups(digits: string, perLine = 4): string[] {
  const groups = digits.split(' ').filter(Boolean);
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += perLine) {
    lines.push(groups.slice(i, i + perLine).join(' '));
  }
  return lines;
}
