/**
 * The local profile (display name, optional avatar): validation, storage, and avatar resizing.
 * The same validation applies to profiles received from other devices.
 */
import type { RecordStore } from '../storage/record-store.js';
import {
  AVATAR_SIZE_PX,
  AVATAR_TYPES,
  MAX_AVATAR_BYTES,
  MAX_DISPLAY_NAME_CHARS
} from './constants.js';
import { InvalidProfileError } from './errors.js';

export type AvatarType = (typeof AVATAR_TYPES)[number];

export interface Avatar {
  type: AvatarType;
  /** Encoded image, at most MAX_AVATAR_BYTES. */
  bytes: Uint8Array;
}

export interface Profile {
  /** Validated display name (see validateDisplayName). */
  name: string;
  avatar?: Avatar;
}

// C0 and C1 controls, DEL, line/paragraph separators, bidi overrides and isolates (which can
// make a name display as something else).
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/**
 * Trims and checks a display name: 1–64 characters, no control characters. Returns the name to
 * store, or throws InvalidProfileError with a reason the UI can explain.
 */
export function validateDisplayName(input: unknown): string {
  if (typeof input !== 'string') throw new InvalidProfileError('Enter a name', 'empty');
  const name = input.normalize('NFC').trim();
  if (name === '') throw new InvalidProfileError('Enter a name', 'empty');
  if (FORBIDDEN.test(name)) {
    throw new InvalidProfileError('A name cannot contain control characters', 'control-chars');
  }
  if ([...name].length > MAX_DISPLAY_NAME_CHARS) {
    throw new InvalidProfileError(
      `A name can be at most ${MAX_DISPLAY_NAME_CHARS} characters`,
      'too-long'
    );
  }
  return name;
}

/**
 * Largest avatar side (pixels) accepted from anyone. resizeAvatar() makes 128×128; the header of
 * a 16 KiB PNG could otherwise declare 20000×20000 and make the browser allocate ~1.6 GB.
 */
export const MAX_AVATAR_SIDE_PX = 512;

/** What an image's header says: its real type (from the signature) and its size. */
export interface ImageHeader {
  type: AvatarType;
  width: number;
  height: number;
}

const ascii = (b: Uint8Array, at: number, text: string): boolean =>
  b.length >= at + text.length && [...text].every((c, i) => b[at + i] === c.charCodeAt(0));
/** Byte `i` of `b`, 0 past the end (headers are read without trusting their lengths). */
const u8 = (b: Uint8Array, i: number): number => b[i] ?? 0;
const u16be = (b: Uint8Array, at: number): number => (u8(b, at) << 8) | u8(b, at + 1);
const u16le = (b: Uint8Array, at: number): number => u8(b, at) | (u8(b, at + 1) << 8);
const u24le = (b: Uint8Array, at: number): number => u16le(b, at) | (u8(b, at + 2) << 16);
const u32be = (b: Uint8Array, at: number): number =>
  ((u16be(b, at) << 16) | u16be(b, at + 2)) >>> 0;
const u32le = (b: Uint8Array, at: number): number =>
  (u16le(b, at) | (u16le(b, at + 2) << 16)) >>> 0;

/** PNG: signature, then the IHDR chunk (always first) with width and height. */
function pngHeader(b: Uint8Array): ImageHeader | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length < 24 || !signature.every((v, i) => b[i] === v) || !ascii(b, 12, 'IHDR')) {
    return undefined;
  }
  return { type: 'image/png', width: u32be(b, 16), height: u32be(b, 20) };
}

/**
 * JPEG: FF D8 FF, then marker segments up to the start of scan; every frame header (SOFn) met
 * on the way gives a size and the largest counts. None before the scan: not an image we take.
 */
function jpegHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return undefined;
  let width = 0;
  let height = 0;
  let at = 2;
  while (at + 1 < b.length) {
    if (b[at] !== 0xff) return undefined;
    const marker = u8(b, at + 1);
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RST0–7 (and SOI again).
    if (marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || at + 3 >= b.length) return undefined; // EOI, or cut short
    const length = u16be(b, at + 2);
    if (length < 2) return undefined;
    const sof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (sof) {
      if (length < 7 || at + 8 >= b.length) return undefined;
      height = Math.max(height, u16be(b, at + 5));
      width = Math.max(width, u16be(b, at + 7));
    }
    if (marker === 0xda) break; // start of scan: entropy-coded data follows
    at += 2 + length;
  }
  if (width === 0 || height === 0) return undefined;
  return { type: 'image/jpeg', width, height };
}

