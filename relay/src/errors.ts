/**
 * Typed errors of the relay. Each class sets `name` so callers can compare `err.name` (which
 * survives duplicated module copies) instead of relying on `instanceof`.
 */

/** Invalid configuration: the process exits with code 2 and names the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** The command-line flag of the offending setting, e.g. `--http-port`. */
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(message);
    this.setting = setting;
  }
}

/** The persistent identity (private key file) could not be read or written. */
export class IdentityError extends Error {
  override name = 'IdentityError';
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/** A listener (HTTP or WebSocket) could not be started, e.g. the port is in use. */
export class ListenError extends Error {
  override name = 'ListenError';
  readonly setting: string;

  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.setting = setting;
  }
}

/** Exit codes of the relay process. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_CONFIG = 2;

/** Why the relay refuses to keep a public share (the `reason` of a refusal on the wire). */
export type ShareRefusalReason = 'disabled' | 'too-big' | 'quota' | 'bad-request' | 'unavailable';

/** A public share the relay will not keep; `message` is for people. */
export class ShareRefusedError extends Error {
  override name = 'ShareRefusedError';
  readonly reason: ShareRefusalReason;

  constructor(reason: ShareRefusalReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}
