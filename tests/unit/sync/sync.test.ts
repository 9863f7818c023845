import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createMemoryHistoryStore } from '../../../src/lib/storage/history-store.js';
import { claimClientId } from '../../../src/lib/sync/authorship.js';
import { encodeEnvelopeList } from '../../../src/lib/sync/envelope.js';
import { decodeFrame, encodeFrame, FrameType } from '../../../src/lib/sync/protocol.js';
import type { SyncAccess } from '../../../src/lib/sync/sync.js';
import { groupWithBadMember, rng, SyncNetwork, type NetPeer } from '../../fixtures/sync-network.js';
import {
  encodeAll,
  hasPendingStructs,
  sealAnything,
  segmentOf,
  stateVectors
} from '../../../src/lib/sync/testing.js';

/** Static membership: conversation id -> member peer IDs. */
function table(
  entries: Record<string, string[]>
): SyncAccess & { members: Map<string, Set<string>> } {
  const members = new Map(Object.entries(entries).map(([k, v]) => [k, new Set(v)]));
  return { members, canSync: (peer, id) => members.get(id)?.has(peer) ?? false };
}

/** Repair-round interval of the peers made by `pair()` (fake timers drive it). */
const INTERVAL = 20_000;

/** Peers a and b, both with conversation 'c' open (a 1:1 of theirs), not connected yet. */
async function pair(
  init: { repairIntervalMs?: number; maxFrameBytes?: number } = {}
): Promise<{ net: SyncNetwork; a: NetPeer; b: NetPeer }> {
  const net = new SyncNetwork();
  const access = table({ c: ['a', 'b'] });
  const a = await net.peer('a', access, { repairIntervalMs: INTERVAL, ...init });
  const b = await net.peer('b', access, { repairIntervalMs: INTERVAL, ...init });
  await a.sync.open('c');
  await b.sync.open('c');
  a.sync.conversation('c')!.init({ kind: '1:1', members: ['b'] });
  return { net, a, b };
}

