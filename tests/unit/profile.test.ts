import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  createProfileStore,
  MAX_AVATAR_SIDE_PX,
  readImageHeader,
  resizeAvatar,
  validateAvatar,
  validateDisplayName,
  type AvatarCanvas,
  type Profile
} from '../../src/lib/contacts/profile.js';
import { MAX_AVATAR_BYTES } from '../../src/lib/contacts/constants.js';
import {
  createIdbRecordStore,
  createMemoryRecordStore
} from '../../src/lib/storage/record-store.js';
import { jpegBytes, pngBytes, webpBytes } from '../fixtures/avatar-images.js';

const reasonOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    expect((err as Error).name).toBe('InvalidProfileError');
    return (err as { reason: string }).reason;
  }
  return undefined;
};

describe('display names', () => {
  it('are trimmed and NFC-normalised', () => {
    expect(validateDisplayName('  Alice  ')).toBe('Alice');
    expect(validateDisplayName('Zoe\u0301')).toBe('Zoé');
    expect(validateDisplayName('😀'.repeat(64))).toHaveLength(128); // 64 code points
  });

  it('refuse empty, too long, control characters and bidi overrides', () => {
    expect(reasonOf(() => validateDisplayName('   '))).toBe('empty');
    expect(reasonOf(() => validateDisplayName(undefined))).toBe('empty');
    expect(reasonOf(() => validateDisplayName('x'.repeat(65)))).toBe('too-long');
    expect(reasonOf(() => validateDisplayName('a\nb'))).toBe('control-chars');
    expect(reasonOf(() => validateDisplayName('a\u0007'))).toBe('control-chars');
    expect(reasonOf(() => validateDisplayName('evil\u202egnp.exe'))).toBe('control-chars');
  });
});

