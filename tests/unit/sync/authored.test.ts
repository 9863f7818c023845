/**
 * Author-bound updates through the sync service (issue 8, part 1; authored.ts): a member
 * device gone bad (`m`) writes raw Yjs into its own copy of the group, which its sync service
 * seals with m's key like any local change. Honest `a` refuses what m may not write, drops m,
 * and keeps every message as its authors wrote it; envelopes are forwarded unchanged, so a
 * member that joins later checks every author's signature itself.
 */
import { describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { authorOfClient } from '../../../src/lib/sync/authorship.js';
import { FORWARD_AS_IS_BYTES, lacking } from '../../../src/lib/sync/authored.js';
import {
  decodeEnvelopeList,
  envelopeSignedBytes,
  openEnvelope,
  sealEnvelope,
  updateRange
} from '../../../src/lib/sync/envelope.js';
import { decodeFrame, encodeFrame, FrameType } from '../../../src/lib/sync/protocol.js';
import type { SyncAccess } from '../../../src/lib/sync/sync.js';
import { createMemoryHistoryStore } from '../../../src/lib/storage/history-store.js';
import {
  exchange,
  headOf,
  memoryConversation,
  sealAnything,
  segmentOf
} from '../../../src/lib/sync/testing.js';
import { groupWithBadMember, SyncNetwork } from '../../fixtures/sync-network.js';

const access: SyncAccess = { canSync: (peer) => ['a', 'm', 'b', 'c'].includes(peer) };

async function group() {
  const setup = await groupWithBadMember(access);
  const { net, a, m } = setup;
  const mConv = m.sync.conversation('c')!;
  const aConv = a.sync.conversation('c')!;
  /** What a's messages are: id -> [author, text, deleted]. */
  const snapshot = (): string =>
    JSON.stringify(aConv.messages().map((x) => [x.id, x.author, x.text, x.deleted]));
  /** Runs a raw change in m's copy, lets it travel, says whether a dropped m. */
  const mWrites = async (part: 'head' | 'segment', change: (doc: Y.Doc) => void) => {
    const doc = part === 'head' ? headOf(mConv) : segmentOf(mConv, 0);
    doc.transact(() => change(doc));
    await net.settle();
    return a.sync.misbehaving().includes('m');
  };
  return { ...setup, aConv, mConv, snapshot, mWrites };
}

describe('every change authored', () => {
  it("a member's own changes go under client ids claimed for its key, and arrive", async () => {
    const { net, a, aConv, mConv } = await group();
    mConv.send('from m');
    await net.settle();
    expect(aConv.messages().map((x) => x.text)).toContain('from m');
    const seg = segmentOf(mConv, 0);
    expect(authorOfClient(seg, 'c#0', seg.clientID)).toBe('m');
    expect(a.sync.misbehaving()).toEqual([]);
  });

  it("deleting someone else's message: refused, the member dropped, the message kept", async () => {
    const { net, snapshot, mWrites } = await group();
    const before = snapshot();
    const dropped = await mWrites('segment', (doc) => {
      const id = [...doc.getMap('messages').keys()][0]!;
      doc.getMap('messages').delete(id);
    });
    expect(dropped).toBe(true);
    expect(snapshot()).toBe(before);
    expect(net.texts('b', 'c')).toHaveLength(5);
  });

  it("rewriting a message's text or author: refused", async () => {
    for (const [field, value] of [
      ['text', 'forged'],
      ['h', { a: 'm', c: 1, w: 1, n: 0 }]
    ] as const) {
      const { snapshot, mWrites } = await group();
      const before = snapshot();
      const dropped = await mWrites('segment', (doc) => {
        const id = [...doc.getMap('messages').keys()][0]!;
        (doc.getMap('messages').get(id) as Y.Map<unknown>).set(field, value);
      });
      expect(dropped, field).toBe(true);
      expect(snapshot(), field).toBe(before);
    }
  });

  it('undoing a deletion by replaying the old text: refused; the tombstone stays', async () => {
    const { net, aConv, snapshot, mWrites } = await group();
    const target = aConv.messages()[0]!;
    aConv.remove(target.id);
    await net.settle();
    const before = snapshot();
    const dropped = await mWrites('segment', (doc) => {
      const map = doc.getMap('messages').get(target.id) as Y.Map<unknown>;
      map.set('text', target.text);
      map.set('deleted', false);
    });
    expect(dropped).toBe(true);
    expect(snapshot()).toBe(before);
    expect(aConv.message(target.id)?.deleted).toBe(true);
  });

  it('removing another member or wiping meta.kind: refused; the group goes on', async () => {
    for (const change of [
      (doc: Y.Doc) => doc.getMap('members').delete('b'),
      (doc: Y.Doc) => doc.getMap('members').set('b', 0),
      (doc: Y.Doc) => doc.getMap('meta').delete('kind')
    ]) {
      const { net, aConv, mWrites } = await group();
      expect(await mWrites('head', change)).toBe(true);
      expect(aConv.members()).toEqual(['a', 'b', 'm']);
      expect(aConv.meta()?.kind).toBe('group');
      aConv.send('still here');
      await net.settle();
      expect(net.texts('b', 'c')).toContain('still here');
    }
  });

  it('a reaction or a receipt in someone else’s name: refused', async () => {
    for (const [part, change] of [
      [
        'segment',
        (doc: Y.Doc) => {
          const id = [...doc.getMap('messages').keys()][0]!;
          (doc.getMap('messages').get(id) as Y.Map<unknown>).set('r:👍\nb', true);
        }
      ],
      [
        'head',
        (doc: Y.Doc) => {
          const r = new Y.Map<unknown>();
          doc.getMap('receipts').set('b', r);
          r.set('read', 'zzzz');
        }
      ]
    ] as const) {
      const { mWrites } = await group();
      expect(await mWrites(part, change), part).toBe(true);
    }
  });

  it('a segment announced far ahead does not move anyone’s new messages there', async () => {
    const { net, a, aConv, mWrites } = await group();
    // Every member writes into the newest segment announced: 99,999 would take them all there.
    await mWrites('head', (doc) => doc.getMap('segments').set('99999', 1));
    expect(headOf(aConv).getMap('segments').has('99999')).toBe(false);
    const before = segmentOf(aConv, 0).getMap('messages').size;
    aConv.send('still in segment 0');
    await net.settle();
    expect(segmentOf(aConv).getMap('messages').size).toBe(before + 1);
    expect(segmentOf(aConv, 0).getMap('messages').size).toBe(before + 1);
    expect(a.sync.misbehaving()).toEqual([]); // it waits for segments that never come
  });

  it('an envelope whose signature does not verify: the sender is dropped', async () => {
    const { net, a, mConv } = await group();
    const doc = segmentOf(mConv, 0);
    const sv = Y.encodeStateVector(doc);
    mConv.send('sealed by m');
    const update = Y.encodeStateAsUpdate(doc, sv);
    // Sealed as 'b' with m's key.
    const forged = sealAnything({ author: 'b', wire: 'c#0', update }, net.signing.signer('m'));
    a.transport.handler!.frame(
      'm',
      encodeFrame({ type: FrameType.Update, conversationId: 'c#0', payload: forged })
    );
    await net.settle();
    expect(a.sync.misbehaving()).toContain('m');
  });

  it('an envelope whose header declares another range than its update writes: dropped', async () => {
    const { net, a, mConv, snapshot } = await group();
    const doc = segmentOf(mConv, 0);
    const sv = Y.encodeStateVector(doc);
    mConv.send('range lied about');
    const update = Y.encodeStateAsUpdate(doc, sv);
    const range = updateRange(update)!;
    const before = snapshot();
    for (const lie of [{ ...range, to: range.to + 5 }, { ...range, from: range.from + 1 }, null]) {
      const forged = sealEnvelope(
        { author: 'm', wire: 'c#0', update },
        net.signing.signer('m'),
        lie
      );
      a.transport.handler!.frame(
        'm',
        encodeFrame({ type: FrameType.Update, conversationId: 'c#0', payload: forged })
      );
      await net.settle();
      expect(a.sync.misbehaving()).toContain('m');
      expect(snapshot()).toBe(before);
    }
  });

  it('an envelope of another doc, or a raw update where an envelope belongs: dropped', async () => {
    for (const payload of [
      (m: Y.Doc) =>
        sealAnything(
          { author: 'm', wire: 'c', update: Y.encodeStateAsUpdate(m) },
          new SyncNetwork().signing.signer('m')
        ),
      (m: Y.Doc) => Y.encodeStateAsUpdate(m)
    ]) {
      const { net, a, mConv } = await group();
      a.transport.handler!.frame(
        'm',
        encodeFrame({
          type: FrameType.Update,
          conversationId: 'c#0',
          payload: payload(segmentOf(mConv, 0))
        })
      );
      await net.settle();
      expect(a.sync.misbehaving()).toContain('m');
    }
  });

  it('reactions are taken back by writing, and sync', async () => {
    const { net, aConv } = await group();
    const id = aConv.messages()[0]!.id;
    const bConv = () => net.peers.get('b')!.sync.conversation('c')!;
    expect(bConv().react(id, '👍')).toBe(true);
    await net.settle();
    expect(aConv.message(id)?.reactions).toEqual({ '👍': ['b'] });
    expect(bConv().react(id, '👍')).toBe(false);
    await net.settle();
    expect(aConv.message(id)?.reactions).toEqual({});
    expect(net.peers.get('a')!.sync.misbehaving()).toEqual([]);
  });

  it('both sides creating a 1:1 conversation at once converge; nobody is dropped', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access);
    const b = await net.peer('b', access);
    await a.sync.open('d');
    await b.sync.open('d');
    a.sync.conversation('d')!.init({ kind: '1:1', members: ['b'] });
    b.sync.conversation('d')!.init({ kind: '1:1', members: ['a'] });
    a.sync.conversation('d')!.send('hi from a');
    b.sync.conversation('d')!.send('hi from b');
    net.connect('a', 'b');
    await net.settle();
    expect(a.sync.misbehaving()).toEqual([]);
    expect(b.sync.misbehaving()).toEqual([]);
    expect(net.texts('a', 'd').sort()).toEqual(['hi from a', 'hi from b']);
    expect(net.texts('b', 'd').sort()).toEqual(['hi from a', 'hi from b']);
  });

  it('a member that comes later gets every author’s envelopes as they were signed', async () => {
    const { net, aConv, mConv } = await group();
    mConv.send('from m');
    await net.settle();
    // c joins through b only: what a and m wrote reaches it forwarded, never re-signed by b.
    const c = await net.peer('c', access);
    await c.sync.open('c');
    aConv.addMembers(['c']);
    await net.settle();
    const frames = vi.spyOn(c.transport.handler!, 'frame');
    net.connect('b', 'c');
    await net.settle();
    expect(net.texts('c', 'c')).toHaveLength(6);
    const seen: string[] = [];
    for (const [, bytes] of frames.mock.calls) {
      const frame = decodeFrame(bytes, Infinity);
      if (frame.type !== FrameType.Step2 || frame.conversationId !== 'c#0') continue;
      for (const e of decodeEnvelopeList(frame.payload)) seen.push(openEnvelope(e).author);
    }
    expect(new Set(seen)).toEqual(new Set(['a', 'm']));
    expect(c.sync.misbehaving()).toEqual([]);
  });
});

