/**
 * The IndexedDB DocStore keeps its data across a close and a new store over the same databases
 * (fake-indexeddb: one IndexedDB per test file). The memory DocStore keeps nothing after close,
 * so only the persistent store runs this part of the contract.
 */
import 'fake-indexeddb/auto';
import { createIdbDocStore } from '../../src/lib/storage/doc-store-idb.js';
import { runDocStoreReopenContract } from '../fixtures/doc-store-contract.js';

let n = 0;
runDocStoreReopenContract('IndexedDB (fake-indexeddb)', () => {
  n++;
  const names = { prefix: `reopen${n}-doc:`, catalog: `reopen${n}-docs` };
  return { open: () => createIdbDocStore(names) };
});
