/** Errors of the files subsystem. `name` is set so checks survive duplicated bundles. */

/**
 * A segment did not decrypt: the key is wrong, or the bytes were changed, reordered, cut short
 * or padded. Nothing of such a segment is returned.
 */
export class FileDecryptError extends Error {
  override name = 'FileDecryptError';
}

/** A file key, size or byte range that cannot be right (before any crypto runs). */
export class InvalidFileRecordError extends Error {
  override name = 'InvalidFileRecordError';
}
