import { createMemoryContactsStorage, type ContactsStorage } from '../contacts/stores.js';
import { backoffDelay, type BackoffOptions } from '../p2p/backoff.js';
import { createNode as defaultCreateNode } from '../p2p/node.js';
import { connectLink } from '../p2p/target.js';
import type { NodeDeps, NodeInit, P2PNode } from '../p2p/types.js';
import { createLiveSearch, type LiveSearch, type SearchDeps } from '../search/index.js';
import type { DocStore } from '../storage/doc-store.js';
import { createMemoryHistoryStore, type HistoryStore } from '../storage/history-store.js';
import type { KeyStore } from '../storage/key-store.js';
import type { Settings, SettingsStore } from '../storage/settings.js';
import { createChat } from './chat.js';
import type { Chat, ChatConfig } from './chat-types.js';
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

export interface AppConfig {
  /** Where the app was loaded from; relay-info is fetched from `<origin>/api/relay-info`. */
  origin: string;
  /** Relay-info the page came with (`readInlineRelayInfo()`): used at once, nothing fetched. */
  relayInfo?: RelayInfo;
  /** Base of the links "Copy link" makes (default: origin). */
  linkBase?: string;
  keyStore: KeyStore;
  settingsStore: SettingsStore;
  /** Where conversations are kept (default: in memory, nothing kept). */
  history?: HistoryStore;
  /** Where conversations were kept before segments (moved into `history` when opened). */
  docs?: DocStore;
  /** Where the profile, contacts and invites are kept (default: in memory). */
  contacts?: ContactsStorage;
  /** Base of invite links (default: origin). */
  inviteBase?: string;
  /** Messenger options (tests: sync transport, timers, visibility, no background dialing). */
  chat?: Omit<ChatConfig, 'node' | 'docs' | 'history' | 'storage' | 'origin'>;
  /** Search index options (chunking scheduler). */
  search?: SearchDeps;
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

export interface App {
  /** The node (created at once, started by start()). */
  readonly node: P2PNode;
  /** The messenger façade over the node (started by startMessenger()). */
  readonly chat: Chat;
  /** The local message search index over the chat (started by startMessenger()). */
  readonly search: LiveSearch;
  readonly snapshot: AppSnapshot;
  /** 'change': relay-info or settings changed. */
  addEventListener(type: 'change', listener: (e: CustomEvent<AppSnapshot>) => void): void;
  removeEventListener(type: 'change', listener: (e: CustomEvent<AppSnapshot>) => void): void;
  /** Loads settings, starts the node, and fetches relay-info (retrying in the background). */
  start(): Promise<void>;
  /**
   * After start(): the messenger (contacts, invites, pairing, sync: stored conversations open)
   * and then the search index, built in the background.
   */
  startMessenger(): Promise<void>;
  stop(): Promise<void>;
  /** Saves settings and applies them to the running node. */
  saveSettings(settings: Settings): Promise<void>;
  /** The link that opens this app and connects to `peerId`. */
  linkFor(peerId: string): string;
}

/**
 * The one composition root: wires relay-info, settings, storage, the p2p node, the messenger
 * (contacts, invites, pairing, sync, groups, receipts: see chat.ts) and search. I/O comes in
 * through the config; stores adapt the result to runes and wire nothing themselves.
 *
 * ```ts
 * const app = createApp({
 *   origin: location.origin,
 *   keyStore: createIdbKeyStore(),
 *   settingsStore: createLocalSettingsStore()
 * });
 * await app.start(); // the node, relay-info
 * await app.startMessenger(); // chat, then the search index in the background
 * app.node.addEventListener('state', (e) => render(e.detail));
 * app.chat.send(conversationId, 'hello');
 * ```
 */
export function createApp(config: AppConfig): App {
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

  const chat = createChat({
    ...config.chat,
    node,
    history: config.history ?? createMemoryHistoryStore(),
    ...(config.docs !== undefined ? { docs: config.docs } : {}),
    storage: config.contacts ?? createMemoryContactsStorage(),
    origin: config.inviteBase ?? config.origin,
    pageOrigin: config.origin
  });
  const search = createLiveSearch({ source: chat }, config.search);
  let messenger: Promise<void> | undefined;

  let snapshot: AppSnapshot = {
    relayInfo:
      config.relayInfo !== undefined
        ? { status: 'ok', url, info: config.relayInfo }
        : { status: 'loading', url },
    settings: { relays: [], iceServers: [] }
  };
  let running = false;
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

  return {
    node,
    chat,
    search,
    get snapshot() {
      return snapshot;
    },
    addEventListener(type, listener) {
      events.addEventListener(type, listener as EventListener);
    },
    removeEventListener(type, listener) {
      events.removeEventListener(type, listener as EventListener);
    },
    async start() {
      if (running) return;
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
    },
    startMessenger() {
      messenger ??= chat.start().then(() => search.start());
      return messenger;
    },
    async stop() {
      running = false;
      search.stop();
      await chat.stop();
      messenger = undefined;
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