describe('large histories reach newcomers', () => {
  it('a history many times the message limit arrives in several step2s, from its author and forwarded', async () => {
    const limits = { maxMessageBytes: 16 * 1024, maxFrameBytes: 4096 };
    const net = new SyncNetwork();
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((id) => net.peer(id, access, limits)));
    for (const p of [a!, b!, c!]) await p.sync.open('g');
    const conv = a!.sync.conversation('g')!;
    conv.init({ kind: 'group', members: ['b', 'c'] });
    for (let i = 0; i < 300; i++) conv.send(`${i} `.padEnd(200, '~'));
    // Over 60 KB of envelopes against a 16 KiB message limit: b gets them from their author.
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'g')).toHaveLength(300);
    // c only ever meets b: the envelopes come forwarded, each still a's.
    net.disconnect('a', 'b');
    net.connect('b', 'c');
    await net.settle();
    expect(net.texts('c', 'g')).toHaveLength(300);
    for (const p of [a!, b!, c!]) expect(p.sync.misbehaving()).toEqual([]);
  });
});

describe('own runs', () => {
  it('an author keeps its stored envelopes merged as it writes; a newcomer still gets everything', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access);
    const b = await net.peer('b', access);
    await a.sync.open('g');
    await b.sync.open('g');
    const conv = a.sync.conversation('g')!;
    conv.init({ kind: 'group', members: ['b'] });
    for (let i = 0; i < 300; i++) conv.send(`message ${i}`);
    await a.sync.flush();
    // Merged every 64 local updates: a few envelopes, not 300.
    await waitUntil(async () => (await a.history.envelopes('g', 0)).length < 64);
    const stored = await a.history.envelopes('g', 0);
    expect(stored.every((e) => openEnvelope(e).author === 'a')).toBe(true);
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'g')).toHaveLength(300);
    expect(b.sync.misbehaving()).toEqual([]);
  });
});

