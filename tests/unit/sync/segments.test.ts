/**
 * Bounded documents: a conversation is a head doc plus segments of SEGMENT_MESSAGES messages.
 * Opening reads the newest window only; scrolling back, search and sync reach the rest; a
 * conversation stored as one doc before segments migrates on first open.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryDocStore } from '../../../src/lib/storage/doc-store.js';
import {
  createMemoryHistoryStore,
  type HistoryStore
} from '../../../src/lib/storage/history-store.js';
import { INITIAL_WINDOW, OLDER_PAGE, SEGMENT_MESSAGES } from '../../../src/lib/sync/constants.js';
import { openConversation } from '../../../src/lib/sync/conversation.js';
import { DocSet, parseUnitId, splitLegacy } from '../../../src/lib/sync/doc-set.js';
import { decodeFrame, encodeFrame, FrameType } from '../../../src/lib/sync/protocol.js';
import type { SyncAccess } from '../../../src/lib/sync/sync.js';
import { legacyDocOf, memoryConversation, setOf } from '../../../src/lib/sync/testing.js';
import { SyncNetwork } from '../../fixtures/sync-network.js';

const TOTAL = 2 * SEGMENT_MESSAGES + 500; // three segments
const access: SyncAccess = { canSync: (peer, id) => id === 'c' && ['a', 'b'].includes(peer) };

/** Peer a with TOTAL messages written and stored (stopped: a restart opens them from storage). */
async function storedOnA(net: SyncNetwork): Promise<HistoryStore> {
  const history = createMemoryHistoryStore();
  const first = await net.peer('a', { canSync: () => false }, {}, history);
  const conv = await first.sync.open('c');
  conv.init({ kind: '1:1', members: ['b'] });
  for (let i = 0; i < TOTAL; i++) conv.send(`m${i}`, { id: `id${i}` });
  await net.settle();
  await first.sync.stop();
  return history;
}

