/**
 * The app layer: the one composition root (createApp) and the Chat façade the UI lives on.
 *
 * - `createApp(config)`: wires relay-info, settings, storage, the p2p node, the messenger (Chat:
 *   contacts, invites, pairing, sync, groups, receipts, presence) and local search. I/O comes in
 *   through the config (`app.browser.ts` picks the browser's: IndexedDB, the page's relay). It
 *   is `composeApp(createNodeApp(config), config)`: the node half (node-app.ts: relay-info,
 *   settings, node) can be made and started first, from fewer modules (boot.browser.ts, started
 *   by src/hooks.client.ts before the first render), and the messenger composed on it later.
 * - `Chat` (chat.ts, types in chat-types.ts): commands by conversation id (send, reply, edit,
 *   remove, react, markRead/show, rename, add members, leave...) and plain read models
 *   (summaries, info, messageIds, row with status, authenticity and reply preview). No Yjs type
 *   reaches this layer (a lint rule keeps `yjs` inside src/lib/sync and src/lib/storage).
 * - `describeError(err, context)` (error-text.ts): the one place errors become words.
 *
 * ```ts
 * import { createApp } from '$lib/app';
 * import { createIdbHistoryStore, createIdbKeyStore, createLocalSettingsStore } from '$lib/storage';
 *
 * const app = createApp({
 *   origin: location.origin, // relay-info from <origin>/api/relay-info, unless the page has it:
 *   relayInfo: readInlineRelayInfo(), // inlined by the relay that served the page
 *   keyStore: createIdbKeyStore(),
 *   settingsStore: createLocalSettingsStore(),
 *   history: createIdbHistoryStore() // conversations: head + segments + message index
 * });
 * await app.start(); // node started; relay-info retried in the background if the relay is down
 * await app.startMessenger(); // stored conversations open, search index builds in the background
 * const [first] = app.chat.summaries();
 * if (first) app.chat.send(first.id, 'hello');
 * await app.chat.loadOlder(first.id); // the window starts at the newest messages
 * ```
 */
export {
  composeApp,
  createApp,
  DEFAULT_RELAY_INFO_TIMEOUT_MS,
  RELAY_INFO_BACKOFF,
  type App,
  type AppConfig,
  type AppSnapshot,
  type MessengerConfig,
  type NodeApp,
  type NodeAppConfig,
  type RelayInfoState
} from './app.js';
export { createNodeApp } from './node-app.js';
export {
  fetchRelayInfo,
  parseRelayInfo,
  readInlineRelayInfo,
  RELAY_INFO_ELEMENT_ID,
  RELAY_INFO_PATH,
  type RelayInfo
} from './relay-info.js';
export { START_MARKS } from './start-marks.js';
export {
  effectiveIceServers,
  effectiveRelays,
  invalidIceUrls,
  splitLines,
  splitList
} from './merge.js';
export { NoPairingRelayError, PairingNotFoundError, RelayInfoUnavailableError } from './errors.js';
export { statusLine, needsTick, type StatusInput } from './status.js';
export { createChat, directConversationId, CONTACT_REDIAL_MS } from './chat.js';
export type {
  Chat,
  ChatChange,
  ChatConfig,
  ChatStats,
  ConversationInfo,
  ConversationSummary,
  MessageRow,
  ReactionView,
  ReplyPreview
} from './chat-types.js';
export { describeError, type ErrorContext } from './error-text.js';
export { createReceiptPolicy, RECEIPT_INTERVAL_MS, type ReceiptPolicy } from './receipts.js';
