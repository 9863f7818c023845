/**
 * Clock bombs (issue 8): a member's message dated 2^48 - 1 (counter at its maximum) must not
 * drag the other members' HLC along: their sends keep working and their own messages keep
 * their order.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { MAX_CLOCK_SKEW_MS } from '../../../src/lib/sync/constants.js';
import { MAX_COUNTER, MAX_WALL } from '../../../src/lib/sync/message-format.js';
import { exchange, memoryConversation, segmentOf } from '../../../src/lib/sync/testing.js';

describe('HLC against messages from the far future', () => {
  it('a message at wall 2^48 - 1 leaves sends working and ordered on every member', () => {
    let now = 1_700_000_000_000;
    const a = memoryConversation({ self: 'alice', now: () => now });
    const m = memoryConversation({ self: 'mallory', now: () => now });
    a.init({ kind: 'group', name: 'g', members: ['mallory'] });
    exchange(a, m);
    a.send('before', { id: 'before' });
    exchange(a, m);
    // Mallory writes the bomb straight into the doc.
    const bomb = new Y.Map<unknown>();
    bomb.set('h', { a: 'mallory', c: MAX_WALL - 1, w: MAX_WALL - 1, n: MAX_COUNTER });
    bomb.set('text', 'from the year 10889');
    segmentOf(m).getMap('messages').set('bomb', bomb);
    exchange(a, m);
    expect(a.message('bomb')).toBeDefined();
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      now += 1_000;
      sent.push(a.send(`after ${i}`).id);
    }
    exchange(a, m);
    expect(a.clock().wall).toBeLessThanOrEqual(now);
    // Own messages in the order they were sent, after the earlier one; nothing left unlisted.
    const order = a.messages().map((x) => x.id);
    expect(order.filter((id) => id !== 'bomb')).toEqual(['before', ...sent]);
    expect(m.messages().map((x) => x.id)).toEqual(order);
  });

  it('a peer ahead within the tolerance still moves the HLC (ordering across skew)', () => {
    let now = 1_700_000_000_000;
    const a = memoryConversation({ self: 'alice', now: () => now });
    const b = memoryConversation({ self: 'bob', now: () => now + MAX_CLOCK_SKEW_MS - 1 });
    a.init({ kind: '1:1', members: ['bob'] });
    exchange(a, b);
    b.send('ahead', { id: 'q' });
    exchange(a, b);
    now += 1;
    a.send('answer', { id: 'ans' });
    expect(a.messages().map((x) => x.id)).toEqual(['q', 'ans']);
  });
});