describe('segments', () => {
  it('writers move to a new segment every SEGMENT_MESSAGES messages, announced in the head', async () => {
    const net = new SyncNetwork();
    const history = await storedOnA(net);
    expect(await history.segments('c')).toEqual([0, 1, 2]);
    expect(await history.count('c')).toBe(TOTAL);
    const set = await DocSet.open('c', history);
    expect(set.segments()).toEqual([0, 1, 2]);
    expect(set.tail()).toBe(2);
    expect(set.hotSegments()).toEqual([2]); // only the tail is loaded
  });

  it('opens at the newest window, scrolls back to the oldest, reveals and scans all history', async () => {
    const net = new SyncNetwork();
    const history = await storedOnA(net);
    const set = await DocSet.open('c', history);
    const conv = await openConversation(set, { self: 'b', id: 'c' });
    expect(conv.ids()).toHaveLength(INITIAL_WINDOW);
    expect(conv.ids().at(-1)).toBe(`id${TOTAL - 1}`);
    expect(conv.size()).toBe(TOTAL);
    expect(set.hotSegments()).toEqual([2]);
    // The unread count of a member whose read mark is older than the window comes from the
    // stored index (in the background).
    expect(conv.unreadCount('b')).toBe(0);
    await new Promise((r) => setTimeout(r));
    expect(conv.unreadCount('b')).toBe(TOTAL);

    // A search result in the first segment.
    expect(await conv.reveal('id5')).toBe(true);
    expect(conv.position('id5')).toBe(5);
    expect(conv.message('id5')?.text).toBe('m5');
    expect(await conv.reveal('nope')).toBe(false);

    // Scrolled to the top: nothing older.
    while ((await conv.loadOlder(300)) > 0);
    expect(conv.ids()).toHaveLength(TOTAL);
    expect(conv.ids()[0]).toBe('id0');

    const batches: number[] = [];
    const texts = new Set<string>();
    await conv.scan((batch) => {
      batches.push(batch.length);
      for (const m of batch) texts.add(m.text);
    });
    expect(batches).toEqual([SEGMENT_MESSAGES, SEGMENT_MESSAGES, 500]);
    expect(texts.size).toBe(TOTAL);
    conv.destroy();
    set.close();
  });

  it('scan reads segments that are not in memory without keeping them', async () => {
    const net = new SyncNetwork();
    const history = await storedOnA(net);
    const set = await DocSet.open('c', history);
    const conv = await openConversation(set, { self: 'b', id: 'c' });
    const abort = new AbortController();
    const seen: number[] = [];
    await conv.scan(
      (batch) => {
        seen.push(batch.length);
        abort.abort();
      },
      { signal: abort.signal }
    );
    expect(seen).toEqual([SEGMENT_MESSAGES]); // stopped after the first batch
    expect(set.hotSegments()).toEqual([2]);
  });

  it('a new device catches up every segment; a reconnect with nothing new sends no data', async () => {
    const net = new SyncNetwork();
    const history = await storedOnA(net);
    const a = await net.peer('a', access, {}, history);
    const b = await net.peer('b', access);
    const convA = await a.sync.open('c');
    await b.sync.open('c');
    const asked: string[] = [];
    const bSend = b.transport.send.bind(b.transport);
    b.transport.send = (peer, bytes, options) => {
      const f = decodeFrame(bytes, 1 << 30);
      if (f.type === FrameType.Step1) asked.push(f.conversationId);
      bSend(peer, bytes, options);
    };
    net.connect('a', 'b');
    await net.settle();
    // Segments learnt from the head are asked for newest first (the newest messages come first).
    expect(asked.indexOf('c#2')).toBeGreaterThanOrEqual(0);
    expect(asked.indexOf('c#2')).toBeLessThan(asked.indexOf('c#1'));
    expect(await b.history.count('c')).toBe(TOTAL);
    expect(await b.history.segments('c')).toEqual([0, 1, 2]);
    const convB = b.sync.conversation('c')!;
    expect(convB.size()).toBe(TOTAL);
    // a answered the segments it did not have in memory from storage.
    expect(setOf(convA).hotSegments()).toEqual([2]);
    // b keeps a bounded number of segments in memory.
    expect(setOf(convB).hotSegments().length).toBeLessThanOrEqual(3);

    net.disconnect('a', 'b');
    const sent: { type: FrameType; bytes: number }[] = [];
    const transport = a.transport;
    const original = transport.send.bind(transport);
    transport.send = (peer, bytes, options) => {
      const f = decodeFrame(bytes, 1 << 30);
      sent.push({ type: f.type, bytes: f.payload.byteLength });
      original(peer, bytes, options);
    };
    net.connect('a', 'b');
    await net.settle();
    const data = sent.filter(
      (f) => (f.type === FrameType.Step2 || f.type === FrameType.Update) && f.bytes > 2
    );
    expect(data).toEqual([]);

    // One new message while apart: only it travels.
    net.disconnect('a', 'b');
    convA.send('while apart', { id: 'new' });
    sent.length = 0;
    net.connect('a', 'b');
    await net.settle();
    expect(convB.message('new')?.text).toBe('while apart');
    const carried = sent
      .filter((f) => f.type === FrameType.Step2 || f.type === FrameType.Update)
      .reduce((n, f) => n + f.bytes, 0);
    expect(carried).toBeLessThan(1_000);
  });

  it('a catch-up of thousands of messages into an open short conversation keeps a bounded window and segments in memory', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access);
    const b = await net.peer('b', access);
    const convA = await a.sync.open('c');
    convA.init({ kind: '1:1', members: ['b'] });
    const total = 5 * SEGMENT_MESSAGES + 10;
    for (let i = 0; i < total; i++) convA.send(`m${i}`, { id: `id${i}` });
    await net.settle();
    const convB = await b.sync.open('c');
    expect(convB.size()).toBe(0); // open, with a window that is all of history
    net.connect('a', 'b');
    await net.settle();
    await new Promise((r) => setTimeout(r)); // the stored count (queued on a microtask)
    expect(convB.size()).toBe(total);
    expect(convB.ids().length).toBe(INITIAL_WINDOW + OLDER_PAGE);
    expect(convB.ids().at(-1)).toBe(`id${total - 1}`);
    // The segments of the trimmed part may leave memory: the tail, what is shown, two warm.
    expect(setOf(convB).hotSegments().length).toBeLessThanOrEqual(4);
    // Scrolling back still reaches the first message.
    while ((await convB.loadOlder()) > 0);
    expect(convB.ids().length).toBe(total);
    expect(convB.ids()[0]).toBe('id0');
    // A live message still joins at the bottom.
    convA.send('live', { id: 'live' });
    await net.settle();
    expect(convB.ids().at(-1)).toBe('live');
  });

  it('while the reader is scrolled up, such a catch-up keeps their rows; back at the newest, the window is trimmed', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access);
    const b = await net.peer('b', access);
    const convA = await a.sync.open('c');
    convA.init({ kind: '1:1', members: ['b'] });
    for (let i = 0; i < 20; i++) convA.send(`old ${i}`, { id: `old${i}` });
    const convB = await b.sync.open('c');
    net.connect('a', 'b');
    await net.settle();
    expect(convB.ids()).toHaveLength(20);
    convB.following(false); // the reader scrolled up to the first messages
    net.disconnect('a', 'b');
    const total = 3 * SEGMENT_MESSAGES;
    for (let i = 0; i < total; i++) convA.send(`m${i}`, { id: `id${i}` });
    await net.settle();
    net.connect('a', 'b');
    await net.settle();
    expect(convB.ids()).toHaveLength(20 + total);
    expect(convB.ids()[0]).toBe('old0'); // what they were reading is still there
    convB.following(true);
    expect(convB.ids()).toHaveLength(INITIAL_WINDOW + OLDER_PAGE);
    expect(convB.ids().at(-1)).toBe(`id${total - 1}`);
  });

  it('frames for an unknown or malformed segment get the "unavailable" answer', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access);
    const conv = await a.sync.open('c');
    conv.init({ kind: '1:1', members: ['b'] });
    const replies: string[] = [];
    await net.network.transport('b').start({
      frame: (_p, bytes) => replies.push(decodeFrame(bytes, 1 << 20).conversationId),
      peerUp() {},
      peerDown() {},
      malformed() {}
    });
    net.connect('a', 'b');
    await net.settle();
    replies.length = 0;
    const sv = Y.encodeStateVector(new Y.Doc());
    for (const id of ['c#7', 'c#x', 'c#-1', 'c#01', 'c#99999999']) {
      a.transport.handler!.frame(
        'b',
        encodeFrame({ type: FrameType.Step1, conversationId: id, payload: sv })
      );
    }
    await net.settle();
    expect(replies).toEqual(['c#7', 'c#x', 'c#-1', 'c#01', 'c#99999999']);
    expect(a.sync.misbehaving()).toEqual([]);
    expect(parseUnitId('c#12')).toEqual({ conversationId: 'c', part: 12 });
    expect(parseUnitId('c#x')).toBeUndefined();
    expect(parseUnitId('c')).toEqual({ conversationId: 'c', part: -1 });
  });

  it('a conversation stored as one doc moves into head + segments on first open, losing nothing', async () => {
    const old = memoryConversation({ self: 'alice', id: 'c' });
    old.init({ kind: 'group', name: 'Old times', members: ['bob'] });
    for (let i = 0; i < TOTAL; i++) old.send(`old ${i}`, { id: `o${i}` });
    old.react('o3', '👍');
    old.markRead();
    const single = Y.encodeStateAsUpdate(legacyDocOf(old));
    const legacy = createMemoryDocStore();
    await legacy.append('c', single);
    const history = createMemoryHistoryStore();

    const set = await DocSet.open('c', history, legacy);
    expect(await legacy.list()).toEqual([]); // moved, not copied
    expect(set.segments()).toEqual([0, 1, 2]);
    const conv = await openConversation(set, { self: 'bob', id: 'c' });
    expect(conv.meta()).toMatchObject({ kind: 'group', name: 'Old times' });
    expect(conv.members()).toEqual(['alice', 'bob']);
    expect(conv.size()).toBe(TOTAL);
    expect(conv.receipts('alice').read).toBe(old.message(`o${TOTAL - 1}`)?.key);
    await conv.reveal('o3');
    expect(conv.message('o3')?.reactions).toEqual({ '👍': ['alice'] });
    // The split is in order: segment n holds messages n*SEGMENT_MESSAGES...
    const snapshot = splitLegacy(single);
    expect(snapshot.index.find((e) => e.id === `o${SEGMENT_MESSAGES}`)?.segment).toBe(1);
    // It writes on: into the tail segment.
    conv.send('new times', { id: 'n1' });
    expect(conv.ids().at(-1)).toBe('n1');
  });

  it('keeps the tail, the pinned segments and the two most recently used ones in memory', async () => {
    const conv = memoryConversation({ self: 'alice', id: 'c' });
    conv.init({ kind: 'group', name: 'long', members: ['bob'] });
    for (let i = 0; i < 5 * SEGMENT_MESSAGES + 10; i++) conv.send(`m${i}`);
    const history = createMemoryHistoryStore();
    await history.replace('c', splitLegacy(Y.encodeStateAsUpdate(legacyDocOf(conv))));
    const set = await DocSet.open('c', history);
    expect(set.segments()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(set.hotSegments()).toEqual([5]);
    for (const n of [0, 1, 2]) await set.warm(n);
    expect(set.hotSegments()).toEqual([1, 2, 5]); // 0 was the least recently used
    set.pin(0);
    await set.warm(0);
    await set.warm(3);
    expect(set.hotSegments()).toEqual([0, 2, 3, 5]); // pinned 0 stays, 1 went
    set.unpin(0);
    expect(set.hotSegments()).toEqual([0, 3, 5]); // unpinned: the most recently used two stay
    // A segment that left memory still answers from storage, with the same state.
    const sv = set.cachedStateVector(1);
    expect(sv).toBeDefined();
    expect(await set.stateVector(1)).toEqual(sv);
    set.close();
  });
});
