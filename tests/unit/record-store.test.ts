import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  createIdbContactsStorage,
  createMemoryContactsStorage
} from '../../src/lib/contacts/stores.js';
import {
  createIdbRecordStore,
  createMemoryRecordStore,
  type RecordStore
} from '../../src/lib/storage/record-store.js';

interface Rec {
  n: number;
  bytes: Uint8Array;
}

function recordStoreContract(name: string, create: () => RecordStore<Rec>): void {
  describe(`RecordStore contract: ${name}`, () => {
    it('puts, gets, lists and deletes structured records', async () => {
      const store = create();
      expect(await store.get('a')).toBeUndefined();
      expect(await store.entries()).toEqual([]);
      await store.put('a', { n: 1, bytes: new Uint8Array([1]) });
      await store.put('b', { n: 2, bytes: new Uint8Array([2]) });
      await store.put('a', { n: 3, bytes: new Uint8Array([3]) });
      expect(await store.get('a')).toEqual({ n: 3, bytes: new Uint8Array([3]) });
      expect((await store.entries()).sort(([x], [y]) => x.localeCompare(y))).toEqual([
        ['a', { n: 3, bytes: new Uint8Array([3]) }],
        ['b', { n: 2, bytes: new Uint8Array([2]) }]
      ]);
      await store.delete('a');
      await store.delete('missing');
      expect((await store.entries()).map(([k]) => k)).toEqual(['b']);
    });

    it('stores copies', async () => {
      const store = create();
      const rec = { n: 1, bytes: new Uint8Array([1]) };
      await store.put('k', rec);
      rec.bytes[0] = 9;
      const got = (await store.get('k')) as Rec;
      got.n = 7;
      expect(await store.get('k')).toEqual({ n: 1, bytes: new Uint8Array([1]) });
    });
  });
}

recordStoreContract('memory', () => createMemoryRecordStore<Rec>());
let db = 0;
recordStoreContract('IndexedDB (fake-indexeddb)', () =>
  createIdbRecordStore<Rec>({ dbName: `p2p4e-records-test-${++db}`, storeName: 'r' })
);

describe('contacts storage', () => {
  it('keeps contacts, invites and profile in separate stores that survive a reload', async () => {
    const first = createIdbContactsStorage('p2p4e-test-reload');
    await first.profile.put('profile', { name: 'Me' });
    await first.invites.put('i', {
      id: 'i',
      secret: new Uint8Array(32),
      createdAt: 1,
      expiresAt: 2
    });
    const again = createIdbContactsStorage('p2p4e-test-reload');
    expect(await again.profile.get('profile')).toEqual({ name: 'Me' });
    expect((await again.invites.entries()).map(([k]) => k)).toEqual(['i']);
    expect(await again.contacts.entries()).toEqual([]);
    expect(await createMemoryContactsStorage().contacts.entries()).toEqual([]);
  });
});
