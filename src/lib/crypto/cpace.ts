/**
 * CPace over ristretto255 with SHA-512 (the CPACE-RISTRETTO255-SHA512 suite of
 * draft-irtf-cfrg-cpace, checked against revision 21 and its appendix B.3 test vectors), used
 * by short-code pairing: two devices that typed the same 6-digit code derive a strong shared key,
 * and whoever watches the wire learns nothing that lets them test codes offline. An active
 * attacker gets one guess per run (each run draws fresh scalars and a fresh `sid`).
 *
 * Initiator-responder mode (§4, "A always speaks first"), explicit key confirmation as §10.4
 * suggests. Pure functions, no I/O.
 *
 * ```ts
 * const a = cpaceStart({ prs, ci, sid, ad: adA, random });          // A → B: a.share, adA
 * const b = cpaceStart({ prs, ci, sid, ad: adB, random });          // B → A: b.share, adB
 * const kb = b.finish('responder', a.share, adA);                    // B → A: kb.ownTag
 * const ka = a.finish('initiator', b.share, adB);                    // A → B: ka.ownTag
 * cpaceVerifyTag(ka.peerTag, tagFromB);                              // each checks the other's
 * ```
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, utf8 } from './encoding.js';
import { CPaceError } from './errors.js';

type Point = InstanceType<typeof ristretto255.Point>;

/** G_Ristretto255.DSI (§8.3). */
export const CPACE_DSI = utf8('CPaceRistretto255');
/** SHA-512's input block size: H.s_in_bytes (§6.2). */
const S_IN_BYTES = 128;
/** G_Ristretto255.group_size_bits (§8.3). */
const GROUP_SIZE_BITS = 252;
/** Bytes of an encoded ristretto255 element. */
export const CPACE_SHARE_BYTES = 32;
/** Bytes of a key-confirmation tag (HMAC-SHA-512). */
export const CPACE_TAG_BYTES = 64;

/** prepend_len (Appendix A.1.1): the LEB128 length of `data`, then `data`. */
export function prependLen(data: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = data.byteLength;
  for (;;) {
    if (n < 128) len.push(n);
    else len.push((n & 0x7f) + 0x80);
    n = Math.floor(n / 128);
    if (n === 0) break;
  }
  return concatBytes(new Uint8Array(len), data);
}

/** lv_cat (Appendix A.1.3): each argument with its length prepended. */
export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(...parts.map(prependLen));
}

/**
 * generator_string (Appendix A.2): zero padding fills the first hash block after DSI and PRS,
 * so the PRS-dependent part is absorbed in one block.
 */
export function generatorString(
  dsi: Uint8Array,
  prs: Uint8Array,
  ci: Uint8Array,
  sid: Uint8Array
): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(dsi).length);
  return lvCat(dsi, prs, new Uint8Array(zpad), ci, sid);
}

/**
 * G.calculate_generator (§8.3): SHA-512 of the generator string (64 bytes = 2 ×
 * field_size_bytes), mapped with the RFC 9496 element derivation (one-way map).
 */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Point {
  const hash = sha512(generatorString(CPACE_DSI, prs, ci, sid));
  const derive = ristretto255_hasher.deriveToCurve;
  // Typed optional across noble's hashers; ristretto255's has it (RFC 9496 §4.3.4).
  if (derive === undefined) throw new CPaceError('ristretto255 element derivation is missing');
  return derive(hash);
}

/**
 * G.sample_scalar (§8.3, recommended form): 32 random bytes with the bits above
 * group_size_bits cleared, read little-endian. Zero (probability 2^-252) is drawn again: noble
 * refuses to multiply by it, and it would give the identity.
 */
export function sampleScalar(random: (n: number) => Uint8Array): bigint {
  for (;;) {
    const bytes = random(32).slice();
    bytes[31] = bytes[31]! & ((1 << (GROUP_SIZE_BITS - 248)) - 1);
    const y = scalarFromLe(bytes);
    if (y !== 0n) return y;
  }
}

/** A little-endian scalar (as the draft's test vectors write them). */
export function scalarFromLe(bytes: Uint8Array): bigint {
  let y = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i]!);
  return y;
}

