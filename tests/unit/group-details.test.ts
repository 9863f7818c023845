import { describe, expect, it } from 'vitest';
import type { Chat } from '../../src/lib/app/chat-types.js';
import { InvalidGroupNameError, NotAContactError } from '../../src/lib/app/groups.js';
import type { Contact } from '../../src/lib/contacts/contacts.js';
import {
  contactLabels,
  GroupDetailsStore,
  peerSuffix
} from '../../src/lib/stores/group-details.svelte.js';
import { PresenceStore } from '../../src/lib/stores/presence.svelte.js';

const SELF = 'self-peer-000000';
const GROUP = 'group-1';

interface FakeContact {
  peerId: string;
  name: string;
  nickname?: string;
  blocked?: boolean;
}

/** Just what GroupDetailsStore and PresenceStore read from Chat. */
function fakeChat(contacts: FakeContact[], members: string[], name = 'Climbing') {
  const state = { contacts, members, name, renames: 0, added: [] as string[] };
  const chat = {
    self: SELF,
    contacts: {
      list: () => state.contacts.map((c) => ({ ...c }) as unknown as Contact),
      displayName: (peer: string) => {
        const c = state.contacts.find((x) => x.peerId === peer);
        return c === undefined ? undefined : (c.nickname ?? c.name);
      }
    },
    info: (id: string) =>
      id !== GROUP
        ? undefined
        : { id, kind: 'group', name: state.name, groupName: state.name, members: state.members },
    renameGroup: (_id: string, next: string) => {
      const clean = next.trim();
      if (clean === '') return Promise.reject(new InvalidGroupNameError('Give the group a name.'));
      if (clean !== state.name) {
        state.name = clean;
        state.renames++;
      }
      return Promise.resolve();
    },
    addGroupMembers: (_id: string, peers: string[]) => {
      for (const p of peers) {
        if (state.contacts.find((c) => c.peerId === p && c.blocked !== true) === undefined) {
          return Promise.reject(
            new NotAContactError('Only your contacts can be added to a group.')
          );
        }
      }
      state.added.push(...peers);
      state.members = [...state.members, ...peers];
      return Promise.resolve();
    },
    presence: () => 'online',
    onChange: () => () => {}
  };
  return { chat: chat as unknown as Chat, state };
}

describe('contactLabels', () => {
  it('keeps a unique name as is and tells shared names apart by peer ID', () => {
    const labels = contactLabels([
      { peer: 'peerAAAAAAa1b2c3', name: 'Sam' },
      { peer: 'peerBBBBBBd4e5f6', name: 'sam' },
      { peer: 'peerCCCCCCxxxxxx', name: 'Ben' }
    ]);
    expect(labels.get('peerAAAAAAa1b2c3')).toBe('Sam (…a1b2c3)');
    expect(labels.get('peerBBBBBBd4e5f6')).toBe('sam (…d4e5f6)');
    expect(labels.get('peerCCCCCCxxxxxx')).toBe('Ben');
    expect(peerSuffix('peerAAAAAAa1b2c3')).toBe('…a1b2c3');
  });
});

describe('GroupDetailsStore', () => {
  it('labels candidates, and drops a ticked contact once it is blocked or removed', async () => {
    const { chat, state } = fakeChat(
      [
        { peerId: 'ben-peer-000001', name: 'Ben' },
        { peerId: 'sam-peer-a1b2c3', name: 'Sam' },
        { peerId: 'sam-peer-d4e5f6', name: 'Sam' },
        { peerId: 'cleo-peer-00003', name: 'Cleo' }
      ],
      [SELF, 'ben-peer-000001']
    );
    const group = new GroupDetailsStore(chat, GROUP);
    group.toggle();
    expect(group.candidates.map((c) => c.label)).toEqual([
      'Cleo',
      'Sam (…a1b2c3)',
      'Sam (…d4e5f6)'
    ]);
    group.choose('cleo-peer-00003', true);
    group.choose('sam-peer-a1b2c3', true);

    state.contacts = state.contacts.map((c) =>
      c.peerId === 'cleo-peer-00003' ? { ...c, blocked: true } : c
    );
    group.refresh();
    expect(group.selected).toEqual(['sam-peer-a1b2c3']);

    state.contacts = state.contacts.filter((c) => c.peerId !== 'sam-peer-d4e5f6');
    group.choose('sam-peer-d4e5f6', true);
    group.refresh();
    expect(group.selected).toEqual(['sam-peer-a1b2c3']);
    // With the other Sam gone, the name is unique again.
    expect(group.candidates.map((c) => c.label)).toEqual(['Sam']);

    expect(await group.addMembers()).toBe(true);
    expect(state.added).toEqual(['sam-peer-a1b2c3']);
    expect(group.error).toBeUndefined();
  });

  it('says the name is unchanged instead of "Group renamed." when it is the same', async () => {
    const { chat, state } = fakeChat([], [SELF]);
    const group = new GroupDetailsStore(chat, GROUP);
    group.toggle();
    group.nameDraft = '  Climbing  ';
    expect(await group.rename()).toBe(true);
    expect(group.notice).toBe('The name is unchanged.');
    expect(state.renames).toBe(0);

    group.nameDraft = 'Bouldering';
    expect(await group.rename()).toBe(true);
    expect(group.notice).toBe('Group renamed.');
    expect(state.renames).toBe(1);
  });
});

describe('PresenceStore', () => {
  it('knows presence of this device and contacts only', () => {
    const { chat } = fakeChat([{ peerId: 'ben-peer-000001', name: 'Ben' }], []);
    const presence = new PresenceStore(chat);
    expect(presence.of(SELF)).toBe('online');
    expect(presence.of('ben-peer-000001')).toBe('online');
    expect(presence.text('ben-peer-000001')).toBe('Online');
    expect(presence.of('stranger-peer-9')).toBeUndefined();
    expect(presence.text('stranger-peer-9')).toBe('');
  });
});
