/**
 * The conversation store over a Chat whose message window really grows (the contract of the
 * segmented history): a long conversation shows its newest messages, `loadOlder()` brings
 * older ones in front, and a search result outside the window is revealed before it is shown.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Chat, ConversationInfo, MessageRow } from '../../../src/lib/app/chat-types.js';
import { ConversationStore } from '../../../src/lib/stores/conversation.svelte.js';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A Chat with `total` messages (`m0` oldest) whose window starts with the newest `window` and
 * grows by `step` per loadOlder. `hold` keeps loadOlder in flight until resolved; `fail` makes
 * it throw; `calls` counts what the store asked for.
 */
function windowedChat(total = 1_000, window = 100, step = 200) {
  const all = Array.from({ length: total }, (_, i) => `m${i}`);
  let start = total - window;
  let ids: readonly string[] = all.slice(start);
  const state = {
    hold: undefined as Deferred | undefined,
    fail: undefined as Error | undefined,
    calls: { loadOlder: 0, reveal: [] as string[] }
  };
  const setStart = (at: number): void => {
    start = at;
    ids = all.slice(start);
  };
  const row = (id: string): MessageRow => ({
    id,
    key: id,
    author: 'ben',
    authorName: 'Ben',
    mine: false,
    text: `text of ${id}`,
    at: 0,
    edited: false,
    deleted: false,
    authenticity: 'verified',
    reactions: []
  });
  const chat = {
    self: 'me',
    contacts: { get: () => undefined, displayName: () => undefined },
    show: () => {},
    info: (id: string): ConversationInfo => ({
      id,
      kind: '1:1',
      name: 'Ben',
      groupName: '',
      members: ['ben', 'me'],
      left: false,
      size: all.length,
      outdated: []
    }),
    messageIds: () => ids,
    messageCount: () => all.length,
    position: (_: string, id: string) => ids.indexOf(id),
    row: (_: string, id: string) => (ids.includes(id) ? row(id) : undefined),
    loadOlder: async (_: string, count = step): Promise<number> => {
      state.calls.loadOlder++;
      await state.hold?.promise;
      if (state.fail !== undefined) throw state.fail;
      const added = Math.min(count, start);
      setStart(start - added);
      return added;
    },
    reveal: async (_: string, id: string): Promise<boolean> => {
      state.calls.reveal.push(id);
      await Promise.resolve();
      const at = all.indexOf(id);
      if (at < 0) return false;
      if (at < start) setStart(at);
      return true;
    }
  };
  /** A new message arrives at the newest end. */
  const arrive = (id: string): void => {
    all.push(id);
    ids = all.slice(start);
  };
  /** An old message arrives (synced late) in front of the window, outside it. */
  const arriveOld = (id: string): void => {
    all.unshift(id);
    setStart(start + 1);
  };
  return { chat: chat as unknown as Chat, state, arrive, arriveOld };
}

const stores: ConversationStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(chat: Chat): ConversationStore {
  const store = new ConversationStore(chat, 'c1');
  stores.push(store);
  return store;
}

