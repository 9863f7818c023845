/**
 * Pairing codes and what both devices derive from one: the gossipsub topic they meet on (a
 * rendezvous bucket that reveals only the first digit) and the CPace run over the whole code
 * (design in pairing.ts). Pure functions.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { sha256 } from '@noble/hashes/sha2.js';
import { cpaceStart, lvCat, type CPaceParty } from '../crypto/cpace.js';
import { toBase64Url, utf8 } from '../crypto/encoding.js';
import {
  PAIRING_CODE_DIGITS,
  PAIRING_RENDEZVOUS_DIGITS,
  PAIRING_TOPIC_PREFIX
} from './constants.js';
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

/**
 * The rendezvous topic: a hash of the room and the code's first PAIRING_RENDEZVOUS_DIGITS
 * digit(s) only. Why not the whole code: the relay joins every topic a peer subscribes to and
 * tells all its peers, so a topic made from the whole code let anyone recover the code offline
 * (10^6 hashes, 0.5 s). Why not one topic per room: every device pairing on the relay would then
 * run the PAKE with every other, and each wrong run counts as a failed guess. One digit splits
 * the crowd tenfold and leaves 10^5 codes that only an online guess (one per CPace run, a few
 * runs per session) can test.
 */
export function pairingTopic(room: string, code: string): string {
  const bucket = code.slice(0, PAIRING_RENDEZVOUS_DIGITS);
  const digest = sha256(utf8(`p2p4e-pair-rendezvous/2\u0000${room}\u0000${bucket}`));
  return PAIRING_TOPIC_PREFIX + toBase64Url(digest.slice(0, 16));
}

/**
 * One side's CPace run for `code` (draft-irtf-cfrg-cpace, initiator = host). CI binds the run
 * to the protocol, the room and both Noise-authenticated peer IDs, initiator first (§10.1.1), so
 * a run cannot be relayed between other peers; AD names the role; `sid` is the host's fresh
 * random value (§10.9).
 */
export function pairingPake(
  role: 'host' | 'joiner',
  code: string,
  room: string,
  host: string,
  joiner: string,
  sid: Uint8Array,
  random: (n: number) => Uint8Array
): CPaceParty {
  return cpaceStart({
    prs: utf8(code),
    ci: lvCat(
      utf8('p2p4e/pair/2'),
      utf8(room),
      peerIdFromString(host).toMultihash().bytes,
      peerIdFromString(joiner).toMultihash().bytes
    ),
    sid,
    ad: pairingAd(role),
    random
  });
}

/** CPace associated data of each role. */
export function pairingAd(role: 'host' | 'joiner'): Uint8Array {
  return utf8(`p2p4e/pair/2 ${role}`);
}

export function defaultRandom(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
