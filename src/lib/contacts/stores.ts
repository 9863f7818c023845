/**
 * Where contacts, outstanding invites and the profile live in the browser: one IndexedDB
 * database each (idb-keyval keeps one object store per database), opened on first use.
 */
import { createIdbRecordStore, createMemoryRecordStore } from '../storage/record-store.js';
import type { RecordStore } from '../storage/record-store.js';
import type { Contact } from './contacts.js';
import type { OutstandingInvite } from './outstanding.js';
import type { Profile } from './profile.js';

export interface ContactsStorage {
  contacts: RecordStore<Contact>;
  invites: RecordStore<OutstandingInvite>;
  profile: RecordStore<Profile>;
}

/** Database names used by createIdbContactsStorage (prefix 'p2p4e'). */
export function contactsDbNames(prefix = 'p2p4e'): Record<keyof ContactsStorage, string> {
  return {
    contacts: `${prefix}-contacts`,
    invites: `${prefix}-invites`,
    profile: `${prefix}-profile`
  };
}

/** The three stores in IndexedDB. `prefix` separates several app instances (tests, e2e). */
export function createIdbContactsStorage(prefix?: string): ContactsStorage {
  const names = contactsDbNames(prefix);
  return {
    contacts: createIdbRecordStore<Contact>({ dbName: names.contacts, storeName: 'contacts' }),
    invites: createIdbRecordStore<OutstandingInvite>({
      dbName: names.invites,
      storeName: 'invites'
    }),
    profile: createIdbRecordStore<Profile>({ dbName: names.profile, storeName: 'profile' })
  };
}

/** The three stores in memory (tests, throwaway nodes). */
export function createMemoryContactsStorage(): ContactsStorage {
  return {
    contacts: createMemoryRecordStore<Contact>(),
    invites: createMemoryRecordStore<OutstandingInvite>(),
    profile: createMemoryRecordStore<Profile>()
  };
}
