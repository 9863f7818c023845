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

/** Checks an avatar's type and size; returns a copy. */
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
