/**
 * The optional avatar picked during onboarding: the file is checked, decoded, center-cropped
 * and resized on this device (resizeAvatar: 128×128 WebP or JPEG, at most 16 KiB), and shown
 * as a preview before it is saved with the profile.
 */
import { AVATAR_NOT_AN_IMAGE, avatarUrl, describeAvatarError } from '$lib/app/avatar';
import { resizeAvatar, type Avatar } from '$lib/contacts';

export class AvatarPicker {
  avatar = $state.raw<Avatar | undefined>(undefined);
  /** data: URL of the preview ('' when none). */
  url = $state('');
  error = $state<string | undefined>(undefined);
  busy = $state(false);

  #pending: Promise<void> = Promise.resolve();
  #generation = 0;

  /** Takes a picked file (or nothing, when the picker was cancelled). */
  pick(file: File | undefined): Promise<void> {
    if (file === undefined) return this.#pending;
    const generation = ++this.#generation;
    this.error = undefined;
    this.#pending = this.#take(file, generation);
    return this.#pending;
  }

  async #take(file: File, generation: number): Promise<void> {
    if (!file.type.startsWith('image/')) {
      this.error = AVATAR_NOT_AN_IMAGE;
      return;
    }
    this.busy = true;
    try {
      const avatar = await resizeAvatar(file);
      if (generation !== this.#generation) return;
      this.avatar = avatar;
      this.url = avatarUrl(avatar);
    } catch (err) {
      if (generation === this.#generation) this.error = describeAvatarError(err);
    } finally {
      if (generation === this.#generation) this.busy = false;
    }
  }

  remove(): void {
    this.#generation++;
    this.avatar = undefined;
    this.url = '';
    this.error = undefined;
    this.busy = false;
  }

  /** The avatar to save, once a picture still being resized is done. */
  async value(): Promise<Avatar | undefined> {
    await this.#pending;
    return this.avatar;
  }
}
