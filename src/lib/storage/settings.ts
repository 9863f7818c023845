import { StorageUnavailableError } from './errors.js';

/** What the user can change in Settings. */
export interface Settings {
  /** Extra relay multiaddrs (each ending in /p2p/<relay peer ID>), on top of the page's relay. */
  relays: string[];
  /** Extra ICE server URLs (stun:/turn:), on top of those the relay suggests. */
  iceServers: string[];
}

export interface SettingsStore {
  /** The saved settings, or empty lists when nothing (or nothing readable) was saved. */
  load(): Promise<Settings>;
  save(settings: Settings): Promise<void>;
}

export const EMPTY_SETTINGS: Settings = Object.freeze({ relays: [], iceServers: [] });

export const DEFAULT_SETTINGS_KEY = 'p2p4e:settings:v1';

export function createMemorySettingsStore(initial: Settings = EMPTY_SETTINGS): SettingsStore {
  let stored = cloneSettings(initial);
  return {
    async load() {
      return cloneSettings(stored);
    },
    async save(settings: Settings) {
      stored = cloneSettings(settings);
    }
  };
}

export interface LocalSettingsStoreInit {
  /** Defaults to `globalThis.localStorage`, looked up on first use. */
  storage?: Pick<Storage, 'getItem' | 'setItem'>;
  key?: string;
}

/** Settings as versioned JSON in localStorage. Unreadable entries load as empty settings. */
export function createLocalSettingsStore(init: LocalSettingsStoreInit = {}): SettingsStore {
  const key = init.key ?? DEFAULT_SETTINGS_KEY;
  const storage = (): Pick<Storage, 'getItem' | 'setItem'> => {
    const s = init.storage ?? (globalThis as { localStorage?: Storage }).localStorage;
    if (s === undefined) throw new StorageUnavailableError('localStorage is not available');
    return s;
  };
  return {
    async load() {
      let raw: string | null;
      try {
        raw = storage().getItem(key);
      } catch {
        // Blocked storage (some private modes) behaves like a first run.
        return cloneSettings(EMPTY_SETTINGS);
      }
      return parseSettings(raw);
    },
    async save(settings: Settings) {
      try {
        storage().setItem(key, JSON.stringify(cloneSettings(settings)));
      } catch (err) {
        throw new StorageUnavailableError('Could not save settings in this browser', {
          cause: err
        });
      }
    }
  };
}

/** Parses stored JSON; anything unexpected becomes empty lists rather than an error. */
export function parseSettings(raw: string | null | undefined): Settings {
  if (raw == null || raw === '') return cloneSettings(EMPTY_SETTINGS);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return cloneSettings(EMPTY_SETTINGS);
  }
  if (typeof value !== 'object' || value === null) return cloneSettings(EMPTY_SETTINGS);
  const v = value as Record<string, unknown>;
  return { relays: stringList(v.relays), iceServers: stringList(v.iceServers) };
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((x): x is string => typeof x === 'string')
    .map((x) => x.trim())
    .filter(Boolean);
}

function cloneSettings(s: Settings): Settings {
  return { relays: [...s.relays], iceServers: [...s.iceServers] };
}
