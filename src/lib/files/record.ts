/**
 * The file record a message carries: what a member needs to fetch, check and open one file.
 * It travels only inside the conversation (signed with the message), so the key never reaches
 * anyone who merely holds blocks. Everything in it came from another person: `parseFileRecord`
 * checks each field before the app uses any of it.
 */
import { CID } from 'multiformats/cid';
import { base64url } from 'multiformats/bases/base64';
import { InvalidFileRecordError } from './errors.js';
import { safeFileName } from './names.js';
import { FILE_KEY_BYTES, MAX_FILE_SIZE, SEGMENT_SIZE } from './segments.js';

/** Longest thumbnail (a data: URL of a small JPEG/PNG/WebP), in characters. */
export const MAX_THUMBNAIL_LENGTH = 12 * 1024;
/** Longest media type kept (longer or malformed ones become application/octet-stream). */
const MAX_TYPE_LENGTH = 100;
const TYPE_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/u;
const THUMB_RE = /^data:image\/(?:jpeg|png|webp);base64,[A-Za-z0-9+/]+=*$/u;
const OCTET = 'application/octet-stream';

export interface FileRecord {
  v: 1;
  /** Root CID (CIDv1) of the UnixFS file: the ciphertext, or the plain file when public. */
  cid: string;
  /** Display and save name, already safe (safeFileName). */
  name: string;
  /** Plaintext size in bytes. */
  size: number;
  /** Media type ('application/octet-stream' when unknown). */
  type: string;
  /** AES-256-GCM key, base64url. Absent for a public share (the blocks are the plain file). */
  key?: string;
  /** Plaintext bytes per sealed segment (encrypted files only). */
  seg?: number;
  /** Small preview of an image or video (data: URL). */
  thumb?: string;
  /** Pixel size of an image or video, when known. */
  w?: number;
  h?: number;
}

export function isPublic(record: FileRecord): boolean {
  return record.key === undefined;
}

export function fileKeyOf(record: FileRecord): Uint8Array {
  if (record.key === undefined) throw new InvalidFileRecordError('This file is not encrypted.');
  return base64url.baseDecode(record.key);
}

export function encodeKey(key: Uint8Array): string {
  return base64url.baseEncode(key);
}

/** A media type that is safe to hand to the browser, or application/octet-stream. */
export function safeMediaType(type: unknown): string {
  if (typeof type !== 'string' || type.length > MAX_TYPE_LENGTH) return OCTET;
  const t = type.toLowerCase().split(';')[0]!.trim();
  return TYPE_RE.test(t) ? t : OCTET;
}

export function encodeFileRecord(record: FileRecord): string {
  return JSON.stringify(record);
}

const isDim = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 100_000;

/** The checked record in `raw`, or InvalidFileRecordError saying what is wrong. */
export function parseFileRecord(raw: unknown): FileRecord {
  let value: unknown;
  try {
    value = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    throw new InvalidFileRecordError('This attachment is damaged (not readable).');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidFileRecordError('This attachment is damaged (not a file record).');
  }
  const r = value as Record<string, unknown>;
  if (r.v !== 1)
    throw new InvalidFileRecordError('This attachment needs a newer version of the app.');
  if (typeof r.cid !== 'string' || r.cid.length > 200) {
    throw new InvalidFileRecordError('This attachment is damaged (no content address).');
  }
  let cid: CID;
  try {
    cid = CID.parse(r.cid);
  } catch {
    throw new InvalidFileRecordError('This attachment is damaged (bad content address).');
  }
  if (
    cid.version !== 1 ||
    (cid.code !== 0x70 && cid.code !== 0x55) ||
    cid.multihash.code !== 0x12
  ) {
    throw new InvalidFileRecordError(
      'This attachment uses a content address the app does not fetch.'
    );
  }
  const size = r.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_SIZE) {
    throw new InvalidFileRecordError('This attachment is damaged (impossible size).');
  }
  const record: FileRecord = {
    v: 1,
    cid: cid.toString(),
    name: safeFileName(r.name),
    size,
    type: safeMediaType(r.type)
  };
  if (r.key !== undefined) {
    let key: Uint8Array | undefined;
    try {
      key =
        typeof r.key === 'string' && r.key.length < 64 ? base64url.baseDecode(r.key) : undefined;
    } catch {
      key = undefined;
    }
    if (key?.length !== FILE_KEY_BYTES) {
      throw new InvalidFileRecordError('This attachment is damaged (bad key).');
    }
    const seg = r.seg ?? SEGMENT_SIZE;
    if (seg !== SEGMENT_SIZE) {
      throw new InvalidFileRecordError(
        'This attachment uses a segment size the app does not read.'
      );
    }
    record.key = r.key as string;
    record.seg = seg;
  }
  if (
    typeof r.thumb === 'string' &&
    r.thumb.length <= MAX_THUMBNAIL_LENGTH &&
    THUMB_RE.test(r.thumb)
  ) {
    record.thumb = r.thumb;
  }
  if (isDim(r.w) && isDim(r.h)) {
    record.w = r.w;
    record.h = r.h;
  }
  return record;
}
