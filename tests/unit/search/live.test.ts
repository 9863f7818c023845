import { describe, expect, it } from 'vitest';
import {
  createLiveSearch,
  type Scheduler,
  type SearchSource
} from '../../../src/lib/search/index.js';
import type { Conversation } from '../../../src/lib/sync/conversation.js';
import { copyInto, memoryConversation } from '../../../src/lib/sync/testing.js';

type Listener = (change: { type: string; conversationId?: string }) => void;

/** A stand-in for the Chat service over in-memory conversations. */
function fakeChat(self = 'me') {
  const convs = new Map<string, Conversation>();
  const listeners = new Set<Listener>();
  const source: SearchSource = {
    conversationIds: () =>
      [...convs.entries()]
        .filter(([, c]) => c.meta() !== undefined && c.isMember(self))
        .map(([id]) => id),
    messages: (id) => convs.get(id)?.messages() ?? [],
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
  return { source, add, emit, convs };
}

function queue(): { schedule: Scheduler; drain: () => number } {
  const tasks: (() => void)[] = [];
  return {
    schedule: (t) => void tasks.push(t),
    drain: () => {
      let n = 0;
      for (let t = tasks.shift(); t !== undefined; t = tasks.shift()) {
        t();
        n++;
      }
      return n;
    }
  };
}

/** Lets the build's promise chain and the scheduler run until nothing is left. */
async function settle(q: { drain: () => number }): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await new Promise<void>((r) => setImmediate(r));
    q.drain();
  }
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
});
