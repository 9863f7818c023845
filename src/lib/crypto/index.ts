/**
 * Crypto: pure functions over keys and bytes (no I/O, no libp2p node).
 *
 * ```ts
 * import { fingerprint, safetyNumber, publicKeyOfPeer } from '$lib/crypto';
 * const mine = fingerprint(publicKeyOfPeer(node.libp2p.peerId.toString()));
 * // '12345 67890 …' (8 groups of 5 digits)
 * const shared = safetyNumber(publicKeyOfPeer(me), publicKeyOfPeer(them));
 * // 12 groups of 5 digits, identical on both devices
 * ```
 */
export { fingerprint, safetyNumber, formatDigitGroups } from './fingerprint.js';
export { publicKeyOfPeer, peerFingerprint, peerSafetyNumber } from './peer-key.js';
export { toBase64Url, fromBase64Url, concatBytes, equalBytes, utf8 } from './encoding.js';
export {
  ed25519Signer,
  verifyByPeer,
  SIGNATURE_BYTES,
  type Signer,
  type Verifier
} from './signing.js';
export { InvalidKeyError } from './errors.js';
export * as cryptoConstants from './constants.js';
