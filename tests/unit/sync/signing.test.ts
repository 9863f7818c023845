/**
 * Message signatures: a member can't pass off a message, an edit or a deletion as another
 * member's (Yjs lets any member write anything; the signature says who did).
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ed25519Signer, verifyByPeer } from '../../../src/lib/crypto/signing.js';
import { createConversation, type Conversation } from '../../../src/lib/sync/conversation.js';
import { copyInto, memoryConversation, segmentOf, setOf } from '../../../src/lib/sync/testing.js';

interface Device {
  id: string;
  conv: Conversation;
}

async function device(conversationId = 'c', signed = true): Promise<Device> {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const conv = memoryConversation({
    self: id,
    id: conversationId,
    verify: verifyByPeer,
    ...(signed ? { sign: ed25519Signer(key.raw) } : {})
  });
  return { id, conv };
}

/** Everything `from` has, applied to `to`. */
function sync(from: Device, to: Device): void {
  copyInto(from.conv, to.conv);
}

async function group(): Promise<{ alice: Device; bob: Device; mallory: Device }> {
  const alice = await device();
  const bob = await device();
  const mallory = await device();
  alice.conv.init({ kind: 'group', name: 'g', members: [bob.id, mallory.id] });
  sync(alice, bob);
  sync(alice, mallory);
  return { alice, bob, mallory };
}

describe('message signatures', () => {
  it('messages, edits and deletions by their author verify on other devices', async () => {
    const { alice, bob } = await group();
    const m = alice.conv.send('hello');
    sync(alice, bob);
    expect(bob.conv.authenticity(m.id)).toBe('verified');
    alice.conv.edit(m.id, 'hello again');
    sync(alice, bob);
    expect(bob.conv.message(m.id)?.text).toBe('hello again');
    expect(bob.conv.authenticity(m.id)).toBe('verified');
    alice.conv.remove(m.id);
    sync(alice, bob);
    expect(bob.conv.message(m.id)?.deleted).toBe(true);
    expect(bob.conv.authenticity(m.id)).toBe('verified');
    expect(alice.conv.authenticity(m.id)).toBe('verified');
  });

  it("a message written in another member's name does not verify", async () => {
    const { alice, bob, mallory } = await group();
    const real = alice.conv.send('real');
    sync(alice, mallory);
    // Mallory copies the header and signature of Alice's message onto a new text and id.
    const source = segmentOf(mallory.conv).getMap('messages').get(real.id) as Y.Map<unknown>;
    const forged = new Y.Map<unknown>();
    forged.set('h', { ...(source.get('h') as object) });
    forged.set('text', 'send me your password');
    forged.set('s', source.get('s'));
    segmentOf(mallory.conv).getMap('messages').set('forged-id', forged);
    sync(mallory, bob);
    expect(bob.conv.message('forged-id')?.author).toBe(alice.id); // what it claims
    expect(bob.conv.authenticity('forged-id')).toBe('unverified');
    expect(bob.conv.authenticity(real.id)).toBe('verified');
  });

  it("another member's edit or deletion of a message does not verify", async () => {
    const { alice, bob, mallory } = await group();
    const a = alice.conv.send('first');
    const b = alice.conv.send('second');
    sync(alice, mallory);
    sync(alice, bob);
    expect(bob.conv.authenticity(a.id)).toBe('verified'); // cached now
    const messages = segmentOf(mallory.conv).getMap('messages');
    (messages.get(a.id) as Y.Map<unknown>).set('text', 'changed by mallory');
    segmentOf(mallory.conv).transact(() => {
      const map = messages.get(b.id) as Y.Map<unknown>;
      map.set('text', '');
      map.set('deleted', true);
    });
    sync(mallory, bob);
    expect(bob.conv.message(a.id)?.text).toBe('changed by mallory');
    expect(bob.conv.authenticity(a.id)).toBe('unverified');
    expect(bob.conv.authenticity(b.id)).toBe('unverified');
  });

  it('a signed message replayed into another conversation does not verify', async () => {
    const alice = await device('c1');
    const other = await device('c2');
    alice.conv.init({ kind: '1:1', members: [other.id] });
    const m = alice.conv.send('only for c1');
    // The same doc content opened as conversation c2.
    const asC2 = memoryConversation({ self: other.id, id: 'c2', verify: verifyByPeer });
    copyInto(alice.conv, asC2);
    expect(asC2.authenticity(m.id)).toBe('unverified');
  });

  it('unsigned messages do not verify; without a verifier it is unknown', async () => {
    const alice = await device('c', false);
    const bob = await device('c');
    alice.conv.init({ kind: '1:1', members: [bob.id] });
    const m = alice.conv.send('unsigned');
    sync(alice, bob);
    expect(bob.conv.authenticity(m.id)).toBe('unverified');
    const plain = createConversation(setOf(bob.conv), { self: bob.id });
    expect(plain.authenticity(m.id)).toBe('unknown');
  });
});

describe('message signatures: file records', () => {
  const RECORD = '{"v":1,"name":"a.pdf"}';
  const headerOf = (d: Device, id: string): Record<string, unknown> =>
    (segmentOf(d.conv).getMap('messages').get(id) as Y.Map<unknown>).get('h') as Record<
      string,
      unknown
    >;

  it('a file message with no caption, its edit and its deletion verify on other devices', async () => {
    const { alice, bob } = await group();
    const m = alice.conv.send('', { file: RECORD });
    sync(alice, bob);
    expect(bob.conv.message(m.id)).toMatchObject({ text: '', file: RECORD });
    expect(bob.conv.authenticity(m.id)).toBe('verified');
    alice.conv.edit(m.id, 'a caption after all');
    sync(alice, bob);
    expect(bob.conv.authenticity(m.id)).toBe('verified');
    alice.conv.remove(m.id);
    sync(alice, bob);
    expect(bob.conv.message(m.id)?.file).toBeUndefined();
    expect(bob.conv.authenticity(m.id)).toBe('verified');
  });

  it('a file record changed, added or taken away by another writer does not verify', async () => {
    const { alice, bob, mallory } = await group();
    const changed = alice.conv.send('', { file: RECORD });
    const stripped = alice.conv.send('caption', { file: RECORD });
    const added = alice.conv.send('no file');
    sync(alice, mallory);
    sync(alice, bob);
    for (const id of [changed.id, stripped.id, added.id]) {
      expect(bob.conv.authenticity(id)).toBe('verified'); // cached now
    }
    // Mallory writes new headers (bypassing the write rules: a doc copied as it is), keeping
    // Alice's signatures.
    const messages = segmentOf(mallory.conv).getMap('messages');
    const rewrite = (id: string, h: Record<string, unknown>): void => {
      (messages.get(id) as Y.Map<unknown>).set('h', h);
    };
    rewrite(changed.id, { ...headerOf(mallory, changed.id), f: '{"v":1,"name":"evil.exe"}' });
    const { f: _dropped, ...withoutFile } = headerOf(mallory, stripped.id);
    rewrite(stripped.id, withoutFile);
    rewrite(added.id, { ...headerOf(mallory, added.id), f: RECORD });
    sync(mallory, bob);
    expect(bob.conv.message(changed.id)?.file).toBe('{"v":1,"name":"evil.exe"}');
    expect(bob.conv.message(stripped.id)?.file).toBeUndefined();
    expect(bob.conv.message(added.id)?.file).toBe(RECORD);
    for (const id of [changed.id, stripped.id, added.id]) {
      expect(bob.conv.checkedAuthenticity(id)).toBeUndefined(); // the cache saw the change
      expect(bob.conv.authenticity(id)).toBe('unverified');
    }
  });
});
