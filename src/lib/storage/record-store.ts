/**
 * RecordStore: a small keyed store of structured-cloneable records, for contacts, outstanding
 * invites and the profile. One IndexedDB object store per use (through idb-keyval) or a Map.
 *
 * ```ts
 * const store = createIdbRecordStore<Contact>({ dbName: 'p2p4e-contacts', storeName: 'contacts' });
 * await store.put('12D3KooW…', contact);
 * const all = await store.entries(); // [[key, value], …]
 * ```
 */
import { createStore, del, entries, get, set, type UseStore } from 'idb-keyval';
import { StorageUnavailableError } from './errors.js';

export interface RecordStore<T> {
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every record, in no particular order. */
  entries(): Promise<Array<[string, T]>>;
}

/**
 * A RecordStore in memory. Values are deep-copied in and out (structuredClone), like
 * IndexedDB does, so callers can't change what is stored by mutating objects.
 */
export function createMemoryRecordStore<T>(initial: Iterable<[string, T]> = []): RecordStore<T> {
  const map = new Map<string, T>();
  for (const [k, v] of initial) map.set(k, structuredClone(v));
  return {
    async get(key) {
      const v = map.get(key);
      return v === undefined ? undefined : structuredClone(v);
    },
    async put(key, value) {
      map.set(key, structuredClone(value));
    },
    async delete(key) {
      map.delete(key);
    },
    async entries() {
      return [...map].map(([k, v]) => [k, structuredClone(v)]);
    }
  };
}

export interface IdbRecordStoreInit {
  dbName: string;
  storeName: string;
}

/** A RecordStore in IndexedDB. The database is opened on first use, not on creation. */
export function createIdbRecordStore<T>(init: IdbRecordStoreInit): RecordStore<T> {
  let store: UseStore | undefined;
  const useStore = (): UseStore => {
    if (store !== undefined) return store;
    if (typeof indexedDB === 'undefined') {
      throw new StorageUnavailableError('IndexedDB is not available in this browser');
    }
    store = createStore(init.dbName, init.storeName);
    return store;
  };
  const wrap = async <R>(what: string, run: () => Promise<R>): Promise<R> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof StorageUnavailableError) throw err;
      throw new StorageUnavailableError(`Could not ${what} (${init.dbName}/${init.storeName})`, {
        cause: err
      });
    }
  };
  return {
    get: (key) => wrap('read from IndexedDB', () => get<T>(key, useStore())),
    put: (key, value) => wrap('write to IndexedDB', () => set(key, value, useStore())),
    delete: (key) => wrap('delete from IndexedDB', () => del(key, useStore())),
    entries: () =>
      wrap('read from IndexedDB', async () => {
        const all = await entries<IDBValidKey, T>(useStore());
        return all
          .filter((e): e is [string, T] => typeof e[0] === 'string')
          .map(([k, v]) => [k, v] as [string, T]);
      })
  };
}
