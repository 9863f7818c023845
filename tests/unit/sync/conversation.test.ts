import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { orderKey, type Conversation } from '../../../src/lib/sync/conversation.js';
import { exchange, headOf, memoryConversation, segmentOf } from '../../../src/lib/sync/testing.js';

function pair(): { a: Conversation; b: Conversation; sync: () => void } {
  const a = memoryConversation({ self: 'alice' });
  const b = memoryConversation({ self: 'bob' });
  const sync = (): void => exchange(a, b);
  a.init({ kind: 'group', name: 'g', members: ['bob'] });
  sync();
  return { a, b, sync };
}

describe('conversation model', () => {
  it('init, members, meta', () => {
    const { a, b } = pair();
    expect(b.meta()).toMatchObject({ kind: 'group', name: 'g' });
    expect(b.members()).toEqual(['alice', 'bob']);
    a.init({ kind: '1:1', members: [] }); // no-op
    expect(a.meta()?.kind).toBe('group');
  });

  it('send, reply, edit, delete, react and their rules', () => {
    const { a, b, sync } = pair();
    const m1 = a.send('hello');
    sync();
    const r = b.reply(m1.id, 'hi back');
    sync();
    expect(a.messages().map((m) => m.text)).toEqual(['hello', 'hi back']);
    expect(a.message(r.id)?.replyTo).toBe(m1.id);
    expect(() => b.edit(m1.id, 'x')).toThrow(expect.objectContaining({ name: 'NotAuthorError' }));
    expect(() => b.remove(m1.id)).toThrow(expect.objectContaining({ name: 'NotAuthorError' }));
    a.edit(m1.id, 'hello!');
    expect(b.react(m1.id, '👍')).toBe(true);
    expect(a.react(m1.id, '👍')).toBe(true);
    sync();
    expect(b.message(m1.id)).toMatchObject({ text: 'hello!', edited: true });
    expect(b.message(m1.id)?.reactions).toEqual({ '👍': ['alice', 'bob'] });
    expect(b.react(m1.id, '👍')).toBe(false);
    sync();
    expect(a.message(m1.id)?.reactions).toEqual({ '👍': ['alice'] });
    a.remove(m1.id);
    sync();
    expect(b.message(m1.id)).toMatchObject({ text: '', deleted: true, reactions: {} });
    expect(() => a.send('')).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
    expect(() => a.send('x'.repeat(16_001))).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' })
    );
    expect(() => a.reply('nope', 'x')).toThrow(
      expect.objectContaining({ name: 'UnknownMessageError' })
    );
  });

  it('receipts are high-water marks; unread counts', () => {
    const { a, b, sync } = pair();
    const ids = [a.send('1').id, a.send('2').id, a.send('3').id];
    sync();
    expect(b.unreadCount('bob')).toBe(3);
    expect(a.unreadCount('alice')).toBe(0);
    b.markDelivered();
    sync();
    expect(a.receiptStatus(ids[2] as string)).toBe('delivered');
    b.markRead(ids[1]);
    sync();
    expect(a.receiptStatus(ids[1] as string)).toBe('read');
    expect(a.receiptStatus(ids[2] as string)).toBe('delivered');
    expect(b.unreadCount('bob')).toBe(1);
    b.markRead(ids[0]); // never moves back
    expect(b.unreadCount('bob')).toBe(1);
    b.markRead();
    expect(b.unreadCount('bob')).toBe(0);
  });

  it('group: add members, rename, leave', () => {
    const { a, b, sync } = pair();
    a.addMembers(['carol']);
    a.rename('renamed');
    sync();
    expect(b.members()).toEqual(['alice', 'bob', 'carol']);
    expect(b.meta()?.name).toBe('renamed');
    b.leave();
    sync();
    expect(a.members()).toEqual(['alice', 'carol']);
    expect(a.isMember('bob')).toBe(false);
    expect(() => b.send('still here?')).toThrow(
      expect.objectContaining({ name: 'NotMemberError' })
    );
    // Leaving writes members[bob] = 0 (bob's own change), it deletes nothing alice wrote.
    expect(headOf(b).getMap('members').get('bob')).toBe(0);
    a.addMembers(['bob']); // asked back in
    sync();
    expect(b.members()).toEqual(['alice', 'bob', 'carol']);
    b.send('back');
    const oneToOne = memoryConversation({ self: 'x' });
    oneToOne.init({ kind: '1:1', members: ['y'] });
    expect(() => oneToOne.rename('n')).toThrow(expect.objectContaining({ name: 'NotAGroupError' }));
  });

  it('orders by HLC across clock skew and clamps future display times', () => {
    let aliceNow = 1_000_000; // alice's clock is an hour behind
    let bobNow = 1_000_000 + 3_600_000;
    const a = memoryConversation({ self: 'alice', now: () => aliceNow });
    const b = memoryConversation({ self: 'bob', now: () => bobNow });
    a.init({ kind: '1:1', members: ['bob'] });
    const sync = (): void => exchange(a, b);
    sync();
    b.send('question from the future', { id: 'q' });
    sync();
    aliceNow += 10;
    a.reply('q', 'answer', { id: 'ans' });
    sync();
    // The answer sorts after the question on both sides though alice's clock is behind.
    expect(a.messages().map((m) => m.id)).toEqual(['q', 'ans']);
    expect(b.messages().map((m) => m.id)).toEqual(['q', 'ans']);
    // Alice saw bob's message before its author time: displayed at receipt, not in the future.
    expect(a.message('q')?.displayAt).toBeLessThanOrEqual(aliceNow);
    expect(b.message('q')?.displayAt).toBe(bobNow);
    bobNow += 1;
    expect(a.clock().wall).toBeGreaterThanOrEqual(1_000_000 + 3_600_000);
  });

  it('skips malformed entries written by a peer instead of crashing', () => {
    const { a, b, sync } = pair();
    a.send('good', { id: 'good' });
    sync();
    const messages = segmentOf(b).getMap('messages');
    segmentOf(b).transact(() => {
      messages.set('num', 42);
      messages.set('str', 'garbage');
      const bad = (id: string, h: unknown, text: unknown = 'x'): void => {
        const m = new Y.Map<unknown>();
        m.set('h', h);
        m.set('text', text);
        messages.set(id, m);
      };
      bad('noauthor', { c: 1, w: 1, n: 0 });
      bad('badwall', { a: 'bob', c: 1, w: -5, n: 0 });
      bad('badctr', { a: 'bob', c: 1, w: 1, n: 1.5 });
      bad('badreply', { a: 'bob', c: 1, w: 1, n: 0, r: 7 });
      bad('arrayhead', [1, 2, 3]);
      bad('stringhead', 'h');
      bad('long', { a: 'bob', c: 1, w: 1, n: 0 }, 'x'.repeat(20_000));
      bad('numtext', { a: 'bob', c: 1, w: 1, n: 0 }, 42);
      messages.set('noheader', new Y.Map());
      messages.set('bad:id', new Y.Map());
      const good = messages.get('good') as Y.Map<unknown>;
      good.set('r:no-newline', true);
      good.set('r:👍\nbob', 'yes');
      good.set('r:\nbob', true);
      good.set('r:🎉\nbad:id', true);
      good.set('r:🎉\nbob', true);
      good.set('edited', 'maybe');
      good.set('h', { ...(good.get('h') as object), extra: 'ignored' });
    });
    headOf(b).transact(() => {
      headOf(b).getMap('members').set('mallory', 'not a time');
      headOf(b).getMap('meta').set('name', 12);
      headOf(b).getMap('receipts').set('alice', 'nonsense');
    });
    sync();
    expect(a.messages().map((m) => m.id)).toEqual(['good']);
    expect(a.message('good')).toMatchObject({ edited: false, reactions: { '🎉': ['bob'] } });
    expect(a.members()).toEqual(['alice', 'bob']);
    expect(a.meta()?.name).toBe('');
    expect(a.receipts('alice')).toEqual({});
    expect(a.unreadCount('alice')).toBe(0);
    expect(a.message('num')).toBeUndefined();
    // still writable
    a.send('after', { id: 'after' });
    expect(a.messages().map((m) => m.id)).toEqual(['good', 'after']);
    headOf(b).getMap('meta').set('kind', 'weird');
    expect(b.meta()).toBeUndefined();
  });

  it('keeps a sorted index incrementally over many messages', () => {
    let t = 1_000_000;
    const c = memoryConversation({ self: 'me', now: () => t });
    c.init({ kind: '1:1', members: ['you'] });
    for (let i = 0; i < 2_000; i++) {
      t = i % 7 === 0 ? t - 3 : t + 1; // clock jumps back sometimes
      c.send(`m${i}`, { id: `id${i}` });
      if (i % 500 === 0) c.size();
    }
    const list = c.messages();
    expect(list).toHaveLength(2_000);
    expect(list.map((m) => m.text)).toEqual(Array.from({ length: 2_000 }, (_, i) => `m${i}`));
    const keys = list.map((m) => m.key);
    expect([...keys].sort()).toEqual(keys);
    expect(c.messages({ limit: 3 }).map((m) => m.id)).toEqual(['id1997', 'id1998', 'id1999']);
    expect(orderKey({ wall: 1, counter: 2 }, 'a', 'b')).toBe('00000000000100000002:a:b');
  });
});
