/**
 * What createChat relies on when a group is announced: a member opens the conversation after the
 * creator already asked it for it (and got "unavailable"), then asks the creator. Live updates
 * must then flow both ways without a reconnect.
 */
import { describe, expect, it } from 'vitest';
import type { SyncAccess } from '../../../src/lib/sync/sync.js';
import { SyncNetwork } from '../../fixtures/sync-network.js';

describe('a conversation opened late by a member', () => {
  it('goes live both ways after the member asks for it', async () => {
    const net = new SyncNetwork();
    const access = (self: string): SyncAccess => ({
      canSync: (peer, id) => net.peers.get(self)?.sync.conversation(id)?.isMember(peer) ?? false
    });
    const a = await net.peer('a', access('a'));
    const b = await net.peer('b', access('b'));
    net.connect('a', 'b');
    await net.settle();

    await a.sync.open('g');
    a.sync.conversation('g')?.init({ kind: 'group', name: 'G', members: ['b'] });
    a.sync.resync('b'); // b doesn't have it yet: answers unavailable
    a.sync.conversation('g')?.send('first');
    await net.settle();

    await b.sync.open('g');
    b.sync.conversation('g')?.init({ kind: 'group', name: 'G', members: ['a'] });
    b.sync.resync('a');
    await net.settle();
    expect(net.texts('b', 'g')).toEqual(['first']);

    b.sync.conversation('g')?.send('from b');
    a.sync.conversation('g')?.send('from a');
    await net.settle();
    expect([...net.texts('a', 'g')].sort()).toEqual(['first', 'from a', 'from b']);
    expect(net.texts('b', 'g')).toEqual(net.texts('a', 'g'));
  });
});
