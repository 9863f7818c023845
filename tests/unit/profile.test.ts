import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  createProfileStore,
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
    expect(validateAvatar({ type: 'image/jpeg', bytes: new Uint8Array(10) }).bytes).toHaveLength(
      10
    );
    expect(reasonOf(() => validateAvatar({ type: 'image/gif', bytes: new Uint8Array(1) }))).toBe(
      'avatar-type'
    );
    expect(
      reasonOf(() =>
        validateAvatar({ type: 'image/webp', bytes: new Uint8Array(MAX_AVATAR_BYTES + 1) })
      )
    ).toBe('avatar-too-large');
    expect(reasonOf(() => validateAvatar('x'))).toBe('avatar-type');
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
        avatar: { type: 'image/png', bytes: new Uint8Array([5]) }
      });
      expect(saved.name).toBe('Me');
      expect(await createProfileStore(records).load()).toEqual(saved);
      await expect(store.save({ name: '' })).rejects.toMatchObject({ name: 'InvalidProfileError' });
      await records.put('profile', { name: 7 } as unknown as Profile);
      expect(await store.load()).toBeUndefined();
    });
  }
});
