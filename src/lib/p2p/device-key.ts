/**
 * A new Ed25519 device key, made by WebCrypto when the browser has Ed25519 (Chromium, Firefox,
 * Safari, Node 20). libp2p's own `generateKeyPair('Ed25519')` derives the public key with
 * @noble/curves, whose first base-point multiplication builds a precomputed table: 25-130 ms
 * of main thread on the first run, right on the way to the first relay reservation. libp2p
 * signs and verifies through WebCrypto anyway, so nothing else pays for that table at start.
 *
 * ```ts
 * const key = await generateDeviceKey(); // libp2p PrivateKey, type 'Ed25519'
 * ```
 */
import { generateKeyPair, privateKeyFromRaw } from '@libp2p/crypto/keys';
import type { Ed25519PrivateKey } from '@libp2p/interface';
import { concatBytes, fromBase64Url } from '../crypto/encoding.js';

/** Ed25519 through `subtle` (default: the global WebCrypto); libp2p's generator without it. */
export async function generateDeviceKey(
  subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle
): Promise<Ed25519PrivateKey> {
  const fromWebCrypto = await webCryptoKey(subtle);
  return fromWebCrypto ?? generateKeyPair('Ed25519');
}

async function webCryptoKey(
  subtle: SubtleCrypto | undefined
): Promise<Ed25519PrivateKey | undefined> {
  if (subtle === undefined) return undefined;
  try {
    const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, [
      'sign',
      'verify'
    ])) as CryptoKeyPair;
    const jwk = await subtle.exportKey('jwk', pair.privateKey);
    const seed = fromBase64Url(jwk.d ?? '');
    const publicKey = fromBase64Url(jwk.x ?? '');
    if (jwk.crv !== 'Ed25519' || seed?.length !== 32 || publicKey?.length !== 32) return undefined;
    // libp2p's raw Ed25519 private key: the 32-byte seed, then the public key.
    const key = privateKeyFromRaw(concatBytes(seed, publicKey));
    return key.type === 'Ed25519' ? key : undefined;
  } catch {
    // No Ed25519 in this WebCrypto (older browsers): libp2p's generator.
    return undefined;
  }
}