describe('answering a step1 (lacking)', () => {
  it('picks envelopes by their headers; a merged run the peer lacks wholly goes as stored, the rest is merged and signed once', () => {
    const signing = new SyncNetwork().signing;
    let signs = 0;
    const sign = (b: Uint8Array): Uint8Array => {
      signs++;
      return signing.signer('a')(b);
    };
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 200; i++) doc.getMap('messages').set(`m${i}`, 'x'.repeat(100));
    const big = sealEnvelope(
      { author: 'a', wire: 'c#0', update: Y.mergeUpdates(updates.slice(0, 190)) },
      sign
    );
    const small = updates
      .slice(190)
      .map((update) => sealEnvelope({ author: 'a', wire: 'c#0', update }, sign));
    expect(big.byteLength).toBeGreaterThanOrEqual(FORWARD_AS_IS_BYTES);
    const ctx = { self: 'a', wire: 'c#0', sign, maxMergedBytes: 1 << 20 };
    signs = 0;
    const all = lacking([big, ...small], new Map(), ctx);
    expect(all[0]).toBe(big); // the very bytes stored
    expect(all).toHaveLength(2); // and the ten small ones merged into one
    expect(signs).toBe(1);
    const merged = openEnvelope(all[1]!);
    expect(merged.range).toEqual({ client: doc.clientID, from: 190, to: 200 });
    // Stored out of clock order (a merged run is stored after what was written meanwhile):
    // answered in clock order all the same.
    expect(lacking([...small, big], new Map(), ctx)[0]).toBe(big);
    // A peer that has part of the big run: cut to what it lacks, signed again.
    const some = lacking([big, ...small], new Map([[doc.clientID, 100]]), ctx);
    expect(some).toHaveLength(1);
    expect(openEnvelope(some[0]!).range).toEqual({ client: doc.clientID, from: 100, to: 200 });
    // A peer that has it all: nothing.
    expect(lacking([big, ...small], new Map([[doc.clientID, 200]]), ctx)).toEqual([]);
  });

  it('envelopes stored by sync 4.0.0 (version 1, no range) are still picked, forwarded and merged', () => {
    const signing = new SyncNetwork().signing;
    const v1 = (author: string, update: Uint8Array): Uint8Array => {
      const sig = signing.signer(author)(
        envelopeSignedBytes({ author, wire: 'c#0', update, range: undefined })
      );
      const name = (x: string): number[] => [x.length, ...new TextEncoder().encode(x)];
      return Uint8Array.of(1, ...name(author), ...name('c#0'), ...sig, ...update);
    };
    const write = (text: string): Uint8Array => {
      const doc = new Y.Doc();
      doc.getMap('messages').set(text, text);
      return Y.encodeStateAsUpdate(doc);
    };
    const theirs = v1('b', write('from b'));
    const mine = [v1('a', write('one')), v1('a', write('two'))];
    const ctx = { self: 'a', wire: 'c#0', sign: signing.signer('a'), maxMergedBytes: 1 << 20 };
    const out = lacking([theirs, ...mine], new Map(), ctx);
    expect(out[0]).toBe(theirs); // forwarded as stored
    // Ours: each is a client of its own (two docs), merged per client and sealed as version 2.
    expect(out.slice(1).map((e) => openEnvelope(e).range?.from)).toEqual([0, 0]);
    expect(out.slice(1).every((e) => e[0] === 2)).toBe(true);
  });
});

