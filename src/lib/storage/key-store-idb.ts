import { createStore, get, set, type UseStore } from 'idb-keyval';
import type { KeyStore } from './key-store.js';
import { StorageUnavailableError } from './errors.js';

export interface IdbKeyStoreInit {
  /** IndexedDB database name. */
  dbName?: string;
  /** Object store inside that database. */
  storeName?: string;
  /** Key under which the device key is kept. */
  key?: string;
}

export const DEFAULT_IDB_KEY_STORE = {
  dbName: 'p2p4e-identity',
  storeName: 'keys',
  key: 'device-key'
} as const;

/**
 * KeyStore in IndexedDB (through idb-keyval). Opening the database is deferred to the first
 * load()/save(), so creating one does no I/O.
 */
export function createIdbKeyStore(init: IdbKeyStoreInit = {}): KeyStore {
  const dbName = init.dbName ?? DEFAULT_IDB_KEY_STORE.dbName;
  const storeName = init.storeName ?? DEFAULT_IDB_KEY_STORE.storeName;
  const entry = init.key ?? DEFAULT_IDB_KEY_STORE.key;
  let store: UseStore | undefined;

  const useStore = (): UseStore => {
    if (store !== undefined) return store;
    if (typeof indexedDB === 'undefined') {
      throw new StorageUnavailableError('IndexedDB is not available in this browser');
    }
    store = createStore(dbName, storeName);
    return store;
  };

  return {
    async load() {
      let value: unknown;
      try {
        value = await get(entry, useStore());
      } catch (err) {
        throw new StorageUnavailableError('Could not read the device key from IndexedDB', {
          cause: err
        });
      }
      if (value === undefined) return undefined;
      if (value instanceof Uint8Array) return new Uint8Array(value);
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      throw new StorageUnavailableError('The stored device key has an unexpected format');
    },
    async save(key: Uint8Array) {
      try {
        await set(entry, key.slice(), useStore());
      } catch (err) {
        throw new StorageUnavailableError('Could not save the device key to IndexedDB', {
          cause: err
        });
      }
    }
  };
}
