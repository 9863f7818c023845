/** Public key bytes behind a peer ID, for fingerprints and safety numbers. */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { InvalidKeyError } from './errors.js';
import { fingerprint, safetyNumber } from './fingerprint.js';

/**
 * The protobuf-encoded public key embedded in an Ed25519 (or secp256k1) peer ID. RSA peer IDs
 * are hashes and carry no key: they are refused, as the app only uses Ed25519 devices.
 */
export function publicKeyOfPeer(peerId: string): Uint8Array {
  let parsed;
  try {
    parsed = peerIdFromString(peerId);
  } catch {
    throw new InvalidKeyError('Not a valid peer ID');
  }
  if (parsed.publicKey === undefined) {
    throw new InvalidKeyError('This peer ID does not embed its public key');
  }
  return publicKeyToProtobuf(parsed.publicKey);
}

/** The safety number of two devices given their peer IDs (same on both devices). */
export function peerSafetyNumber(a: string, b: string): string {
  return safetyNumber(publicKeyOfPeer(a), publicKeyOfPeer(b));
}

/** The fingerprint of a device given its peer ID. */
export function peerFingerprint(peerId: string): string {
  return fingerprint(publicKeyOfPeer(peerId));
}
