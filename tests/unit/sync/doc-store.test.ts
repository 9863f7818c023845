import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IndexeddbPersistence } from 'y-indexeddb';
import * as Y from 'yjs';
import { createIdbDocStore } from '../../../src/lib/storage/doc-store-idb.js';
import { createMemoryDocStore } from '../../../src/lib/storage/doc-store.js';
import { runDocStoreContract } from '../../fixtures/doc-store-contract.js';

runDocStoreContract('memory', () => createMemoryDocStore());

let n = 0;
// A fresh set of databases per test: fake-indexeddb is one global IndexedDB per process.
runDocStoreContract('IndexedDB (fake-indexeddb)', () => {
  n++;
  return createIdbDocStore({ prefix: `t${n}-doc:`, catalog: `t${n}-docs` });
});

describe('IndexedDB DocStore', () => {
  it('a second store on the same databases sees the data; y-indexeddb reads the format', async () => {
    const names = { prefix: 'reopen-doc:', catalog: 'reopen-docs' };
    const first = createIdbDocStore(names);
    const doc = new Y.Doc();
    doc.getText('t').insert(0, 'persisted');
    await first.append('c', Y.encodeStateAsUpdate(doc));
    await first.close();
    const second = createIdbDocStore(names);
    expect(await second.list()).toEqual(['c']);
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, (await second.load('c')) as Uint8Array);
    expect(loaded.getText('t').toString()).toBe('persisted');
    await second.close();
    const viaYIndexeddb = new Y.Doc();
    const persistence = new IndexeddbPersistence('reopen-doc:c', viaYIndexeddb);
    await persistence.whenSynced;
    expect(viaYIndexeddb.getText('t').toString()).toBe('persisted');
    await persistence.destroy();
  });
});
