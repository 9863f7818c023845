import { createMemoryContactsStorage, type ContactsStorage } from '../contacts/stores.js';
import { createLiveSearch, type LiveSearch, type SearchDeps } from '../search/index.js';
import type { DocStore } from '../storage/doc-store.js';
import { createMemoryHistoryStore, type HistoryStore } from '../storage/history-store.js';
import { MemoryBlockstore } from 'blockstore-core';
import type { Blockstore } from 'interface-blockstore';
import { createAttachments, type Attachments, type AttachmentsConfig } from './attachments.js';
import { createChat } from './chat.js';
import type { Chat, ChatConfig } from './chat-types.js';
import { createNodeApp, type NodeApp, type NodeAppConfig } from './node-app.js';
import { createWebShares, webGatewayOf, type WebShares } from './web-shares.js';

export {
  DEFAULT_RELAY_INFO_TIMEOUT_MS,
  RELAY_INFO_BACKOFF,
  type AppSnapshot,
  type NodeApp,
  type NodeAppConfig,
  type RelayInfoState
} from './node-app.js';

/** What the messenger half needs (composeApp): storage, links, options. */
export interface MessengerConfig {
  /** Where the app was loaded from (private relays in invites are dialed only from one). */
  origin: string;
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
  /** Where file blocks are kept (default: in memory). */
  blockstore?: Blockstore;
  /** Files options: where unfinished transfers are remembered, image previews, timeouts. */
  files?: Pick<AttachmentsConfig, 'log' | 'preview' | 'estimate' | 'stallMs' | 'autoDownloadMax'>;
}

export type AppConfig = NodeAppConfig & MessengerConfig;

export interface App extends NodeApp {
  /** The messenger façade over the node (started by startMessenger()). */
  readonly chat: Chat;
  /** The local message search index over the chat (started by startMessenger()). */
  readonly search: LiveSearch;
  /** Files in conversations (started by startMessenger(), after the chat). */
  readonly files: Attachments;
  /** "Put on the web": public files kept by the relay that served the app, when it does. */
  readonly webShares: WebShares;
  /**
   * After start(): the messenger (contacts, invites, pairing, sync: stored conversations open)
   * and then the search index, built in the background.
   */
  startMessenger(): Promise<void>;
}

/**
 * The one composition root: wires relay-info, settings, storage, the p2p node (node-app.ts),
 * the messenger (contacts, invites, pairing, sync, groups, receipts: see chat.ts) and search.
 * I/O comes in through the config; stores adapt the result to runes and wire nothing themselves.
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
  return composeApp(createNodeApp(config), config);
}

/**
 * The messenger and search on top of a node half made before (createNodeApp; e.g. started
 * before the page rendered, boot.browser.ts). stop() stops both halves.
 */
export function composeApp(base: NodeApp, config: MessengerConfig): App {
  const chat = createChat({
    ...config.chat,
    node: base.node,
    history: config.history ?? createMemoryHistoryStore(),
    ...(config.docs !== undefined ? { docs: config.docs } : {}),
    storage: config.contacts ?? createMemoryContactsStorage(),
    origin: config.inviteBase ?? config.origin,
    pageOrigin: config.origin
  });
  const search = createLiveSearch({ source: chat }, config.search);
  const files = createAttachments({
    ...config.files,
    chat,
    libp2p: () => base.node.libp2p,
    blockstore: config.blockstore ?? new MemoryBlockstore()
  });
  const webShares = createWebShares({
    libp2p: () => base.node.libp2p,
    gateway: () => webGatewayOf(base.snapshot.relayInfo.info, config.origin)
  });
  let messenger: Promise<void> | undefined;

  return {
    node: base.node,
    chat,
    search,
    files,
    webShares,
    get snapshot() {
      return base.snapshot;
    },
    addEventListener: (type, listener) => base.addEventListener(type, listener),
    removeEventListener: (type, listener) => base.removeEventListener(type, listener),
    start: () => base.start(),
    startMessenger() {
      messenger ??= chat
        .start()
        .then(() => files.start())
        .then(() => search.start());
      return messenger;
    },
    async stop() {
      search.stop();
      await files.stop();
      await chat.stop();
      messenger = undefined;
      await base.stop();
    },
    saveSettings: (settings) => base.saveSettings(settings),
    linkFor: (peerId) => base.linkFor(peerId)
  };
}
