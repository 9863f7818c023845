/**
 * Deflated frames (since sync 3): a step2 or update of at least DEFLATE_MIN_BYTES travels compressed
 * (raw DEFLATE, RFC 1951, with fflate) when that saves at least a fifth of it. Yjs updates of
 * chat messages shrink to a fifth to two fifths (map keys, peer ids, clocks repeat; signatures
 * do not), which is what a catch-up over a home uplink waits for.
 *
 * ```
 * u8       inner        2 step2 | 3 update
 * varuint  rawLength    the inflated payload's length, 1..maxMessageBytes
 * bytes    deflated     raw DEFLATE of the payload
 * ```
 *
 * Inflating is bounded: the output buffer is `rawLength + 1` bytes and `rawLength` is at most
 * MAX_INFLATE_RATIO times the deflated bytes (the sender never compresses past that ratio), so
 * a frame costs at most that multiple of its own size in memory; one that inflates to more or
 * less than it declares is malformed. The sender compresses asynchronously (the platform's
 * DEFLATE) and keeps its frames in order per peer (sender.ts); the receiver inflates with the
 * platform's INFLATE where it has one, its frames of a doc keeping their order meanwhile
 * (receiver.ts), and with fflate otherwise.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { deflateSync, inflateSync } from 'fflate';
import { MalformedFrameError } from './errors.js';
import { FrameType, type Frame } from './protocol.js';

/** Smaller payloads go as they are (live updates of one message are ~300 bytes). */
export const DEFLATE_MIN_BYTES = 4 * 1024;

/** Largest rawLength / deflated bytes accepted (and produced). */
export const MAX_INFLATE_RATIO = 16;

/** Compressed only when this saves at least a fifth. */
const WORTH = 0.8;

/** Whether `frame` is a step2 or update big enough to try compressing. */
export function wantsDeflate(frame: Frame): boolean {
  return (
    (frame.type === FrameType.Step2 || frame.type === FrameType.Update) &&
    frame.payload.byteLength >= DEFLATE_MIN_BYTES
  );
}

/**
 * `frame` as a Deflated frame when it is a step2 or update big enough and compressing pays;
 * otherwise `frame` itself. Synchronous (fflate, level 1): see deflateFrameAsync for the
 * sender's path.
 */
export function deflateFrame(frame: Frame): Frame {
  if (!wantsDeflate(frame)) return frame;
  // Level 1: about 60% of the time of the default level (6) for ~1% more bytes on chat updates.
  return wrap(frame, deflateSync(frame.payload, { level: 1 }));
}

/** Raw DEFLATE of `raw`, asynchronously. */
export type DeflateRaw = (raw: Uint8Array) => Promise<Uint8Array>;

/**
 * The platform's own DEFLATE (CompressionStream 'deflate-raw': native zlib, a few percent smaller
 * than fflate's level 1; the sender's JavaScript time for a 2 x 10,000-message catch-up fell from
 * 481 to 51-84 ms with it), or undefined where it is missing.
 */
export const nativeDeflateRaw: DeflateRaw | undefined =
  typeof CompressionStream === 'function'
    ? async (raw) => {
        const stream = new CompressionStream('deflate-raw');
        const writer = stream.writable.getWriter();
        // Failures surface through the readable side, read below.
        writer.write(raw as Uint8Array<ArrayBuffer>).catch(() => undefined);
        writer.close().catch(() => undefined);
        return new Uint8Array(await new Response(stream.readable).arrayBuffer());
      }
    : undefined;

/**
 * deflateFrame, with `deflateRaw` (the platform's DEFLATE by default): the same rules and the
 * same wire format, the work in native code instead of JavaScript. Falls back to fflate when
 * there is no native DEFLATE or it fails.
 */
export async function deflateFrameAsync(
  frame: Frame,
  deflateRaw: DeflateRaw | undefined = nativeDeflateRaw
): Promise<Frame> {
  if (!wantsDeflate(frame)) return frame;
  if (deflateRaw === undefined) return deflateFrame(frame);
  let deflated: Uint8Array;
  try {
    deflated = await deflateRaw(frame.payload);
  } catch {
    return deflateFrame(frame);
  }
  return wrap(frame, deflated);
}

/** The Deflated frame around `deflated`, or `frame` when compressing did not pay. */
function wrap(frame: Frame, deflated: Uint8Array): Frame {
  const raw = frame.payload;
  if (deflated.byteLength > raw.byteLength * WORTH) return frame;
  if (raw.byteLength > deflated.byteLength * MAX_INFLATE_RATIO) return frame;
  const e = encoding.createEncoder();
  encoding.writeUint8(e, frame.type);
  encoding.writeVarUint(e, raw.byteLength);
  encoding.writeUint8Array(e, deflated);
  return {
    type: FrameType.Deflated,
    conversationId: frame.conversationId,
    payload: encoding.toUint8Array(e)
  };
}

