/** Tunables of the crypto helpers. Changing any of these changes every number users compare. */

/** Version byte mixed into fingerprint and safety-number hashes. */
export const FINGERPRINT_VERSION = 1;

/** SHA-512 iterations per key (slows down searching for a key with a matching number). */
export const FINGERPRINT_ITERATIONS = 5_200;

/** Groups of 5 digits in a device fingerprint. */
export const FINGERPRINT_GROUPS = 8;

/** Groups of 5 digits each key contributes to a safety number (12 in all). */
export const SAFETY_NUMBER_HALF_GROUPS = 6;