describe('avatars', () => {
  it('must be a supported type within the size limit', () => {
    expect(validateAvatar({ type: 'image/jpeg', bytes: jpegBytes(128, 128) }).bytes).toHaveLength(
      64
    );
    expect(reasonOf(() => validateAvatar({ type: 'image/gif', bytes: new Uint8Array(1) }))).toBe(
      'avatar-type'
    );
    expect(
      reasonOf(() =>
        validateAvatar({
          type: 'image/webp',
          bytes: webpBytes(128, 128, 'VP8 ', MAX_AVATAR_BYTES + 1)
        })
      )
    ).toBe('avatar-too-large');
    expect(reasonOf(() => validateAvatar('x'))).toBe('avatar-type');
  });

  it('read type and size from the header of PNG, JPEG and WebP (lossy, lossless, extended)', () => {
    expect(readImageHeader(pngBytes(300, 200))).toEqual({
      type: 'image/png',
      width: 300,
      height: 200
    });
    expect(readImageHeader(jpegBytes(128, 96))).toEqual({
      type: 'image/jpeg',
      width: 128,
      height: 96
    });
    for (const kind of ['VP8 ', 'VP8L', 'VP8X'] as const) {
      expect(readImageHeader(webpBytes(128, 64, kind))).toEqual({
        type: 'image/webp',
        width: 128,
        height: 64
      });
    }
    expect(readImageHeader(new Uint8Array(64))).toBeUndefined();
    expect(readImageHeader(pngBytes(128, 128).subarray(0, 20))).toBeUndefined(); // cut short
    expect(readImageHeader(jpegBytes(128, 128).subarray(0, 12))).toBeUndefined(); // no frame
  });

  it('must really be of their declared type (checked on the bytes)', () => {
    // Any bytes used to pass as long as the declared type was allowed.
    expect(reasonOf(() => validateAvatar({ type: 'image/jpeg', bytes: new Uint8Array(10) }))).toBe(
      'avatar-type'
    );
    expect(
      reasonOf(() =>
        validateAvatar({ type: 'image/webp', bytes: crypto.getRandomValues(new Uint8Array(4096)) })
      )
    ).toBe('avatar-type');
    expect(reasonOf(() => validateAvatar({ type: 'image/webp', bytes: jpegBytes(64, 64) }))).toBe(
      'avatar-type'
    );
    expect(reasonOf(() => validateAvatar({ type: 'image/jpeg', bytes: pngBytes(64, 64) }))).toBe(
      'avatar-type'
    );
    for (const [type, bytes] of [
      ['image/png', pngBytes(128, 128)],
      ['image/jpeg', jpegBytes(128, 128)],
      ['image/webp', webpBytes(128, 128, 'VP8 ')],
      ['image/webp', webpBytes(128, 128, 'VP8L')],
      ['image/webp', webpBytes(128, 128, 'VP8X')]
    ] as const) {
      expect(validateAvatar({ type, bytes }).type).toBe(type);
    }
  });

  it(`are refused above ${MAX_AVATAR_SIDE_PX}×${MAX_AVATAR_SIDE_PX} (a small file can declare a huge picture)`, () => {
    const side = MAX_AVATAR_SIDE_PX;
    // 16 KiB of PNG declaring 20000×20000: ~1.6 GB of pixels once decoded.
    expect(
      reasonOf(() =>
        validateAvatar({ type: 'image/png', bytes: pngBytes(20_000, 20_000, MAX_AVATAR_BYTES) })
      )
    ).toBe('avatar-too-large');
    for (const [type, bytes] of [
      ['image/png', pngBytes(side + 1, 1)],
      ['image/jpeg', jpegBytes(1, side + 1)],
      ['image/webp', webpBytes(side + 1, side, 'VP8 ')],
      ['image/webp', webpBytes(side, side + 1, 'VP8L')],
      ['image/webp', webpBytes(16_383, 16_383, 'VP8X')]
    ] as const) {
      expect(reasonOf(() => validateAvatar({ type, bytes }))).toBe('avatar-too-large');
    }
    expect(validateAvatar({ type: 'image/webp', bytes: webpBytes(side, side, 'VP8X') }).type).toBe(
      'image/webp'
    );
    expect(reasonOf(() => validateAvatar({ type: 'image/png', bytes: pngBytes(0, 10) }))).toBe(
      'avatar-type'
    );
  });

  it('are center-cropped, scaled and re-encoded until they fit (injected canvas)', async () => {
    const draws: number[][] = [];
    const sizes = [40_000, 30_000, 12_000];
    const canvas = (w: number, h: number): AvatarCanvas => ({
      getContext: () => ({
        drawImage: (_img, ...args: number[]) => void draws.push([w, h, ...args])
      }),
      convertToBlob: async ({ type }) => new Blob([new Uint8Array(sizes.shift() ?? 100)], { type })
    });
    const avatar = await resizeAvatar({ width: 400, height: 200 }, {}, { createCanvas: canvas });
    expect(avatar.type).toBe('image/webp');
    expect(avatar.bytes.byteLength).toBe(12_000);
    expect(draws).toEqual([[128, 128, 100, 0, 200, 200, 0, 0, 128, 128]]);
  });

  it('fall back to JPEG when WebP cannot be encoded, and fail when nothing fits', async () => {
    const pngOnly = (): AvatarCanvas => ({
      getContext: () => ({ drawImage: () => {} }),
      convertToBlob: async ({ type }) =>
        new Blob([new Uint8Array(type === 'image/jpeg' ? 500 : 50)], {
          type: type === 'image/webp' ? 'image/png' : type
        })
    });
    const avatar = await resizeAvatar({ width: 10, height: 10 }, {}, { createCanvas: pngOnly });
    expect(avatar.type).toBe('image/jpeg');
    const huge = (): AvatarCanvas => ({
      getContext: () => ({ drawImage: () => {} }),
      convertToBlob: async ({ type }) => new Blob([new Uint8Array(MAX_AVATAR_BYTES + 1)], { type })
    });
    await expect(
      resizeAvatar({ width: 10, height: 10 }, {}, { createCanvas: huge })
    ).rejects.toMatchObject({
      name: 'InvalidProfileError',
      reason: 'avatar-too-large'
    });
  });
});

describe('profile store', () => {
  for (const [name, make] of [
    ['memory', () => createMemoryRecordStore<Profile>()],
    [
      'IndexedDB',
      () => createIdbRecordStore<Profile>({ dbName: 'p2p4e-profile-test', storeName: 'p' })
    ]
  ] as const) {
    it(`${name}: saves validated profiles and loads them back`, async () => {
      const records = make();
      const store = createProfileStore(records);
      expect(await store.load()).toBeUndefined();
      const saved = await store.save({
        name: ' Me ',
        avatar: { type: 'image/png', bytes: pngBytes(128, 128) }
      });
      expect(saved.name).toBe('Me');
      expect(await createProfileStore(records).load()).toEqual(saved);
      await expect(store.save({ name: '' })).rejects.toMatchObject({ name: 'InvalidProfileError' });
      await records.put('profile', { name: 7 } as unknown as Profile);
      expect(await store.load()).toBeUndefined();
    });
  }
});
