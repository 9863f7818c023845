/**
 * The leaves of a Yjs v1 update for update-check.ts: numbers, strings and item contents, read
 * or skipped within limits. Plain values (lib0 `Any`) are skipped iteratively: lib0's readAny
 * recurses, so a value nested 100,000 deep would overflow the stack before any check.
 */
import * as decoding from 'lib0/decoding';
import type { UpdateLimits } from './constants.js';
import { UpdateRejectedError } from './errors.js';

export const MAX_CLOCK = Number.MAX_SAFE_INTEGER;
/** Type refs of Yjs (YArray 0, YMap 1, YText 2, XmlElement 3, XmlFragment 4, XmlHook 5, XmlText 6). */
const TYPE_REFS_WITH_KEY = new Set([3, 5]);
const MAX_TYPE_REF = 6;

export function refuse(reason: string, gap = false): never {
  throw new UpdateRejectedError(reason, gap);
}

/** A varuint that is a clock, a length or a client id: past 2^53 - 1 it is refused. */
export function readUint(d: decoding.Decoder): number {
  const n = decoding.readVarUint(d);
  if (n > MAX_CLOCK) refuse('number out of range');
  return n;
}

/** Skips `n` bytes (a fixed-width number) without reading them. */
function skipBytes(d: decoding.Decoder, n: number): void {
  if (d.pos + n > d.arr.length) refuse('malformed update');
  d.pos += n;
}

/** Skips a string (bounded); nothing here needs its text, so it is not decoded. */
export function skipString(d: decoding.Decoder, limits: UpdateLimits): void {
  const len = readUint(d);
  if (len > limits.maxStringBytes) refuse('string too long');
  if (d.pos + len > d.arr.length) refuse('malformed update');
  d.pos += len;
}

/** Reads an item's content; returns [kind, length]. */
export function readContent(
  d: decoding.Decoder,
  ref: number,
  limits: UpdateLimits
): [number, number] {
  switch (ref) {
    case 1: {
      const len = readUint(d); // deleted content
      if (len === 0) refuse('zero-length deleted content');
      return [2, len];
    }
    case 2: {
      const len = readUint(d); // JSON: strings
      if (len === 0) refuse('empty JSON content');
      for (let i = 0; i < len; i++) skipString(d, limits);
      return [2, len];
    }
    case 3: {
      if (decoding.peekVarUint(d) > limits.maxBinaryBytes) refuse('binary too long');
      decoding.readVarUint8Array(d);
      return [2, 1];
    }
    case 4: {
      // Its length in clocks is in UTF-16 units: this one is decoded.
      if (decoding.peekVarUint(d) > limits.maxStringBytes) refuse('string too long');
      const str = decoding.readVarString(d);
      if (str.length === 0) refuse('empty string content');
      return [2, str.length];
    }
    case 7: {
      const typeRef = readUint(d);
      if (typeRef > MAX_TYPE_REF) refuse('unknown type');
      if (TYPE_REFS_WITH_KEY.has(typeRef)) skipString(d, limits);
      return [3, 1];
    }
    case 8: {
      const len = readUint(d);
      if (len === 0) refuse('empty value content');
      if (len > limits.maxAnyEntries) refuse('too many values');
      for (let i = 0; i < len; i++) skipAny(d, limits);
      return [2, len];
    }
    default:
      return refuse(`content kind ${ref} not accepted`);
  }
}

/** Skips one lib0 `Any` value, iteratively, within depth and size limits. */
function skipAny(d: decoding.Decoder, limits: UpdateLimits): void {
  // Per open level: values still to read, and whether it is an object (a key before each).
  const remaining: number[] = [1];
  const isObject: boolean[] = [false];
  while (remaining.length > 0) {
    const top = remaining.length - 1;
    if (remaining[top] === 0) {
      remaining.pop();
      isObject.pop();
      continue;
    }
    remaining[top]!--;
    if (isObject[top] === true) skipString(d, limits);
    const type = decoding.readUint8(d);
    switch (type) {
      case 127: // undefined
      case 126: // null
      case 121: // false
      case 120: // true
        break;
      case 125:
        decoding.readVarInt(d);
        break;
      case 124: // float32
        skipBytes(d, 4);
        break;
      case 123: // float64
      case 122: // bigint64
        skipBytes(d, 8);
        break;
      case 119:
        skipString(d, limits);
        break;
      case 116:
        if (decoding.peekVarUint(d) > limits.maxBinaryBytes) refuse('binary too long');
        decoding.readVarUint8Array(d);
        break;
      case 118: // object
      case 117: {
        // array
        const n = readUint(d);
        if (n > limits.maxAnyEntries) refuse('value too large');
        if (remaining.length > limits.maxAnyDepth) refuse('value nested too deep');
        remaining.push(n);
        isObject.push(type === 118);
        break;
      }
      default:
        refuse('unknown value type');
    }
  }
}
