/**
 * Wire format of SYNC_PROTOCOL (`/p2p4e/sync/5.0.0`; 3.0.0 carried bare Yjs updates, 4.0.0
 * envelopes without a declared range (envelope.ts); neither is spoken any more). Each frame travels length-prefixed
 * (unsigned varint length, then the bytes) on a libp2p stream and is:
 *
 * ```
 * u8       version      FRAME_VERSION (1)
 * u8       type         1 step1 | 2 step2 | 3 update | 4 ephemeral | 5 error | 6 ack | 7 part
 *                       | 8 deflated
 * varuint  idLength     1..MAX_ID_LENGTH
 * bytes    id           conversation id, UTF-8
 * varuint  payloadLength
 * bytes    payload      step1/ack: Yjs state vector; update: one author-signed envelope of a
 *                       Yjs update (envelope.ts); step2: a list of envelopes (varuint count,
 *                       then varuint length + bytes each; authored.ts says which);
 *                       ephemeral: opaque app bytes (never stored); error: u8 code;
 *                       part: u8 inner type (2, 3 or 8), varuint total, varuint offset, chunk;
 *                       deflated: see deflate.ts
 * ```
 *
 * A step2 or update too big for one frame is sent as consecutive Part frames (offsets 0, n,
 * 2n... of one payload of `total` bytes); the receiver handles the reassembled payload as
 * a frame of the inner type.
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
  Ack: 6,
  /** A slice of a step2, update or deflated frame too big for one frame. */
  Part: 7,
  /** A step2 or update compressed (deflate.ts). */
  Deflated: 8
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
    if (type < FrameType.Step1 || type > FrameType.Deflated) {
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

export interface PartHeader {
  inner: typeof FrameType.Step2 | typeof FrameType.Update | typeof FrameType.Deflated;
  total: number;
  offset: number;
  chunk: Uint8Array;
}

/** Bytes of an unsigned varint. */
function varUintLength(n: number): number {
  let length = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    length++;
  }
  return length;
}

/** `encodeFrame(frame).byteLength` without encoding (copying) the payload. */
export function frameLength(conversationId: string, payloadLength: number): number {
  const id = textEncoder.encode(conversationId).byteLength;
  return 2 + varUintLength(id) + id + varUintLength(payloadLength) + payloadLength;
}

/** Payload bytes per Part frame of at most `maxFrameBytes`. */
function partChunkSize(maxFrameBytes: number): number {
  // Room for the frame header (version, type, id) and the part header (type, 2 varuints).
  const chunkSize = maxFrameBytes - (2 + 2 + MAX_ID_LENGTH * 4) - (1 + 2 * 8);
  if (chunkSize < 64) throw new MalformedFrameError('frame limit too small to split');
  return chunkSize;
}

/** Splits a step2/update payload into Part frames of at most `maxFrameBytes` each. */
export function splitIntoParts(frame: Frame, maxFrameBytes: number): Frame[] {
  const chunkSize = partChunkSize(maxFrameBytes);
  const frames: Frame[] = [];
  const total = frame.payload.byteLength;
  for (let offset = 0; offset < total; offset += chunkSize) {
    const e = encoding.createEncoder();
    encoding.writeUint8(e, frame.type);
    encoding.writeVarUint(e, total);
    encoding.writeVarUint(e, offset);
    encoding.writeUint8Array(e, frame.payload.subarray(offset, offset + chunkSize));
    frames.push({
      type: FrameType.Part,
      conversationId: frame.conversationId,
      payload: encoding.toUint8Array(e)
    });
  }
  return frames;
}

/**
 * `splitIntoParts(frame, maxFrameBytes).map(encodeFrame)` in one pass: each Part frame is
 * written into one buffer of its exact size, so each byte of the payload is copied once
 * (instead of four times through the intermediate frames and encoders).
 */
export function encodeParts(frame: Frame, maxFrameBytes: number): Uint8Array[] {
  const id = textEncoder.encode(frame.conversationId);
  if (id.byteLength === 0 || id.byteLength > MAX_ID_LENGTH) {
    throw new MalformedFrameError('conversation id length out of bounds');
  }
  const chunkSize = partChunkSize(maxFrameBytes);
  const out: Uint8Array[] = [];
  const total = frame.payload.byteLength;
  for (let offset = 0; offset < total; offset += chunkSize) {
    const chunk = frame.payload.subarray(offset, offset + chunkSize);
    const e = encoding.createEncoder();
    encoding.writeUint8(e, FRAME_VERSION);
    encoding.writeUint8(e, FrameType.Part);
    encoding.writeVarUint8Array(e, id);
    encoding.writeVarUint(
      e,
      1 + varUintLength(total) + varUintLength(offset) + chunk.byteLength // the Part payload
    );
    encoding.writeUint8(e, frame.type);
    encoding.writeVarUint(e, total);
    encoding.writeVarUint(e, offset);
    const header = encoding.toUint8Array(e);
    const bytes = new Uint8Array(header.byteLength + chunk.byteLength);
    bytes.set(header);
    bytes.set(chunk, header.byteLength);
    out.push(bytes);
  }
  return out;
}

/** Reads a Part payload; throws MalformedFrameError on anything unexpected. */
export function decodePart(payload: Uint8Array, maxMessageBytes: number): PartHeader {
  try {
    const d = decoding.createDecoder(payload);
    const inner = decoding.readUint8(d);
    if (inner !== FrameType.Step2 && inner !== FrameType.Update && inner !== FrameType.Deflated) {
      throw new MalformedFrameError('a part must carry a step2, an update or a deflated frame');
    }
    const total = decoding.readVarUint(d);
    const offset = decoding.readVarUint(d);
    const chunk = payload.subarray(d.pos);
    if (total > maxMessageBytes) throw new MalformedFrameError('reassembled message too large');
    if (chunk.byteLength === 0 || offset + chunk.byteLength > total) {
      throw new MalformedFrameError('part out of bounds');
    }
    return { inner, total, offset, chunk };
  } catch (err) {
    if (err instanceof MalformedFrameError) throw err;
    throw new MalformedFrameError('malformed part', { cause: err });
  }
}
