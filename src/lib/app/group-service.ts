/**
 * Group management for the Chat façade: create, rename, add members, and join the groups other
 * devices announce to this one.
 *
 * A group is announced to each member through the 1:1 conversation with them (stored, so it
 * reaches them later too). The group's own doc is the truth (name, members, who left): an
 * announcement is only asked for from the announced members, who may sync the group with us
 * until it arrives. (Writing the announced name and members into an empty doc would race with
 * renames and departures made since the announcement.)
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { Contacts } from '../contacts/index.js';
import type { Conversation } from '../sync/index.js';
import {
  cleanGroupName,
  createMemberWatch,
  NotAContactError,
  UnknownGroupError
} from './groups.js';

/** Groups announced to this device and not arrived yet: per contact, and in all. */
const MAX_PENDING_JOINS_PER_CONTACT = 16;
const MAX_PENDING_JOINS = 64;
/** Members an announcement may list. */
const MAX_ANNOUNCED_MEMBERS = 256;
const GROUP_ID = /^g-[0-9a-f-]{36}$/;

function isPeerId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 128) return false;
  try {
    peerIdFromString(value);
    return true;
  } catch {
    return false;
  }
}

export interface GroupServiceDeps {
  self: () => string;
  contacts: Contacts;
  /** Opens (loads or creates) a conversation. */
  open: (id: string) => Promise<Conversation>;
  lookup: (id: string) => Conversation | undefined;
  /** Opens the 1:1 conversation with `peer`; returns its id. */
  openDirect: (peer: string) => Promise<string>;
  /** Runs the sync handshake with `peer` again (asks for every conversation it may sync). */
  resync: (peer: string) => void;
  /** The list of conversations changed. */
  listChanged: () => void;
}

export interface GroupService {
  create(name: string, members: string[]): Promise<string>;
  rename(id: string, name: string): Promise<void>;
  addMembers(id: string, peers: string[]): Promise<void>;
  leave(id: string): void;
  /** A group announced to us whose doc has not arrived: may `peer` sync it with us? */
  mayJoinFrom(id: string, peer: string): boolean;
  /** A conversation changed: joins announced groups, notices new members. */
  changed(id: string, conv: Conversation): void;
}

export function createGroupService(deps: GroupServiceDeps): GroupService {
  /** Groups announced to this device whose doc has not arrived yet: id -> who may send it. */
  const joining = new Map<string, Set<string>>();
  /** Who announced each of those (caps what one contact can make this device wait for). */
  const joiningBy = new Map<string, string>();
  const memberWatch = createMemberWatch();

  const requireContacts = (peers: string[]): void => {
    for (const peer of peers) {
      const contact = deps.contacts.get(peer);
      if (contact === undefined || contact.blocked) {
        throw new NotAContactError('Only your contacts can be added to a group.');
      }
    }
  };

  const requireGroup = (id: string): Conversation => {
    const conv = deps.lookup(id);
    if (conv?.meta()?.kind !== 'group' || !conv.isMember(deps.self())) {
      throw new UnknownGroupError('This group is not available on this device.');
    }
    return conv;
  };

  /** Updates the group's announcement in the 1:1 conversation with every member who is a contact. */
  const announce = async (id: string, conv: Conversation): Promise<void> => {
    const name = conv.meta()?.name ?? '';
    const members = conv.members();
    for (const peer of members) {
      if (peer === deps.self() || deps.contacts.get(peer) === undefined) continue;
      deps.lookup(await deps.openDirect(peer))?.announceGroup(id, { name, members });
    }
  };

  /** Joins the groups announced in a 1:1 conversation (see the module comment). */
  const joinAnnounced = (direct: Conversation): void => {
    const self = deps.self();
    const announcer = direct.members().find((m) => m !== self);
    if (announcer === undefined) return;
    const ask = new Set<string>();
    for (const [groupId, value] of direct.announcements()) {
      if (deps.lookup(groupId)?.meta() !== undefined) continue;
      if (!GROUP_ID.test(groupId)) continue;
      const info = value as { name?: unknown; members?: unknown } | undefined;
      if (typeof info?.name !== 'string' || !Array.isArray(info.members)) continue;
      // Untrusted (the contact wrote it): bounded, well-formed, and naming both of us.
      if (info.members.length > MAX_ANNOUNCED_MEMBERS) continue;
      const members = info.members.filter(isPeerId);
      if (!members.includes(self) || !members.includes(announcer)) continue;
      let from = joining.get(groupId);
      if (from === undefined) {
        const byAnnouncer = [...joiningBy.values()].filter((a) => a === announcer).length;
        if (byAnnouncer >= MAX_PENDING_JOINS_PER_CONTACT) continue;
        if (joining.size >= MAX_PENDING_JOINS) continue;
        from = new Set<string>();
        joining.set(groupId, from);
        joiningBy.set(groupId, announcer);
      }
      const fresh = members.filter((m) => m !== self && !from.has(m));
      if (fresh.length === 0) continue;
      for (const peer of fresh) {
        from.add(peer);
        ask.add(peer);
      }
      void deps.open(groupId).catch(() => undefined);
    }
    // Once per peer (a resync asks for every conversation it may sync), after the opens.
    if (ask.size > 0) {
      void Promise.resolve().then(() => {
        for (const peer of ask) deps.resync(peer);
      });
    }
  };

  return {
    async create(name, members) {
      name = cleanGroupName(name);
      const self = deps.self();
      members = [...new Set(members)].filter((p) => p !== self);
      requireContacts(members);
      const id = `g-${crypto.randomUUID()}`;
      const conv = await deps.open(id);
      conv.init({ kind: 'group', name, members });
      for (const peer of members) deps.resync(peer);
      await announce(id, conv);
      deps.listChanged();
      return id;
    },
    async rename(id, name) {
      const conv = requireGroup(id);
      const clean = cleanGroupName(name);
      if (conv.meta()?.name === clean) return;
      conv.rename(clean);
      await announce(id, conv);
      deps.listChanged();
    },
    async addMembers(id, peers) {
      const conv = requireGroup(id);
      const self = deps.self();
      const added = [...new Set(peers)].filter((p) => p !== self && !conv.isMember(p));
      requireContacts(added);
      if (added.length === 0) return;
      conv.addMembers(added);
      memberWatch.added(id, conv.members());
      for (const peer of added) deps.resync(peer);
      await announce(id, conv);
      deps.listChanged();
    },
    leave(id) {
      requireGroup(id).leave();
      deps.listChanged();
    },
    mayJoinFrom(id, peer) {
      return joining.get(id)?.has(peer) ?? false;
    },
    changed(id, conv) {
      const meta = conv.meta();
      if (meta !== undefined && joining.delete(id)) {
        joiningBy.delete(id);
        deps.listChanged();
      }
      if (meta?.kind === '1:1') joinAnnounced(conv);
      if (meta?.kind === 'group') {
        // Members added by someone else: ask them for the group (they may be connected already).
        for (const peer of memberWatch.added(id, conv.members())) {
          if (peer !== deps.self()) deps.resync(peer);
        }
      }
    }
  };
}
