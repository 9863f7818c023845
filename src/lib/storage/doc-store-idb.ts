import * as idb from 'lib0/indexeddb';
import { clearDocument, PREFERRED_TRIM_SIZE } from 'y-indexeddb';
import * as Y from 'yjs';
import type { DocStore } from './doc-store.js';
import { StorageUnavailableError } from './errors.js';

export interface IdbDocStoreInit {
  /** Prefix of the per-conversation database names (default 'p2p4e-doc:'). */
  prefix?: string;
  /** Database that lists the stored conversation ids (default 'p2p4e-docs'). */
  catalog?: string;
}

export const DEFAULT_IDB_DOC_STORE = { prefix: 'p2p4e-doc:', catalog: 'p2p4e-docs' } as const;

const UPDATES = 'updates';
const CUSTOM = 'custom';
const IDS = 'ids';

/**
 * DocStore in IndexedDB, in y-indexeddb's format: one database per conversation with an
 * auto-increment `updates` store (so `new IndexeddbPersistence(prefix + id, doc)` reads the
 * same data), compacted into one update past y-indexeddb's PREFERRED_TRIM_SIZE. Unlike
 * IndexeddbPersistence it keeps no second Y.Doc in memory and `append` resolves when the
 * write has committed. Nothing is opened until the first call.
 */
export function createIdbDocStore(init: IdbDocStoreInit = {}): DocStore {
  const prefix = init.prefix ?? DEFAULT_IDB_DOC_STORE.prefix;
  const catalogName = init.catalog ?? DEFAULT_IDB_DOC_STORE.catalog;
  const dbs = new Map<string, Promise<IDBDatabase>>();
  const counts = new Map<string, number>();
  /** Operations on one id run one after another. */
  const queues = new Map<string, Promise<unknown>>();
  let catalog: Promise<IDBDatabase> | undefined;

  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    if (typeof indexedDB === 'undefined') {
      throw new StorageUnavailableError('IndexedDB is not available in this browser');
    }
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw err;
      throw new StorageUnavailableError(`Could not ${what} in IndexedDB`, { cause: err });
    }
  };
  const serial = <T>(id: string, fn: () => Promise<T>): Promise<T> => {
    const prev = queues.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(id, settled);
    void settled.then(() => {
      if (queues.get(id) === settled) queues.delete(id);
    });
    return next;
  };
  const openCatalog = (): Promise<IDBDatabase> =>
    (catalog ??= idb.openDB(catalogName, (db) => idb.createStores(db, [[IDS]])));
  const openDoc = (id: string): Promise<IDBDatabase> => {
    let db = dbs.get(id);
    if (db === undefined) {
      db = idb.openDB(prefix + id, (d) =>
        idb.createStores(d, [[UPDATES, { autoIncrement: true }], [CUSTOM]])
      );
      dbs.set(id, db);
    }
    return db;
  };
  const done = (t: IDBTransaction): Promise<void> =>
    new Promise((resolve, reject) => {
      t.oncomplete = () => resolve();
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('transaction aborted'));
    });

  const compact = async (db: IDBDatabase): Promise<Uint8Array | undefined> => {
    const t = db.transaction([UPDATES], 'readwrite');
    const store = t.objectStore(UPDATES);
    const updates = (await idb.getAll(store)) as Uint8Array[];
    const lastKey = (await idb.getLastKey(store)) as number | undefined;
    let merged: Uint8Array | undefined;
    if (updates.length > 0 && lastKey !== undefined) {
      merged = updates.length === 1 ? updates[0] : Y.mergeUpdates(updates);
      if (updates.length > 1) {
        await idb.del(store, idb.createIDBKeyRangeUpperBound(lastKey, false));
        await idb.addAutoKey(store, merged as unknown as ArrayBuffer);
      }
    }
    await done(t);
    return merged;
  };

  return {
    load(id) {
      return serial(id, () =>
        guard('read a conversation', async () => {
          const known = (await idb.get(
            idb.transact(await openCatalog(), [IDS], 'readonly')[0] as IDBObjectStore,
            id
          )) as unknown;
          if (known === undefined) return undefined;
          const merged = await compact(await openDoc(id));
          counts.set(id, merged === undefined ? 0 : 1);
          return merged === undefined ? undefined : new Uint8Array(merged);
        })
      );
    },
    append(id, update) {
      const copy = update.slice();
      return serial(id, () =>
        guard('save a conversation', async () => {
          if (!counts.has(id)) {
            const ct = (await openCatalog()).transaction([IDS], 'readwrite');
            await idb.put(ct.objectStore(IDS), true, id);
            await done(ct);
          }
          const db = await openDoc(id);
          const t = db.transaction([UPDATES], 'readwrite');
          await idb.addAutoKey(t.objectStore(UPDATES), copy as unknown as ArrayBuffer); // lib0 types it narrowly; y-indexeddb stores Uint8Arrays
          await done(t);
          const n = (counts.get(id) ?? 0) + 1;
          counts.set(id, n);
          if (n >= PREFERRED_TRIM_SIZE) {
            await compact(db);
            counts.set(id, 1);
          }
        })
      );
    },
    list() {
      return guard('list conversations', async () => {
        const t = (await openCatalog()).transaction([IDS], 'readonly');
        const keys = (await idb.getAllKeys(t.objectStore(IDS))) as unknown[];
        return keys.filter((k): k is string => typeof k === 'string').sort();
      });
    },
    delete(id) {
      return serial(id, () =>
        guard('delete a conversation', async () => {
          const ct = (await openCatalog()).transaction([IDS], 'readwrite');
          await idb.del(ct.objectStore(IDS), id);
          await done(ct);
          const db = dbs.get(id);
          dbs.delete(id);
          counts.delete(id);
          if (db !== undefined) (await db).close();
          await clearDocument(prefix + id);
        })
      );
    },
    async close() {
      const all = [...dbs.values(), ...(catalog !== undefined ? [catalog] : [])];
      dbs.clear();
      catalog = undefined;
      for (const db of all) (await db.catch(() => undefined))?.close();
    }
  };
}
