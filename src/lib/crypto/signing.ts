/**
 * Ed25519 signatures by device keys, synchronous (so a message is written and signed in one
 * Yjs transaction). The public key comes from the peer ID itself (Ed25519 peer IDs embed it),
 * so anyone can check who signed without a key directory.
 *
 * ```ts
 * const sign = ed25519Signer(privateKey.raw); // the device's libp2p Ed25519 key
 * const sig = sign(bytes);
 * verifyByPeer(peerId, bytes, sig); // true / false
 * ```
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { ed25519 } from '@noble/curves/ed25519.js';

/** Signs bytes with this device's key. */
export type Signer = (data: Uint8Array) => Uint8Array;

/** Checks that `sig` over `data` was made by the key of `peerId`. Never throws. */
export type Verifier = (peerId: string, data: Uint8Array, sig: Uint8Array) => boolean;

export const SIGNATURE_BYTES = 64;

/**
 * A signer from an Ed25519 private key in libp2p's raw form (64 bytes: seed then public key)
 * or the bare 32-byte seed.
 */
export function ed25519Signer(raw: Uint8Array): Signer {
  if (raw.byteLength !== 64 && raw.byteLength !== 32) {
    throw new TypeError('not an Ed25519 private key');
  }
  const seed = raw.slice(0, 32);
  return (data) => ed25519.sign(data, seed);
}

const publicKeys = new Map<string, Uint8Array | null>();
const MAX_CACHED_KEYS = 1024;

function publicKeyOf(peerId: string): Uint8Array | null {
  let key = publicKeys.get(peerId);
  if (key !== undefined) return key;
  key = null;
  try {
    const parsed = peerIdFromString(peerId);
    if (parsed.type === 'Ed25519' && parsed.publicKey !== undefined) key = parsed.publicKey.raw;
  } catch {
    key = null;
  }
  if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
  publicKeys.set(peerId, key);
  return key;
}

/** Verifier for Ed25519 peer IDs; false for anything else or any malformed input. */
export const verifyByPeer: Verifier = (peerId, data, sig) => {
  if (!(sig instanceof Uint8Array) || sig.byteLength !== SIGNATURE_BYTES) return false;
  const key = publicKeyOf(peerId);
  if (key === null) return false;
  try {
    return ed25519.verify(sig, data, key);
  } catch {
    return false;
  }
};
