/**
 * Conversation sync between Node libp2p peers that meet through the real relay process and
 * then talk over direct WebRTC connections: 1:1, a 3-member group where B relays A's messages
 * to C, catch-up after being offline, and a non-member refused.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMemoryHistoryStore,
  type HistoryStore
} from '../../src/lib/storage/history-store.js';
import type { Conversation } from '../../src/lib/sync/conversation-types.js';
import { createSync, type Sync, type SyncAccess, type SyncEvent } from '../../src/lib/sync/sync.js';
import { createLibp2pSyncTransport } from '../../src/lib/sync/transport-libp2p.js';
import {
  createTestPeer,
  dialWithRetry,
  signerOf,
  waitFor,
  type TestPeer
} from '../fixtures/node-peer.js';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';

let relay: RelayHandle;
let relayAddr: string;
const running: { node: TestPeer; sync: Sync }[] = [];

interface SyncPeer {
  id: string;
  node: TestPeer;
  sync: Sync;
  events: SyncEvent[];
}

async function syncPeer(
  access: SyncAccess,
  opts: { privateKey?: PrivateKey; history?: HistoryStore; relay?: string } = {}
): Promise<SyncPeer> {
  const node = await createTestPeer({
    relay: opts.relay ?? relayAddr,
    ...(opts.privateKey !== undefined ? { privateKey: opts.privateKey } : {})
  });
  const sync = createSync(
    {},
    {
      transport: createLibp2pSyncTransport(node),
      self: node.peerId.toString(),
      sign: signerOf(node),
      history: opts.history ?? createMemoryHistoryStore(),
      access
    }
  );
  await sync.start();
  const events: SyncEvent[] = [];
  sync.onEvent((e) => events.push(e));
  running.push({ node, sync });
  return { id: node.peerId.toString(), node, sync, events };
}

async function stopPeer(p: SyncPeer): Promise<void> {
  await p.sync.stop();
  await p.node.stop();
}

/** Relayed connection first, then the direct WebRTC upgrade (like the app). */
async function connect(a: SyncPeer, b: SyncPeer, via = relayAddr): Promise<void> {
  await waitFor(() => b.node.getMultiaddrs().some((m) => m.toString().includes('/webrtc')), {
    message: 'a /webrtc address'
  });
  await dialWithRetry(a.node, `${via}/p2p-circuit/webrtc/p2p/${b.id}`);
}

/** Membership decided by a table filled in once the peer IDs are known. */
function table(): SyncAccess & { set(id: string, members: string[]): void } {
  const members = new Map<string, Set<string>>();
  return {
    set: (id, list) => void members.set(id, new Set(list)),
    canSync: (peer, id) => members.get(id)?.has(peer) ?? false
  };
}

const texts = (p: SyncPeer, id: string): string[] =>
  p.sync
    .conversation(id)
    ?.messages()
    .map((m) => m.text) ?? [];

beforeAll(async () => {
  relay = await startRelay();
  relayAddr = relay.multiaddrs[0] ?? '';
});

afterEach(async () => {
  for (const { node, sync } of running.splice(0)) {
    await sync.stop().catch(() => undefined);
    await Promise.resolve(node.stop()).catch(() => undefined);
  }
});

afterAll(async () => {
  await relay?.stop();
});

