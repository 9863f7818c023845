/**
 * Storage: small interfaces over the browser's persistent storage, each with an in-memory twin
 * for tests.
 *
 * ```ts
 * import { createIdbKeyStore, createLocalSettingsStore } from '$lib/storage';
 * const keyStore = createIdbKeyStore(); // no I/O until load()/save()
 * const key = await keyStore.load(); // undefined on first run
 * const settings = await createLocalSettingsStore().load(); // { relays: [], iceServers: [] }
 * const docs = createIdbDocStore(); // conversations as one doc each (before segments): migrated
 * const history = createIdbHistoryStore(); // head + segment updates and the message index
 * const newest = await history.window('conv-1', { limit: 40 }); // without loading every segment
 * ```
 */
export type { KeyStore } from './key-store.js';
export { createMemoryKeyStore } from './key-store.js';
export { createIdbKeyStore, DEFAULT_IDB_KEY_STORE, type IdbKeyStoreInit } from './key-store-idb.js';
export type { Settings, SettingsStore, LocalSettingsStoreInit } from './settings.js';
export {
  createLocalSettingsStore,
  createMemorySettingsStore,
  parseSettings,
  EMPTY_SETTINGS,
  DEFAULT_SETTINGS_KEY
} from './settings.js';
export type { RecordStore, IdbRecordStoreInit } from './record-store.js';
export { createMemoryRecordStore, createIdbRecordStore } from './record-store.js';
export type { DocStore } from './doc-store.js';
export { createMemoryDocStore, DOC_STORE_COMPACT_AFTER } from './doc-store.js';
export { createIdbDocStore, DEFAULT_IDB_DOC_STORE, type IdbDocStoreInit } from './doc-store-idb.js';
export type {
  HistoryStore,
  HistoryEntry,
  HistorySnapshot,
  SegmentWrite,
  MemoryHistoryBacking
} from './history-store.js';
export {
  createMemoryHistoryStore,
  createMemoryHistoryBacking,
  HISTORY_COMPACT_AFTER
} from './history-store.js';
export {
  createIdbHistoryStore,
  DEFAULT_IDB_HISTORY_STORE,
  type IdbHistoryStoreInit
} from './history-store-idb.js';
export { StorageUnavailableError, StorageInputError } from './errors.js';
