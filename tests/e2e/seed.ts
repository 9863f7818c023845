/**
 * Puts a conversation into a page's IndexedDB in the DocStore's format (y-indexeddb layout), as
 * if it had been synced earlier: histories built in Node with the conversation model.
 */
import type { Page } from '@playwright/test';
import * as Y from 'yjs';
import { DEFAULT_IDB_DOC_STORE } from '../../src/lib/storage/doc-store-idb.js';

export async function seedConversation(page: Page, id: string, doc: Y.Doc): Promise<void> {
  const update = Buffer.from(Y.encodeStateAsUpdate(doc)).toString('base64');
  await page.evaluate(
    async ({ update, id, prefix, catalog }) => {
      const bytes = Uint8Array.from(atob(update), (c) => c.charCodeAt(0));
      const open = (name: string, init: (db: IDBDatabase) => void) =>
        new Promise<IDBDatabase>((resolve, reject) => {
          const req = indexedDB.open(name);
          req.onupgradeneeded = () => init(req.result);
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
      const put = (db: IDBDatabase, store: string, value: unknown, key?: IDBValidKey) =>
        new Promise<void>((resolve, reject) => {
          const tx = db.transaction([store], 'readwrite');
          tx.objectStore(store).put(value, key);
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
      const docDb = await open(prefix + id, (db) => {
        db.createObjectStore('updates', { autoIncrement: true });
        db.createObjectStore('custom');
      });
      await put(docDb, 'updates', bytes);
      docDb.close();
      const ids = await open(catalog, (db) => db.createObjectStore('ids'));
      await put(ids, 'ids', true, id);
      ids.close();
    },
    { update, id, prefix: DEFAULT_IDB_DOC_STORE.prefix, catalog: DEFAULT_IDB_DOC_STORE.catalog }
  );
}