describe('sync over an in-memory network', () => {
  it('1:1: handshake on connect, then live updates both ways', async () => {
    const { net, a, b } = await pair();
    a.sync.conversation('c')?.send('before connect');
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'c')).toEqual(['before connect']);
    b.sync.conversation('c')?.send('live from b');
    a.sync.conversation('c')?.send('live from a');
    await net.settle();
    expect(net.texts('a', 'c')).toEqual(net.texts('b', 'c'));
    expect(net.texts('a', 'c')).toHaveLength(3);
  });

  it("group: A's message reaches C through B; catch-up after offline", async () => {
    const net = new SyncNetwork();
    const access = table({ g: ['a', 'b', 'c'] });
    const peers = await Promise.all(['a', 'b', 'c'].map((p) => net.peer(p, access)));
    for (const p of peers) await p.sync.open('g');
    const a = peers[0]!.sync.conversation('g')!;
    a.init({ kind: 'group', name: 'trio', members: ['b', 'c'] });
    net.connect('a', 'b');
    net.connect('b', 'c');
    a.send('hello group');
    await net.settle();
    expect(net.texts('c', 'g')).toEqual(['hello group']);
    // C goes offline; A writes; A leaves; C comes back and B brings it up to date.
    net.disconnect('b', 'c');
    for (let i = 0; i < 20; i++) a.send(`offline ${i}`);
    await net.settle();
    net.disconnect('a', 'b');
    net.connect('b', 'c');
    await net.settle();
    expect(net.texts('c', 'g')).toHaveLength(21);
    expect(peers[2]!.sync.conversation('g')?.meta()?.name).toBe('trio');
  });

  it('live updates keep flowing after one side alone renews its channel', async () => {
    const { net, a, b } = await pair();
    net.connect('a', 'b');
    await net.settle();
    net.renew('a', 'b'); // a sees a second connection to b; b sees nothing new
    await net.settle();
    a.sync.conversation('c')!.send('after renew');
    b.sync.conversation('c')!.send('from b');
    await net.settle();
    expect(net.texts('b', 'c')).toContain('after renew');
    expect(net.texts('a', 'c')).toContain('from b');
  });

  it('step2s and updates bigger than a frame travel as parts', async () => {
    const { net, a } = await pair({ maxFrameBytes: 1024 });
    const conv = a.sync.conversation('c')!;
    for (let i = 0; i < 300; i++) conv.send(`message ${i}`);
    const sent: Uint8Array[] = [];
    const send = a.transport.send.bind(a.transport);
    a.transport.send = (peer, frame) => {
      sent.push(frame);
      send(peer, frame);
    };
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'c')).toHaveLength(300);
    conv.send('y'.repeat(10_000));
    await net.settle();
    expect(net.texts('b', 'c')[300]).toHaveLength(10_000);
    expect(sent.every((f) => f.byteLength <= 1024)).toBe(true);
    expect(sent.filter((f) => decodeFrame(f, 1024).type === FrameType.Part).length).toBeGreaterThan(
      20
    );
    expect(a.sync.misbehaving()).toEqual([]);
  });

  it('message status: pending offline, sent once a member has it, then delivered and read', async () => {
    const { net, a, b } = await pair();
    const conv = a.sync.conversation('c')!;
    const m = conv.send('hi');
    expect(a.sync.messageStatus('c', m.id)).toBe('pending');
    const events: string[] = [];
    a.sync.onEvent((e) => events.push(e.type));
    net.connect('a', 'b');
    await net.settle();
    expect(a.sync.messageStatus('c', m.id)).toBe('sent');
    const live = conv.send('live');
    expect(a.sync.messageStatus('c', live.id)).toBe('pending');
    await net.settle();
    expect(a.sync.messageStatus('c', live.id)).toBe('sent');
    b.sync.conversation('c')!.markDelivered();
    await net.settle();
    expect(a.sync.messageStatus('c', live.id)).toBe('delivered');
    b.sync.conversation('c')!.markRead(m.id);
    await net.settle();
    expect(a.sync.messageStatus('c', m.id)).toBe('read');
    expect(a.sync.messageStatus('c', live.id)).toBe('delivered');
    expect(a.sync.messageStatus('c', 'nope')).toBeUndefined();
    expect(events).toContain('status');
  });

  it('persists local changes at once and reloads them after a restart', async () => {
    const net = new SyncNetwork();
    const access = table({ c: ['a', 'b'] });
    const history = createMemoryHistoryStore();
    const a = await net.peer('a', access, {}, history);
    await a.sync.open('c');
    a.sync.conversation('c')!.init({ kind: '1:1', members: ['b'] });
    a.sync.conversation('c')!.send('kept');
    await new Promise((r) => setImmediate(r));
    await a.sync.stop();
    expect(await history.list()).toEqual(['c']);
    const again = await net.peer('a', access, {}, history);
    await again.sync.open('c');
    expect(net.texts('a', 'c')).toEqual(['kept']);
    const b = await net.peer('b', access);
    await b.sync.open('c');
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'c')).toEqual(['kept']);
  });

  it('ephemeral messages reach connected members and are never stored', async () => {
    const { net, a, b } = await pair();
    net.connect('a', 'b');
    await net.settle();
    const got: string[] = [];
    b.sync.onEvent((e) => {
      if (e.type === 'ephemeral') got.push(`${e.peer}:${new TextDecoder().decode(e.payload)}`);
    });
    const before = encodeAll(b.sync.conversation('c')!);
    a.sync.sendEphemeral('c', new TextEncoder().encode('typing'));
    await net.settle();
    expect(got).toEqual(['a:typing']);
    expect(encodeAll(b.sync.conversation('c')!)).toEqual(before);
    expect(() => a.sync.sendEphemeral('c', new Uint8Array(10_000))).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' })
    );
  });

  it('out-of-order updates: stops applying on pending structs and resyncs by state vector', async () => {
    const net = new SyncNetwork({ seed: 3, reorder: 1 });
    const access = table({ c: ['a', 'b'] });
    const a = await net.peer('a', access);
    const b = await net.peer('b', access);
    await a.sync.open('c');
    await b.sync.open('c');
    net.connect('a', 'b');
    await net.settle();
    const conv = a.sync.conversation('c')!;
    conv.init({ kind: '1:1', members: ['b'] });
    for (let i = 0; i < 200; i++) conv.send(`m${i}`);
    net.run(); // fully shuffled delivery
    await net.settle();
    expect(net.texts('b', 'c')).toEqual(net.texts('a', 'c'));
    expect(net.texts('b', 'c')).toHaveLength(200);
    expect(hasPendingStructs(b.sync.conversation('c')!)).toBe(false);
  });
});

