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

/** Reads a string within the limit (a root type's name or a map key). */
export function readString(d: decoding.Decoder, limits: UpdateLimits): string {
  const start = d.pos;
  const len = readUint(d);
  if (len > limits.maxStringBytes) refuse('string too long');
  if (d.pos + len > d.arr.length) refuse('malformed update');
  d.pos = start;
  return decoding.readVarString(d); // as Yjs reads it (invalid UTF-8 throws)
}

/** What readContent read: 2 plain content, 3 a type; its length in clocks. */
export const content = { kind: 2, length: 1 };

/** Reads an item's content into `content` (no allocation per struct: it runs for every one). */
export function readContent(d: decoding.Decoder, ref: number, limits: UpdateLimits): void {
  content.kind = 2;
  switch (ref) {
    case 1: {
      const len = readUint(d); // deleted content
      if (len === 0) refuse('zero-length deleted content');
      content.length = len;
      return;
    }
    case 2: {
      const len = readUint(d); // JSON: strings
      if (len === 0) refuse('empty JSON content');
      for (let i = 0; i < len; i++) skipString(d, limits);
      content.length = len;
      return;
    }
    case 3: {
      if (decoding.peekVarUint(d) > limits.maxBinaryBytes) refuse('binary too long');
      decoding.readVarUint8Array(d);
      content.length = 1;
      return;
    }
    case 4: {
      // Its length in clocks is in UTF-16 units: this one is decoded.
      if (decoding.peekVarUint(d) > limits.maxStringBytes) refuse('string too long');
      const str = decoding.readVarString(d);
      if (str.length === 0) refuse('empty string content');
      content.length = str.length;
      return;
    }
    case 7: {
      const typeRef = readUint(d);
      if (typeRef > MAX_TYPE_REF) refuse('unknown type');
      if (TYPE_REFS_WITH_KEY.has(typeRef)) skipString(d, limits);
      content.kind = 3;
      content.length = 1;
      return;
    }
    case 8: {
      const len = readUint(d);
      if (len === 0) refuse('empty value content');
      if (len > limits.maxAnyEntries) refuse('too many values');
      for (let i = 0; i < len; i++) skipAny(d, limits);
      content.length = len;
      return;
    }
    default:
      refuse(`content kind ${ref} not accepted`);
  }
}

/** Skips one value that is not an object or array; false when it is one (nothing read). */
function skipLeaf(d: decoding.Decoder, limits: UpdateLimits): boolean {
  const type = d.arr[d.pos];
  switch (type) {
    case 127: // undefined
    case 126: // null
    case 121: // false
    case 120: // true
      d.pos++;
      return true;
    case 125:
      d.pos++;
      decoding.readVarInt(d);
      return true;
    case 124: // float32
      d.pos++;
      skipBytes(d, 4);
      return true;
    case 123: // float64
    case 122: // bigint64
      d.pos++;
      skipBytes(d, 8);
      return true;
    case 119:
      d.pos++;
      skipString(d, limits);
      return true;
    case 116:
      d.pos++;
      if (decoding.peekVarUint(d) > limits.maxBinaryBytes) refuse('binary too long');
      decoding.readVarUint8Array(d);
      return true;
    default:
      return false;
  }
}

/** Skips one lib0 `Any` value, iteratively, within depth and size limits. */
function skipAny(d: decoding.Decoder, limits: UpdateLimits): void {
  if (skipLeaf(d, limits)) return; // most values: a string, a number (no stack needed)
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
    if (skipLeaf(d, limits)) continue;
    const type = decoding.readUint8(d);
    switch (type) {
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
