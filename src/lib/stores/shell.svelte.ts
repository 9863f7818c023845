/**
 * The app shell's state: which screen shows (from the page's hash, so the browser's Back works)
 * and the colour theme (remembered on this device).
 *
 * Screens: `#/settings` → Settings; `#/c/<id>` → a conversation; anything else → the list (on a
 * narrow screen the list is home; on a wide one it sits beside an empty pane).
 */
import { CONVERSATION_HASH } from '$lib/app/links';

export type Screen = 'list' | 'conversation' | 'settings';
export type Theme = 'light' | 'dark' | 'system';

export const SETTINGS_HASH = '#/settings';
export const THEME_KEY = 'p2p4e.theme';
const THEMES: readonly Theme[] = ['light', 'dark', 'system'];

/** The screen a hash shows. */
export function screenOf(hash: string): Screen {
  if (hash === SETTINGS_HASH || hash.startsWith(`${SETTINGS_HASH}/`)) return 'settings';
  if (hash.startsWith(CONVERSATION_HASH) && hash.length > CONVERSATION_HASH.length) {
    return 'conversation';
  }
  return 'list';
}

export function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (THEMES as readonly string[]).includes(value);
}

/** What the shell needs from the page (injected: tests pass their own). */
export interface ShellHost {
  location: { hash: string };
  history: { back(): void; pushState(data: unknown, unused: string, url?: string): void };
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** The root element whose data-theme pins the theme. */
  root?: { dataset: DOMStringMap };
}

export class ShellStore {
  readonly #host: ShellHost;
  screen = $state<Screen>('list');
  theme = $state<Theme>('system');
  /** The list was on screen right before this conversation/settings: Back can go back to it. */
  #cameFromList = false;
  /** The hash last followed. */
  #hash: string;

  constructor(host: ShellHost) {
    this.#host = host;
    this.#hash = host.location.hash;
    this.screen = screenOf(this.#hash);
    let stored: string | null = null;
    try {
      stored = host.storage?.getItem(THEME_KEY) ?? null;
    } catch {
      // Storage blocked (private mode, policy): the system theme.
    }
    this.theme = isTheme(stored) ? stored : 'system';
    this.#applyTheme();
  }

  /** Call on every hashchange (and earlier, on a click that is about to change the hash). */
  follow(hash: string): void {
    if (hash === this.#hash) return; // the click already did, the hashchange follows
    this.#hash = hash;
    const next = screenOf(hash);
    this.#cameFromList = this.screen === 'list' && next !== 'list';
    this.screen = next;
  }

  /** Back to the list: the browser's own Back when it leads there, else to `#/`. */
  back(): void {
    if (this.#cameFromList) this.#host.history.back();
    else this.#go('#/');
  }

  openSettings(): void {
    if (this.screen !== 'settings') this.#go(SETTINGS_HASH);
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    try {
      if (theme === 'system') this.#host.storage?.removeItem(THEME_KEY);
      else this.#host.storage?.setItem(THEME_KEY, theme);
    } catch {
      // Not remembered; still applied for this visit.
    }
    this.#applyTheme();
  }

  #go(hash: string): void {
    this.#host.location.hash = hash;
  }

  #applyTheme(): void {
    const root = this.#host.root;
    if (root === undefined) return;
    if (this.theme === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.theme;
  }
}

/** The shell of this page. */
export function createShellStore(): ShellStore {
  return new ShellStore({
    location: window.location,
    history: window.history,
    storage: window.localStorage,
    root: document.documentElement
  });
}
