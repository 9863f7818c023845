/**
 * The conversation store (runes) over the Chat façade on in-memory devices: what the view shows
 * and does, with no browser. The same paths run in Chromium in tests/e2e/chat.spec.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RECEIPT_INTERVAL_MS } from '../../../src/lib/app/receipts.js';
import { outdatedNotice } from '../../../src/lib/app/status.js';
import { createMemoryDraftStore } from '../../../src/lib/app/drafts.js';
import { MAX_MESSAGE_UNITS } from '../../../src/lib/core/limits.js';
import { ConversationStore, sameValue } from '../../../src/lib/stores/conversation.svelte.js';
import {
  befriendedPair,
  createChatNetwork,
  type ChatDevice,
  type ChatNetwork
} from '../../fixtures/chat-network.js';

let net: ChatNetwork;
const stores: ConversationStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  await net?.stop();
});

async function pair(): Promise<{ a: ChatDevice; b: ChatDevice; id: string }> {
  net = createChatNetwork();
  return befriendedPair(net);
}

function open(device: ChatDevice, id: string): ConversationStore {
  const store = new ConversationStore(device.chat, id);
  stores.push(store);
  // ChatStore does this on every 'conversation' change of the open one.
  device.chat.onChange((c) => {
    if (c.type === 'conversation' && c.conversationId === id) store.refresh();
  });
  return store;
}

/** Lets queued microtasks (coalesced refreshes) run. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function texts(store: ConversationStore): string[] {
  return store.ids.map((m) => store.view(m)?.text ?? '?');
}

describe('sameValue (a rendered row re-renders only when its view changed)', () => {
  it('compares plain row values structurally', () => {
    const row = { id: 'm', text: 'hi', reactions: [{ emoji: '👍', count: 1 }], replyTo: undefined };
    expect(sameValue(row, structuredClone(row))).toBe(true);
    expect(sameValue(row, { ...row, text: 'hi!' })).toBe(false);
    expect(sameValue(row, { ...row, reactions: [{ emoji: '👍', count: 2 }] })).toBe(false);
    expect(sameValue(row, { ...row, reactions: [] })).toBe(false);
    expect(sameValue({ a: undefined }, {})).toBe(false);
    expect(sameValue([1], { 0: 1 })).toBe(false);
    expect(sameValue(undefined, row)).toBe(false);
  });
});

describe('ConversationStore', () => {
  it("says when a member's app speaks no sync version this one does, until it syncs again", async () => {
    const { a, b, id } = await pair();
    const sa = open(a, id);
    // ChatStore refreshes the open conversation on 'contacts' changes too.
    a.chat.onChange((c) => {
      if (c.type === 'contacts') sa.refresh();
    });
    expect(sa.outdated).toEqual([]);
    // What the libp2p transport reports when multistream-select finds no common version.
    a.transport.handler!.incompatible!(b.id);
    await tick();
    expect(sa.outdated).toEqual(['Ben']);
    expect(outdatedNotice(sa.outdated)).toBe(
      "Can't sync with Ben's app: a different version of p2p4everything. " +
        'Messages go through once you both run the latest version.'
    );
    net.unlink(a, b);
    await net.link(a, b); // Ben updated: the conversation syncs again
    await tick();
    expect(sa.outdated).toEqual([]);
  });

  it('sends the draft, shows it on the other device with names, and follows statuses to Read', async () => {
    const { a, b, id } = await pair();
    const sa = open(a, id);
    const sb = open(b, id);
    expect(sa.exists).toBe(true);
    expect(sa.name).toBe('Ben');
    expect(sb.name).toBe('Ana');

    sa.composer.draft = '  hello Ben  ';
    expect(sa.composer.send()).toBe(true);
    expect(sa.composer.draft).toBe('');
    await tick();
    const mine = sa.view(sa.ids[0]!)!;
    expect(mine).toMatchObject({ text: 'hello Ben', authorName: 'You', mine: true });
    expect(mine.status).toBe('Pending');

    await net.sync.settle();
    b.timers.advance(RECEIPT_INTERVAL_MS); // B shows the conversation: read
    await net.sync.settle();
    await tick();
    expect(texts(sb)).toEqual(['hello Ben']);
    expect(sb.view(sb.ids[0]!)).toMatchObject({ authorName: 'Ana', mine: false });
    expect(sb.view(sb.ids[0]!)?.status).toBeUndefined();
    expect(sa.view(sa.ids[0]!)?.status).toBe('Read');
  });

  it('replies, edits, reacts and deletes through the façade', async () => {
    const { a, b, id } = await pair();
    const sa = open(a, id);
    const sb = open(b, id);
    sa.composer.draft = 'first';
    sa.composer.send();
    await net.sync.settle();
    await tick();
    const first = sb.ids[0]!;

    sb.composer.startReply(first);
    expect(sb.authorOf(first)).toBe('Ana');
    sb.composer.draft = 'an answer';
    sb.composer.send();
    await net.sync.settle();
    await tick();
    const answer = sa.ids[1]!;
    expect(sa.view(answer)?.replyTo).toEqual({ id: first, author: 'You', text: 'first' });
    expect(sb.view(answer)?.replyTo).toEqual({ id: first, author: 'Ana', text: 'first' });

    sa.composer.startEdit(first);
    expect(sa.composer.draft).toBe('first');
    sa.composer.draft = 'first, edited';
    sa.composer.send();
    sa.react(answer, '👍');
    await net.sync.settle();
    await tick();
    expect(sb.view(first)).toMatchObject({ text: 'first, edited', edited: true });
    expect(sb.view(answer)?.reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
    expect(sb.view(answer)?.replyTo?.text).toBe('first, edited');

    // Only the author edits: B's store does not even start editing A's message.
    sb.composer.startEdit(first);
    expect(sb.composer.editing).toBeUndefined();

    sa.remove(first);
    await net.sync.settle();
    await tick();
    expect(sb.view(first)).toMatchObject({ deleted: true, text: '' });
  });

  it('keeps a draft per conversation, puts it aside during an edit, and Up edits the last own message', async () => {
    const { a, id } = await pair();
    const drafts = createMemoryDraftStore();
    const first = new ConversationStore(a.chat, id, drafts);
    stores.push(first);
    expect(first.composer.editLast()).toBe(false); // nothing of mine yet
    first.composer.draft = 'sent one';
    first.composer.send();
    first.composer.draft = 'half-written';
    first.composer.input();
    first.close();

    // Opened again (switching back, or a reload with the page's storage): the draft is there.
    const again = new ConversationStore(a.chat, id, drafts);
    stores.push(again);
    expect(again.composer.draft).toBe('half-written');
    // Up only acts on an empty field.
    expect(again.composer.editLast()).toBe(false);
    again.composer.draft = '';
    again.composer.input();
    expect(again.composer.editLast()).toBe(true);
    expect(again.composer.draft).toBe('sent one');
    again.composer.cancel();
    expect(again.composer.editing).toBeUndefined();
    expect(again.composer.draft).toBe('');

    // An edit borrows the field; the draft comes back after saving.
    again.composer.draft = 'next thought';
    again.composer.input();
    again.composer.startEdit(again.ids[0]!);
    again.composer.draft = 'sent one, fixed';
    expect(again.composer.send()).toBe(true);
    expect(again.composer.draft).toBe('next thought');
    expect(drafts.get(id)).toBe('next thought');
    await tick();
    expect(texts(again)).toEqual(['sent one, fixed']);
  });

  it('marks the first unread message for the divider', async () => {
    const { a, b, id } = await pair();
    for (const text of ['one', 'two', 'three']) b.chat.send(id, text);
    await net.sync.settle();
    const store = new ConversationStore(a.chat, id, createMemoryDraftStore(), 2);
    stores.push(store);
    expect(store.view(store.firstUnread!)?.text).toBe('two');
    const none = new ConversationStore(a.chat, id, createMemoryDraftStore(), 0);
    stores.push(none);
    expect(none.firstUnread).toBeUndefined();
    // More unread than the loaded window holds: no divider, the view opens at the newest.
    const far = new ConversationStore(a.chat, id, createMemoryDraftStore(), 4);
    stores.push(far);
    expect(far.firstUnread).toBeUndefined();
  });

  it('puts errors in words, never the internal message', async () => {
    const { a, id } = await pair();
    const sa = open(a, id);
    sa.composer.draft = 'x'.repeat(MAX_MESSAGE_UNITS + 1);
    expect(sa.composer.send()).toBe(false);
    expect(sa.composer.error).toBe(
      `A message needs some text, and at most ${MAX_MESSAGE_UNITS.toLocaleString('en')} characters.`
    );
    sa.react('no-such-message', '👍');
    expect(sa.error).toBe('That message is no longer there.');
  });

  it('keeps the same ids array while nothing is added (rows re-render by version)', async () => {
    const { a, b, id } = await pair();
    const sa = open(a, id);
    sa.composer.draft = 'one';
    sa.composer.send();
    await net.sync.settle();
    await tick();
    const ids = sa.ids;
    const version = sa.version;
    b.chat.react(id, ids[0]!, '❤️');
    await net.sync.settle();
    await tick();
    expect(sa.version).toBeGreaterThan(version);
    expect(sa.ids).toBe(ids);
    expect(sa.view(ids[0]!)?.reactions).toEqual([{ emoji: '❤️', count: 1, mine: false }]);
  });

  it("today's façade: the window is the whole history, and a scan visits all of it", async () => {
    const { a, id } = await pair();
    const sa = open(a, id);
    for (const text of ['one', 'two', 'three']) a.chat.send(id, text);
    await tick();
    expect(sa.ids).toHaveLength(3);
    expect(sa.total).toBe(3);
    expect(sa.hasOlder).toBe(false);
    expect(await a.chat.loadOlder(id)).toBe(0);
    expect(await a.chat.reveal(id, sa.ids[0]!)).toBe(true);
    expect(await a.chat.reveal(id, 'no-such-message')).toBe(false);

    const batches: string[][] = [];
    await a.chat.scanMessages(id, (batch) => void batches.push(batch.map((m) => m.text)));
    expect(batches).toEqual([['one', 'two', 'three']]);
    const aborted = AbortSignal.abort();
    await a.chat.scanMessages(id, () => void batches.push([]), { signal: aborted });
    expect(batches).toHaveLength(1);
  });
});

describe('ConversationStore.following (the view scrolled up, then back at the newest)', () => {
  it('a catch-up bigger than the window keeps the rows the reader is on until they return', async () => {
    const { a, b, id } = await pair();
    a.chat.send(id, 'the first message');
    await net.sync.settle();
    const sb = open(b, id);
    await tick();
    expect(texts(sb)).toEqual(['the first message']);
    sb.following(false); // scrolled up, reading it
    net.unlink(a, b);
    for (let i = 0; i < 2_100; i++) a.chat.send(id, `catching up ${i}`);
    await net.link(a, b);
    await net.sync.settle();
    await tick();
    expect(sb.ids).toHaveLength(2_101);
    expect(texts(sb)[0]).toBe('the first message');
    sb.following(true);
    await tick();
    expect(sb.ids).toHaveLength(300);
    expect(texts(sb).at(-1)).toBe('catching up 2099');
  }, 30_000); // 2,100 sends through the app, each signed twice (message and envelope)
});