/** Polls `check` (a storage read) until it holds, 200 turns of the event loop at most. */
async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  for (let turn = 0; turn < 200; turn++) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('condition not reached');
}

describe('conversations from before sync 4', () => {
  it('stay readable and keep syncing between the members who had them: new messages, edits of old ones, receipts, a rename', async () => {
    // What an older version stored on a and on b: the head and messages, under client ids
    // nobody claimed (no envelopes).
    const stored = { a: createMemoryHistoryStore(), b: createMemoryHistoryStore() };
    const oldA = memoryConversation({ self: 'a', id: 'g' });
    oldA.init({ kind: 'group', name: 'old group', members: ['b'] });
    const first = oldA.send('from before the upgrade');
    oldA.markRead();
    const oldB = memoryConversation({ self: 'b', id: 'g' });
    exchange(oldA, oldB);
    oldB.markRead();
    exchange(oldA, oldB);
    for (const [conv, history] of [
      [oldA, stored.a],
      [oldB, stored.b]
    ] as const) {
      await history.appendHead('g', Y.encodeStateAsUpdate(headOf(conv)));
      await history.appendSegment('g', 0, Y.encodeStateAsUpdate(segmentOf(conv, 0)));
    }

    const net = new SyncNetwork();
    const a = await net.peer('a', access, {}, stored.a);
    const b = await net.peer('b', access, {}, stored.b);
    const aConv = await a.sync.open('g');
    const bConv = await b.sync.open('g');
    expect(net.texts('a', 'g')).toEqual(['from before the upgrade']);
    net.connect('a', 'b');
    await net.settle();
    aConv.edit(first.id, 'edited after the upgrade');
    aConv.rename('renamed');
    bConv.send('new from b');
    await net.settle();
    aConv.markRead();
    await net.settle();
    expect(net.texts('b', 'g')).toEqual(['edited after the upgrade', 'new from b']);
    expect(bConv.meta()?.name).toBe('renamed');
    expect(bConv.receipts('a').read).toBe(bConv.messages().at(-1)!.key);
    expect(a.sync.misbehaving()).toEqual([]);
    expect(b.sync.misbehaving()).toEqual([]);
  });
});

