/**
 * The app as this browser runs it: createApp() with IndexedDB storage, localStorage settings
 * and the page's own address. The only place that picks the browser's I/O.
 */
import { createIdbContactsStorage } from '../contacts/index.js';
import {
  createIdbDocStore,
  createIdbHistoryStore,
  createIdbKeyStore,
  createLocalSettingsStore
} from '../storage/index.js';
import { createApp, type App } from './app.js';
import { readInlineRelayInfo } from './relay-info.js';

export function createBrowserApp(): App {
  const app = createApp({
    origin: location.origin,
    // The relay-info the relay put into the page: no request before the relay dial.
    relayInfo: readInlineRelayInfo(),
    linkBase: `${location.origin}${location.pathname}`,
    inviteBase: `${location.origin}${location.pathname.replace(/\/+$/, '')}`,
    keyStore: createIdbKeyStore(),
    settingsStore: createLocalSettingsStore(),
    history: createIdbHistoryStore(),
    // Conversations stored before segments: moved into the history store when opened.
    docs: createIdbDocStore(),
    contacts: createIdbContactsStorage()
  });
  // Storage writes leave the task that made them (deferWrites): a page being hidden or closed
  // issues the queued ones at once, while it still can.
  const flush = (): void => void app.chat.flush().catch(() => undefined);
  addEventListener('pagehide', flush);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') flush();
  });
  return app;
}