/** Width and height of a WebP bitstream chunk ('VP8 ' or 'VP8L') whose data starts at `at`. */
function vp8Size(b: Uint8Array, fourcc: string, at: number): [number, number] | undefined {
  if (fourcc === 'VP8 ') {
    // 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
    if (at + 10 > b.length || b[at + 3] !== 0x9d || b[at + 4] !== 0x01 || b[at + 5] !== 0x2a) {
      return undefined;
    }
    return [u16le(b, at + 6) & 0x3fff, u16le(b, at + 8) & 0x3fff];
  }
  if (fourcc === 'VP8L') {
    // Signature 0x2F, then width-1 and height-1 in 14 bits each.
    if (at + 5 > b.length || b[at] !== 0x2f) return undefined;
    const bits = u32le(b, at + 1);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  return undefined;
}

/**
 * WebP: RIFF....WEBP, then a 'VP8 ' or 'VP8L' chunk, or 'VP8X' (canvas size) followed by
 * chunks; every size found (canvas and bitstreams) counts, the largest wins.
 */
function webpHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 30 || !ascii(b, 0, 'RIFF') || !ascii(b, 8, 'WEBP')) return undefined;
  let width = 0;
  let height = 0;
  let found = false;
  let at = 12;
  while (at + 8 <= b.length) {
    const fourcc = String.fromCharCode(u8(b, at), u8(b, at + 1), u8(b, at + 2), u8(b, at + 3));
    const size = u32le(b, at + 4);
    const data = at + 8;
    let dims: [number, number] | undefined;
    if (fourcc === 'VP8X') {
      if (data + 10 > b.length) return undefined;
      dims = [u24le(b, data + 4) + 1, u24le(b, data + 7) + 1];
    } else if (fourcc === 'VP8 ' || fourcc === 'VP8L') {
      dims = vp8Size(b, fourcc, data);
      if (dims === undefined) return undefined;
    }
    if (dims !== undefined) {
      found = true;
      width = Math.max(width, dims[0]);
      height = Math.max(height, dims[1]);
    }
    if (at === 12 && fourcc !== 'VP8X') break; // a simple WebP is that one chunk
    at = data + size + (size % 2); // chunks are padded to an even size
  }
  if (!found || width === 0 || height === 0) return undefined;
  return { type: 'image/webp', width, height };
}

/**
 * Reads an image's real type and size from its first bytes (PNG, JPEG, WebP). Undefined when
 * the bytes are none of these or the header is cut short.
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  const header = pngHeader(bytes) ?? jpegHeader(bytes) ?? webpHeader(bytes);
  return header !== undefined && header.width > 0 && header.height > 0 ? header : undefined;
}

/**
 * Checks an avatar: declared type, size in bytes, and that the bytes really are an image of
 * that type no larger than MAX_AVATAR_SIDE_PX on a side (from its header). Returns a copy.
 */
export function validateAvatar(input: unknown): Avatar {
  const a = input as Partial<Avatar> | null;
  if (typeof a !== 'object' || a === null || !(a.bytes instanceof Uint8Array)) {
    throw new InvalidProfileError('The picture is not an image', 'avatar-type');
  }
  if (!(AVATAR_TYPES as readonly string[]).includes(a.type as string)) {
    throw new InvalidProfileError('The picture must be WebP, JPEG or PNG', 'avatar-type');
  }
  if (a.bytes.byteLength === 0 || a.bytes.byteLength > MAX_AVATAR_BYTES) {
    throw new InvalidProfileError(
      `The picture must be at most ${MAX_AVATAR_BYTES / 1024} KiB`,
      'avatar-too-large'
    );
  }
  const header = readImageHeader(a.bytes);
  if (header === undefined || header.type !== a.type) {
    throw new InvalidProfileError('The picture is not a WebP, JPEG or PNG image', 'avatar-type');
  }
  if (header.width > MAX_AVATAR_SIDE_PX || header.height > MAX_AVATAR_SIDE_PX) {
    throw new InvalidProfileError(
      `The picture must be at most ${MAX_AVATAR_SIDE_PX}×${MAX_AVATAR_SIDE_PX} pixels`,
      'avatar-too-large'
    );
  }
  return { type: a.type as AvatarType, bytes: a.bytes.slice() };
}

/** Validates a whole profile (name and optional avatar); returns a clean copy. */
export function validateProfile(input: unknown): Profile {
  const p = input as Partial<Profile> | null;
  if (typeof p !== 'object' || p === null) throw new InvalidProfileError('Enter a name', 'empty');
  const name = validateDisplayName(p.name);
  return p.avatar === undefined ? { name } : { name, avatar: validateAvatar(p.avatar) };
}