/** Lets pending promise callbacks run. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('ConversationStore over a windowed history', () => {
  it('shows the newest window and loads older messages in front until none are left', async () => {
    const { chat, state } = windowedChat();
    const store = open(chat);
    expect(store.ids).toHaveLength(100);
    expect(store.ids.at(-1)).toBe('m999');
    expect(store.total).toBe(1_000);
    expect(store.hasOlder).toBe(true);
    expect(store.loadingOlder).toBe(false);

    await store.loadOlder();
    expect(store.ids).toHaveLength(300);
    expect(store.ids[0]).toBe('m700');
    expect(store.ids.at(-1)).toBe('m999');
    expect(store.prepended).toBe(true); // the view keeps its scroll position (virtua shift)
    expect(store.hasOlder).toBe(true);

    for (let i = 0; i < 4; i++) await store.loadOlder();
    expect(store.ids).toHaveLength(1_000);
    expect(store.ids[0]).toBe('m0');
    expect(store.hasOlder).toBe(false);
    expect(state.calls.loadOlder).toBe(5);

    // Nothing older: the façade is not asked again.
    await store.loadOlder();
    expect(state.calls.loadOlder).toBe(5);
    expect(store.loadingOlder).toBe(false);
  });

  it('runs one loadOlder at a time and says so while it runs', async () => {
    const { chat, state } = windowedChat();
    const store = open(chat);
    state.hold = deferred();
    const first = store.loadOlder();
    const second = store.loadOlder();
    expect(store.loadingOlder).toBe(true);
    await tick();
    expect(state.calls.loadOlder).toBe(1);
    expect(store.ids).toHaveLength(100);

    state.hold.resolve();
    await Promise.all([first, second]);
    expect(store.loadingOlder).toBe(false);
    expect(store.ids).toHaveLength(300); // one step of 200, not two

    state.hold = undefined;
    await store.loadOlder(); // the next call runs again
    expect(state.calls.loadOlder).toBe(2);
    expect(store.ids).toHaveLength(500);
  });

  it('puts a failed load in words and can try again', async () => {
    const { chat, state } = windowedChat();
    const store = open(chat);
    state.fail = Object.assign(new Error('segment 3 missing from IndexedDB'), {
      name: 'UnknownConversationError'
    });
    await store.loadOlder();
    expect(store.error).toBe('This conversation is not on this device.');
    expect(store.loadingOlder).toBe(false);
    expect(store.ids).toHaveLength(100);

    state.fail = new Error('TypeError: cannot read properties of undefined');
    await store.loadOlder();
    expect(store.error).toBe('Something went wrong. Try again, or reload the page.');

    state.fail = undefined;
    await store.loadOlder();
    expect(store.ids).toHaveLength(300);
  });

  it('a new message at the newest end is not a prepend', async () => {
    const { chat, arrive } = windowedChat();
    const store = open(chat);
    await store.loadOlder();
    expect(store.prepended).toBe(true);
    arrive('m1000');
    store.refresh();
    await tick();
    expect(store.ids.at(-1)).toBe('m1000');
    expect(store.total).toBe(1_001);
    expect(store.prepended).toBe(false);
  });

  it('reveals a search result outside the window before the view gets it', async () => {
    const { chat, state } = windowedChat();
    const store = open(chat);
    store.focus = 'm950'; // in the window: shown at once, nothing to load
    expect(store.position('m950')).toBeGreaterThanOrEqual(0);
    expect(state.calls.reveal).toEqual([]);

    // The façade's change notice refreshes the store before reveal() resolves (like ChatStore).
    const reveal = chat.reveal.bind(chat);
    chat.reveal = async (id, messageId) => {
      const found = await reveal(id, messageId);
      store.refresh();
      await tick();
      return found;
    };
    store.focus = 'm5';
    expect(store.focus).toBe('m5');
    expect(store.position('m5')).toBe(-1); // the view waits: not in the window yet
    await tick();
    await tick();
    expect(state.calls.reveal).toEqual(['m5']);
    expect(store.ids[0]).toBe('m5');
    expect(store.prepended).toBe(false); // the view jumps to it: no scroll position to hold
    expect(store.position('m5')).toBe(0);
    expect(store.view('m5')?.text).toBe('text of m5');
    expect(store.hasOlder).toBe(true);

    // No such message (yet): no error, the focus waits for it to arrive.
    store.focus = 'later';
    await tick();
    expect(state.calls.reveal).toEqual(['m5', 'later']);
    expect(store.error).toBeUndefined();
    expect(store.focus).toBe('later');
  });

  it('asks again for a search result that arrives later, outside the window', async () => {
    const { chat, state, arriveOld } = windowedChat();
    const store = open(chat);
    store.focus = 'late';
    await tick();
    expect(state.calls.reveal).toEqual(['late']);
    store.refresh(); // a change that brought no message: not asked again
    await tick();
    expect(state.calls.reveal).toEqual(['late']);

    arriveOld('late');
    store.refresh();
    await tick();
    expect(state.calls.reveal).toEqual(['late', 'late']);
    expect(store.ids[0]).toBe('late');
    expect(store.focus).toBe('late');
  });
});
