/**
 * This device's own profile in the UI: onboarding (first run), and Settings → Profile (name and
 * avatar changed later). Part of ChatStore (`chat.me`).
 */
import { avatarUrl } from '$lib/app/avatar';
import { describeError } from '$lib/app/error-text';
import type { Profile, ProfileStore } from '$lib/contacts';
import { AvatarPicker } from './avatar-picker.svelte';

export class OwnProfileStore {
  readonly #store: ProfileStore;

  /** 'loading' until the profile was read; 'needed' shows onboarding. */
  onboarding = $state<'loading' | 'needed' | 'done'>('loading');
  displayName = $state('');
  nameDraft = $state('');
  onboardingError = $state<string | undefined>(undefined);
  /** Optional avatar picked during onboarding (and in Settings → Profile). */
  readonly avatar = new AvatarPicker();
  /** This device's saved avatar as a data: URL ('' when none). */
  avatarUrl = $state('');
  /** Settings → Profile: the outcome of "Save profile". */
  profileNotice = $state<string | undefined>(undefined);
  profileError = $state<string | undefined>(undefined);
  #profile: Profile | undefined;

  constructor(store: ProfileStore) {
    this.#store = store;
  }

  /** Reads the saved profile: onboarding is 'needed' without one. */
  async load(): Promise<void> {
    try {
      const profile = await this.#store.load();
      this.#setProfile(profile);
      this.onboarding = profile === undefined ? 'needed' : 'done';
    } catch {
      this.onboarding = 'needed';
    }
  }

  async finishOnboarding(): Promise<boolean> {
    this.onboardingError = undefined;
    try {
      await this.#saveDrafts();
      this.onboarding = 'done';
      return true;
    } catch (err) {
      this.onboardingError = describeError(err, 'profile');
      return false;
    }
  }

  /** Fills the profile form (name, avatar) from the saved profile: call when Settings opens. */
  editProfile(): void {
    this.profileNotice = undefined;
    this.profileError = undefined;
    this.nameDraft = this.displayName;
    this.avatar.show(this.#profile?.avatar);
  }

  /** "Save profile": the name and avatar contacts get from now on (invites, pairing). */
  async saveProfile(): Promise<boolean> {
    this.profileNotice = undefined;
    this.profileError = undefined;
    try {
      this.nameDraft = (await this.#saveDrafts()).name;
      this.profileNotice = 'Profile saved.';
      return true;
    } catch (err) {
      this.profileError = describeError(err, 'profile');
      return false;
    }
  }

  /** Saves the name and avatar drafts as the profile (throws a typed error). */
  async #saveDrafts(): Promise<Profile> {
    const avatar = await this.avatar.value();
    const saved = await this.#store.save({
      name: this.nameDraft.trim(),
      ...(avatar === undefined ? {} : { avatar })
    });
    this.#setProfile(saved);
    return saved;
  }

  #setProfile(profile: Profile | undefined): void {
    this.#profile = profile;
    this.displayName = profile?.name ?? '';
    this.avatarUrl = profile?.avatar === undefined ? '' : avatarUrl(profile.avatar);
  }
}
