import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import {
  createContacts,
  type Contact,
  type ContactChange,
  type Contacts
} from '../../src/lib/contacts/contacts.js';
import {
  createIdbRecordStore,
  createMemoryRecordStore,
  type RecordStore
} from '../../src/lib/storage/record-store.js';
import { pngBytes, webpBytes } from '../fixtures/avatar-images.js';

const newPeer = async (): Promise<string> =>
  peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

/** The contract of the contact book, run over each storage backend. */
function contactsContract(name: string, createStore: () => RecordStore<Contact>): void {
  describe(`Contacts contract: ${name}`, () => {
    async function book(store = createStore()): Promise<Contacts> {
      const contacts = createContacts({ store, now: () => 1_000 });
      await contacts.start();
      return contacts;
    }

    it('starts empty and refuses use before start()', async () => {
      const contacts = createContacts({ store: createStore() });
      expect(() => contacts.list()).toThrow(expect.objectContaining({ name: 'NotStartedError' }));
      expect(contacts.isBlocked('x')).toBe(false);
      await contacts.start();
      expect(contacts.list()).toEqual([]);
    });

    it('adds, lists sorted by name, gets, and emits events', async () => {
      const contacts = await book();
      const events: ContactChange[] = [];
      contacts.onChange((c) => events.push(c));
      const [p1, p2] = [await newPeer(), await newPeer()];
      await contacts.add({ peerId: p1, name: '  zoe ', source: 'invite' });
      await contacts.add({
        peerId: p2,
        name: 'Adam',
        source: 'pair',
        avatar: { type: 'image/webp', bytes: webpBytes(128, 128) }
      });
      expect(contacts.list().map((c) => c.name)).toEqual(['Adam', 'zoe']);
      expect(contacts.get(p2)).toMatchObject({
        peerId: p2,
        source: 'pair',
        verified: false,
        blocked: false,
        addedAt: 1_000
      });
      expect(contacts.get(p2)?.avatar?.bytes).toEqual(webpBytes(128, 128));
      expect(events.map((e) => [e.kind, e.peerId])).toEqual([
        ['added', p1],
        ['added', p2]
      ]);
    });

    it('refreshes an existing contact without losing nickname, block or verification', async () => {
      const contacts = await book();
      const p = await newPeer();
      await contacts.add({ peerId: p, name: 'Ann', source: 'invite', relays: ['/r1'] });
      await contacts.rename(p, 'Annie');
      await contacts.setVerified(p, true);
      const again = await contacts.add({
        peerId: p,
        name: 'Ann B',
        source: 'pair',
        relays: ['/r2']
      });
      expect(again).toMatchObject({
        name: 'Ann B',
        nickname: 'Annie',
        verified: true,
        source: 'invite'
      });
      expect(again.relays).toEqual(['/r2', '/r1']);
      expect(contacts.displayName(p)).toBe('Annie');
      await contacts.rename(p, '  ');
      expect(contacts.get(p)?.nickname).toBeUndefined();
    });

    it("takes a fresh profile's avatar, and removes it when the profile has none", async () => {
      const store = createStore();
      const contacts = await book(store);
      const p = await newPeer();
      const first = { type: 'image/webp' as const, bytes: webpBytes(128, 128) };
      const second = { type: 'image/png' as const, bytes: pngBytes(64, 64) };
      await contacts.add({ peerId: p, name: 'Ann', source: 'invite', avatar: first });
      await contacts.add({ peerId: p, name: 'Ann', source: 'pair', avatar: second });
      expect(contacts.get(p)?.avatar).toEqual(second);
      const events: ContactChange[] = [];
      contacts.onChange((c) => events.push(c));
      const again = await contacts.add({ peerId: p, name: 'Ann', source: 'pair' });
      expect(again.avatar).toBeUndefined();
      expect(contacts.get(p)?.avatar).toBeUndefined();
      expect(events[0]?.contact?.avatar).toBeUndefined();
      // Stored that way too.
      expect((await book(store)).get(p)?.avatar).toBeUndefined();
    });

    it('refuses an avatar whose bytes are not the declared image', async () => {
      const contacts = await book();
      const p = await newPeer();
      await expect(
        contacts.add({
          peerId: p,
          name: 'Ann',
          source: 'invite',
          avatar: { type: 'image/jpeg', bytes: new Uint8Array([1, 2, 3]) }
        })
      ).rejects.toMatchObject({ name: 'InvalidProfileError', reason: 'avatar-type' });
      expect(contacts.get(p)).toBeUndefined();
    });

    it('blocks known and unknown peers, and unblocks', async () => {
      const contacts = await book();
      const [known, stranger] = [await newPeer(), await newPeer()];
      await contacts.add({ peerId: known, name: 'K', source: 'manual' });
      await contacts.block(known);
      await contacts.block(stranger);
      expect(contacts.isBlocked(known)).toBe(true);
      expect(contacts.isBlocked(stranger)).toBe(true);
      expect(contacts.get(stranger)?.blocked).toBe(true);
      await contacts.unblock(known);
      expect(contacts.isBlocked(known)).toBe(false);
    });

    it('removes, and refuses unknown or invalid peers and bad names', async () => {
      const contacts = await book();
      const p = await newPeer();
      await contacts.add({ peerId: p, name: 'R', source: 'manual' });
      await contacts.remove(p);
      expect(contacts.get(p)).toBeUndefined();
      await contacts.remove(p); // no-op
      await expect(contacts.rename(p, 'x')).rejects.toMatchObject({ name: 'ContactNotFoundError' });
      await expect(contacts.block('nope')).rejects.toMatchObject({ name: 'ContactNotFoundError' });
      await expect(contacts.add({ peerId: p, name: '', source: 'manual' })).rejects.toMatchObject({
        name: 'InvalidProfileError'
      });
      await expect(
        contacts.add({ peerId: p, name: 'a\u0000b', source: 'manual' })
      ).rejects.toMatchObject({
        name: 'InvalidProfileError'
      });
    });

    it('persists across instances and is not changed by mutating results', async () => {
      const store = createStore();
      const first = await book(store);
      const p = await newPeer();
      const added = await first.add({ peerId: p, name: 'Persisted', source: 'invite' });
      added.name = 'mutated';
      await first.block(p);
      const second = await book(store);
      expect(second.get(p)).toMatchObject({ name: 'Persisted', blocked: true });
      expect(second.isBlocked(p)).toBe(true);
    });

    it('serialises concurrent writes', async () => {
      const contacts = await book();
      const peers = await Promise.all(Array.from({ length: 10 }, newPeer));
      await Promise.all(
        peers.map((p, i) => contacts.add({ peerId: p, name: `n${i}`, source: 'manual' }))
      );
      expect(contacts.list()).toHaveLength(10);
    });
  });
}

contactsContract('memory', () => createMemoryRecordStore<Contact>());
let db = 0;
contactsContract('IndexedDB (fake-indexeddb)', () =>
  createIdbRecordStore<Contact>({ dbName: `p2p4e-contacts-test-${++db}`, storeName: 'contacts' })
);

describe('stored contacts', () => {
  it('skip unreadable records instead of failing to load', async () => {
    const p = await newPeer();
    const store = createMemoryRecordStore<Contact>([
      ['junk', 42 as unknown as Contact],
      [p, { peerId: p, name: 'ok', avatar: { type: 'image/gif' } } as unknown as Contact]
    ]);
    const contacts = createContacts({ store });
    await contacts.start();
    expect(contacts.list().map((c) => [c.name, c.avatar])).toEqual([['ok', undefined]]);
  });
});
