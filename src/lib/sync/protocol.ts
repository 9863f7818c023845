/**
 * Wire format of SYNC_PROTOCOL (`/p2p4e/sync/1.0.0`) frames. Each frame travels length-prefixed
 * (unsigned varint length, then the bytes) on a libp2p stream and is:
 *
 * ```
 * u8       version      FRAME_VERSION (1)
 * u8       type         1 step1 | 2 step2 | 3 update | 4 ephemeral | 5 error | 6 ack
 * varuint  idLength     1..MAX_ID_LENGTH
 * bytes    id           conversation id, UTF-8
 * varuint  payloadLength
 * bytes    payload      step1/ack: Yjs state vector; step2/update: Yjs update (v1);
 *                       ephemeral: opaque app bytes (never stored); error: u8 code
 * ```
 *
 * Nothing may follow the payload. The decoder rejects unknown versions and types, empty or
 * long ids, lengths past the end, trailing bytes and frames over the size limit.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { FRAME_VERSION, MAX_ID_LENGTH } from './constants.js';
import { MalformedFrameError } from './errors.js';

export const FrameType = {
  /** "Here is my state vector: send me what I miss." Answered by step2. */
  Step1: 1,
  /** The diff against the state vector of a step1. */
  Step2: 2,
  /** A live update, forwarded to every member connected. */
  Update: 3,
  /** Presence, typing...: delivered to listeners, never stored or forwarded. */
  Ephemeral: 4,
  /** The conversation can't be synced with this peer. */
  Error: 5,
  /** "After what you sent, my state vector is this." Not answered; drives message status. */
  Ack: 6
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const SyncErrorCode = {
  /** Unknown conversation, or not a member: deliberately the same answer. */
  Unavailable: 1
} as const;
export type SyncErrorCode = (typeof SyncErrorCode)[keyof typeof SyncErrorCode];

export interface Frame {
  type: FrameType;
  conversationId: string;
  payload: Uint8Array;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(frame: Frame): Uint8Array {
  const id = textEncoder.encode(frame.conversationId);
  if (id.byteLength === 0 || id.byteLength > MAX_ID_LENGTH) {
    throw new MalformedFrameError('conversation id length out of bounds');
  }
  const e = encoding.createEncoder();
  encoding.writeUint8(e, FRAME_VERSION);
  encoding.writeUint8(e, frame.type);
  encoding.writeVarUint8Array(e, id);
  encoding.writeVarUint8Array(e, frame.payload);
  return encoding.toUint8Array(e);
}

/** Decodes one frame; throws MalformedFrameError on anything unexpected. */
export function decodeFrame(bytes: Uint8Array, maxBytes: number): Frame {
  if (bytes.byteLength > maxBytes) throw new MalformedFrameError('frame too large');
  if (bytes.byteLength < 4) throw new MalformedFrameError('frame too short');
  try {
    const d = decoding.createDecoder(bytes);
    const version = decoding.readUint8(d);
    if (version !== FRAME_VERSION) throw new MalformedFrameError(`unknown version ${version}`);
    const type = decoding.readUint8(d);
    if (type < FrameType.Step1 || type > FrameType.Ack) {
      throw new MalformedFrameError(`unknown frame type ${type}`);
    }
    const idLength = decoding.readVarUint(d);
    if (idLength === 0 || idLength > MAX_ID_LENGTH || idLength > bytes.byteLength - d.pos) {
      throw new MalformedFrameError('conversation id length out of bounds');
    }
    const conversationId = textDecoder.decode(decoding.readUint8Array(d, idLength));
    const payloadLength = decoding.readVarUint(d);
    if (payloadLength !== bytes.byteLength - d.pos) {
      throw new MalformedFrameError('payload length does not match the frame');
    }
    const payload = decoding.readUint8Array(d, payloadLength);
    return { type: type as FrameType, conversationId, payload };
  } catch (err) {
    if (err instanceof MalformedFrameError) throw err;
    throw new MalformedFrameError('malformed frame', { cause: err });
  }
}

export function errorFrame(conversationId: string, code: SyncErrorCode): Frame {
  return { type: FrameType.Error, conversationId, payload: Uint8Array.of(code) };
}
