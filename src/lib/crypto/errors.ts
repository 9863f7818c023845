/** Errors of the crypto helpers. `name` is set so checks survive duplicated bundles. */

/** A key passed to a crypto helper is empty, too large or not bytes. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}
