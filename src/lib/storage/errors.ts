/** Storage errors. `name` is set explicitly so checks survive duplicated bundles. */

/** IndexedDB/localStorage is missing, blocked (private mode), or holds something unreadable. */
export class StorageUnavailableError extends Error {
  override name = 'StorageUnavailableError';
}