describe('sync under chaos: drops, duplicates, reorders, partitions', () => {
  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
  it.each(seeds)('seed %i: 4 peers converge and nothing is lost', async (seed) => {
    const random = rng(seed * 7919);
    const net = new SyncNetwork({ seed, drop: 0.15, duplicate: 0.1, reorder: 0.3 });
    const ids = ['p0', 'p1', 'p2', 'p3'];
    const access = table({ g: ids, d: ['p0', 'p1'] });
    // Every third seed uses tiny frames: step2s and updates travel as parts, and lost parts
    // must be recovered by state vector.
    const init = seed % 3 === 0 ? { maxFrameBytes: 700 } : {};
    const peers = await Promise.all(ids.map((p) => net.peer(p, access, init)));
    for (const p of peers) await p.sync.open('g');
    await peers[0]!.sync.open('d');
    await peers[1]!.sync.open('d');
    peers[0]!.sync.conversation('g')!.init({ kind: 'group', name: 'g', members: ids });
    net.connectAll();
    const sent = new Set<string>();
    for (let round = 0; round < 30; round++) {
      const who = peers[Math.floor(random() * peers.length)]!;
      const conv = who.sync.conversation('g')!;
      const r = random();
      if (r < 0.6) {
        sent.add(conv.send(`${who.id}-${round}`).text);
      } else if (r < 0.7) {
        const list = conv.messages();
        const target = list[Math.floor(random() * list.length)];
        if (target !== undefined && !target.deleted) conv.react(target.id, '👍');
      } else if (r < 0.8) {
        conv.markRead();
      } else if (r < 0.85) {
        // one side alone sees a new connection (relayed, then direct) and handshakes again
        const x = ids[Math.floor(random() * ids.length)]!;
        const y = ids[Math.floor(random() * ids.length)]!;
        if (x !== y) net.renew(x, y);
      } else if (r < 0.92) {
        // partition: cut a random link, or bring one back
        const x = ids[Math.floor(random() * ids.length)]!;
        const y = ids[Math.floor(random() * ids.length)]!;
        if (x !== y) {
          if (net.connected(x, y)) net.disconnect(x, y);
          else net.connect(x, y);
        }
      } else if (who.id === 'p0' || who.id === 'p1') {
        sent.add(who.sync.conversation('d')!.send(`direct-${round}`).text);
      }
      for (let i = Math.floor(random() * 8); i > 0 && net.step(true); i--);
    }
    net.run();
    await Promise.resolve();
    if (seed % 2 === 0) {
      // Heal without cutting links: every side renews its channels in turn; nothing is lost.
      for (const x of ids)
        for (const y of ids)
          if (x !== y) {
            if (!net.connected(x, y)) net.connect(x, y);
            else net.renew(x, y);
          }
    } else {
      net.heal();
    }
    await net.settle();
    const reference = peers[0]!.sync.conversation('g')!.messages();
    for (const p of peers) {
      const conv = p.sync.conversation('g')!;
      expect(conv.messages()).toEqual(
        reference.map((m) => ({ ...m, displayAt: conv.message(m.id)!.displayAt }))
      );
      expect(stateVectors(conv)).toEqual(stateVectors(peers[0]!.sync.conversation('g')!));
      expect(hasPendingStructs(conv)).toBe(false);
    }
    const all = new Set([...reference.map((m) => m.text), ...net.texts('p1', 'd')]);
    for (const t of sent) expect(all.has(t)).toBe(true);
    expect(net.texts('p0', 'd')).toEqual(net.texts('p1', 'd'));
    // p2 and p3 never got the 1:1 conversation
    expect(peers[2]!.sync.conversation('d')).toBeUndefined();
  });
});

