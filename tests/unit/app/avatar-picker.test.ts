import { describe, expect, it } from 'vitest';
import { AVATAR_NOT_AN_IMAGE, AVATAR_UNREADABLE } from '../../../src/lib/app/avatar.js';
import type { Avatar } from '../../../src/lib/contacts/profile.js';
import { AvatarPicker } from '../../../src/lib/stores/avatar-picker.svelte.js';
import { webpBytes } from '../../fixtures/avatar-images.js';

/** A resize the test finishes by hand, one call at a time. */
function manualResize() {
  const calls: { resolve: (a: Avatar) => void; reject: (e: unknown) => void }[] = [];
  const resize = (): Promise<Avatar> =>
    new Promise<Avatar>((resolve, reject) => calls.push({ resolve, reject }));
  return { resize, calls };
}

const photo = (name = 'me.png'): File => new File([new Uint8Array(8)], name, { type: 'image/png' });
const text = (): File => new File(['notes'], 'notes.txt', { type: 'text/plain' });
const avatar = (side: number): Avatar => ({ type: 'image/webp', bytes: webpBytes(side, side) });

describe('avatar picker', () => {
  it('a non-image picked while a photo is resizing ends the busy state and keeps no avatar', async () => {
    const { resize, calls } = manualResize();
    const picker = new AvatarPicker({ resize });
    const late = picker.pick(photo());
    expect(picker.busy).toBe(true);
    await picker.pick(text());
    expect(picker.busy).toBe(false);
    expect(picker.error).toBe(AVATAR_NOT_AN_IMAGE);
    // The photo finishing late changes nothing.
    calls[0]!.resolve(avatar(128));
    await late;
    expect(picker.busy).toBe(false);
    expect(picker.avatar).toBeUndefined();
    expect(picker.url).toBe('');
    expect(await picker.value()).toBeUndefined();
  });

  it('a bad file after a good one drops the good one (it would otherwise be saved)', async () => {
    const { resize, calls } = manualResize();
    const picker = new AvatarPicker({ resize });
    const done = picker.pick(photo());
    calls[0]!.resolve(avatar(128));
    await done;
    expect(picker.avatar).toEqual(avatar(128));
    expect(picker.url).toMatch(/^data:image\/webp;base64,/);

    await picker.pick(text());
    expect(picker.error).toBe(AVATAR_NOT_AN_IMAGE);
    expect(picker.avatar).toBeUndefined();
    expect(picker.url).toBe('');
    expect(await picker.value()).toBeUndefined();

    // Same for a picture that can't be decoded.
    const again = picker.pick(photo());
    calls[1]!.resolve(avatar(64));
    await again;
    expect(picker.avatar).toEqual(avatar(64));
    const broken = picker.pick(photo('broken.png'));
    calls[2]!.reject(new DOMException('decode failed', 'InvalidStateError'));
    await broken;
    expect(picker.error).toBe(AVATAR_UNREADABLE);
    expect(picker.busy).toBe(false);
    expect(picker.avatar).toBeUndefined();
    expect(picker.url).toBe('');
  });

  it('the latest photo wins; remove clears everything', async () => {
    const { resize, calls } = manualResize();
    const picker = new AvatarPicker({ resize });
    const first = picker.pick(photo('a.png'));
    const second = picker.pick(photo('b.png'));
    calls[1]!.resolve(avatar(100));
    calls[0]!.resolve(avatar(50));
    await Promise.all([first, second]);
    expect(picker.avatar).toEqual(avatar(100));
    expect(picker.busy).toBe(false);
    picker.remove();
    expect(picker.avatar).toBeUndefined();
    expect(picker.url).toBe('');
    expect(picker.error).toBeUndefined();
  });

  it('show() puts a saved avatar up for editing; a resize still running is dropped', async () => {
    const { resize, calls } = manualResize();
    const picker = new AvatarPicker({ resize });
    const late = picker.pick(photo());
    const saved = avatar(64);
    picker.show(saved);
    expect(picker.busy).toBe(false);
    expect(picker.avatar).toBe(saved);
    expect(picker.url).toMatch(/^data:image\/webp;base64,/);
    calls[0]!.resolve(avatar(128));
    await late;
    expect(await picker.value()).toBe(saved);

    picker.show(undefined);
    expect(picker.url).toBe('');
    expect(await picker.value()).toBeUndefined();
  });
});
