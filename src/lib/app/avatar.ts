/**
 * Avatars for display: a validated Avatar (src/lib/contacts/profile.ts) as a data: URL, and
 * the words for what can go wrong when a person picks a picture.
 */
import type { Avatar } from '../contacts/index.js';

/** A data: URL of the avatar's bytes (its type is one of AVATAR_TYPES, checked on receipt). */
export function avatarUrl(avatar: Avatar): string {
  let binary = '';
  const { bytes } = avatar;
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return `data:${avatar.type};base64,${btoa(binary)}`;
}

export const AVATAR_NOT_AN_IMAGE = 'That file is not a picture. Choose a PNG, JPEG or WebP image.';
export const AVATAR_UNREADABLE =
  "That picture couldn't be read. Choose another PNG, JPEG or WebP image.";

/** The sentence to show when a picked file could not become an avatar. */
export function describeAvatarError(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  if (e?.name === 'InvalidProfileError' && typeof e.message === 'string') {
    return `${e.message}.`;
  }
  return AVATAR_UNREADABLE;
}
