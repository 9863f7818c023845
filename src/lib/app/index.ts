/**
 * The composition root: createApp() wires storage, relay-info and the p2p node; the UI store
 * (src/lib/stores/node.svelte.ts) is its only user.
 *
 * ```ts
 * import { createApp } from '$lib/app';
 * import { createIdbKeyStore, createLocalSettingsStore } from '$lib/storage';
 *
 * const app = createApp({
 *   origin: location.origin, // relay-info from <origin>/api/relay-info, unless the page has it:
 *   relayInfo: readInlineRelayInfo(), // inlined by the relay that served the page
 *   keyStore: createIdbKeyStore(),
 *   settingsStore: createLocalSettingsStore()
 * });
 * await app.start(); // node started; relay-info retried in the background if the relay is down
 * await app.node.connect(app.linkFor('12D3KooW…'));
 * ```
 */
export {
  createApp,
  DEFAULT_RELAY_INFO_TIMEOUT_MS,
  RELAY_INFO_BACKOFF,
  type App,
  type AppConfig,
  type AppSnapshot,
  type RelayInfoState
} from './app.js';
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
