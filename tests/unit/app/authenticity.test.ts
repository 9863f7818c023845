/**
 * Signatures are checked right after a row is first rendered, not while rendering it: a row
 * says 'unknown' at first, then a forged one re-renders as 'unverified' (a change event), and
 * a genuine one stays as it was (no change event needed: both look the same).
 */
import * as Y from 'yjs';
import { afterEach, describe, expect, it } from 'vitest';
import { syncOf } from '../../../src/lib/app/testing.js';
import { segmentOf } from '../../../src/lib/sync/testing.js';
import {
  befriendedPair,
  createChatNetwork,
  type ChatNetwork
} from '../../fixtures/chat-network.js';

let net: ChatNetwork;

afterEach(async () => {
  await net?.stop();
});

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('message authenticity in rows', () => {
  it('is checked after the first render; a changed message turns Not verified', async () => {
    net = createChatNetwork();
    const { a, b, id } = await befriendedPair(net);
    const genuine = a.chat.send(id, 'genuine words');
    const changed = a.chat.send(id, 'words that will be changed');
    await net.sync.settle();

    // Someone other than the author changes the text (as a hostile member's update would).
    const messages = segmentOf(syncOf(b.chat).conversation(id)!).getMap('messages');
    (messages.get(changed) as Y.Map<unknown>).set('text', 'words ana never wrote');
    await Promise.resolve(); // that change's own notification goes out first

    expect(b.chat.row(id, genuine)?.authenticity).toBe('unknown');
    expect(b.chat.row(id, changed)?.authenticity).toBe('unknown');
    const changes: string[] = [];
    const off = b.chat.onChange((c) => {
      if (c.type === 'conversation') changes.push(c.conversationId);
    });
    await nextTask();
    await Promise.resolve();
    off();
    expect(changes).toContain(id);
    expect(b.chat.row(id, genuine)?.authenticity).toBe('verified');
    expect(b.chat.row(id, changed)?.authenticity).toBe('unverified');
  });
});