/** G.scalar_mult (§8.3): the public encoding of y·g. */
export function scalarMult(y: bigint, g: Point): Uint8Array {
  return g.multiply(y).toBytes();
}

/**
 * G.scalar_mult_vfy (§8.3): y·decode(X), or undefined where the draft returns G.I (X does not
 * decode, or the result is the identity). The caller MUST abort then.
 */
export function scalarMultVfy(y: bigint, x: Uint8Array): Uint8Array | undefined {
  let point: Point;
  try {
    point = ristretto255.Point.fromBytes(x);
  } catch {
    return undefined;
  }
  if (point.is0()) return undefined;
  const k = point.multiply(y);
  return k.is0() ? undefined : k.toBytes();
}

/** transcript_ir (§6.3): initiator's share and AD first. */
export function transcriptIr(ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array) {
  return concatBytes(lvCat(ya, ada), lvCat(yb, adb));
}

/** ISK = H(lv_cat(DSI ‖ "_ISK", sid, K) ‖ transcript) (§7.2). */
export function intermediateSessionKey(
  sid: Uint8Array,
  k: Uint8Array,
  transcript: Uint8Array
): Uint8Array {
  return sha512(concatBytes(lvCat(concatBytes(CPACE_DSI, utf8('_ISK')), sid, k), transcript));
}

/**
 * Key confirmation (§10.4): mac_key = H("CPaceMac" ‖ sid ‖ ISK); each party's tag is
 * HMAC(mac_key, lv_cat(its own share, its own AD)).
 */
export function confirmationTag(
  isk: Uint8Array,
  sid: Uint8Array,
  share: Uint8Array,
  ad: Uint8Array
): Uint8Array {
  const macKey = sha512(concatBytes(utf8('CPaceMac'), sid, isk));
  return hmac(sha512, macKey, lvCat(share, ad));
}

export interface CPaceInit {
  /** Password-related string: the code. */
  prs: Uint8Array;
  /** Channel identifier: both parties' identities (initiator first, §10.1.1) and context. */
  ci: Uint8Array;
  /** Session id: fresh for every run (§10.9). */
  sid: Uint8Array;
  /** This party's associated data. */
  ad: Uint8Array;
  random: (n: number) => Uint8Array;
}

export interface CPaceKeys {
  /** The intermediate session key (never expose K itself, §10.3). */
  isk: Uint8Array;
  /** The tag this party sends. */
  ownTag: Uint8Array;
  /** The tag the other party must send. */
  peerTag: Uint8Array;
}

export interface CPaceParty {
  /** This party's public share (Ya or Yb). */
  share: Uint8Array;
  /**
   * Derives the keys from the other party's share. Throws CPaceError when that share does not
   * decode or gives the identity (§7.2 "MUST abort").
   */
  finish(role: 'initiator' | 'responder', peerShare: Uint8Array, peerAd: Uint8Array): CPaceKeys;
}

/** One party's run: computes its share now, the keys once the other share arrives. */
export function cpaceStart(init: CPaceInit): CPaceParty {
  const g = calculateGenerator(init.prs, init.ci, init.sid);
  const y = sampleScalar(init.random);
  const share = scalarMult(y, g);
  return {
    share,
    finish(role, peerShare, peerAd) {
      if (peerShare.byteLength !== CPACE_SHARE_BYTES) {
        throw new CPaceError('The other share has the wrong length');
      }
      const k = scalarMultVfy(y, peerShare);
      if (k === undefined) throw new CPaceError('The other share is not a valid element');
      const transcript =
        role === 'initiator'
          ? transcriptIr(share, init.ad, peerShare, peerAd)
          : transcriptIr(peerShare, peerAd, share, init.ad);
      const isk = intermediateSessionKey(init.sid, k, transcript);
      return {
        isk,
        ownTag: confirmationTag(isk, init.sid, share, init.ad),
        peerTag: confirmationTag(isk, init.sid, peerShare, peerAd)
      };
    }
  };
}

/** Constant-time tag check. */
export function cpaceVerifyTag(expected: Uint8Array, received: Uint8Array): boolean {
  return equalBytes(expected, received);
}
