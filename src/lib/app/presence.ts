/**
 * Online presence of contacts, from ephemeral notices (src/lib/sync/ephemeral.ts): nothing here
 * is stored, it lives only while the page is open.
 *
 * - `createPresenceTracker()` (receiving side): a contact is 'online' or 'away' as its last
 *   notice said, until the connection to it closes (`disconnected`) or nothing was heard from
 *   it for `expiryMs`; then 'offline'.
 * - `createPresenceAnnouncer()` (sending side): tells connected contacts this device's state
 *   when asked (`announceTo(peer)`, e.g. when a connection opens), every `intervalMs`, and at
 *   once when the page is hidden ('away') or shown again ('online').
 *
 * ```ts
 * const tracker = createPresenceTracker({});
 * tracker.onChange((peer) => render(peer, tracker.get(peer)));
 * tracker.heard(peer, 'online');
 * const announcer = createPresenceAnnouncer({ send: (peer, s) => ..., peers: () => [...] });
 * announcer.start();
 * ```
 */
import type { PresenceState } from '../sync/ephemeral.js';

export type Presence = PresenceState | 'offline';

/** Without a notice for this long, a contact counts as offline. */
export const PRESENCE_EXPIRY_MS = 75_000;

/** A device repeats its presence to connected contacts this often. */
export const PRESENCE_INTERVAL_MS = 30_000;

/** Timers, injectable so tests drive time themselves. */
export interface PresenceTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** Whether the page is visible, and when that changes (a document, or a stand-in in tests). */
export interface VisibilitySource {
  hidden(): boolean;
  /** Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export const realTimers: PresenceTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>)
};

/** The page's document visibility; always visible where there is no document (Node). */
export function documentVisibility(): VisibilitySource {
  const doc = (globalThis as { document?: Document }).document;
  if (doc === undefined) return { hidden: () => false, onChange: () => () => {} };
  return {
    hidden: () => doc.visibilityState === 'hidden',
    onChange(listener) {
      doc.addEventListener('visibilitychange', listener);
      return () => doc.removeEventListener('visibilitychange', listener);
    }
  };
}

export interface PresenceTracker {
  /** A presence notice from `peer` arrived. */
  heard(peer: string, state: PresenceState): void;
  /** The connection to `peer` closed. */
  disconnected(peer: string): void;
  get(peer: string): Presence;
  /** Peers currently online or away. */
  peers(): string[];
  /** Called with the peer whose presence changed. Returns the unsubscribe function. */
  onChange(listener: (peer: string) => void): () => void;
  /** Forgets everyone and cancels the timers. */
  clear(): void;
}

export interface PresenceTrackerOptions {
  expiryMs?: number;
  timers?: PresenceTimers;
}

export function createPresenceTracker(options: PresenceTrackerOptions = {}): PresenceTracker {
  const expiryMs = options.expiryMs ?? PRESENCE_EXPIRY_MS;
  const timers = options.timers ?? realTimers;
  const known = new Map<string, { state: PresenceState; timer: unknown }>();
  const listeners = new Set<(peer: string) => void>();
  const emit = (peer: string): void => {
    for (const listener of listeners) listener(peer);
  };
  const forget = (peer: string): void => {
    const entry = known.get(peer);
    if (entry === undefined) return;
    timers.clearTimeout(entry.timer);
    known.delete(peer);
    emit(peer);
  };
  return {
    heard(peer, state) {
      const entry = known.get(peer);
      if (entry !== undefined) timers.clearTimeout(entry.timer);
      const timer = timers.setTimeout(() => {
        if (known.get(peer)?.timer === timer) forget(peer);
      }, expiryMs);
      known.set(peer, { state, timer });
      if (entry?.state !== state) emit(peer);
    },
    disconnected: forget,
    get: (peer) => known.get(peer)?.state ?? 'offline',
    peers: () => [...known.keys()],
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear() {
      for (const peer of [...known.keys()]) forget(peer);
    }
  };
}

export interface PresenceAnnouncer {
  start(): void;
  stop(): void;
  /** This device's own state: 'away' while the page is hidden. */
  state(): PresenceState;
  /** Sends the current state to one peer now (e.g. its connection just opened). */
  announceTo(peer: string): void;
}

export interface PresenceAnnouncerDeps {
  /** Sends a presence notice to `peer` (best effort; must not throw). */
  send(peer: string, state: PresenceState): void;
  /** The peers to tell: connected contacts. */
  peers(): string[];
  visibility?: VisibilitySource;
  timers?: PresenceTimers;
  intervalMs?: number;
  /** Called when this device's own state changes. */
  onOwnChange?: (state: PresenceState) => void;
}

export function createPresenceAnnouncer(deps: PresenceAnnouncerDeps): PresenceAnnouncer {
  const visibility = deps.visibility ?? documentVisibility();
  const timers = deps.timers ?? realTimers;
  const intervalMs = deps.intervalMs ?? PRESENCE_INTERVAL_MS;
  let interval: unknown;
  let offVisibility: (() => void) | undefined;
  let running = false;
  const state = (): PresenceState => (visibility.hidden() ? 'away' : 'online');
  const announceAll = (): void => {
    const s = state();
    for (const peer of deps.peers()) deps.send(peer, s);
  };
  return {
    start() {
      if (running) return;
      running = true;
      interval = timers.setInterval(announceAll, intervalMs);
      offVisibility = visibility.onChange(() => {
        deps.onOwnChange?.(state());
        announceAll();
      });
      announceAll();
    },
    stop() {
      if (!running) return;
      running = false;
      timers.clearInterval(interval);
      offVisibility?.();
      offVisibility = undefined;
    },
    state,
    announceTo(peer) {
      if (running) deps.send(peer, state());
    }
  };
}
