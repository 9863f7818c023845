/**
 * A message's file attachment record (header field `f`): an opaque string, sent with an
 * optional caption, immutable, covered by the signature, gone from what readers see once the
 * message is deleted. Headers with a malformed record are skipped like any malformed header.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { type Conversation } from '../../../src/lib/sync/conversation.js';
import { MAX_FILE_RECORD_LENGTH, MAX_TEXT_LENGTH } from '../../../src/lib/sync/constants.js';
import { indexEntryOf, readHeader } from '../../../src/lib/sync/message-format.js';
import { readMessage, signedBytes } from '../../../src/lib/sync/message-read.js';
import { inspectUpdate } from '../../../src/lib/sync/update-check.js';
import { exchange, memoryConversation, segmentOf } from '../../../src/lib/sync/testing.js';

const RECORD = JSON.stringify({ v: 1, name: 'photo.jpg', size: 123456, root: 'bafy' });

function pair(): { a: Conversation; b: Conversation; sync: () => void } {
  const a = memoryConversation({ self: 'alice' });
  const b = memoryConversation({ self: 'bob' });
  const sync = (): void => exchange(a, b);
  a.init({ kind: 'group', name: 'g', members: ['bob'] });
  sync();
  return { a, b, sync };
}

/** A message map in a doc of its own, with the given header. */
function stored(h: unknown, text = ''): Y.Map<unknown> {
  const doc = new Y.Doc();
  const m = new Y.Map<unknown>();
  doc.getMap('messages').set('m1', m);
  m.set('h', h);
  m.set('text', text);
  return m;
}

const invalidInput = (message?: string): unknown =>
  expect.objectContaining({
    name: 'InvalidInputError',
    ...(message === undefined ? {} : { message })
  });

describe('signed bytes', () => {
  it('of a message without a file are exactly what they were before files (old signatures verify)', () => {
    const h = { a: 'alice', c: 1_700_000_000_000, w: 1_700_000_000_001, n: 2 };
    expect(new TextDecoder().decode(signedBytes('conv', 'm1', h, 'hi', false, false))).toBe(
      '["p2p4e/msg/1","conv","m1","alice",1700000000000,1700000000001,2,null,"hi",false,false]'
    );
    expect(signedBytes('conv', 'm1', { ...h, r: 'm0' }, 'é', true, false)).toEqual(
      new Uint8Array([
        ...new TextEncoder().encode(
          '["p2p4e/msg/1","conv","m1","alice",1700000000000,1700000000001,2,"m0","'
        ),
        0xc3,
        0xa9,
        ...new TextEncoder().encode('",true,false]')
      ])
    );
    expect(new TextDecoder().decode(signedBytes('conv', 'm1', h, '', false, true))).toBe(
      '["p2p4e/msg/1","conv","m1","alice",1700000000000,1700000000001,2,null,"",false,true]'
    );
  });

  it('cover the file record, after the quoted message', () => {
    const h = { a: 'alice', c: 1, w: 2, n: 3, f: '{"x":1}' };
    expect(new TextDecoder().decode(signedBytes('conv', 'm1', h, '', false, false))).toBe(
      '["p2p4e/msg/1","conv","m1","alice",1,2,3,null,"{\\"x\\":1}","",false,false]'
    );
    const other = signedBytes('conv', 'm1', { ...h, f: '{"x":2}' }, '', false, false);
    expect(other).not.toEqual(signedBytes('conv', 'm1', h, '', false, false));
    // No file and a text that looks like one: still different bytes (another array length).
    const plain = { a: 'alice', c: 1, w: 2, n: 3 };
    expect(signedBytes('conv', 'm1', plain, '{"x":1}', false, false)).not.toEqual(
      signedBytes('conv', 'm1', h, '', false, false)
    );
  });
});

