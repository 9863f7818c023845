/** Public key bytes behind a peer ID, for fingerprints and safety numbers. */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { InvalidKeyError } from './errors.js';

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
