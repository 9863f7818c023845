/** Errors of the composition root. `name` is set explicitly (see src/lib/p2p/errors.ts). */

/** `/api/relay-info` could not be fetched or made no sense. The message names the relay. */
export class RelayInfoUnavailableError extends Error {
  override name = 'RelayInfoUnavailableError';
}
