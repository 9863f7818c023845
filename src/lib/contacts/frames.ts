/**
 * Framing shared by the invite and pairing handshakes: unsigned-varint length-prefixed frames
 * (lpStream), each one UTF-8 JSON object `{ "v": 1, "t": "<type>", ... }`, at most
 * MAX_FRAME_BYTES. Binary fields are base64url strings. Every decoder checks `v`, `t` and each
 * field it reads, and refuses the rest with ProtocolViolationError.
 */
import type { Stream } from '@libp2p/interface';
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils';
import { fromBase64Url, toBase64Url } from '../crypto/encoding.js';
import { AVATAR_TYPES, MAX_AVATAR_BYTES } from './constants.js';
import {
  HandshakeRefusedError,
  HandshakeTimeoutError,
  InvalidProfileError,
  ProtocolViolationError,
  type RefusalReason
} from './errors.js';
import { validateProfile, type Profile } from './profile.js';

/** Wire version of handshake messages (inside the versioned protocol ID). */
export const FRAME_VERSION = 1;

export type Frame = Record<string, unknown> & { v: number; t: string };

const REFUSAL_REASONS: readonly RefusalReason[] = [
  'bad-secret',
  'unknown-invite',
  'expired',
  'blocked',
  'rate-limited',
  'bad-code',
  'not-pairing',
  'busy',
  'declined'
];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One side of a handshake stream, with a deadline shared by every read and write. */
export class FrameChannel {
  readonly #lp: LengthPrefixedStream<Stream>;
  readonly #stream: Stream;
  signal: AbortSignal;
  #timeout: AbortSignal;

  constructor(
    stream: Stream,
    opts: {
      maxFrameBytes: number;
      timeoutMs: number;
      signal?: AbortSignal;
      /** Aborts when the deadline passes (default `AbortSignal.timeout(timeoutMs)`). */
      deadline?: AbortSignal;
    }
  ) {
    this.#stream = stream;
    this.#lp = lpStream(stream, { maxDataLength: opts.maxFrameBytes });
    this.#timeout = opts.deadline ?? AbortSignal.timeout(opts.timeoutMs);
    this.signal =
      opts.signal === undefined ? this.#timeout : AbortSignal.any([opts.signal, this.#timeout]);
  }

  /**
   * Replaces the deadline and the cancel signal, for a phase that outlives the first ones (the
   * pairing confirmation waits for people, not for the network).
   */
  rebind(deadline: AbortSignal, signal?: AbortSignal): void {
    this.#timeout = deadline;
    this.signal = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
  }

  async send(frame: Omit<Frame, 'v'>): Promise<void> {
    const bytes = encoder.encode(JSON.stringify({ v: FRAME_VERSION, ...frame }));
    try {
      await this.#lp.write(bytes, { signal: this.signal });
    } catch (err) {
      throw this.#mapError(err);
    }
  }

  /** Sends a refusal and closes; never throws (the other side may already be gone). */
  async refuse(reason: RefusalReason): Promise<void> {
    try {
      await this.send({ t: 'refuse', reason });
      await this.close();
    } catch {
      this.abort();
    }
  }

