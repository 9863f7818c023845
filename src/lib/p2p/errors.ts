/**
 * Errors of the p2p layer. Each sets `name`: callers (and the UI's wording in messages.ts)
 * compare `err.name`, which survives duplicated bundles where `instanceof` does not.
 */

/** What the user typed is not a peer ID, a multiaddr with /p2p/, or an app link. */
export class InvalidTargetError extends Error {
  override name = 'InvalidTargetError';
  constructor(
    message: string,
    readonly reason: 'empty' | 'malformed' | 'self' = 'malformed'
  ) {
    super(message);
  }
}

/** The node has not been started (or was stopped). */
export class NodeNotStartedError extends Error {
  override name = 'NodeNotStartedError';
}

/** No relay holds a reservation for this device, so there is nothing to dial through. */
export class RelayUnavailableError extends Error {
  override name = 'RelayUnavailableError';
}

/** The relay could not connect us to the peer: it is offline or on another relay. */
export class PeerUnreachableError extends Error {
  override name = 'PeerUnreachableError';
}

/** Every attempt to reach the peer ran out of time. */
export class DialTimeoutError extends Error {
  override name = 'DialTimeoutError';
}

/** The peer answered through the relay, but a direct (WebRTC) connection never came up. */
export class DirectConnectionFailedError extends Error {
  override name = 'DirectConnectionFailedError';
}

/** ping() on a peer this device has no connection to. */
export class PeerNotConnectedError extends Error {
  override name = 'PeerNotConnectedError';
}

/** The caller's AbortSignal fired. */
export class AbortError extends Error {
  override name = 'AbortError';
  constructor(message = 'The operation was aborted') {
    super(message);
  }
}

/** A peer sent junk (a malformed, overlong or oversize frame): its connections were closed. */
export class PeerDeniedError extends Error {
  override name = 'PeerDeniedError';
}