export interface Inflated {
  inner: typeof FrameType.Step2 | typeof FrameType.Update;
  payload: Uint8Array;
}

/** A Deflated payload's header, checked: what it carries and how long that is. */
interface DeflatedHeader {
  inner: Inflated['inner'];
  rawLength: number;
  deflated: Uint8Array;
}

function readHeader(payload: Uint8Array, maxMessageBytes: number): DeflatedHeader {
  let inner: number;
  let rawLength: number;
  let deflated: Uint8Array;
  try {
    const d = decoding.createDecoder(payload);
    inner = decoding.readUint8(d);
    rawLength = decoding.readVarUint(d);
    deflated = payload.subarray(d.pos);
  } catch (err) {
    throw new MalformedFrameError('malformed deflated frame', { cause: err });
  }
  if (inner !== FrameType.Step2 && inner !== FrameType.Update) {
    throw new MalformedFrameError('a deflated frame must carry a step2 or an update');
  }
  if (rawLength === 0 || rawLength > maxMessageBytes) {
    throw new MalformedFrameError('deflated frame declares a bad length');
  }
  if (deflated.byteLength === 0 || rawLength > deflated.byteLength * MAX_INFLATE_RATIO) {
    throw new MalformedFrameError('deflated frame declares too much');
  }
  return { inner, rawLength, deflated };
}

/** Reads a Deflated payload; throws MalformedFrameError on anything unexpected. */
export function inflatePayload(payload: Uint8Array, maxMessageBytes: number): Inflated {
  const { inner, rawLength, deflated } = readHeader(payload, maxMessageBytes);
  let out: Uint8Array;
  try {
    // One byte more than declared: a payload that fills it inflates to too much.
    out = inflateSync(deflated, { out: new Uint8Array(rawLength + 1) });
  } catch (err) {
    throw new MalformedFrameError('deflated frame does not inflate', { cause: err });
  }
  if (out.byteLength !== rawLength) {
    throw new MalformedFrameError('deflated frame inflates to another length');
  }
  return { inner, payload: out };
}

/** Deflated bytes fed to the platform's INFLATE at a time (see nativeInflatePayload). */
const INFLATE_STEP_BYTES = 4 * 1024;

/** Inflates a Deflated payload asynchronously; rejects with MalformedFrameError. */
export type InflatePayload = (payload: Uint8Array, maxMessageBytes: number) => Promise<Inflated>;

/**
 * inflatePayload with the platform's own INFLATE (DecompressionStream 'deflate-raw': native
 * zlib, several times faster than fflate, and no long JavaScript task), or undefined where it
 * is missing. The same rules: the output goes into one buffer of the declared length, and the
 * stream is cancelled as soon as it yields more. The input goes in INFLATE_STEP_BYTES at a
 * time, each step only once the output before it was read, so a frame that inflates to far
 * more than it declares costs at most one step's output (DEFLATE expands at most ~1,032x)
 * before it is refused.
 */
export const nativeInflatePayload: InflatePayload | undefined =
  typeof DecompressionStream === 'function'
    ? async (payload, maxMessageBytes) => {
        const { inner, rawLength, deflated } = readHeader(payload, maxMessageBytes);
        const out = new Uint8Array(rawLength);
        let at = 0;
        const stream = new DecompressionStream('deflate-raw');
        const writer = stream.writable.getWriter();
        const reader = stream.readable.getReader();
        // Failures surface through the readable side, read below.
        void (async () => {
          for (let i = 0; i < deflated.byteLength; i += INFLATE_STEP_BYTES) {
            await writer.write(
              deflated.subarray(i, i + INFLATE_STEP_BYTES) as Uint8Array<ArrayBuffer>
            );
          }
          await writer.close();
        })().catch(() => undefined);
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (at + value.byteLength > rawLength) {
              throw new MalformedFrameError('deflated frame inflates to another length');
            }
            out.set(value, at);
            at += value.byteLength;
          }
        } catch (err) {
          reader.cancel().catch(() => undefined);
          if (err instanceof MalformedFrameError) throw err;
          throw new MalformedFrameError('deflated frame does not inflate', { cause: err });
        }
        if (at !== rawLength) {
          throw new MalformedFrameError('deflated frame inflates to another length');
        }
        return { inner, payload: out };
      }
    : undefined;
