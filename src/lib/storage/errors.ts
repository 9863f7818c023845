/** Storage errors. `name` is set explicitly so checks survive duplicated bundles. */

/** IndexedDB/localStorage is missing, blocked (private mode), or holds something unreadable. */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
}

/** A storage call got an argument it can't store (bad id, segment number, entry, limit). */
export class StorageInputError extends Error {
  override name = 'StorageInputError';
}
