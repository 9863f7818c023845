/**
 * The contact book: devices this one knows, kept in a RecordStore (IndexedDB in the app, a Map
 * in tests) and mirrored in memory so `isBlocked()` is synchronous for protocol handlers.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { RecordStore } from '../storage/record-store.js';
import { ContactNotFoundError, NotStartedError } from './errors.js';
import { Listeners } from './listeners.js';
import { validateAvatar, validateDisplayName, type Avatar } from './profile.js';

/** How a contact was added. */
export type ContactSource = 'invite' | 'pair' | 'manual';

export interface Contact {
  /** Canonical peer ID string of the contact's device. */
  peerId: string;
  /** The name the contact gave itself (validated). */
  name: string;
  /** A local name chosen by the user with rename(); shown instead of `name` when set. */
  nickname?: string;
  avatar?: Avatar;
  source: ContactSource;
  /** True once both people compared the safety number (pairing) or the invite proved it. */
  verified: boolean;
  /** Blocked peers are refused by every protocol. */
  blocked: boolean;
  /** Relay multiaddrs where the contact was reachable (from its invite), newest first. */
  relays: string[];
  /** ms since the epoch. */
  addedAt: number;
  updatedAt: number;
}

/** What add() takes. Profile fields are validated; unknown peers become new contacts. */
export interface NewContact {
  peerId: string;
  name: string;
  avatar?: Avatar;
  source: ContactSource;
  verified?: boolean;
  relays?: string[];
}

/** One change to the book. `contact` is the new state (absent when removed). */
export interface ContactChange {
  peerId: string;
  kind: 'added' | 'updated' | 'removed';
  contact?: Contact;
}

export interface Contacts {
  /** Calls `listener` after every change (add, update, rename, block, remove). */
  onChange(listener: (change: ContactChange) => void): () => void;
  /** Loads the stored contacts. Other methods throw NotStartedError before it resolves. */
  start(): Promise<void>;
  stop(): void;
  /** Every contact (blocked ones included), sorted by display name. */
  list(): Contact[];
  get(peerId: string): Contact | undefined;
  /**
   * Adds a contact, or refreshes an existing one's name, avatar and relays (keeping the user's
   * nickname, block and verification). `contact` is the profile the peer just sent: without an
   * avatar, a stored one is removed. Throws InvalidProfileError for a bad name or avatar.
   */
  add(contact: NewContact): Promise<Contact>;
  /** Sets (or with an empty string, clears) the local nickname. */
  rename(peerId: string, nickname: string): Promise<Contact>;
  setVerified(peerId: string, verified: boolean): Promise<Contact>;
  /** Blocks a peer; a peer that is not a contact yet gets a blocked record. */
  block(peerId: string): Promise<Contact>;
  unblock(peerId: string): Promise<Contact>;
  remove(peerId: string): Promise<void>;
  /** Synchronous, for protocol handlers and access checks. False for unknown peers. */
  isBlocked(peerId: string): boolean;
  /** The name to show: nickname, else the contact's own name. */
  displayName(peerId: string): string | undefined;
}

export interface ContactsDeps {
  store: RecordStore<Contact>;
  now?: () => number;
}

/** Creates the contact book over `deps.store`. No I/O until start(). */
export function createContacts(deps: ContactsDeps): Contacts {
  return new ContactBook(deps);
}

function canonicalPeerId(peerId: string): string {
  try {
    return peerIdFromString(peerId).toString();
  } catch {
    throw new ContactNotFoundError('Not a valid peer ID');
  }
}

