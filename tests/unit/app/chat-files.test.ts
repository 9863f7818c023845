/**
 * A file record passes through the Chat façade: sent with an optional caption, shown on rows,
 * reply previews and the conversation list's last message, gone once the message is deleted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  befriendedPair,
  createChatNetwork,
  type ChatNetwork
} from '../../fixtures/chat-network.js';

let net: ChatNetwork;

afterEach(async () => {
  await net?.stop();
});

const RECORD = JSON.stringify({ v: 1, name: 'notes.txt', size: 42 });

describe('messages with a file in the chat', () => {
  it('reach the other device with the record on rows, replies and the list', async () => {
    net = createChatNetwork();
    const { a, b, id } = await befriendedPair(net);
    const sent = a.chat.send(id, '', { file: RECORD });
    await net.sync.settle();

    expect(b.chat.message(id, sent)).toMatchObject({ text: '', file: RECORD });
    expect(b.chat.row(id, sent)).toMatchObject({ text: '', file: RECORD, mine: false });
    expect(a.chat.row(id, sent)).toMatchObject({ text: '', file: RECORD, mine: true });
    const last = b.chat.summaries().find((s) => s.id === id)?.last;
    expect(last).toMatchObject({ id: sent, text: '', file: RECORD });

    const reply = b.chat.send(id, 'got it', { replyTo: sent, file: '{"v":1}' });
    await net.sync.settle();
    expect(a.chat.row(id, reply)).toMatchObject({
      text: 'got it',
      file: '{"v":1}',
      replyTo: { id: sent, text: '', file: RECORD }
    });
    const plain = a.chat.send(id, 'no file');
    await net.sync.settle();
    expect(b.chat.row(id, plain)?.file).toBeUndefined();
    expect('file' in b.chat.row(id, plain)!).toBe(false);

    a.chat.remove(id, sent);
    await net.sync.settle();
    expect(b.chat.row(id, sent)).toMatchObject({ text: '', deleted: true });
    expect(b.chat.row(id, sent)?.file).toBeUndefined();
    expect(b.chat.row(id, reply)?.replyTo?.file).toBeUndefined();
  });

  it('refuses a record that is too long', async () => {
    net = createChatNetwork();
    const { a, id } = await befriendedPair(net);
    expect(() => a.chat.send(id, '', { file: 'x'.repeat(16 * 1024 + 1) })).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' })
    );
    expect(() => a.chat.send(id, '')).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' })
    );
  });
});