/** Where the local profile is kept. */
export interface ProfileStore {
  /** The saved profile, or undefined before the user picked a name. */
  load(): Promise<Profile | undefined>;
  /** Validates and saves; returns what was saved. Throws InvalidProfileError. */
  save(profile: Profile): Promise<Profile>;
}

const PROFILE_KEY = 'profile';

/** A ProfileStore over a RecordStore (createIdbRecordStore in the app, memory in tests). */
export function createProfileStore(records: RecordStore<Profile>): ProfileStore {
  return {
    async load() {
      const stored = await records.get(PROFILE_KEY);
      if (stored === undefined) return undefined;
      try {
        return validateProfile(stored);
      } catch {
        // An unreadable stored profile is treated like none: the UI asks for a name again.
        return undefined;
      }
    },
    async save(profile) {
      const clean = validateProfile(profile);
      await records.put(PROFILE_KEY, clean);
      return clean;
    }
  };
}

/** What resizeAvatar needs from a 2D canvas (OffscreenCanvas in the browser, a fake in tests). */
export interface AvatarCanvas {
  getContext(type: '2d'): {
    drawImage(
      image: unknown,
      sx: number,
      sy: number,
      sw: number,
      sh: number,
      dx: number,
      dy: number,
      dw: number,
      dh: number
    ): void;
  } | null;
  convertToBlob(options: { type: string; quality?: number }): Promise<Blob>;
}

export interface ResizeAvatarOptions {
  /** Side of the square output in pixels (default AVATAR_SIZE_PX). */
  size?: number;
  /** Largest output in bytes (default MAX_AVATAR_BYTES). */
  maxBytes?: number;
  /** Output types to try in order (default WebP, then JPEG). */
  types?: AvatarType[];
}

export interface ResizeAvatarDeps {
  /** Turns the input into something drawable (default: createImageBitmap). */
  decode?: (source: Blob) => Promise<{ width: number; height: number; close?: () => void }>;
  /** Makes the canvas (default: new OffscreenCanvas(size, size)). */
  createCanvas?: (width: number, height: number) => AvatarCanvas;
}

/**
 * Center-crops an image to a square and scales it to `size`×`size`, encoded as WebP (or JPEG
 * where the browser cannot encode WebP), lowering the quality until it fits `maxBytes`.
 * Throws InvalidProfileError when no quality fits.
 */
export async function resizeAvatar(
  source: Blob | { width: number; height: number },
  options: ResizeAvatarOptions = {},
  deps: ResizeAvatarDeps = {}
): Promise<Avatar> {
  const size = options.size ?? AVATAR_SIZE_PX;
  const maxBytes = Math.min(options.maxBytes ?? MAX_AVATAR_BYTES, MAX_AVATAR_BYTES);
  const types = options.types ?? ['image/webp', 'image/jpeg'];
  const decode =
    deps.decode ??
    ((blob: Blob) =>
      (globalThis as unknown as { createImageBitmap: typeof createImageBitmap }).createImageBitmap(
        blob
      ));
  const createCanvas =
    deps.createCanvas ??
    ((w: number, h: number) => new OffscreenCanvas(w, h) as unknown as AvatarCanvas);

  const isBlob = typeof Blob !== 'undefined' && source instanceof Blob;
  const image = isBlob ? await decode(source) : (source as { width: number; height: number });
  try {
    if (!(image.width > 0 && image.height > 0)) {
      throw new InvalidProfileError('The picture is empty', 'avatar-type');
    }
    const side = Math.min(image.width, image.height);
    const sx = (image.width - side) / 2;
    const sy = (image.height - side) / 2;
    const canvas = createCanvas(size, size);
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new InvalidProfileError('Cannot draw the picture', 'avatar-type');
    ctx.drawImage(image, sx, sy, side, side, 0, 0, size, size);
    for (const type of types) {
      for (const quality of [0.85, 0.7, 0.55, 0.4, 0.25]) {
        const blob = await canvas.convertToBlob({ type, quality });
        // A browser that cannot encode `type` silently returns PNG: try the next type.
        if (blob.type !== type) break;
        if (blob.size <= maxBytes) {
          return { type, bytes: new Uint8Array(await blob.arrayBuffer()) };
        }
      }
    }
    throw new InvalidProfileError('The picture could not be made small enough', 'avatar-too-large');
  } finally {
    if (isBlob) (image as { close?: () => void }).close?.();
  }
}