describe('file records in headers', () => {
  const h = { a: 'alice', c: 1, w: 1, n: 0 };

  it('are read when a string of 1..MAX_FILE_RECORD_LENGTH units', () => {
    expect(readHeader(stored({ ...h, f: RECORD }))).toEqual({ ...h, f: RECORD });
    const longest = 'é'.repeat(MAX_FILE_RECORD_LENGTH);
    expect(readHeader(stored({ ...h, f: longest }))?.f).toBe(longest);
    expect(readHeader(stored({ ...h, r: 'm0', f: RECORD }))).toEqual({ ...h, r: 'm0', f: RECORD });
    expect(readHeader(stored(h))).toEqual(h);
    expect('f' in readHeader(stored(h))!).toBe(false);
  });

  it('make the header invalid when not a string, empty or too long: readers skip the message', () => {
    for (const f of [1, null, true, {}, ['x'], '', 'x'.repeat(MAX_FILE_RECORD_LENGTH + 1)]) {
      const m = stored({ ...h, f }, 'caption');
      expect(readHeader(m)).toBeUndefined();
      expect(readMessage('m1', m, 1)).toBeUndefined();
      expect(indexEntryOf('m1', m, 0)).toBeUndefined();
    }
  });

  it('are skipped by a conversation reading a remote header with a bad record', () => {
    const { a, b, sync } = pair();
    const good = a.send('', { file: RECORD });
    segmentOf(a).transact(() => {
      const m = new Y.Map<unknown>();
      segmentOf(a).getMap('messages').set('bad', m);
      m.set('h', { a: 'alice', c: 2, w: Date.now() + 10, n: 0, f: { name: 'x' } });
      m.set('text', 'caption');
    });
    sync();
    expect(b.message('bad')).toBeUndefined();
    expect(b.messages().map((m) => m.id)).toEqual([good.id]);
  });

  it('with an empty caption make a valid message and index entry', () => {
    const m = stored({ ...h, f: RECORD }, '');
    expect(readMessage('m1', m, 5)).toMatchObject({ text: '', file: RECORD, deleted: false });
    expect(indexEntryOf('m1', m, 0)).toMatchObject({ id: 'm1', author: 'alice', deleted: false });
  });

  it('of the longest size (in multibyte characters) pass the update limits', () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    const m = new Y.Map<unknown>();
    m.set('h', { a: 'alice', c: 1, w: 1, n: 0, f: '€'.repeat(MAX_FILE_RECORD_LENGTH) });
    m.set('text', '€'.repeat(MAX_TEXT_LENGTH));
    doc.getMap('messages').set('m1', m);
    expect(() => inspectUpdate(Y.mergeUpdates(updates), new Y.Doc())).not.toThrow();
  });
});

describe('sending, editing and deleting a message with a file', () => {
  it('round-trips with an empty caption to another replica', () => {
    const { a, b, sync } = pair();
    const sent = a.send('', { file: RECORD });
    expect(sent).toMatchObject({ text: '', file: RECORD, author: 'alice' });
    sync();
    expect(b.message(sent.id)).toMatchObject({ text: '', file: RECORD, deleted: false });
    const captioned = b.reply(sent.id, 'look', { file: '{"v":1}' });
    sync();
    expect(a.message(captioned.id)).toMatchObject({
      text: 'look',
      file: '{"v":1}',
      replyTo: sent.id
    });
    const plain = a.send('no file');
    sync();
    expect('file' in b.message(plain.id)!).toBe(false);
    expect(b.messages().map((m) => m.file)).toEqual([RECORD, '{"v":1}', undefined]);
  });

  it('checks the record and the caption', () => {
    const { a } = pair();
    expect(() => a.send('', { file: 'x'.repeat(MAX_FILE_RECORD_LENGTH + 1) })).toThrow(
      invalidInput('the file record is too long')
    );
    expect(() => a.send('hi', { file: '' })).toThrow(invalidInput());
    expect(() => a.send('x'.repeat(MAX_TEXT_LENGTH + 1), { file: RECORD })).toThrow(
      invalidInput('the message is too long')
    );
    expect(() => a.send('')).toThrow(invalidInput('a message needs some text'));
    expect(() => a.send('  ', {})).toThrow(invalidInput('a message needs some text'));
    expect(a.send('x'.repeat(MAX_TEXT_LENGTH), { file: RECORD }).file).toBe(RECORD);
    expect(a.send('', { file: 'x'.repeat(MAX_FILE_RECORD_LENGTH) }).text).toBe('');
    expect(a.messages()).toHaveLength(2); // nothing refused was written
  });

  it('a caption may be edited away; a text without a file may not', () => {
    const { a, b, sync } = pair();
    const withFile = a.send('caption', { file: RECORD });
    const plain = a.send('text');
    a.edit(withFile.id, '');
    expect(() => a.edit(plain.id, '')).toThrow(invalidInput('a message needs some text'));
    expect(() => a.edit(withFile.id, 'x'.repeat(MAX_TEXT_LENGTH + 1))).toThrow(invalidInput());
    sync();
    expect(b.message(withFile.id)).toMatchObject({ text: '', file: RECORD, edited: true });
    expect(() => b.edit(withFile.id, '')).toThrow(
      expect.objectContaining({ name: 'NotAuthorError' })
    );
  });

  it('deleted, it shows no file (the header keeps it, unchanged)', () => {
    const { a, b, sync } = pair();
    const sent = a.send('caption', { file: RECORD });
    sync();
    a.remove(sent.id);
    sync();
    for (const conv of [a, b]) {
      const m = conv.message(sent.id);
      expect(m).toMatchObject({ text: '', deleted: true });
      expect(m?.file).toBeUndefined();
      expect('file' in m!).toBe(false);
    }
    expect(b.messages().map((m) => m.file)).toEqual([undefined]);
    const map = segmentOf(b).getMap('messages').get(sent.id) as Y.Map<unknown>;
    expect(readHeader(map)?.f).toBe(RECORD); // immutable: signed deletions cover it
  });
});
