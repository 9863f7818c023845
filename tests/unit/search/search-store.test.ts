import { describe, expect, it } from 'vitest';
import { createSearch, type LiveSearch, type SearchDoc } from '../../../src/lib/search/index.js';
import {
  SearchStore,
  type SearchStoreChat,
  type SearchTimer
} from '../../../src/lib/stores/search.svelte.js';

/** A clock the test moves by hand. */
function manualTimer(): SearchTimer & { advance: (ms: number) => void; pending: () => number } {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; run: () => void }>();
  return {
    set: (run, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, run });
      return id;
    },
    clear: (handle) => void timers.delete(handle as number),
    advance: (ms) => {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        timers.delete(id);
        t.run();
      }
    },
    pending: () => timers.size
  };
}

const doc = (messageId: string, text: string): SearchDoc => ({
  conversationId: 'c1',
  messageId,
  author: 'bob',
  at: 1,
  text
});

/** A LiveSearch over a real index that counts its queries, and a chat with one conversation. */
function setup() {
  const index = createSearch();
  index.put(doc('m1', 'Let us meet at the harbour tomorrow'));
  index.put(doc('m2', 'have a nice day'));
  let queries = 0;
  const listeners = new Set<() => void>();
  const live: LiveSearch = {
    index,
    building: false,
    start: () => {},
    stop: () => {},
    query: (q, o) => {
      queries++;
      return index.query(q, o);
    },
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    }
  };
  const chat = {
    self: 'me',
    summaries: () => [{ id: 'c1', kind: '1:1', name: 'Bob', members: ['me', 'bob'], unread: 0 }],
    conversation: () => undefined,
    onChange: () => () => {},
    contacts: { displayName: () => 'Bob' }
  } as unknown as SearchStoreChat;
  const timer = manualTimer();
  const store = new SearchStore(chat, {}, { live, timer });
  store.start();
  const changed = (): void => listeners.forEach((l) => l());
  return { store, timer, index, changed, queries: () => queries };
}

const texts = (store: SearchStore): string[] =>
  store.results.map((r) => r.parts.map((p) => p.text).join(''));

describe('search store', () => {
  it('runs the query once typing pauses for 120 ms, not on every keystroke', () => {
    const { store, timer, queries } = setup();
    for (const q of ['h', 'ha', 'har', 'harb']) {
      store.input(q);
      timer.advance(50);
    }
    expect(store.query).toBe('harb');
    expect(queries()).toBe(0);
    expect(store.pending).toBe(true);
    timer.advance(69);
    expect(queries()).toBe(0);
    timer.advance(1);
    expect(queries()).toBe(1);
    expect(store.pending).toBe(false);
    expect(texts(store)).toEqual(['Let us meet at the harbour tomorrow']);
    expect(store.results[0]).toMatchObject({ conversation: 'Bob', href: expect.any(String) });
  });

  it('a 2-letter word is not a prefix; 3 letters are', () => {
    const { store, timer } = setup();
    store.input('ha');
    timer.advance(120);
    expect(store.results).toEqual([]);
    store.input('hav');
    timer.advance(120);
    expect(texts(store)).toEqual(['have a nice day']);
  });

  it('an emptied box clears at once; Escape (clear) drops a query still waiting', () => {
    const { store, timer, queries } = setup();
    store.input('harbour');
    timer.advance(120);
    expect(store.results).toHaveLength(1);
    store.input('  ');
    expect(store.results).toEqual([]);
    expect(timer.pending()).toBe(0);

    store.input('tomorrow');
    store.clear();
    expect(store.pending).toBe(false);
    timer.advance(500);
    expect(store.query).toBe('');
    expect(store.results).toEqual([]);
    expect(queries()).toBe(1);
  });

  it('index changes re-run the shown query, but wait while typing', () => {
    const { store, timer, index, changed, queries } = setup();
    store.input('tomorrow');
    timer.advance(120);
    expect(queries()).toBe(1);
    index.put(doc('m3', 'see you tomorrow'));
    changed();
    expect(queries()).toBe(2);
    expect(texts(store).sort()).toEqual([
      'Let us meet at the harbour tomorrow',
      'see you tomorrow'
    ]);
    store.input('tomorrow see');
    changed();
    expect(queries()).toBe(2);
    timer.advance(120);
    expect(queries()).toBe(3);
    expect(texts(store)).toEqual(['see you tomorrow']);
  });
});
