/**
 * The node half of the composition root: relay-info (read from the page, or fetched with
 * backoff), settings, and the p2p node they configure. createApp() (app.ts) puts the messenger
 * and search on top of it. Kept apart so a page can start its node from a small module graph
 * before the messenger's code (Yjs, sync, search) has even been evaluated (boot.browser.ts).
 *
 * ```ts
 * const base = createNodeApp({ origin, keyStore, settingsStore, relayInfo });
 * await base.start(); // settings read, the node started; relay-info retried in the background
 * const app = composeApp(base, { origin, history }); // the messenger on the same node
 * ```
 */
import { backoffDelay, type BackoffOptions } from '../p2p/backoff.js';
import { createNode as defaultCreateNode } from '../p2p/node.js';
import { connectLink } from '../p2p/target.js';
import type { NodeDeps, NodeInit, P2PNode } from '../p2p/types.js';
import type { KeyStore } from '../storage/key-store.js';
import type { Settings, SettingsStore } from '../storage/settings.js';
import { RelayInfoUnavailableError } from './errors.js';
import { effectiveIceServers, effectiveRelays } from './merge.js';
import { fetchRelayInfo, RELAY_INFO_PATH, type RelayInfo } from './relay-info.js';
import { markingKeyStore, markStart, START_MARKS, watchStartMarks } from './start-marks.js';
import { keyStoreWarmingCurves } from './warm-up.js';

/** How long one `/api/relay-info` request may take. */
export const DEFAULT_RELAY_INFO_TIMEOUT_MS = 5_000;

/** Pause between `/api/relay-info` attempts while the relay can't be reached. */
export const RELAY_INFO_BACKOFF: BackoffOptions = {
  baseMs: 1_000,
  factor: 2,
  maxMs: 30_000,
  jitter: 0.3
};

export interface NodeAppConfig {
  /** Where the app was loaded from; relay-info is fetched from `<origin>/api/relay-info`. */
  origin: string;
  /** Relay-info the page came with (`readInlineRelayInfo()`): used at once, nothing fetched. */
  relayInfo?: RelayInfo;
  /** Base of the links "Copy link" makes (default: origin). */
  linkBase?: string;
  keyStore: KeyStore;
  settingsStore: SettingsStore;
  fetch?: typeof fetch;
  relayInfoTimeoutMs?: number;
  /** Node tunables (timeouts, attempts); relays and ICE servers come from relay-info + settings. */
  node?: Omit<NodeInit, 'relays' | 'iceServers'>;
  /** Swappable for tests. */
  createNode?: (init: NodeInit, deps: NodeDeps) => P2PNode;
  now?: () => number;
  random?: () => number;
}

export interface RelayInfoState {
  status: 'loading' | 'ok' | 'error';
  /** The relay-info URL. */
  url: string;
  info?: RelayInfo;
  /** Sentence for the UI. */
  error?: string;
  nextRetryAt?: number;
}

export interface AppSnapshot {
  relayInfo: RelayInfoState;
  settings: Settings;
}

export interface NodeApp {
  /** The node (created at once, started by start()). */
  readonly node: P2PNode;
  readonly snapshot: AppSnapshot;
  /** 'change': relay-info or settings changed. */
  addEventListener(type: 'change', listener: (e: CustomEvent<AppSnapshot>) => void): void;
  removeEventListener(type: 'change', listener: (e: CustomEvent<AppSnapshot>) => void): void;
  /**
   * Loads settings, starts the node, and fetches relay-info (retrying in the background). Every
   * call while it runs or after it succeeded returns the same promise; after a failure, or
   * stop(), a call starts again.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Saves settings and applies them to the running node. */
  saveSettings(settings: Settings): Promise<void>;
  /** The link that opens this app and connects to `peerId`. */
  linkFor(peerId: string): string;
}

