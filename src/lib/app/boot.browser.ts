/**
 * This page's node half (createNodeApp) with the browser's I/O: the device key in IndexedDB,
 * settings in localStorage, the relay-info the relay put into the page. Made once per page.
 *
 * The client hook (src/hooks.client.ts) starts it before SvelteKit renders anything, and this
 * module's imports stay on the node's side (libp2p, the key store, settings; no Yjs, sync or
 * search): the key load, the relay dial and the reservation run while the rest of the app's
 * code is still being compiled. createBrowserApp() (app.browser.ts) puts the messenger on it.
 */
import { createIdbKeyStore } from '../storage/key-store-idb.js';
import { createLocalSettingsStore } from '../storage/settings.js';
import { createNodeApp, type NodeApp } from './node-app.js';
import { readInlineRelayInfo } from './relay-info.js';

let base: NodeApp | undefined;

export function browserNodeApp(): NodeApp {
  base ??= createNodeApp({
    origin: location.origin,
    // The relay-info the relay put into the page: no request before the relay dial.
    relayInfo: readInlineRelayInfo(),
    linkBase: `${location.origin}${location.pathname}`,
    keyStore: createIdbKeyStore(),
    settingsStore: createLocalSettingsStore()
  });
  return base;
}
