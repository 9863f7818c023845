/**
 * Errors of contacts, profiles, invites and pairing. Each sets `name` (the UI maps names to
 * sentences; `name` survives duplicated bundles where `instanceof` does not).
 */

/** A display name or avatar that does not meet the rules in profile.ts. */
export class InvalidProfileError extends Error {
  override name = 'InvalidProfileError';
  constructor(
    message: string,
    readonly reason: 'empty' | 'too-long' | 'control-chars' | 'avatar-too-large' | 'avatar-type'
  ) {
    super(message);
  }
}

/** Why an invite link could not be read. */
export type InvalidInviteReason =
  | 'empty'
  | 'not-an-invite'
  | 'encoding'
  | 'version'
  | 'too-large'
  | 'truncated'
  | 'malformed'
  | 'expired'
  | 'own-invite';

/** Text that is not a usable invite link (or an expired one). */
export class InvalidInviteError extends Error {
  override name = 'InvalidInviteError';
  constructor(
    message: string,
    readonly reason: InvalidInviteReason
  ) {
    super(message);
  }
}

/** Why a handshake (invite or pairing) was refused, by this side or by the other one. */
export type RefusalReason =
  | 'bad-secret'
  | 'unknown-invite'
  | 'expired'
  | 'blocked'
  | 'rate-limited'
  | 'bad-code'
  | 'not-pairing'
  | 'busy'
  | 'declined';

/** The handshake was refused. `remote` tells whether the other side (or this one) refused. */
export class HandshakeRefusedError extends Error {
  override name = 'HandshakeRefusedError';
  constructor(
    message: string,
    readonly reason: RefusalReason,
    readonly remote: boolean
  ) {
    super(message);
  }
}

/** The other side broke the wire format: oversized, malformed, unexpected or wrong version. */
export class ProtocolViolationError extends Error {
  override name = 'ProtocolViolationError';
  constructor(
    message: string,
    readonly reason: 'too-large' | 'malformed' | 'version' | 'unexpected' | 'closed',
    options?: ErrorOptions
  ) {
    super(message, options);
  }
}

/** The handshake did not finish in time. */
export class HandshakeTimeoutError extends Error {
  override name = 'HandshakeTimeoutError';
}

/** Could not reach the other device to run a handshake. */
export class HandshakeDialError extends Error {
  override name = 'HandshakeDialError';
}

/** rename/block/... on a peer ID that is not a contact, or not a valid peer ID. */
export class ContactNotFoundError extends Error {
  override name = 'ContactNotFoundError';
}

/** A pairing code that is not N digits. */
export class InvalidPairingCodeError extends Error {
  override name = 'InvalidPairingCodeError';
}

/** Pairing found nobody with the same code before the time ran out. */
export class PairingTimeoutError extends Error {
  override name = 'PairingTimeoutError';
}

/** The service has not been started, or was stopped. */
export class NotStartedError extends Error {
  override name = 'NotStartedError';
}

/**
 * The joiner got too many answers to its code that did not prove the code (the host's CPace tag did
 * not match): someone other than the device showing the code is answering it.
 */
export class PairingWrongAnswerError extends Error {
  override name = 'PairingWrongAnswerError';
}
