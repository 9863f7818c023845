/**
 * The app shell's store (runes) with an injected page: which screen a hash shows, Back, and the
 * remembered theme. The same paths run in Chromium in tests/e2e/app.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  isTheme,
  screenOf,
  SETTINGS_HASH,
  ShellStore,
  THEME_KEY,
  type ShellHost
} from '../../../src/lib/stores/shell.svelte.js';

interface FakePage extends ShellHost {
  storage: Map<string, string> & Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  root: { dataset: DOMStringMap };
  /** Calls of history.back(). */
  backs: number;
}

function memoryStorage(initial: Record<string, string> = {}): FakePage['storage'] {
  const map = new Map(Object.entries(initial)) as FakePage['storage'];
  map.getItem = (key) => map.get(key) ?? null;
  map.setItem = (key, value) => void map.set(key, value);
  map.removeItem = (key) => void map.delete(key);
  return map;
}

function fakePage(hash = '', stored: Record<string, string> = {}): FakePage {
  const page: FakePage = {
    location: { hash },
    history: {
      back: () => {
        page.backs++;
      },
      pushState: () => {}
    },
    storage: memoryStorage(stored),
    root: { dataset: {} },
    backs: 0
  };
  return page;
}

describe('screenOf', () => {
  it('maps hashes to screens', () => {
    expect(screenOf('')).toBe('list');
    expect(screenOf('#')).toBe('list');
    expect(screenOf('#/')).toBe('list');
    expect(screenOf(SETTINGS_HASH)).toBe('settings');
    expect(screenOf('#/settings/network')).toBe('settings');
    expect(screenOf('#/settingsx')).toBe('list');
    expect(screenOf('#/c/abc')).toBe('conversation');
    expect(screenOf('#/c/abc/m/def')).toBe('conversation');
    expect(screenOf('#/c/')).toBe('list');
    expect(screenOf('#/invite/xyz')).toBe('list');
    expect(screenOf('#/connect/12D3KooW')).toBe('list');
  });

  it('knows the themes', () => {
    expect(['light', 'dark', 'system'].every(isTheme)).toBe(true);
    expect(isTheme('sepia')).toBe(false);
    expect(isTheme(undefined)).toBe(false);
  });
});

describe('ShellStore', () => {
  it('starts on the screen of the page hash', () => {
    expect(new ShellStore(fakePage('#/settings')).screen).toBe('settings');
    expect(new ShellStore(fakePage('#/c/x')).screen).toBe('conversation');
    expect(new ShellStore(fakePage('')).screen).toBe('list');
  });

  it('follows hash changes', () => {
    const shell = new ShellStore(fakePage(''));
    shell.follow('#/c/a');
    expect(shell.screen).toBe('conversation');
    shell.follow(SETTINGS_HASH);
    expect(shell.screen).toBe('settings');
    shell.follow('#/');
    expect(shell.screen).toBe('list');
  });

  it("Back uses the browser's history when the list came right before", () => {
    const page = fakePage('');
    const shell = new ShellStore(page);
    shell.follow('#/c/a');
    shell.back();
    expect(page.backs).toBe(1);
    expect(page.location.hash).toBe('');

    shell.follow('#/');
    shell.follow(SETTINGS_HASH);
    shell.back();
    expect(page.backs).toBe(2);
  });

  it('Back goes to #/ when the page was opened elsewhere (a link, a reload)', () => {
    const page = fakePage('#/c/a');
    const shell = new ShellStore(page);
    shell.back();
    expect(page.backs).toBe(0);
    expect(page.location.hash).toBe('#/');
  });

  it('Back goes to #/ after moving between conversations or from one to Settings', () => {
    const page = fakePage('');
    const shell = new ShellStore(page);
    shell.follow('#/c/a');
    shell.follow('#/c/b');
    shell.back();
    expect(page.backs).toBe(0);
    expect(page.location.hash).toBe('#/');

    shell.follow('#/');
    shell.follow('#/c/a');
    shell.follow(SETTINGS_HASH);
    shell.back();
    expect(page.backs).toBe(0);
    expect(page.location.hash).toBe('#/');
  });

  it('a click that opens a conversation before its hashchange is followed once', () => {
    const page = fakePage('#/');
    const shell = new ShellStore(page);
    shell.follow('#/c/a'); // the list's click handler
    shell.follow('#/c/a'); // the browser's hashchange, a task later
    expect(shell.screen).toBe('conversation');
    shell.back();
    expect(page.backs).toBe(1);
  });

  it('openSettings goes to #/settings unless already there', () => {
    const page = fakePage('');
    const shell = new ShellStore(page);
    shell.openSettings();
    expect(page.location.hash).toBe(SETTINGS_HASH);

    const there = fakePage('#/settings');
    const inSettings = new ShellStore(there);
    there.location.hash = '#/settings/unchanged';
    inSettings.openSettings();
    expect(there.location.hash).toBe('#/settings/unchanged');
  });

  it('starts with the system theme and no data-theme', () => {
    const page = fakePage('');
    const shell = new ShellStore(page);
    expect(shell.theme).toBe('system');
    expect(page.root.dataset.theme).toBeUndefined();
  });

  it('remembers a chosen theme and applies it; System forgets it', () => {
    const page = fakePage('');
    const shell = new ShellStore(page);
    shell.setTheme('dark');
    expect(shell.theme).toBe('dark');
    expect(page.storage.get(THEME_KEY)).toBe('dark');
    expect(page.root.dataset.theme).toBe('dark');

    // The next visit starts with it.
    const next = fakePage('', Object.fromEntries(page.storage));
    expect(new ShellStore(next).theme).toBe('dark');
    expect(next.root.dataset.theme).toBe('dark');

    shell.setTheme('light');
    expect(page.storage.get(THEME_KEY)).toBe('light');
    expect(page.root.dataset.theme).toBe('light');

    shell.setTheme('system');
    expect(page.storage.has(THEME_KEY)).toBe(false);
    expect(page.root.dataset.theme).toBeUndefined();
  });

  it('ignores a stored value that is not a theme', () => {
    const page = fakePage('', { [THEME_KEY]: 'sepia' });
    const shell = new ShellStore(page);
    expect(shell.theme).toBe('system');
    expect(page.root.dataset.theme).toBeUndefined();
  });

  it('still works when storage throws (blocked), for this visit', () => {
    const page = fakePage('');
    page.storage.getItem = () => {
      throw new Error('SecurityError');
    };
    page.storage.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    const shell = new ShellStore(page);
    expect(shell.theme).toBe('system');
    shell.setTheme('dark');
    expect(shell.theme).toBe('dark');
    expect(page.root.dataset.theme).toBe('dark');
  });

  it('works without storage or a root element', () => {
    const shell = new ShellStore({
      location: { hash: '' },
      history: { back: () => {}, pushState: () => {} }
    });
    shell.setTheme('light');
    expect(shell.theme).toBe('light');
  });
});