  /**
   * Reads the next frame, which must have type `expected`. A `refuse` frame from the other side
   * becomes HandshakeRefusedError (remote: true).
   */
  async receive(expected: string): Promise<Frame> {
    let raw: Uint8Array;
    try {
      raw = (await this.#lp.read({ signal: this.signal })).subarray();
    } catch (err) {
      throw this.#mapError(err);
    }
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(raw));
    } catch {
      throw new ProtocolViolationError('The other device sent something unreadable', 'malformed');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ProtocolViolationError('The other device sent something unreadable', 'malformed');
    }
    const frame = value as Frame;
    if (frame.v !== FRAME_VERSION) {
      throw new ProtocolViolationError('The other device runs an incompatible version', 'version');
    }
    if (frame.t === 'refuse') {
      const reason = REFUSAL_REASONS.find((r) => r === frame.reason);
      if (reason === undefined) {
        throw new ProtocolViolationError('The other device sent an unknown refusal', 'malformed');
      }
      throw new HandshakeRefusedError(refusalMessage(reason), reason, true);
    }
    if (frame.t !== expected) {
      throw new ProtocolViolationError(
        `Expected "${expected}" from the other device`,
        'unexpected'
      );
    }
    return frame;
  }

  /**
   * After this side has sent its last frame: waits for the other side to close its end. True
   * when it closed cleanly (it accepted the handshake); false when it reset the stream (it gave
   * up, e.g. cancelled), sent more, or did not answer in time.
   */
  async remoteClosed(): Promise<boolean> {
    try {
      await this.#lp.read({ signal: this.signal });
      return false;
    } catch (err) {
      return (err as { name?: string } | null)?.name === 'UnexpectedEOFError';
    }
  }

  async close(): Promise<void> {
    try {
      await this.#stream.close({ signal: this.signal });
    } catch {
      this.abort();
    }
  }

  /**
   * Ends the stream now that this side gives up, gracefully (no signal, so it works after the
   * deadline passed): the other side's pending read ends instead of waiting for its own deadline.
   */
  end(): void {
    void this.#stream.close().catch(() => this.abort());
  }

  abort(err: Error = new Error('handshake aborted')): void {
    try {
      this.#stream.abort(err);
    } catch {
      // Already closed.
    }
  }

  #mapError(err: unknown): Error {
    if (this.#timeout.aborted) {
      return new HandshakeTimeoutError('The other device did not answer in time');
    }
    const name = (err as { name?: string } | null)?.name;
    if (
      name === 'InvalidDataLengthError' ||
      name === 'InvalidDataLengthLengthError' ||
      name === 'InvalidMessageLengthError'
    ) {
      return new ProtocolViolationError(
        'The other device sent a message that is too large',
        'too-large'
      );
    }
    if (name === 'AbortError' && this.signal.aborted) {
      return err as Error;
    }
    // What libp2p said (reset, closed, aborted by the other side) stays as the cause.
    return new ProtocolViolationError('The connection closed during the handshake', 'closed', {
      cause: err
    });
  }
}

/** Reads a base64url field that must decode to exactly `length` bytes. */
export function bytesField(frame: Frame, field: string, length: number): Uint8Array {
  const value = frame[field];
  const bytes =
    typeof value === 'string' && value.length <= 4 * length ? fromBase64Url(value) : undefined;
  if (bytes === undefined || bytes.byteLength !== length) {
    throw new ProtocolViolationError(`Bad "${field}" from the other device`, 'malformed');
  }
  return bytes;
}

/** Reads a short string field (at most `maxLength` characters). */
export function stringField(frame: Frame, field: string, maxLength: number): string {
  const value = frame[field];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new ProtocolViolationError(`Bad "${field}" from the other device`, 'malformed');
  }
  return value;
}

/** A profile as it goes on the wire. */
export function encodeProfile(profile: Profile): Record<string, unknown> {
  return profile.avatar === undefined
    ? { name: profile.name }
    : {
        name: profile.name,
        avatar: { type: profile.avatar.type, data: toBase64Url(profile.avatar.bytes) }
      };
}

/** Reads and validates the `profile` field of a frame. */
export function profileField(frame: Frame): Profile {
  const p = frame.profile as { name?: unknown; avatar?: { type?: unknown; data?: unknown } } | null;
  if (typeof p !== 'object' || p === null) {
    throw new ProtocolViolationError('The other device sent no profile', 'malformed');
  }
  let avatar: unknown;
  if (p.avatar !== undefined) {
    const data = p.avatar?.data;
    const bytes =
      typeof data === 'string' && data.length <= Math.ceil((MAX_AVATAR_BYTES * 4) / 3)
        ? fromBase64Url(data)
        : undefined;
    if (bytes === undefined || !(AVATAR_TYPES as readonly unknown[]).includes(p.avatar?.type)) {
      throw new ProtocolViolationError('The other device sent a bad picture', 'malformed');
    }
    avatar = { type: p.avatar.type, bytes };
  }
  try {
    return validateProfile(avatar === undefined ? { name: p.name } : { name: p.name, avatar });
  } catch (err) {
    if (err instanceof InvalidProfileError) {
      throw new ProtocolViolationError(
        `The other device sent a bad profile: ${err.message}`,
        'malformed'
      );
    }
    throw err;
  }
}

/** Sentences for refusals (the UI may use its own, keyed by `reason`). */
export function refusalMessage(reason: RefusalReason): string {
  switch (reason) {
    case 'bad-secret':
      return 'The invite secret did not match';
    case 'unknown-invite':
      return 'That invite is unknown or was already used';
    case 'expired':
      return 'That invite has expired';
    case 'blocked':
      return 'This device is blocked';
    case 'rate-limited':
      return 'Too many attempts: try again in a minute';
    case 'bad-code':
      return 'The pairing code did not match';
    case 'not-pairing':
      return 'The other device is not pairing right now';
    case 'busy':
      return 'The other device is busy with another pairing';
    case 'declined':
      return "The other person said the numbers don't match";
  }
}