describe('signatures checked asynchronously (WebCrypto in the app)', () => {
  it('frames of a doc keep their order while their checks run; a forged one still drops its sender', async () => {
    const net = new SyncNetwork();
    const [a, b] = await Promise.all(
      ['a', 'b'].map((id) => net.peer(id, access, { envelopeChecks: 'async' }))
    );
    for (const p of [a!, b!]) await p.sync.open('g');
    const conv = a!.sync.conversation('g')!;
    conv.init({ kind: 'group', members: ['b'] });
    net.connect('a', 'b');
    await net.settle();
    const sent = Array.from({ length: 30 }, (_, i) => conv.send(`live ${i}`));
    const edited = sent[3]!;
    conv.edit(edited.id, 'edited while in flight');
    await net.settle();
    expect(net.texts('b', 'g')).toHaveLength(30);
    expect(b!.sync.conversation('g')!.message(edited.id)?.text).toBe('edited while in flight');
    // A's message deleted by b, sealed with b's key: refused after the asynchronous check.
    const bSeg = segmentOf(b!.sync.conversation('g')!, 0);
    bSeg.getMap('messages').delete(sent[0]!.id);
    await net.settle();
    expect(a!.sync.misbehaving()).toEqual(['b']);
    expect(net.texts('a', 'g')).toHaveLength(30);
    // In a's name with c's key: the asynchronous check refuses it.
    const c = await net.peer('c', access, { envelopeChecks: 'async' });
    await c.sync.open('g');
    // Continuing a's own client id, a message with a's header: only the signature is wrong.
    const aSeg = segmentOf(conv, 0);
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(aSeg));
    copy.clientID = aSeg.clientID;
    const sv = Y.encodeStateVector(copy);
    copy.transact(() => {
      const m = new Y.Map<unknown>();
      copy.getMap('messages').set('forged', m);
      m.set('h', { a: 'a', c: 1, w: 1, n: 0 });
      m.set('text', 'not really from a');
    });
    const forged = sealAnything(
      { author: 'a', wire: 'g#0', update: Y.encodeStateAsUpdate(copy, sv) },
      net.signing.signer('c')
    );
    a!.transport.handler!.frame(
      'c',
      encodeFrame({ type: FrameType.Update, conversationId: 'g#0', payload: forged })
    );
    net.connect('a', 'c');
    await net.settle();
    expect(a!.sync.misbehaving()).toContain('c');
    expect(conv.message('forged')).toBeUndefined();
  });
});