describe('untrusted input', () => {
  async function setup() {
    const access = table({ c: ['a', 'm', 'b'] });
    let t = 1_000_000;
    const { net, a, m, b } = await groupWithBadMember(access, { now: () => t });
    // Into the segment that holds the messages: a step2 or an update sealed with m's key (m is a
    // member: only the checks behind the signature stand in its way), other frames as they are.
    const signM = net.signing.signer('m');
    const inject = (payload: Uint8Array, type: FrameType = FrameType.Update): void => {
      const sealed = (): Uint8Array =>
        sealAnything({ author: 'm', wire: 'c#0', update: payload }, signM);
      const bytes =
        type === FrameType.Update
          ? sealed()
          : type === FrameType.Step2
            ? encodeEnvelopeList([sealed()])
            : payload;
      a.transport.handler!.frame('m', encodeFrame({ type, conversationId: 'c#0', payload: bytes }));
    };
    return { net, a, m, b, inject, advance: (ms: number) => (t += ms) };
  }

  // A valid update from m built on top of the shared state: a message of its own, written
  // under a client id claimed for m's key.
  function validUpdate(doc: Y.Doc): Uint8Array {
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    const sv = Y.encodeStateVector(copy);
    copy.transact(() => {
      claimClientId(copy, 'm', 'c#0');
      const msg = new Y.Map<unknown>();
      copy.getMap('messages').set('evil', msg);
      msg.set('h', { a: 'm', c: 1, w: 1, n: 0 });
      msg.set('text', 'x'.repeat(200));
    });
    return Y.encodeStateAsUpdate(copy, sv);
  }

  it('garbage, truncated, bit-flipped and oversized updates: doc intact and writable, peer dropped', async () => {
    const random = rng(99);
    let dropped = 0;
    let accepted = 0;
    for (let trial = 0; trial < 60; trial++) {
      const { net, a, inject, advance } = await setup();
      const before = Y.encodeStateAsUpdate(segmentOf(a.sync.conversation('c')!, 0));
      const good = validUpdate(segmentOf(a.sync.conversation('c')!, 0));
      let bad: Uint8Array;
      const kind = trial % 4;
      if (kind === 0) {
        bad = new Uint8Array(1 + Math.floor(random() * 300));
        for (let i = 0; i < bad.length; i++) bad[i] = Math.floor(random() * 256);
      } else if (kind === 1) {
        bad = good.slice(0, Math.max(1, Math.floor(random() * good.length)));
      } else if (kind === 2) {
        bad = good.slice();
        const flips = 1 + Math.floor(random() * 3);
        for (let i = 0; i < flips; i++) {
          const at = Math.floor(random() * bad.length);
          bad[at] = (bad[at] as number) ^ (1 << Math.floor(random() * 8));
        }
      } else {
        bad = new Uint8Array(9 * 1024 * 1024); // over the 8 MiB frame limit
      }
      inject(bad, trial % 8 === 1 ? FrameType.Step2 : FrameType.Update);
      await net.settle();
      const wasDropped = a.sync.misbehaving().includes('m');
      // The conversation's doc now (a failed update makes it reload from storage).
      const doc = segmentOf(a.sync.conversation('c')!, 0);
      if (wasDropped) {
        dropped++;
        expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
        expect(a.transport.peers()).not.toContain('m'); // its streams were closed
        // ignored while banned, even after reconnecting
        net.disconnect('a', 'm');
        net.connect('a', 'm');
        inject(good);
        expect(doc.getMap('messages').has('evil')).toBe(false);
        advance(61_000);
        expect(a.sync.misbehaving()).toEqual([]);
      } else {
        accepted++; // some bit flips apply as a different, still valid update
      }
      // Still writable, and still syncs with the honest member.
      const fresh = a.sync.conversation('c')!.send(`after ${trial}`);
      await net.settle();
      expect(net.peers.get('b')!.sync.conversation('c')!.message(fresh.id)?.text).toBe(
        `after ${trial}`
      );
      const reloaded = new Y.Doc();
      Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(doc));
      expect(reloaded.getMap('messages').size).toBe(doc.getMap('messages').size);
    }
    expect(dropped).toBeGreaterThan(45);
    expect(dropped + accepted).toBe(60);
  }, 60_000); // 60 trials, some with 9 MiB frames: seconds on a busy machine

  it('an update that fails while applying is neither stored nor passed on; the doc reloads and the model goes on', async () => {
    const { net, a, b, inject } = await setup();
    const conv = a.sync.conversation('c')!;
    const heard: string[][] = [];
    conv.onMessagesChange((ids) => heard.push(ids));
    const broken = segmentOf(conv, 0);
    // Something in applying it throws after part of it was integrated (here: an observer).
    broken.getMap('messages').observe((event) => {
      if (event.keysChanged.has('evil')) throw new Error('boom');
    });
    inject(validUpdate(broken));
    await net.settle();
    expect(a.sync.misbehaving()).toEqual(['m']);
    const reloaded = segmentOf(a.sync.conversation('c')!, 0);
    expect(reloaded).not.toBe(broken);
    expect(reloaded.getMap('messages').has('evil')).toBe(false);
    // Not stored: a fresh load from the same store has the 5 messages only.
    const stored = await net.peers.get('a')!.history.loadSegment('c', 0);
    const fromStore = new Y.Doc();
    Y.applyUpdate(fromStore, stored!);
    expect(fromStore.getMap('messages').has('evil')).toBe(false);
    expect(fromStore.getMap('messages').size).toBe(5);
    // Not passed on to the honest member.
    expect(segmentOf(b.sync.conversation('c')!, 0).getMap('messages').has('evil')).toBe(false);
    // The same model goes on over the reloaded doc, listeners included.
    expect(heard.flat()).toEqual(expect.arrayContaining([...conv.ids()]));
    const after = conv.send('after the reload');
    await net.settle();
    expect(b.sync.conversation('c')!.message(after.id)?.text).toBe('after the reload');
    expect(conv.size()).toBe(6);
  });

  it('malformed frames and state vectors drop the peer', async () => {
    for (const frame of [
      new Uint8Array([9, 1, 1, 99, 0]), // unknown version
      new Uint8Array([1, 42, 1, 99, 0]), // unknown type
      new Uint8Array([1, 1, 0, 0]), // empty id
      new Uint8Array([1, 1, 200, 1]), // id longer than the frame
      new Uint8Array([
        ...encodeFrame({ type: FrameType.Update, conversationId: 'c', payload: new Uint8Array(3) }),
        7
      ]) // trailing byte
    ]) {
      const { a, net } = await setup();
      a.transport.handler!.frame('m', frame);
      await net.settle();
      expect(a.sync.misbehaving()).toEqual(['m']);
    }
    const { a, inject, net } = await setup();
    inject(new Uint8Array([200, 200, 200]), FrameType.Step1);
    await net.settle();
    expect(a.sync.misbehaving()).toEqual(['m']);
    for (const part of [
      [FrameType.Step1, 10, 0, 1, 2, 3], // a part must carry a step2 or an update
      [FrameType.Update, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1], // total over the limit
      [FrameType.Update, 4, 2, 1, 2, 3], // past the end
      [FrameType.Update, 4, 0] // empty chunk
    ]) {
      const s = await setup();
      s.inject(Uint8Array.from(part), FrameType.Part);
      await s.net.settle();
      expect(s.a.sync.misbehaving()).toEqual(['m']);
    }
    expect(() => decodeFrame(new Uint8Array(100), 50)).toThrow(
      expect.objectContaining({ name: 'MalformedFrameError' })
    );
  });
});

