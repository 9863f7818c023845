/**
 * The one receipt policy, through the Chat façade on in-memory devices: what arrives is marked
 * delivered, or read when its conversation is on screen in a visible page, and a burst costs one
 * receipt write, not one (or two) per message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RECEIPT_INTERVAL_MS } from '../../../src/lib/app/receipts.js';
import { syncOf } from '../../../src/lib/app/testing.js';
import { headOf } from '../../../src/lib/sync/testing.js';
import {
  befriendedPair,
  createChatNetwork,
  type ChatDevice,
  type ChatNetwork
} from '../../fixtures/chat-network.js';

let net: ChatNetwork;

afterEach(async () => {
  await net?.stop();
});

async function pair(): Promise<{ a: ChatDevice; b: ChatDevice; id: string }> {
  net = createChatNetwork();
  return befriendedPair(net);
}

/**
 * Counts the updates `device` itself writes into a conversation's head, where receipts live
 * (each one store write and one frame per member).
 */
function countLocalUpdates(device: ChatDevice, id: string): { count: () => number } {
  let n = 0;
  headOf(syncOf(device.chat).conversation(id)!).on('update', (_u: Uint8Array, origin: unknown) => {
    if (origin === null || origin === undefined) n++;
  });
  return { count: () => n };
}

async function burst(from: ChatDevice, id: string, count: number): Promise<string> {
  let last = '';
  for (let i = 0; i < count; i++) last = from.chat.send(id, `message ${i}`);
  await net.sync.settle();
  return last;
}

describe('receipts', () => {
  it('a burst of 100 messages in the conversation on screen costs one read mark', async () => {
    const { a, b, id } = await pair();
    b.chat.show(id);
    const writes = countLocalUpdates(b, id);
    const before = b.chat.stats().receiptWrites;
    const last = await burst(a, id, 100);
    expect(b.chat.messageIds(id)).toHaveLength(100);
    // Nothing written yet: the mark waits for the interval to collect the burst.
    expect(writes.count()).toBe(0);
    b.timers.advance(RECEIPT_INTERVAL_MS);
    expect(b.chat.stats().receiptWrites - before).toBe(1);
    expect(writes.count()).toBe(1);
    await net.sync.settle();
    expect(a.chat.row(id, last)?.status).toBe('read');
    expect(b.chat.summaries().find((s) => s.id === id)?.unread).toBe(0);
  });

  it('marks delivered (not read) when the conversation is not on screen, then read when shown', async () => {
    const { a, b, id } = await pair();
    const writes = countLocalUpdates(b, id);
    const last = await burst(a, id, 100);
    b.timers.advance(RECEIPT_INTERVAL_MS);
    expect(writes.count()).toBe(1);
    await net.sync.settle();
    expect(a.chat.row(id, last)?.status).toBe('delivered');
    expect(b.chat.summaries().find((s) => s.id === id)?.unread).toBe(100);

    b.chat.show(id);
    expect(writes.count()).toBe(2);
    await net.sync.settle();
    expect(a.chat.row(id, last)?.status).toBe('read');
    expect(b.chat.summaries().find((s) => s.id === id)?.unread).toBe(0);
  });

  it('a hidden page only marks delivered; showing the page again marks read', async () => {
    const { a, b, id } = await pair();
    b.chat.show(id);
    b.visibility.set(true);
    const last = await burst(a, id, 10);
    b.timers.advance(RECEIPT_INTERVAL_MS);
    await net.sync.settle();
    expect(a.chat.row(id, last)?.status).toBe('delivered');

    b.visibility.set(false);
    await net.sync.settle();
    expect(a.chat.row(id, last)?.status).toBe('read');
  });

  it('own messages need no mark; nothing is written when nothing arrived', async () => {
    const { a, b, id } = await pair();
    b.chat.show(id);
    const writes = countLocalUpdates(a, id);
    a.chat.send(id, 'hello');
    await net.sync.settle();
    a.timers.advance(RECEIPT_INTERVAL_MS * 10);
    // One update: the message itself. No receipt for its own message.
    expect(writes.count()).toBe(1);
    expect(a.chat.stats().receiptWrites).toBe(0);
  });
});