export function createNodeApp(config: NodeAppConfig): NodeApp {
  const now = config.now ?? Date.now;
  const random = config.random ?? Math.random;
  const url = new URL(RELAY_INFO_PATH, config.origin).toString();
  const events = new EventTarget();
  markStart(START_MARKS.appCreated);
  const node = (config.createNode ?? defaultCreateNode)(
    { ...config.node, relays: [], iceServers: [] },
    { keyStore: markingKeyStore(keyStoreWarmingCurves(config.keyStore)), now, random }
  );
  const marks = watchStartMarks(node);

  let snapshot: AppSnapshot = {
    relayInfo:
      config.relayInfo !== undefined
        ? { status: 'ok', url, info: config.relayInfo }
        : { status: 'loading', url },
    settings: { relays: [], iceServers: [] }
  };
  let running = false;
  let starting: Promise<void> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let controller: AbortController | undefined;
  let attempt = 0;

  const emit = (next: Partial<AppSnapshot>): void => {
    snapshot = { ...snapshot, ...next };
    events.dispatchEvent(new CustomEvent('change', { detail: snapshot }));
  };

  const applyToNode = (): void => {
    node.setRelays(effectiveRelays(snapshot.relayInfo.info, snapshot.settings));
    node.setIceServers(effectiveIceServers(snapshot.relayInfo.info, snapshot.settings));
  };

  const loadRelayInfo = async (): Promise<void> => {
    if (!running) return;
    controller = new AbortController();
    try {
      const info = await fetchRelayInfo(url, {
        fetch: config.fetch,
        timeoutMs: config.relayInfoTimeoutMs ?? DEFAULT_RELAY_INFO_TIMEOUT_MS,
        signal: controller.signal
      });
      if (!running) return;
      attempt = 0;
      emit({ relayInfo: { status: 'ok', url, info } });
      applyToNode();
    } catch (err) {
      if (!running) return;
      const delay = backoffDelay(attempt, RELAY_INFO_BACKOFF, random);
      attempt++;
      // A status line fragment ("Can't reach the relay at …"), shown with its retry countdown.
      const message =
        err instanceof RelayInfoUnavailableError ? err.message : `Can't reach the relay at ${url}`;
      emit({
        relayInfo: {
          status: 'error',
          url,
          ...(snapshot.relayInfo.info === undefined ? {} : { info: snapshot.relayInfo.info }),
          error: message,
          nextRetryAt: now() + delay
        }
      });
      retryTimer = setTimeout(() => void loadRelayInfo(), delay);
    }
  };

  const onOnline = (): void => {
    if (!running || snapshot.relayInfo.status !== 'error') return;
    clearTimeout(retryTimer);
    attempt = 0;
    void loadRelayInfo();
  };

  const run = async (): Promise<void> => {
    running = true;
    globalThis.addEventListener?.('online', onOnline);
    const settings = await config.settingsStore.load();
    emit({ settings });
    applyToNode();
    // Both at once: the peer ID shows while relay-info is still on its way.
    const infoDone = config.relayInfo !== undefined ? undefined : loadRelayInfo();
    await node.start();
    marks.started();
    await infoDone;
  };

  return {
    node,
    get snapshot() {
      return snapshot;
    },
    addEventListener(type, listener) {
      events.addEventListener(type, listener as EventListener);
    },
    removeEventListener(type, listener) {
      events.removeEventListener(type, listener as EventListener);
    },
    start() {
      starting ??= run().catch((err: unknown) => {
        starting = undefined;
        throw err;
      });
      return starting;
    },
    async stop() {
      running = false;
      starting = undefined;
      globalThis.removeEventListener?.('online', onOnline);
      clearTimeout(retryTimer);
      controller?.abort();
      marks.stop();
      await node.stop();
    },
    async saveSettings(settings) {
      const clean: Settings = {
        relays: [...settings.relays],
        iceServers: [...settings.iceServers]
      };
      await config.settingsStore.save(clean);
      emit({ settings: clean });
      applyToNode();
    },
    linkFor(peerId) {
      return connectLink(config.linkBase ?? config.origin, peerId);
    }
  };
}