describe('access control', () => {
  it('a non-member is refused exactly like a nonexistent conversation, and can not write', async () => {
    const net = new SyncNetwork();
    const access = table({ secret: ['a', 'b'] });
    const a = await net.peer('a', access);
    await a.sync.open('secret');
    a.sync.conversation('secret')!.init({ kind: '1:1', members: ['b'] });
    a.sync.conversation('secret')!.send('private');
    const replies: Uint8Array[] = [];
    // eve talks to a directly: capture a's answers.
    await net.network.transport('eve').start({
      frame: (_p: string, bytes: Uint8Array) => replies.push(bytes),
      peerUp() {},
      peerDown() {},
      malformed() {}
    });
    net.connect('a', 'eve');
    await net.settle();
    expect(replies).toEqual([]); // a offers nothing to a non-member
    const ask = (id: string, type: FrameType, payload: Uint8Array) =>
      a.transport.handler!.frame('eve', encodeFrame({ type, conversationId: id, payload }));
    const sv = Y.encodeStateVector(new Y.Doc());
    ask('secret', FrameType.Step1, sv);
    ask('nothing', FrameType.Step1, sv);
    await net.settle();
    expect(replies).toHaveLength(2);
    const [r1, r2] = replies.map((r) => decodeFrame(r, 1 << 20));
    expect(r1!.type).toBe(FrameType.Error);
    expect({ ...r1, conversationId: '' }).toEqual({ ...r2, conversationId: '' });
    // Updates from a non-member are not applied.
    const evil = new Y.Doc();
    evil.getMap('messages').set('x', 1);
    ask('secret#0', FrameType.Update, Y.encodeStateAsUpdate(evil));
    await net.settle();
    expect(segmentOf(a.sync.conversation('secret')!, 0).getMap('messages').has('x')).toBe(false);
    expect(replies).toHaveLength(3);
  });
});

