/**
 * The attachments service over real libp2p nodes joined in memory (direct connections, so
 * bitswap runs): attach on one device, the record travels in a message (a minimal Chat here),
 * the other device fetches it with progress, pause/resume, cancel, waiting for a provider, and a
 * malformed record.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBlockstore } from 'blockstore-core';
import { createAttachments, type Attachments } from '../../../src/lib/app/attachments.js';
import type { Chat } from '../../../src/lib/app/chat-types.js';
import { createTransferLog } from '../../../src/lib/app/transfer-log.js';
import type { FileSource } from '../../../src/lib/files/files.js';
import type { Message } from '../../../src/lib/sync/index.js';
import { connect, memoryPeer } from '../../fixtures/files-peers.js';
import { waitFor } from '../../fixtures/node-peer.js';

const CONV = 'conv-1';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The messages both devices see (what sync would carry). */
const messages = new Map<string, Message>();

function fakeChat(self: string, members: () => string[]): Chat {
  return {
    self,
    message: (_c: string, id: string) => messages.get(id),
    info: () => ({ members: members() }),
    send(_c: string, text: string, options: { file?: string } = {}) {
      const id = `m${messages.size + 1}`;
      messages.set(id, {
        id,
        author: self,
        text,
        ...(options.file ? { file: options.file } : {})
      } as Message);
      return id;
    }
  } as unknown as Chat;
}

function bytes(size: number, seed = 1): FileSource & { data: Uint8Array } {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * seed + 13) & 0xff;
  return {
    name: 'notes.txt',
    type: 'text/plain',
    size,
    data,
    stream: () => new Blob([data]).stream()
  };
}

async function device(members: () => string[], quota?: number, servingIdleMs?: number) {
  const node = await memoryPeer();
  const blockstore = new MemoryBlockstore();
  const att = createAttachments({
    chat: fakeChat(node.peerId.toString(), members),
    libp2p: () => node,
    blockstore,
    ...(quota !== undefined ? { estimate: async () => ({ usage: 1_000, quota }) } : {}),
    log: createTransferLog(),
    stallMs: 1_000,
    ...(servingIdleMs !== undefined ? { servingIdleMs } : {})
  });
  await att.start();
  cleanups.push(async () => {
    await att.stop();
    await node.stop();
  });
  return { node, att, blockstore, id: node.peerId.toString() };
}

/** Whether the stored file reads back as `data` (compared as bytes: toEqual on MBs is slow). */
async function readsBack(att: Attachments, messageId: string, data: Uint8Array): Promise<boolean> {
  const record = att.attachmentOf(CONV, messageId)!.record!;
  const parts: Uint8Array[] = [];
  for await (const p of att.read(record)) parts.push(p);
  return Buffer.concat(parts).equals(data);
}

describe('attachments', () => {
  it('attaches on one device and the other fetches it with progress', async () => {
    messages.clear();
    const ids: string[] = [];
    const a = await device(() => ids, undefined, 300);
    const b = await device(() => ids);
    ids.push(a.id, b.id);
    await connect(b.node, a.node);
    const file = bytes(3 * 1024 * 1024 + 17);
    // What A shows of sending it (A's own reads, like preparing it, are not sending).
    const sending: { bytes: number; total: number }[] = [];
    const seen: string[] = [];
    a.att.onChange((id) =>
      seen.push(`${id.startsWith('prep-') ? 'prep' : id}:${a.att.get(id)?.state ?? '-'}`)
    );
    const [messageId] = await a.att.attach(CONV, [file], { caption: 'the notes' });
    expect(messages.get(messageId!)?.text).toBe('the notes');
    expect(seen).toContain('prep:preparing');
    expect(a.att.get(messageId!)?.state).toBe('done');
    expect(a.att.get(messageId!)?.serving).toBeUndefined();
    a.att.onChange((id) => {
      const serving = a.att.get(id)?.serving;
      if (id === messageId && serving !== undefined) sending.push(serving);
    });

    const states = new Set<string>();
    b.att.onChange((id) => states.add(b.att.get(id)!.state));
    b.att.ensure(CONV, messageId!);
    await waitFor(() => b.att.get(messageId!)?.state === 'done', { message: 'fetched' });
    expect(states).toContain('downloading');
    expect(b.att.get(messageId!)?.bytes).toBe(file.size);
    expect(await readsBack(b.att, messageId!, file.data)).toBe(true);
    expect(b.att.stored().map((s) => s.messageId)).toEqual([messageId]);
    // A counted what it sent, up to the whole file once, then the run ended (idle).
    expect(sending.length).toBeGreaterThan(1);
    expect(sending.at(-1)).toMatchObject({ bytes: file.size, total: file.size });
    expect(sending.every((s, i) => i === 0 || s.bytes >= sending[i - 1]!.bytes)).toBe(true);
    await waitFor(() => a.att.get(messageId!)?.serving === undefined, { message: 'run ended' });
  }, 30_000);

  it('pauses, resumes, cancels; waits for a provider and goes on when one connects', async () => {
    messages.clear();
    const ids: string[] = [];
    const a = await device(() => ids);
    const b = await device(() => ids);
    ids.push(a.id, b.id);
    const file = bytes(2 * 1024 * 1024, 3);
    const [messageId] = await a.att.attach(CONV, [file]);
    // Not connected: nobody to fetch from.
    b.att.ensure(CONV, messageId!);
    await waitFor(() => b.att.get(messageId!)?.state === 'waiting', { message: 'waiting' });
    expect(b.att.get(messageId!)?.error).toMatch(/reachable/);
    b.att.pause(messageId!);
    expect(b.att.get(messageId!)?.state).toBe('paused');
    b.att.cancel(messageId!);
    expect(b.att.get(messageId!)?.state).toBe('cancelled');
    b.att.resume(messageId!);
    await waitFor(() => b.att.get(messageId!)?.state === 'waiting', { message: 'waiting again' });
    // A direct connection to a member: the waiting transfer goes on by itself.
    await connect(b.node, a.node);
    await waitFor(() => b.att.get(messageId!)?.state === 'done', { message: 'fetched' });
    expect(await readsBack(b.att, messageId!, file.data)).toBe(true);
  }, 30_000);

  it('refuses a file that would not fit, with a clear error, writing and sending nothing', async () => {
    messages.clear();
    const a = await device(() => [], 1_000_000);
    await expect(a.att.attach(CONV, [bytes(2 * 1024 * 1024)])).rejects.toThrow(
      /not enough storage space on this device for “notes\.txt” \(2\.1 MB needed, [\d.]+ KB free\)/
    );
    expect(a.att.preparing(CONV)).toEqual([]);
    expect(messages.size).toBe(0);
    let blocks = 0;
    for await (const _ of a.blockstore.getAll()) blocks++;
    expect(blocks).toBe(0);
  });

  it('shows a malformed record as an error on that file only', async () => {
    messages.clear();
    const a = await device(() => []);
    messages.set('bad', {
      id: 'bad',
      author: 'x',
      text: 'hi',
      file: '{"v":1,"cid":"nope"}'
    } as Message);
    const of = a.att.attachmentOf(CONV, 'bad');
    expect(of?.record).toBeUndefined();
    expect(of?.error).toMatch(/damaged/);
    a.att.ensure(CONV, 'bad');
    expect(a.att.get('bad')).toBeUndefined();
    expect(a.att.attachmentOf(CONV, 'none')).toBeUndefined();
  });
});