class ContactBook implements Contacts {
  readonly #listeners = new Listeners<ContactChange>();
  readonly #store: RecordStore<Contact>;
  readonly #now: () => number;
  #cache: Map<string, Contact> | undefined;
  /** Writes run one at a time so the cache and the store change in the same order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: ContactsDeps) {
    this.#store = deps.store;
    this.#now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    if (this.#cache !== undefined) return;
    const cache = new Map<string, Contact>();
    for (const [key, value] of await this.#store.entries()) {
      const contact = sanitize(value);
      if (contact !== undefined && contact.peerId === key) cache.set(key, contact);
    }
    this.#cache = cache;
  }

  onChange(listener: (change: ContactChange) => void): () => void {
    return this.#listeners.on(listener);
  }

  stop(): void {
    // Nothing to release: the cache stays readable, writes still go to the store.
  }

  #map(): Map<string, Contact> {
    if (this.#cache === undefined) throw new NotStartedError('Contacts are not loaded yet');
    return this.#cache;
  }

  list(): Contact[] {
    return [...this.#map().values()].map(copy).sort((a, b) =>
      (a.nickname ?? a.name).localeCompare(b.nickname ?? b.name, undefined, {
        sensitivity: 'base'
      })
    );
  }

  get(peerId: string): Contact | undefined {
    const c = this.#map().get(peerId);
    return c === undefined ? undefined : copy(c);
  }

  isBlocked(peerId: string): boolean {
    return this.#cache?.get(peerId)?.blocked === true;
  }

  displayName(peerId: string): string | undefined {
    const c = this.#cache?.get(peerId);
    return c === undefined ? undefined : (c.nickname ?? c.name);
  }

  async add(input: NewContact): Promise<Contact> {
    return this.#write(canonicalPeerId(input.peerId), (existing, peerId) => {
      const name = validateDisplayName(input.name);
      const avatar = input.avatar === undefined ? undefined : validateAvatar(input.avatar);
      const relays = (input.relays ?? []).filter((r) => typeof r === 'string').slice(0, 8);
      const now = this.#now();
      if (existing === undefined) {
        return {
          peerId,
          name,
          ...(avatar !== undefined ? { avatar } : {}),
          source: input.source,
          verified: input.verified ?? false,
          blocked: false,
          relays,
          addedAt: now,
          updatedAt: now
        };
      }
      const next: Contact = {
        ...existing,
        name,
        verified: existing.verified || (input.verified ?? false),
        relays: [...new Set([...relays, ...existing.relays])].slice(0, 8),
        updatedAt: now
      };
      // The profile just received is the contact's whole profile: no avatar means they removed it.
      if (avatar !== undefined) next.avatar = avatar;
      else delete next.avatar;
      return next;
    });
  }

  async rename(peerId: string, nickname: string): Promise<Contact> {
    return this.#update(peerId, (c) => {
      const trimmed = typeof nickname === 'string' ? nickname.trim() : '';
      const next = { ...c };
      if (trimmed === '') delete next.nickname;
      else next.nickname = validateDisplayName(trimmed);
      return next;
    });
  }

  async setVerified(peerId: string, verified: boolean): Promise<Contact> {
    return this.#update(peerId, (c) => ({ ...c, verified }));
  }

  async block(peerId: string): Promise<Contact> {
    return this.#write(canonicalPeerId(peerId), (existing, id) => {
      const now = this.#now();
      if (existing !== undefined) return { ...existing, blocked: true, updatedAt: now };
      return {
        peerId: id,
        name: `${id.slice(0, 6)}…${id.slice(-4)}`,
        source: 'manual',
        verified: false,
        blocked: true,
        relays: [],
        addedAt: now,
        updatedAt: now
      };
    });
  }

  async unblock(peerId: string): Promise<Contact> {
    return this.#update(peerId, (c) => ({ ...c, blocked: false }));
  }

  async remove(peerId: string): Promise<void> {
    const id = canonicalPeerId(peerId);
    await this.#enqueue(async () => {
      const map = this.#map();
      if (!map.has(id)) return;
      await this.#store.delete(id);
      map.delete(id);
      this.#listeners.emit({ peerId: id, kind: 'removed' });
    });
  }

  async #update(peerId: string, change: (c: Contact) => Contact): Promise<Contact> {
    return this.#write(canonicalPeerId(peerId), (existing) => {
      if (existing === undefined) throw new ContactNotFoundError('No such contact');
      return { ...change(existing), updatedAt: this.#now() };
    });
  }

  #write(
    peerId: string,
    change: (existing: Contact | undefined, peerId: string) => Contact
  ): Promise<Contact> {
    return this.#enqueue(async () => {
      const map = this.#map();
      const existing = map.get(peerId);
      const next = change(existing === undefined ? undefined : copy(existing), peerId);
      await this.#store.put(peerId, next);
      map.set(peerId, next);
      this.#listeners.emit({
        peerId,
        kind: existing === undefined ? 'added' : 'updated',
        contact: copy(next)
      });
      return copy(next);
    });
  }

  #enqueue<R>(run: () => Promise<R>): Promise<R> {
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

function copy(c: Contact): Contact {
  return structuredClone(c);
}

/** A stored record checked field by field; undefined if it cannot be a contact. */
function sanitize(value: unknown): Contact | undefined {
  const v = value as Partial<Contact> | null;
  if (typeof v !== 'object' || v === null || typeof v.peerId !== 'string') return undefined;
  if (typeof v.name !== 'string') return undefined;
  const source: ContactSource =
    v.source === 'invite' || v.source === 'pair' || v.source === 'manual' ? v.source : 'manual';
  const contact: Contact = {
    peerId: v.peerId,
    name: v.name,
    source,
    verified: v.verified === true,
    blocked: v.blocked === true,
    relays: Array.isArray(v.relays) ? v.relays.filter((r) => typeof r === 'string') : [],
    addedAt: typeof v.addedAt === 'number' ? v.addedAt : 0,
    updatedAt: typeof v.updatedAt === 'number' ? v.updatedAt : 0
  };
  if (typeof v.nickname === 'string') contact.nickname = v.nickname;
  if (v.avatar !== undefined) {
    try {
      contact.avatar = validateAvatar(v.avatar);
    } catch {
      // Drop an unreadable avatar, keep the contact.
    }
  }
  return contact;
}
