/**
 * Errors of the sync subsystem (conversation model and sync protocol). Each sets `name`:
 * callers compare `err.name`, which survives duplicated bundles where `instanceof` does not.
 */

/** An argument is out of bounds or malformed (empty text, text too long, bad emoji...). */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
}

/** No valid message with this id exists in the conversation. */
export class UnknownMessageError extends Error {
  override name = 'UnknownMessageError';
}

/** Only the author of a message may edit or delete it. */
export class NotAuthorError extends Error {
  override name = 'NotAuthorError';
}

/** The operation needs a group conversation (rename, add members, leave). */
export class NotAGroupError extends Error {
  override name = 'NotAGroupError';
}

/** This device is not (or no longer) a member of the conversation. */
export class NotMemberError extends Error {
  override name = 'NotMemberError';
}

/** A conversation with this id is not open in the sync service. */
export class UnknownConversationError extends Error {
  override name = 'UnknownConversationError';
}

/** A sync frame could not be decoded (bad version, type, length or trailing bytes). */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError';
}

/** The sync service is not started (or was stopped). */
export class SyncNotStartedError extends Error {
  override name = 'SyncNotStartedError';
}

/**
 * A Yjs update was refused before it was applied (update-check.ts): malformed, out of bounds,
 * or (`gap`) it needs changes this doc does not have (Yjs would hold it pending).
 */
export class UpdateRejectedError extends Error {
  override name = 'UpdateRejectedError';
  constructor(
    readonly reason: string,
    readonly gap = false
  ) {
    super(`update refused: ${reason}`);
  }
}
