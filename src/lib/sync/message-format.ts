/**
 * How a message is stored in a conversation doc and checked when read: the order key, the
 * validators every reader applies (anything malformed is skipped), and the input rules of the
 * writing side. Pure functions.
 */
import * as Y from 'yjs';
import type { HistoryEntry } from '../storage/history-store.js';
import {
  MAX_FILE_RECORD_LENGTH,
  MAX_ID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH
} from './constants.js';
import type { Hlc } from './conversation-types.js';
import { InvalidInputError } from './errors.js';

export const MAX_WALL = 2 ** 48; // year 10889: plenty, and keeps the key fixed width
export const MAX_COUNTER = 2 ** 32 - 1;
export const REACTION_PREFIX = 'r:';
export const KEY_RE = /^[0-9a-f]{12}[0-9a-f]{8}:/;
/** Head map of the segments in use: String(n) -> 1. */
export const SEGMENTS_KEY = 'segments';

/** The order key of an HLC reading plus author and id: plain string comparison orders it. */
export function orderKey(hlc: Hlc, author: string, id: string): string {
  return (
    hlc.wall.toString(16).padStart(12, '0') +
    hlc.counter.toString(16).padStart(8, '0') +
    ':' +
    author +
    ':' +
    id
  );
}

/**
 * A message, member or device id: 1..MAX_ID_LENGTH characters, no ':' (order keys join ids
 * with it) and no newline. indexOf, not a regex: it runs for every message a catch-up brings
 * (a regex test cost ~10x more before the JIT warmed up).
 */
export const isId = (v: unknown): v is string =>
  typeof v === 'string' &&
  v.length > 0 &&
  v.length <= MAX_ID_LENGTH &&
  v.indexOf(':') < 0 &&
  v.indexOf('\n') < 0;
export const isWall = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX_WALL;
export const isCounter = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_COUNTER;
export const isKey = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 24 + 2 * MAX_ID_LENGTH && KEY_RE.test(v);
/** A file attachment record: an opaque string of 1..MAX_FILE_RECORD_LENGTH UTF-16 units. */
export const isFileRecord = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_FILE_RECORD_LENGTH;

/**
 * Immutable part of a message, stored as one plain value under `h`: author, creation time,
 * HLC wall and counter, quoted message, file attachment record (opaque, see
 * MAX_FILE_RECORD_LENGTH).
 */
export interface Header {
  a: string;
  c: number;
  w: number;
  n: number;
  r?: string;
  f?: string;
}

/** The validated header of a stored message, or undefined. */
export function readHeader(map: Y.Map<unknown>): Header | undefined {
  const h = map.get('h');
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return undefined;
  const { a, c, w, n, r, f } = h as Record<string, unknown>;
  if (!isId(a) || !isWall(c) || !isWall(w) || !isCounter(n)) return undefined;
  if (r !== undefined && !isId(r)) return undefined;
  if (f !== undefined && !isFileRecord(f)) return undefined;
  const header: Header = { a, c, w, n };
  if (r !== undefined) header.r = r;
  if (f !== undefined) header.f = f;
  return header;
}

/** The text of a message without a file: some text that is not only whitespace. */
export function checkText(text: string): void {
  if (typeof text !== 'string' || text.trim().length === 0) {
    throw new InvalidInputError('a message needs some text');
  }
  if (text.length > MAX_TEXT_LENGTH) throw new InvalidInputError('the message is too long');
}

/** The caption of a message with a file: optional (may be empty), as long as a text. */
export function checkCaption(text: string): void {
  if (typeof text !== 'string') throw new InvalidInputError('a caption is text');
  if (text.length > MAX_TEXT_LENGTH) throw new InvalidInputError('the message is too long');
}

/** A file record to attach. */
export function checkFileRecord(file: string): void {
  if (typeof file !== 'string' || file.length === 0) {
    throw new InvalidInputError('invalid file record');
  }
  if (file.length > MAX_FILE_RECORD_LENGTH) {
    throw new InvalidInputError('the file record is too long');
  }
}

export function checkName(name: string): void {
  if (typeof name !== 'string' || name.length > MAX_NAME_LENGTH) {
    throw new InvalidInputError('the name is too long');
  }
}

export function checkId(id: string, what: string): void {
  if (!isId(id)) throw new InvalidInputError(`invalid ${what}`);
}

/** The index entry of a stored message, or undefined when it is not valid enough to list. */
export function indexEntryOf(
  id: string,
  value: unknown,
  segment: number
): HistoryEntry | undefined {
  if (!isId(id) || !(value instanceof Y.Map)) return undefined;
  const header = readHeader(value);
  const text = value.get('text');
  if (header === undefined || typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) {
    return undefined;
  }
  return {
    key: orderKey({ wall: header.w, counter: header.n }, header.a, id),
    id,
    segment,
    author: header.a,
    deleted: value.get('deleted') === true
  };
}

/**
 * Index entries computed in a transaction. A catch-up indexes each message twice (the window's
 * observer, then storage right after the transaction); both read the same final state of the
 * transaction, so the second reuses the first. Keyed by the transaction: nothing carries over.
 */
const transactionEntries = new WeakMap<Y.Transaction, Map<string, HistoryEntry | undefined>>();

/** indexEntryOf, once per message and transaction (`tr` undefined: computed as it is). */
export function entryIn(
  tr: Y.Transaction | undefined,
  id: string,
  value: unknown,
  segment: number
): HistoryEntry | undefined {
  if (tr === undefined) return indexEntryOf(id, value, segment);
  let entries = transactionEntries.get(tr);
  if (entries === undefined) {
    entries = new Map();
    transactionEntries.set(tr, entries);
  } else if (entries.has(id)) {
    return entries.get(id);
  }
  const entry = indexEntryOf(id, value, segment);
  entries.set(id, entry);
  return entry;
}
