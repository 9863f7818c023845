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

/** The file's blocks contradict themselves or its record (sizes, structure): not fetched on. */
export class FileDamagedError extends Error {
  override name = 'FileDamagedError';
}

/** No member who has the file can be reached over a direct connection now. */
export class FileUnavailableError extends Error {
  override name = 'FileUnavailableError';
}

/** The file does not fit in the storage the browser gives this app. */
export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

/**
 * A batch of blocks was not written to IndexedDB (the transaction failed): none of the batch is
 * stored, and every put of the batch rejects with this error. `cause` is the IndexedDB error.
 */
export class BlockstoreWriteError extends Error {
  override name = 'BlockstoreWriteError';
}

/**
 * The browser refused a batch of blocks for lack of space (IndexedDB's QuotaExceededError): none
 * of the batch is stored. A BlockstoreWriteError, so one check covers both.
 */
export class BlockstoreQuotaError extends BlockstoreWriteError {
  override name = 'BlockstoreQuotaError';
}