describe('repair on a connection that stays up (lost frames, no reconnect)', () => {
  const typeOf = (bytes: Uint8Array): FrameType => decodeFrame(bytes, 1 << 30).type;
  const idOf = (bytes: Uint8Array): string => decodeFrame(bytes, 1 << 30).conversationId;

  /** Delivers the handshake's step1s (of the head and of each segment), nothing else. */
  /**
   * Delivers the step1s in flight, then waits (a bounded number of turns of the event loop)
   * until the step2s answering them are in flight too: they are read from storage.
   */
  async function deliverStep1s(net: SyncNetwork): Promise<void> {
    const inFlight = (...types: FrameType[]): number => {
      let found = 0;
      net.discard((f) => {
        if (types.includes(typeOf(f.bytes) as FrameType)) found++;
        return false;
      });
      return found;
    };
    // A step2 may go as one frame, compressed, or in Parts.
    const answers = (): number => inFlight(FrameType.Step2, FrameType.Deflated, FrameType.Part);
    let asked = 0;
    while (inFlight(FrameType.Step1) > 0) {
      net.step(false);
      asked++;
    }
    for (let turn = 0; turn < 100 && answers() < asked; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (answers() < asked) throw new Error('step1s left unanswered');
  }

  /** Runs `rounds` repair rounds, delivering everything after each. */
  async function rounds(net: SyncNetwork, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      vi.advanceTimersByTime(INTERVAL);
      await net.settle();
    }
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a lost step2 (the answer to a step1) is asked for again', async () => {
    const { net, a } = await pair();
    for (let i = 0; i < 20; i++) a.sync.conversation('c')!.send(`offline ${i}`);
    net.connect('a', 'b');
    // Deliver the step1s, then lose a's step2 of the segment to b.
    await deliverStep1s(net);
    const isLost = (f: { from: string; bytes: Uint8Array }): boolean =>
      f.from === 'a' &&
      (typeOf(f.bytes) === FrameType.Step2 || typeOf(f.bytes) === FrameType.Deflated) &&
      idOf(f.bytes) === 'c#0';
    expect(net.discard(isLost)).toBe(1);
    await net.settle();
    expect(net.texts('b', 'c')).toHaveLength(0);
    await rounds(net, 2);
    expect(net.texts('b', 'c')).toHaveLength(20);
  });

  it('without repair rounds the same loss stays until the next connection', async () => {
    const { net, a } = await pair({ repairIntervalMs: 0 });
    for (let i = 0; i < 5; i++) a.sync.conversation('c')!.send(`offline ${i}`);
    net.connect('a', 'b');
    await deliverStep1s(net);
    net.discard((f) => f.from === 'a' && typeOf(f.bytes) === FrameType.Step2);
    await net.settle();
    await rounds(net, 3);
    expect(net.texts('b', 'c')).toHaveLength(0);
  });

  it('lost live updates are sent again once the peer acks stop moving', async () => {
    const { net, a } = await pair();
    net.connect('a', 'b');
    await net.settle();
    a.sync.conversation('c')!.send('lost in transit');
    const isMessage = (f: { from: string; bytes: Uint8Array }): boolean =>
      f.from === 'a' && typeOf(f.bytes) === FrameType.Update && idOf(f.bytes) === 'c#0';
    expect(net.discard(isMessage)).toBe(1);
    await net.settle();
    expect(net.texts('b', 'c')).toEqual([]);
    await rounds(net, 2);
    expect(net.texts('b', 'c')).toEqual(['lost in transit']);
    // In sync: further rounds send nothing but state vectors.
    const before = net.delivered;
    await rounds(net, 2);
    expect(net.delivered - before).toBe(0);
  });

  it('a step2 whose last parts were lost is dropped and asked for again', async () => {
    const { net, a, b } = await pair({ maxFrameBytes: 4096 });
    for (let i = 0; i < 200; i++) a.sync.conversation('c')!.send(`message ${i} ${'x'.repeat(40)}`);
    net.connect('a', 'b');
    await deliverStep1s(net);
    // Keep the first part of a's step2, lose the rest: b waits for parts that never come.
    const isPart = (f: { from: string; bytes: Uint8Array }): boolean =>
      f.from === 'a' && typeOf(f.bytes) === FrameType.Part;
    let toLose = -1; // discard() walks from the newest frame: all parts but the first
    net.discard((f) => (isPart(f) ? (toLose++, false) : false));
    const lost = net.discard((f) => isPart(f) && toLose-- > 0);
    expect(lost).toBeGreaterThan(1);
    await net.settle();
    expect(net.texts('b', 'c')).toHaveLength(0);
    await rounds(net, 3);
    expect(net.texts('b', 'c')).toHaveLength(200);
    expect(b.sync.misbehaving()).toEqual([]);
  });
});