describe('sync over libp2p through the relay', () => {
  it('1:1: messages written before and after connecting reach both sides', async () => {
    const access = table();
    const a = await syncPeer(access);
    const b = await syncPeer(access);
    access.set('c', [a.id, b.id]);
    await a.sync.open('c');
    await b.sync.open('c');
    const conv = a.sync.conversation('c')!;
    conv.init({ kind: '1:1', members: [b.id] });
    const first = conv.send('written offline');
    expect(a.sync.messageStatus('c', first.id)).toBe('pending');
    await connect(a, b);
    await waitFor(() => texts(b, 'c').includes('written offline'), { message: 'b to get it' });
    await waitFor(() => a.sync.messageStatus('c', first.id) === 'sent', { message: 'sent' });
    b.sync.conversation('c')!.reply(first.id, 'got it');
    await waitFor(() => texts(a, 'c').includes('got it'), { message: 'a to get the reply' });
    b.sync.conversation('c')!.markRead();
    await waitFor(() => a.sync.messageStatus('c', first.id) === 'read', { message: 'read' });
    expect(texts(a, 'c')).toEqual(texts(b, 'c'));
  });

  it("3-member group: A's messages reach C through B, C's reach A", async () => {
    const access = table();
    const a = await syncPeer(access);
    const b = await syncPeer(access);
    const c = await syncPeer(access);
    access.set('g', [a.id, b.id, c.id]);
    for (const p of [a, b, c]) await p.sync.open('g');
    a.sync.conversation('g')!.init({ kind: 'group', name: 'three', members: [b.id, c.id] });
    await connect(a, b);
    await connect(b, c);
    expect(a.node.getConnections(c.node.peerId)).toHaveLength(0);
    a.sync.conversation('g')!.send('from a');
    await waitFor(() => texts(c, 'g').includes('from a'), { message: 'c to get it via b' });
    c.sync.conversation('g')!.send('from c');
    await waitFor(() => texts(a, 'g').includes('from c'), { message: 'a to get it via b' });
    expect(c.sync.conversation('g')!.meta()?.name).toBe('three');
    expect(texts(a, 'g')).toEqual(texts(c, 'g'));
  });

  it('catch-up: A writes while C is offline; B brings C up to date after A is gone', async () => {
    const access = table();
    const cKey = await generateKeyPair('Ed25519');
    const cHistory = createMemoryHistoryStore();
    const a = await syncPeer(access);
    const b = await syncPeer(access);
    let c = await syncPeer(access, { privateKey: cKey, history: cHistory });
    access.set('g', [a.id, b.id, c.id]);
    for (const p of [a, b, c]) await p.sync.open('g');
    a.sync.conversation('g')!.init({ kind: 'group', members: [b.id, c.id] });
    await connect(a, b);
    await connect(b, c);
    await waitFor(() => c.sync.conversation('g')!.meta() !== undefined, { message: 'c synced' });
    await stopPeer(c);
    for (let i = 0; i < 200; i++) a.sync.conversation('g')!.send(`offline ${i}`);
    await waitFor(() => texts(b, 'g').length === 200, { message: 'b to have all 200' });
    await stopPeer(a);
    c = await syncPeer(access, { privateKey: cKey, history: cHistory });
    await c.sync.open('g');
    expect(texts(c, 'g')).toEqual([]); // saved state: metadata only
    await connect(c, b);
    await waitFor(() => texts(c, 'g').length === 200, { message: 'c to catch up through b' });
    expect(texts(c, 'g')).toEqual(texts(b, 'g'));
  });

  it('a non-member is refused and learns nothing', async () => {
    const access = table();
    const a = await syncPeer(access);
    const b = await syncPeer(access);
    const eveAccess: SyncAccess = { canSync: () => true }; // eve tries everything
    const eve = await syncPeer(eveAccess);
    access.set('secret', [a.id, b.id]);
    await a.sync.open('secret');
    a.sync.conversation('secret')!.init({ kind: '1:1', members: [b.id] });
    a.sync.conversation('secret')!.send('private');
    await eve.sync.open('secret');
    await eve.sync.open('made-up');
    eve.sync.conversation('secret')!.send('let me in');
    await connect(eve, a);
    await waitFor(
      () =>
        ['secret', 'made-up'].every((id) =>
          eve.events.some((e) => e.type === 'unavailable' && e.conversationId === id)
        ),
      { message: 'eve to be refused for both' }
    );
    expect(texts(eve, 'secret')).toEqual(['let me in']);
    expect(texts(a, 'secret')).toEqual(['private']);
    // b, a member, still syncs fine with a.
    await b.sync.open('secret');
    await connect(b, a);
    await waitFor(() => texts(b, 'secret').includes('private'), { message: 'b to sync' });
  });

  it('a catch-up cut off by the relay data limit finishes over the direct connection', async () => {
    // A strict relay: relayed connections close after 64 KiB, far less than the catch-up.
    const strict = await startRelay({ args: ['--relay-data-limit', String(64 * 1024)] });
    try {
      const via = strict.multiaddrs[0] ?? '';
      const access = table();
      const a = await syncPeer(access, { relay: via });
      const b = await syncPeer(access, { relay: via });
      access.set('big', [a.id, b.id]);
      await a.sync.open('big');
      await b.sync.open('big');
      const conv = a.sync.conversation('big')!;
      conv.init({ kind: '1:1', members: [b.id] });
      for (let i = 0; i < 3000; i++) conv.send(`offline message ${i} ${'x'.repeat(200)}`);
      // Relayed first, so the sync handshake starts there and is cut mid-step2 ...
      await dialWithRetry(a.node, `${via}/p2p-circuit/p2p/${b.id}`);
      await waitFor(() => b.events.some((e) => e.type === 'status'), { message: 'sync started' });
      // ... then the direct connection takes over.
      await connect(a, b, via);
      // b's window keeps the newest messages (a catch-up this big trims it); its count and
      // scrolling back cover all of them.
      const convB = (): Conversation | undefined => b.sync.conversation('big');
      await waitFor(() => convB()?.size() === 3000, {
        message: 'b to have all 3000 messages',
        timeoutMs: 60_000
      });
      for (const p of [a, b]) while ((await p.sync.conversation('big')!.loadOlder()) > 0);
      expect(texts(b, 'big')).toHaveLength(3000);
      expect(texts(b, 'big')).toEqual(texts(a, 'big'));
      expect(a.sync.misbehaving()).toEqual([]);
      expect(b.sync.misbehaving()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
