/**
 * What the receiver (receiver.ts) does with a step2 or an update before applying it: its
 * envelopes opened (each one an envelope of this doc) and their signatures checked. Shared by
 * frames as they came and frames inflated asynchronously (the platform's INFLATE).
 */
import { openFor } from './authored.js';
import { type Inflated, inflatePayload, type InflatePayload } from './deflate.js';
import { decodeEnvelopeList, type Envelope, type EnvelopeVerifier } from './envelope.js';
import { FrameType } from './protocol.js';
import type { Tracer } from './tracer.js';

/** An envelope of a frame: as it came (stored and forwarded so) and opened. */
export interface Opened {
  bytes: Uint8Array;
  env: Envelope;
}

/** Frames that carry envelopes. */
export type DataType = typeof FrameType.Step2 | typeof FrameType.Update;

/** A data frame's envelopes with their signatures checked, or why its sender is dropped. */
export type Checked = { type: DataType; opened: Opened[] } | string;

export function errorText(err: unknown, otherwise: string): string {
  return err instanceof Error ? err.message : otherwise;
}

/** The envelopes of a step2 (a list) or an update (one) of doc `wire`; a string: why not. */
export function openEnvelopes(
  wire: string,
  type: DataType,
  payload: Uint8Array
): Opened[] | string {
  let list: Uint8Array[];
  if (type === FrameType.Update) {
    list = [payload];
  } else {
    try {
      list = decodeEnvelopeList(payload);
    } catch (err) {
      return errorText(err, 'malformed step2');
    }
  }
  const opened: Opened[] = [];
  for (const bytes of list) {
    const env = openFor(bytes, wire);
    if (typeof env === 'string') return env;
    opened.push({ bytes, env });
  }
  return opened;
}

/** Checks the signatures of `opened` ('verify' span from `t0`): a bad one drops the sender. */
export async function checkSignatures(
  verifier: EnvelopeVerifier,
  type: DataType,
  opened: Opened[],
  tracer: Tracer,
  t0: number
): Promise<Checked> {
  const ok = await verifier.verifyAll(opened.map((o) => o.env));
  tracer.report('verify', t0, opened.length);
  return ok.includes(false) ? 'bad signature' : { type, opened };
}

/**
 * A Deflated frame inflated asynchronously (`inflate`: the platform's INFLATE), then opened
 * and its signatures checked, all in one piece of work ('inflate-native' and 'verify' spans).
 */
export async function inflateAndCheck(
  payload: Uint8Array,
  c: {
    inflate: InflatePayload;
    verifier: EnvelopeVerifier;
    wire: string;
    maxMessageBytes: number;
    tracer: Tracer;
  }
): Promise<Checked> {
  const t0 = c.tracer.now();
  let inflated;
  try {
    inflated = await c.inflate(payload, c.maxMessageBytes);
  } catch (err) {
    return errorText(err, 'malformed deflated frame');
  }
  c.tracer.report('inflate-native', t0, payload.byteLength);
  const opened = openEnvelopes(c.wire, inflated.inner, inflated.payload);
  if (typeof opened === 'string') return opened;
  return checkSignatures(c.verifier, inflated.inner, opened, c.tracer, t0);
}

/** A Deflated frame inflated with fflate within its handling ('inflate' span); a string: why not. */
export function inflateNow(
  payload: Uint8Array,
  maxMessageBytes: number,
  tracer: Tracer
): Inflated | string {
  const t0 = tracer.begin();
  try {
    const inflated = inflatePayload(payload, maxMessageBytes);
    tracer.end('inflate', t0, payload.byteLength);
    return inflated;
  } catch (err) {
    tracer.end('inflate', t0);
    return errorText(err, 'malformed deflated frame');
  }
}