describe('repair rounds stay quiet when there is nothing to repair', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Frames `from` sends during `n` rounds (everything delivered after each). */
  async function framesDuring(
    net: SyncNetwork,
    from: string,
    n: number,
    first?: () => void
  ): Promise<FrameType[]> {
    const sent: FrameType[] = [];
    const transport = net.peers.get(from)!.transport;
    const original = transport.send;
    transport.send = (peer, bytes, options) => {
      sent.push(decodeFrame(bytes, 1 << 30).type);
      original.call(transport, peer, bytes, options);
    };
    if (first !== undefined) {
      first();
      await net.settle();
    }
    for (let i = 0; i < n; i++) {
      vi.advanceTimersByTime(INTERVAL);
      await net.settle();
    }
    transport.send = original;
    return sent;
  }

  it('a peer that answers "unavailable" is not asked again and again', async () => {
    const net = new SyncNetwork();
    const access = table({ c: ['a', 'b'] });
    const a = await net.peer('a', access, { repairIntervalMs: INTERVAL });
    await net.peer('b', access, { repairIntervalMs: INTERVAL }); // never opens 'c'
    await a.sync.open('c');
    a.sync.conversation('c')!.init({ kind: '1:1', members: ['b'] });
    net.connect('a', 'b');
    await net.settle();
    expect(await framesDuring(net, 'a', 8)).toEqual([]);
  });

  it('a gap nobody can fill is refused before Yjs holds it pending: one step1, nobody dropped, live updates flow', async () => {
    const { net, a, b } = await pair();
    net.connect('a', 'b');
    await net.settle();
    // A third writer's second change without its first: nobody has the first.
    const x = new Y.Doc();
    const updates: Uint8Array[] = [];
    x.on('update', (u: Uint8Array) => updates.push(u));
    x.getMap('stray').set('one', 1);
    x.getMap('stray').set('two', 2);
    const sent = await framesDuring(net, 'a', 0, () =>
      a.transport.handler!.frame(
        'b',
        encodeFrame({
          type: FrameType.Update,
          conversationId: 'c',
          payload: sealAnything(
            { author: 'b', wire: 'c', update: updates[1]! },
            net.signing.signer('b')
          )
        })
      )
    );
    expect(hasPendingStructs(a.sync.conversation('c')!)).toBe(false);
    expect(sent.filter((t) => t === FrameType.Step1)).toHaveLength(1); // b's step2 fills real gaps
    expect(a.sync.misbehaving()).toEqual([]); // a lost frame causes gaps too
    expect(await framesDuring(net, 'a', 6)).toEqual([]);
    b.sync.conversation('c')!.send('still flowing');
    await net.settle();
    expect(net.texts('a', 'c')).toEqual(['still flowing']);
  });

  it('a lost update reaches a peer that keeps talking (its own progress does not hide ours)', async () => {
    const { net, a, b } = await pair();
    net.connect('a', 'b');
    await net.settle();
    a.sync.conversation('c')!.send('lost once');
    net.discard((f) => f.from === 'a' && decodeFrame(f.bytes, 1 << 30).type === FrameType.Update);
    for (let i = 0; i < 2; i++) {
      b.sync.conversation('c')!.send(`chatter ${i}`);
      await net.settle();
      vi.advanceTimersByTime(INTERVAL);
      await net.settle();
    }
    expect(net.texts('b', 'c')).toContain('lost once');
  });
});
