/**
 * The optional avatar picked during onboarding: the file is checked, decoded, center-cropped
 * and resized on this device (resizeAvatar: 128×128 WebP or JPEG, at most 16 KiB), and shown
 * as a preview before it is saved with the profile.
 */
import { AVATAR_NOT_AN_IMAGE, avatarUrl, describeAvatarError } from '$lib/app/avatar';
import { resizeAvatar, type Avatar } from '$lib/contacts';

export interface AvatarPickerDeps {
  /** Turns the picked file into an avatar (default: resizeAvatar in the browser). */
  resize?: (file: Blob) => Promise<Avatar>;
}

export class AvatarPicker {
  avatar = $state.raw<Avatar | undefined>(undefined);
  /** data: URL of the preview ('' when none). */
  url = $state('');
  error = $state<string | undefined>(undefined);
  busy = $state(false);

  readonly #resize: (file: Blob) => Promise<Avatar>;
  #pending: Promise<void> = Promise.resolve();
  #generation = 0;

  constructor(deps: AvatarPickerDeps = {}) {
    this.#resize = deps.resize ?? ((file) => resizeAvatar(file));
  }

  /**
   * Takes a picked file (or nothing, when the picker was cancelled). The latest pick wins: a
   * picture still being resized is dropped, and a file that can't be an avatar leaves none
   * (with an error), never the one picked before.
   */
  pick(file: File | undefined): Promise<void> {
    if (file === undefined) return this.#pending;
    const generation = ++this.#generation;
    this.error = undefined;
    this.#pending = this.#take(file, generation);
    return this.#pending;
  }

  async #take(file: File, generation: number): Promise<void> {
    if (!file.type.startsWith('image/')) {
      this.#fail(AVATAR_NOT_AN_IMAGE);
      return;
    }
    this.busy = true;
    try {
      const avatar = await this.#resize(file);
      if (generation !== this.#generation) return;
      this.avatar = avatar;
      this.url = avatarUrl(avatar);
    } catch (err) {
      if (generation === this.#generation) this.#fail(describeAvatarError(err));
    } finally {
      if (generation === this.#generation) this.busy = false;
    }
  }

  /** The latest pick is not usable: say why and keep no avatar (not an older one either). */
  #fail(error: string): void {
    this.error = error;
    this.avatar = undefined;
    this.url = '';
    this.busy = false;
  }

  /** Shows a saved avatar (or none) as the current pick, e.g. the profile's when it is edited. */
  show(avatar: Avatar | undefined): void {
    this.#generation++;
    this.avatar = avatar;
    this.url = avatar === undefined ? '' : avatarUrl(avatar);
    this.error = undefined;
    this.busy = false;
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
