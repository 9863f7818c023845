/** Errors of the crypto helpers. `name` is set so checks survive duplicated bundles. */

/** A key passed to a crypto helper is empty, too large or not bytes. */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError';
}

/** A CPace share that does not decode, or gives the identity element (the run must abort). */
export class CPaceError extends Error {
  override name = 'CPaceError';
}
