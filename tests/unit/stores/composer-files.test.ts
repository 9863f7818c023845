/**
 * The composer's file tray (runes, no browser): staging picked, dropped or pasted files, removing
 * them, "Share publicly", and Send handing them to the files layer with the draft as caption.
 * The same paths run in Chromium through the "Attach file" input.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDraftStore } from '../../../src/lib/app/drafts.js';
import type { FileSource } from '../../../src/lib/files/files.js';
import { ComposerStore, type AttachFiles } from '../../../src/lib/stores/composer.svelte.js';
import {
  befriendedPair,
  createChatNetwork,
  texts,
  type ChatNetwork
} from '../../fixtures/chat-network.js';

let net: ChatNetwork;

afterEach(async () => {
  await net?.stop();
});

function file(name: string, size = 10, type = 'text/plain'): FileSource {
  return { name, size, type, stream: () => new Blob([new Uint8Array(size)]).stream() };
}

interface AttachCall {
  conversationId: string;
  names: string[];
  options: Parameters<AttachFiles>[2];
}

function recorder(result = true): { attach: AttachFiles; calls: AttachCall[] } {
  const calls: AttachCall[] = [];
  return {
    calls,
    attach: (conversationId, files, options) => {
      calls.push({ conversationId, names: files.map((f) => f.name), options });
      return Promise.resolve(result);
    }
  };
}

async function composer(exists = true) {
  net = createChatNetwork();
  const { a, id } = await befriendedPair(net);
  const drafts = createMemoryDraftStore();
  const store = new ComposerStore(a.chat, id, drafts, () => exists);
  return { a, id, drafts, store };
}

describe('ComposerStore: the file tray', () => {
  it('stages files in order, once each, and removes them by id', async () => {
    const { store } = await composer();
    const one = file('one.txt');
    const two = file('two.png', 2_000, 'image/png');
    expect(store.stage([one, two])).toBe(2);
    expect(store.stage([one])).toBe(0); // the same file object again
    expect(store.staged.map((s) => s.file.name)).toEqual(['one.txt', 'two.png']);
    const ids = store.staged.map((s) => s.id);
    expect(new Set(ids).size).toBe(2);

    store.unstage(ids[0]!);
    expect(store.staged.map((s) => s.file.name)).toEqual(['two.png']);
    store.unstage(12345); // unknown: nothing happens
    expect(store.staged).toHaveLength(1);
  });

  it('forgets "Share publicly" once the tray is empty', async () => {
    const { store } = await composer();
    store.stage([file('a.txt')]);
    store.sharePublic = true;
    store.unstage(store.staged[0]!.id);
    expect(store.sharePublic).toBe(false);
  });

  it('can send with staged files and no text, but an edit needs text', async () => {
    const { a, id, store } = await composer();
    expect(store.canSend).toBe(false);
    store.stage([file('a.txt')]);
    expect(store.canSend).toBe(true);

    store.draft = 'hello';
    expect(store.send()).toBe(true);
    const sent = a.chat.messageIds(id).at(-1)!;
    expect(store.startEdit(sent)).toBe(true);
    store.draft = '  ';
    expect(store.canSend).toBe(false);
    // Staged files wait while an edit uses the field.
    expect(store.sendFiles(recorder().attach)).toBe(false);
    expect(store.staged).toHaveLength(1);
  });

  it('sends the staged files with the draft as caption, then clears tray and draft', async () => {
    const { id, drafts, store } = await composer();
    const { attach, calls } = recorder();
    store.stage([file('report.pdf', 500, 'application/pdf'), file('photo.jpg', 900, 'image/jpeg')]);
    store.sharePublic = true;
    store.draft = '  the slides  ';
    store.input();
    expect(drafts.get(id)).toBe('  the slides  ');

    expect(store.sendFiles(attach)).toBe(true);
    expect(calls).toEqual([
      {
        conversationId: id,
        names: ['report.pdf', 'photo.jpg'],
        options: { caption: 'the slides', public: true }
      }
    ]);
    expect(store.staged).toEqual([]);
    expect(store.sharePublic).toBe(false);
    expect(store.draft).toBe('');
    expect(drafts.get(id)).toBe('');
    expect(store.sendFiles(attach)).toBe(false); // nothing staged any more
    expect(calls).toHaveLength(1);
  });

  it('sends files as a reply to the message replied to', async () => {
    const { a, id, store } = await composer();
    store.draft = 'question';
    store.send();
    const first = a.chat.messageIds(id).at(-1)!;
    store.startReply(first);
    store.stage([file('answer.txt')]);
    const { attach, calls } = recorder();
    expect(store.sendFiles(attach)).toBe(true);
    expect(calls[0]!.options).toEqual({ caption: '', public: false, replyTo: first });
    expect(store.replying).toBeUndefined();
    // No text message was sent besides the first one: the files layer sends the file's message.
    expect(texts(a, id)).toEqual(['question']);
  });

  it('keeps the tray while the conversation is not here', async () => {
    const { store } = await composer(false);
    store.stage([file('a.txt')]);
    expect(store.sendFiles(recorder().attach)).toBe(false);
    expect(store.staged).toHaveLength(1);
  });

  it('tells the conversation id (FilesStore.errors are kept by it)', async () => {
    const { id, store } = await composer();
    expect(store.conversationId).toBe(id);
  });
});
