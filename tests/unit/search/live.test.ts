import { describe, expect, it } from 'vitest';
import {
  BUILD_CHUNK_SIZE,
  createLiveSearch,
  type Scheduler,
  type SearchSource
} from '../../../src/lib/search/index.js';
import type { Conversation } from '../../../src/lib/sync/conversation.js';
import { copyInto, memoryConversation } from '../../../src/lib/sync/testing.js';

type Listener = (change: { type: string; conversationId?: string }) => void;

/**
 * A stand-in for the Chat service over in-memory conversations. `scanMessages` hands out
 * batches of `batchSize` (like segments), each after a turn of the event loop (a segment load),
 * from the history as it was when the scan began; `scanned` counts the batches visited.
 */
function fakeChat(self = 'me', batchSize = 1_000) {
  const convs = new Map<string, Conversation>();
  const listeners = new Set<Listener>();
  const scanned = { batches: 0 };
  const source: SearchSource = {
    conversationIds: () =>
      [...convs.entries()]
        .filter(([, c]) => c.meta() !== undefined && c.isMember(self))
        .map(([id]) => id),
    scanMessages: async (id, visit, options = {}) => {
      const all = convs.get(id)?.messages() ?? [];
      for (let at = 0; at < all.length; at += batchSize) {
        await new Promise<void>((r) => setImmediate(r));
        if (options.signal?.aborted === true) return;
        scanned.batches++;
        await visit(all.slice(at, at + batchSize));
      }
    },
    message: (id, messageId) => convs.get(id)?.message(messageId),
    onMessagesChange: (id, listener) => convs.get(id)?.onMessagesChange(listener) ?? (() => {}),
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    }
  };
  const emit = (change: { type: string; conversationId?: string }): void => {
    for (const l of listeners) l(change);
  };
  const add = (id: string, kind: '1:1' | 'group' = 'group'): Conversation => {
    const conv = memoryConversation({ self, id });
    conv.init({ kind, name: id, members: ['other'] });
    conv.onChange(() => emit({ type: 'conversation', conversationId: id }));
    convs.set(id, conv);
    return conv;
  };
  return { source, add, emit, convs, scanned };
}

function queue(): { schedule: Scheduler; drain: () => number; turns: () => number } {
  const tasks: (() => void)[] = [];
  let turns = 0;
  return {
    schedule: (t) => void tasks.push(t),
    drain: () => {
      let n = 0;
      for (let t = tasks.shift(); t !== undefined; t = tasks.shift()) {
        t();
        n++;
      }
      turns += n;
      return n;
    },
    turns: () => turns
  };
}

/** Lets the build's promise chain and the scheduler run until nothing is left. */
async function settle(q: { drain: () => number }): Promise<void> {
  for (let i = 0; i < 50; i++) await step(q);
}

/** One turn: the event loop (promise chains, batch loads), then the scheduled index chunks. */
async function step(q: { drain: () => number }): Promise<void> {
  await new Promise<void>((r) => setImmediate(r));
  q.drain();
}

/** Steps until `done()` holds (at most `turns` turns). */
async function until(q: { drain: () => number }, done: () => boolean, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await step(q);
  expect(done()).toBe(true);
}

const texts = (hits: { text: string }[]): string[] => hits.map((h) => h.text).sort();

