/**
 * The sync service with inspectUpdate in front of Yjs: a member sending the fuzzer's updates
 * (issue 8) is dropped, nothing of them is applied, stored or passed on, and the doc still
 * encodes, reloads and converges. Stored state that fails inspection is skipped on load.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import {
  createMemoryHistoryBacking,
  createMemoryHistoryStore
} from '../../../src/lib/storage/history-store.js';
import { encodeFrame, FrameType } from '../../../src/lib/sync/protocol.js';
import type { SyncAccess } from '../../../src/lib/sync/sync.js';
import { headOf, sealAnything, segmentOf } from '../../../src/lib/sync/testing.js';
import { gcUpdate, nestingBomb } from '../../fixtures/crafted-updates.js';
import { groupWithBadMember, SyncNetwork } from '../../fixtures/sync-network.js';

const access: SyncAccess = { canSync: (peer) => ['a', 'm', 'b'].includes(peer) };

async function setup() {
  const { net, a, m, b } = await groupWithBadMember(access);
  // Sealed with m's key: m is a member, only the checks behind the signature stop it.
  const signM = net.signing.signer('m');
  const inject = (wire: string, payload: Uint8Array): void =>
    a.transport.handler!.frame(
      'm',
      encodeFrame({
        type: FrameType.Update,
        conversationId: wire,
        payload: sealAnything({ author: 'm', wire, update: payload }, signM)
      })
    );
  return { net, a, m, b, inject };
}

function reloads(doc: Y.Doc): Y.Doc {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return copy;
}

describe('updates refused by inspection', () => {
  const attacks: [string, (a: Y.Doc, head: Y.Doc) => [string, Uint8Array]][] = [
    ['poison (zero-length GC)', () => ['c#0', gcUpdate(12345, 0, 0)]],
    [
      'client id claim (2^40 GC)',
      (seg) => ['c#0', gcUpdate(seg.clientID, Y.getState(seg.store, seg.clientID), 2 ** 40)]
    ],
    ['nesting bomb under receipts', (_, head) => ['c', nestingBomb(head, 'receipts', 'a', 20_000)]],
    [
      'nesting bomb under a message',
      (seg) => {
        const id = [...seg.getMap('messages').keys()][0]!;
        const copy = new Y.Doc();
        Y.applyUpdate(copy, Y.encodeStateAsUpdate(seg));
        const sv = Y.encodeStateVector(copy);
        copy.transact(() => {
          let map = new Y.Map<unknown>();
          (copy.getMap('messages').get(id) as Y.Map<unknown>).set('edited', map);
          for (let i = 0; i < 20_000; i++) {
            const inner = new Y.Map<unknown>();
            map.set('e', inner);
            map = inner;
          }
        });
        return ['c#0', Y.encodeStateAsUpdate(copy, sv)];
      }
    ]
  ];

  for (const [name, make] of attacks) {
    it(`${name}: not applied, not stored, not passed on; the sender is dropped`, async () => {
      const { net, a, b, inject } = await setup();
      const conv = a.sync.conversation('c')!;
      const seg = segmentOf(conv, 0);
      const head = headOf(conv);
      const before = [Y.encodeStateVector(seg), Y.encodeStateVector(head)];
      const [wire, update] = make(seg, head);
      inject(wire, update);
      await net.settle();
      expect(a.sync.misbehaving()).toEqual(['m']);
      // Not applied (the docs are the same objects, unchanged) and still sound.
      expect(segmentOf(conv, 0)).toBe(seg);
      expect([Y.encodeStateVector(seg), Y.encodeStateVector(head)]).toEqual(before);
      expect(reloads(seg).getMap('messages').size).toBe(5);
      reloads(head);
      // Not stored, not passed on.
      const stored = await a.history.loadSegment('c', 0);
      expect(Y.encodeStateVector(reloads(new Y.Doc()) && docOf(stored!))).toEqual(before[0]);
      const bSeg = segmentOf(b.sync.conversation('c')!, 0);
      expect(Y.encodeStateVector(bSeg)).toEqual(before[0]);
      // The members go on.
      conv.send('after');
      conv.markRead();
      for (const msg of conv.messages()) if (msg.text !== 'after') conv.edit(msg.id, 'edited');
      await net.settle();
      expect(net.texts('b', 'c')).toContain('after');
      expect(net.texts('b', 'c')).toContain('edited');
    }, 30_000);
  }

  it('a clock gap: not applied, not pending, no drop; the step2 asked for brings the rest', async () => {
    const { net, a, m } = await setup();
    const mconv = m.sync.conversation('c')!;
    const updates: Uint8Array[] = [];
    const mseg = segmentOf(mconv, 0);
    mseg.on('update', (u: Uint8Array) => updates.push(u));
    // m writes two messages while a's link to it loses them; then the second comes alone.
    net.discard((f) => f.from === 'm');
    mconv.send('first');
    mconv.send('second');
    await net.settle();
    net.discard(() => false);
    a.transport.handler!.frame(
      'm',
      encodeFrame({
        type: FrameType.Update,
        conversationId: 'c#0',
        payload: sealAnything(
          { author: 'm', wire: 'c#0', update: updates.at(-1)! },
          net.signing.signer('m')
        )
      })
    );
    await net.settle();
    expect(a.sync.misbehaving()).toEqual([]);
    expect(net.texts('a', 'c')).toEqual(expect.arrayContaining(['first', 'second']));
  });
});

function docOf(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc;
}

describe('stored state that fails inspection', () => {
  it('is skipped with a logged reason; the rest of the conversation opens and syncs again', async () => {
    const backing = createMemoryHistoryBacking();
    const net = new SyncNetwork();
    const a = await net.peer('a', access, {}, createMemoryHistoryStore(backing));
    const b = await net.peer('b', access);
    await a.sync.open('c');
    await b.sync.open('c');
    a.sync.conversation('c')!.init({ kind: 'group', name: 'kept', members: ['b'] });
    a.sync.conversation('c')!.send('hello');
    net.connect('a', 'b');
    await net.settle();
    await a.sync.stop();
    // An older version stored a poisoned update into the segment.
    backing.conversations
      .get('c')!
      .segments.get(0)!
      .push(gcUpdate(4242, 0, 0));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const again = new SyncNetwork({}, net.signing); // the same devices, the same keys
    const a2 = await again.peer('a', access, {}, createMemoryHistoryStore(backing));
    const b2 = await again.peer('b', access, {}, b.history);
    await a2.sync.open('c');
    await b2.sync.open('c');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('skipped (zero-length GC struct)'));
    warn.mockRestore();
    expect(a2.sync.conversation('c')!.meta()?.name).toBe('kept');
    again.connect('a', 'b');
    await again.settle();
    expect(again.texts('a', 'c')).toEqual(['hello']);
  });
});

describe('found by the fuzzer (tests/unit/sync/fuzz.test.ts)', () => {
  it('an update of GC structs only is stored and passed on (members converge)', async () => {
    const { net, a, b, m, inject } = await setup();
    // m's own client id in the segment (claimed with its first message), one clock further.
    m.sync.conversation('c')!.send('from m');
    await net.settle();
    const mSeg = segmentOf(m.sync.conversation('c')!, 0);
    const client = mSeg.clientID;
    const at = Y.getState(mSeg.store, client);
    inject('c#0', gcUpdate(client, at, 1));
    await net.settle();
    expect(a.sync.misbehaving()).toEqual([]);
    const sv = (doc: Y.Doc): number =>
      Y.decodeStateVector(Y.encodeStateVector(doc)).get(client) ?? 0;
    expect(sv(segmentOf(a.sync.conversation('c')!, 0))).toBe(at + 1);
    // Passed on: before, the honest members' state vectors differed until a repair round.
    expect(sv(segmentOf(b.sync.conversation('c')!, 0))).toBe(at + 1);
    // Stored: the doc in memory and storage agree.
    expect(sv(docOf((await a.history.loadSegment('c', 0))!))).toBe(at + 1);
  });

  it('GC structs under a client id nobody claimed wait (never applied), nobody is dropped', async () => {
    const { net, a, inject } = await setup();
    inject('c#0', gcUpdate(4242, 0, 1));
    await net.settle();
    expect(a.sync.misbehaving()).toEqual([]);
    expect(Y.getState(segmentOf(a.sync.conversation('c')!, 0).store, 4242)).toBe(0);
  });

  it("a deletion of clocks the doc does not have yet is a gap: never held pending, so a device's next message is not deleted when it comes", async () => {
    const { net, a, b, inject } = await setup();
    const conv = a.sync.conversation('c')!;
    const seg = segmentOf(conv, 0);
    // 10 bytes: no structs; delete a's next 100 clocks of the segment.
    const e = encoding.createEncoder();
    for (const n of [0, 1, seg.clientID, 1, Y.getState(seg.store, seg.clientID), 100]) {
      encoding.writeVarUint(e, n);
    }
    inject('c#0', encoding.toUint8Array(e));
    await net.settle();
    expect(a.sync.misbehaving()).toEqual([]); // a gap: asked for a step2, nobody dropped
    expect(seg.store.pendingDs).toBeNull();
    const next = conv.send('next');
    b.sync.conversation('c')!.send('from b'); // a remote update: Yjs retries pending deletions
    await net.settle();
    for (const peer of ['a', 'b']) {
      expect(net.peers.get(peer)!.sync.conversation('c')!.message(next.id)?.text).toBe('next');
    }
  });

  it("a GC struct over another device's live changes: refused (storage would keep it in their place)", async () => {
    const { net, a, b, inject } = await setup();
    const seg = segmentOf(a.sync.conversation('c')!, 0);
    // All of a's changes to the segment and one clock more, as one GC struct (7 bytes).
    inject('c#0', gcUpdate(seg.clientID, 0, Y.getState(seg.store, seg.clientID) + 1));
    await net.settle();
    expect(a.sync.misbehaving()).toEqual(['m']);
    // What storage holds still loads the 5 messages.
    const stored = docOf((await a.history.loadSegment('c', 0))!);
    expect(stored.getMap('messages').size).toBe(5);
    expect(net.texts('b', 'c')).toHaveLength(5);
    expect(
      segmentOf(b.sync.conversation('c')!, 0).store.clients.get(seg.clientID)?.[0]
    ).toBeInstanceOf(Y.Item);
  });
});
