/**
 * The app as this browser runs it: the page's node half (boot.browser.ts: IndexedDB key,
 * localStorage settings, the page's relay) with the messenger on IndexedDB storage. The only
 * place that picks the browser's I/O for the messenger.
 */
import { createIdbContactsStorage } from '../contacts/index.js';
import { createIdbBlockstore } from '../files/blockstore-idb.js';
import { WRITE_BEHIND_BYTES } from '../files/constants.js';
import { createIdbDocStore, createIdbHistoryStore } from '../storage/index.js';
import { composeApp, type App } from './app.js';
import { browserNodeApp } from './boot.browser.js';
import { filePreview } from './thumbnail.browser.js';
import { createTransferLog } from './transfer-log.js';

export function createBrowserApp(): App {
  const app = composeApp(browserNodeApp(), {
    origin: location.origin,
    inviteBase: `${location.origin}${location.pathname.replace(/\/+$/, '')}`,
    history: createIdbHistoryStore(),
    // Conversations stored before segments: moved into the history store when opened.
    docs: createIdbDocStore(),
    contacts: createIdbContactsStorage(),
    blockstore: createIdbBlockstore({ writeBehindBytes: WRITE_BEHIND_BYTES }),
    files: {
      log: createTransferLog(localStorage),
      preview: filePreview,
      estimate: () => navigator.storage.estimate()
    }
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