describe('live search over conversations', () => {
  it('indexes what is there at start, in the background, then follows sends, edits, deletes', async () => {
    const chat = fakeChat();
    const q = queue();
    const a = chat.add('g-a');
    const b = chat.add('g-b');
    a.send('the secret recipe is pasta');
    b.send('pasta again?');
    const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
    live.start();
    expect(live.building).toBe(true);
    expect(live.query('pasta')).toEqual([]); // nothing indexed synchronously
    await settle(q);
    expect(live.building).toBe(false);
    expect(texts(live.query('pasta'))).toEqual(['pasta again?', 'the secret recipe is pasta']);

    let changes = 0;
    live.onChange(() => changes++);
    const m = b.send('quinoa tonight');
    await settle(q);
    expect(live.query('quinoa')).toMatchObject([
      { conversationId: 'g-b', messageId: m.id, author: 'me', text: 'quinoa tonight' }
    ]);
    expect(changes).toBeGreaterThan(0);

    b.edit(m.id, 'risotto tonight');
    expect(live.query('quinoa')).toEqual([]);
    expect(texts(live.query('risotto'))).toEqual(['risotto tonight']);

    b.remove(m.id);
    expect(live.query('risotto')).toEqual([]);
    expect(live.query('tonight')).toEqual([]);

    // A reaction changes the message map but not the text: still found, once.
    const first = a.messages()[0]!;
    a.react(first.id, '👍');
    expect(live.query('secret')).toHaveLength(1);
    live.stop();
    expect(live.index.size()).toBe(0);
  });

  it('picks up messages from another device and new conversations', async () => {
    const chat = fakeChat();
    const q = queue();
    const a = chat.add('g-a');
    const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
    live.start();
    await settle(q);

    // The other member's message arrives as a Yjs update.
    const remote = memoryConversation({ self: 'other', id: 'g-a' });
    copyInto(a, remote);
    remote.send('Grüße aus Köln');
    copyInto(remote, a);
    expect(live.query('koln')).toMatchObject([{ author: 'other', conversationId: 'g-a' }]);

    const c = chat.add('g-c');
    c.send('brand new conversation');
    chat.emit({ type: 'list' });
    await settle(q);
    expect(live.query('brand')).toMatchObject([{ conversationId: 'g-c' }]);
    live.stop();
  });

  it('forgets a conversation this device left or that went away', async () => {
    const chat = fakeChat();
    const q = queue();
    const a = chat.add('g-a');
    const b = chat.add('g-b');
    a.send('hiking on sunday');
    b.send('hiking on monday');
    const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
    live.start();
    await settle(q);
    expect(live.query('hiking')).toHaveLength(2);

    a.leave(); // emits a conversation change; no longer a member
    await settle(q);
    expect(texts(live.query('hiking'))).toEqual(['hiking on monday']);

    chat.convs.delete('g-b');
    chat.emit({ type: 'list' });
    await settle(q);
    expect(live.query('hiking')).toEqual([]);
    // Later changes to the forgotten conversation are not indexed.
    b.send('hiking again');
    expect(live.query('hiking')).toEqual([]);
    live.stop();
  });

  it('an edit made while the initial build runs is not overwritten by it', async () => {
    const chat = fakeChat();
    const q = queue();
    const a = chat.add('g-a');
    const sent = Array.from({ length: 30 }, (_, i) => a.send(`draft number ${i}`));
    const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
    live.start();
    await new Promise<void>((r) => setImmediate(r)); // build started, first chunk scheduled
    a.edit(sent[29]!.id, 'final version');
    await settle(q);
    expect(texts(live.query('final'))).toEqual(['final version']);
    expect(live.query('draft')).toHaveLength(29);
    live.stop();
  });

  describe('builds from scanMessages batch by batch', () => {
    it('finds messages of the first and the last batch, and follows sends after the build', async () => {
      const chat = fakeChat('me', 100);
      const q = queue();
      const a = chat.add('g-a');
      for (let i = 0; i < 450; i++) {
        a.send(i === 0 ? 'the very first walrus' : i === 449 ? 'the newest narwhal' : `note ${i}`);
      }
      const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
      live.start();
      await until(q, () => !live.building);
      expect(chat.scanned.batches).toBe(5);
      expect(live.index.size()).toBe(450);
      expect(texts(live.query('walrus'))).toEqual(['the very first walrus']);
      expect(texts(live.query('narwhal'))).toEqual(['the newest narwhal']);
      a.send('a late walrus');
      expect(texts(live.query('walrus'))).toEqual(['a late walrus', 'the very first walrus']);
      live.stop();
    });

    it('spends one scheduler turn per chunk, none extra per batch', async () => {
      const chat = fakeChat('me', BUILD_CHUNK_SIZE * 2);
      const q = queue();
      const a = chat.add('g-a');
      for (let i = 0; i < BUILD_CHUNK_SIZE * 6; i++) a.send(`note ${i}`);
      const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
      live.start();
      await until(q, () => !live.building);
      expect(chat.scanned.batches).toBe(3);
      expect(live.index.size()).toBe(BUILD_CHUNK_SIZE * 6);
      expect(q.turns()).toBe(6);
      live.stop();
    });

    it('stops scanning once the conversation goes away mid-build, and once stopped', async () => {
      const chat = fakeChat('me', 10);
      const q = queue();
      const a = chat.add('g-a');
      const b = chat.add('g-b');
      for (let i = 0; i < 100; i++) a.send(`alpha ${i}`);
      for (let i = 0; i < 100; i++) b.send(`bravo ${i}`);
      const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
      live.start();
      await until(q, () => chat.scanned.batches >= 2);

      chat.convs.delete('g-a'); // left or removed while its first batches are indexed
      chat.emit({ type: 'list' });
      await until(q, () => !live.building);
      // g-a's scan ended early: g-b's 10 batches and only a few of g-a's were visited.
      expect(chat.scanned.batches).toBeLessThan(20);
      expect(live.query('alpha')).toEqual([]);
      expect(live.query('bravo')).toHaveLength(50); // the result limit
      expect(live.index.size()).toBe(100);

      const c = chat.add('g-c');
      for (let i = 0; i < 100; i++) c.send(`charlie ${i}`);
      const atAdd = chat.scanned.batches;
      chat.emit({ type: 'list' });
      await until(q, () => chat.scanned.batches > atAdd);
      expect(live.building).toBe(true);
      const before = chat.scanned.batches;
      live.stop();
      await settle(q);
      expect(chat.scanned.batches).toBe(before);
      expect(live.index.size()).toBe(0);
    });

    it('a message edited or deleted during the build is indexed as it is now', async () => {
      const chat = fakeChat('me', 10);
      const q = queue();
      const a = chat.add('g-a');
      const sent = Array.from({ length: 50 }, (_, i) => a.send(`draft number ${i}`));
      const live = createLiveSearch({ source: chat.source }, { schedule: q.schedule });
      live.start();
      await until(q, () => chat.scanned.batches >= 1);
      // Both in the last batch, which the scan reads from the history as it began.
      a.edit(sent[48]!.id, 'final version');
      a.remove(sent[49]!.id);
      await until(q, () => !live.building);
      expect(chat.scanned.batches).toBe(5);
      expect(texts(live.query('final'))).toEqual(['final version']);
      expect(live.query('draft')).toHaveLength(48);
      expect(live.index.has('g-a', sent[49]!.id)).toBe(false);
      live.stop();
    });
  });
});
