import { describe, expect, it } from 'vitest';
import { AVATAR_UNREADABLE, avatarUrl, describeAvatarError } from '../../../src/lib/app/avatar.js';
import { InvalidProfileError } from '../../../src/lib/contacts/errors.js';

describe('avatar display', () => {
  it('is a data: URL of the bytes with their type', () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255]);
    expect(avatarUrl({ type: 'image/webp', bytes })).toBe(
      `data:image/webp;base64,${Buffer.from(bytes).toString('base64')}`
    );
  });

  it('handles the largest avatar (16 KiB) without a stack overflow', () => {
    const bytes = new Uint8Array(16 * 1024).map((_, i) => i % 256);
    const url = avatarUrl({ type: 'image/jpeg', bytes });
    expect(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).toEqual(Buffer.from(bytes));
  });

  it('explains profile errors in their words and anything else as unreadable', () => {
    expect(
      describeAvatarError(new InvalidProfileError('The picture is empty', 'avatar-type'))
    ).toBe('The picture is empty.');
    expect(describeAvatarError(new DOMException('decode failed', 'InvalidStateError'))).toBe(
      AVATAR_UNREADABLE
    );
  });
});
