/**
 * A member gone bad sends the outside fuzzer's Yjs updates (issue 8) over real libp2p sync
 * streams, through the relay and direct WebRTC, each sealed in an envelope signed with its own
 * key (so only the checks behind the signature can refuse them): the poison (zero-length GC),
 * a claim of an honest device's client id (a 2^40 GC), a 20,000-deep nesting bomb, the
 * deletion of an honest member's message, and the same deletion sealed in that member's name
 * with the attacker's key. The honest members drop it each time; their docs stay intact,
 * encode, reload and keep converging.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryHistoryStore } from '../../src/lib/storage/history-store.js';
import { encodeFrame, FrameType } from '../../src/lib/sync/protocol.js';
import { createSync, type Sync, type SyncAccess, type SyncEvent } from '../../src/lib/sync/sync.js';
import { headOf, sealAnything, segmentOf } from '../../src/lib/sync/testing.js';
import { createLibp2pSyncTransport } from '../../src/lib/sync/transport-libp2p.js';
import type { SyncTransport } from '../../src/lib/sync/transport.js';
import {
  createTestPeer,
  dialWithRetry,
  signerOf,
  waitFor,
  type TestPeer
} from '../fixtures/node-peer.js';
import { gcUpdate, nestingBomb } from '../fixtures/crafted-updates.js';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';

let relay: RelayHandle;
let relayAddr: string;
const nodes: TestPeer[] = [];
const syncs: Sync[] = [];

interface Honest {
  id: string;
  node: TestPeer;
  sync: Sync;
  events: SyncEvent[];
}

async function honest(access: SyncAccess): Promise<Honest> {
  const node = await createTestPeer({ relay: relayAddr });
  nodes.push(node);
  const sync = createSync(
    { misbehavingMs: 200 },
    {
      transport: createLibp2pSyncTransport(node),
      self: node.peerId.toString(),
      sign: signerOf(node),
      history: createMemoryHistoryStore(),
      access
    }
  );
  await sync.start();
  syncs.push(sync);
  const events: SyncEvent[] = [];
  sync.onEvent((e) => events.push(e));
  return { id: node.peerId.toString(), node, sync, events };
}

async function connect(a: TestPeer, b: TestPeer): Promise<void> {
  await waitFor(() => b.getMultiaddrs().some((m) => m.toString().includes('/webrtc')), {
    message: 'a /webrtc address'
  });
  await dialWithRetry(a, `${relayAddr}/p2p-circuit/webrtc/p2p/${b.peerId.toString()}`);
}

const texts = (p: Honest): string[] =>
  p.sync
    .conversation('g')!
    .messages()
    .map((m) => m.text);

beforeAll(async () => {
  relay = await startRelay();
  relayAddr = relay.multiaddrs[0] ?? '';
});

afterEach(async () => {
  for (const s of syncs.splice(0)) await s.stop().catch(() => undefined);
  for (const n of nodes.splice(0)) await Promise.resolve(n.stop()).catch(() => undefined);
});

afterAll(async () => {
  await relay?.stop();
});

describe('a member sending hostile Yjs updates over libp2p', () => {
  it('poison, client id claim and nesting bomb: refused by each member, docs intact, converging', async () => {
    const members = new Set<string>();
    const access: SyncAccess = { canSync: (peer, id) => id === 'g' && members.has(peer) };
    const a = await honest(access);
    const b = await honest(access);
    const mNode = await createTestPeer({ relay: relayAddr });
    nodes.push(mNode);
    const m: SyncTransport = createLibp2pSyncTransport(mNode);
    await m.start({ peerUp() {}, frame() {}, malformed() {}, peerDown() {} });
    const mId = mNode.peerId.toString();
    for (const id of [a.id, b.id, mId]) members.add(id);
    await a.sync.open('g');
    await b.sync.open('g');
    a.sync.conversation('g')!.init({ kind: 'group', name: 'g', members: [b.id, mId] });
    await connect(a.node, b.node);
    await connect(mNode, a.node);
    await connect(mNode, b.node);
    for (let i = 0; i < 3; i++) a.sync.conversation('g')!.send(`a${i}`);
    b.sync.conversation('g')!.send('b0');
    await waitFor(() => texts(a).length === 4 && texts(b).length === 4, { message: 'in step' });

    const seg = segmentOf(a.sync.conversation('g')!, 0);
    // The deletion of a's first message, as a Yjs update.
    const copy = new Y.Doc();
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(seg));
    const sv = Y.encodeStateVector(copy);
    const first = a.sync.conversation('g')!.messages()[0]!.id;
    copy.getMap('messages').delete(first);
    const deletion = Y.encodeStateAsUpdate(copy, sv);
    const signM = signerOf(mNode);
    const sealed = (wire: string, update: Uint8Array, author = mId): Uint8Array =>
      sealAnything({ author, wire, update }, signM);
    const attacks: [string, string, Uint8Array, string][] = [
      ['poison', 'g#0', sealed('g#0', gcUpdate(777, 0, 0)), 'update refused'],
      [
        'claim',
        'g#0',
        sealed('g#0', gcUpdate(seg.clientID, Y.getState(seg.store, seg.clientID), 2 ** 40)),
        'update refused'
      ],
      [
        'bomb',
        'g',
        sealed('g', nestingBomb(headOf(a.sync.conversation('g')!), 'receipts', a.id, 20_000)),
        'update refused'
      ],
      ['delete', 'g#0', sealed('g#0', deletion), 'another author'],
      ['forged author', 'g#0', sealed('g#0', deletion, a.id), 'bad signature']
    ];
    for (const [name, wire, payload, why] of attacks) {
      for (const victim of [a, b]) {
        const dropped = (): number =>
          victim.events.filter((e) => e.type === 'peer-dropped' && e.peer === mId).length;
        const before = dropped();
        // Re-sent until refused: a ban from the attack before may still be running.
        await waitFor(
          () => {
            m.send(
              victim.id,
              encodeFrame({ type: FrameType.Update, conversationId: wire, payload })
            );
            return dropped() > before;
          },
          { message: `${name} refused`, intervalMs: 300 }
        );
        const reason = victim.events.filter((e) => e.type === 'peer-dropped').at(-1);
        expect(reason).toMatchObject({ reason: expect.stringContaining(why) });
      }
    }

    for (const p of [a, b]) {
      const conv = p.sync.conversation('g')!;
      const docs = [headOf(conv), segmentOf(conv, 0)];
      for (const doc of docs) {
        const reloaded = new Y.Doc();
        Y.applyUpdate(reloaded, Y.encodeStateAsUpdate(doc));
        expect(Y.encodeStateVector(reloaded)).toEqual(Y.encodeStateVector(doc));
      }
      expect(docs[1]!.getMap('messages').size).toBe(4);
      expect(headOf(conv).getMap('receipts').has(a.id)).toBe(false);
    }
    // a's own client id was not taken: its writes still reach b, and b's reach a.
    a.sync.conversation('g')!.send('after, from a');
    a.sync.conversation('g')!.markRead();
    b.sync.conversation('g')!.send('after, from b');
    await waitFor(() => texts(a).length === 6 && texts(b).length === 6, { message: 'converge' });
    expect(texts(a)).toEqual(texts(b));
    await waitFor(() => b.sync.conversation('g')!.receipts(a.id).read !== undefined, {
      message: 'receipts flow'
    });
  }, 90_000);
});
