/** Errors of the composition root. `name` is set explicitly (see src/lib/p2p/errors.ts). */

/** `/api/relay-info` could not be fetched or made no sense. The message names the relay. */
export class RelayInfoUnavailableError extends Error {
  override name = 'RelayInfoUnavailableError';
}

/** Pairing with a code needs a relay reservation: the relay's peer ID is the pairing room. */
export class NoPairingRelayError extends Error {
  override name = 'NoPairingRelayError';
}

/** The joining side found nobody showing the typed code before it gave up. */
export class PairingNotFoundError extends Error {
  override name = 'PairingNotFoundError';
}

/** The messenger is used before `start()` finished (or after it failed). */
export class ChatNotStartedError extends Error {
  override name = 'ChatNotStartedError';
}
