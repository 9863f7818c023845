/**
 * Strangers cost little, in the tab and on the relay: junk on the sync stream, on the invite
 * stream and on the relay's circuit-relay hop stream, sent by real libp2p nodes. Each attack
 * must get the sender dropped (its connection closed, redials refused) and cost the victim at
 * most 2x the bytes sent in heap. Before the fix, 4 MiB of 0x80 (an unfinished varint) held
 * ~400 MiB on the sync stream until the stream closed, and the peer stayed connected.
 */
import { memory } from '@libp2p/memory';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContacts } from '../../src/lib/contacts/contacts.js';
import { createInvites } from '../../src/lib/contacts/invites.js';
import type { OutstandingInvite } from '../../src/lib/contacts/outstanding.js';
import { INVITE_PROTOCOL, SYNC_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createDenyList, type DenyList } from '../../src/lib/p2p/deny-list.js';
import { createMemoryHistoryStore } from '../../src/lib/storage/history-store.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createSync, type Sync } from '../../src/lib/sync/sync.js';
import { createLibp2pSyncTransport } from '../../src/lib/sync/transport-libp2p.js';
import { heapAfterGc } from '../fixtures/heap.js';
import { lengthPrefixed, partFrameDeclaring, sendUnfinishedVarint } from '../fixtures/junk.js';
import { createTestPeer, signerOf, waitFor, type TestPeer } from '../fixtures/node-peer.js';
import { readMetric, startRelay, type RelayHandle } from '../fixtures/relay.js';

const MiB = 1024 * 1024;
const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
const stops: (() => void | Promise<void>)[] = [];
let run = 0;

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await Promise.resolve(stop()).catch(() => {});
});

/** A node on an in-process memory transport (the victim or the attacker). */
async function memoryPeer(name: string, denyList?: DenyList): Promise<TestPeer> {
  const node = await createTestPeer({
    webrtc: false,
    listen: [`/memory/strangers-${process.pid}-${++run}-${name}`],
    extraTransports: [memory()],
    ...(denyList !== undefined
      ? { libp2p: { connectionGater: { denyDialMultiaddr: () => false, ...denyList.gater } } }
      : {})
  });
  denyList?.attach(node);
  stops.push(() => node.stop());
  return node;
}

async function victimWithSync(): Promise<{
  node: TestPeer;
  sync: Sync;
  denyList: DenyList;
  spans: string[];
}> {
  const denyList = createDenyList();
  const spans: string[] = [];
  const node = await memoryPeer('victim', denyList);
  const sync = createSync(
    { trace: (span) => spans.push(span) },
    {
      transport: createLibp2pSyncTransport(node, { denyList }),
      self: node.peerId.toString(),
      sign: signerOf(node),
      history: createMemoryHistoryStore(),
      // Everyone may sync 'c': the attacker is a member, the worst case for Part frames.
      access: { canSync: () => true }
    }
  );
  await sync.start();
  await sync.open('c');
  stops.push(() => sync.stop());
  return { node, sync, denyList, spans };
}

function connectedTo(node: TestPeer, peer: string): boolean {
  return node.getConnections().some((c) => c.remotePeer.toString() === peer);
}

/** The attacker's connection to the victim closed, it is denied, and a redial is refused. */
async function expectDropped(
  attacker: TestPeer,
  victim: TestPeer,
  denyList: DenyList
): Promise<void> {
  const id = attacker.peerId.toString();
  await waitFor(() => denyList.isDenied(id), { message: 'the attacker denied' });
  await waitFor(() => !connectedTo(victim, id), { message: 'the attacker disconnected' });
  await expect(attacker.dial(victim.getMultiaddrs()[0]!)).rejects.toThrow();
  expect(connectedTo(victim, id)).toBe(false);
}

describe('strangers in the tab (real libp2p nodes)', () => {
  it('4 MiB of 0x80 on a sync stream: the peer is dropped, the heap grows <= 2x', async () => {
    const { node: victim, denyList } = await victimWithSync();
    const attacker = await memoryPeer('attacker');
    const before = heapAfterGc();
    const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0]!, SYNC_PROTOCOL);
    const sent = await sendUnfinishedVarint(stream, 4 * MiB);
    await expectDropped(attacker, victim, denyList);
    const grown = heapAfterGc() - before;
    console.log(`sync stream: sent ${sent} B, victim heap +${grown} B`);
    expect(grown).toBeLessThanOrEqual(2 * 4 * MiB);
  });

  it('a Part frame declaring 64 MiB costs about its own size', async () => {
    const { node: victim, spans } = await victimWithSync();
    const attacker = await memoryPeer('attacker');
    const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0]!, SYNC_PROTOCOL);
    const frame = partFrameDeclaring('c', 64 * MiB);
    const before = heapAfterGc();
    const lp = lengthPrefixed(frame);
    // 32 such frames, each declaring 64 MiB (each restarts the assembly of the doc).
    let sent = 0;
    for (let i = 0; i < 32; i++) {
      stream.send(lp);
      sent += lp.byteLength;
    }
    await waitFor(() => spans.filter((s) => s === 'reassemble').length === 32, {
      message: 'the 32 parts read'
    });
    const grown = heapAfterGc() - before;
    console.log(`part frames: sent ${sent} B (declaring ${32 * 64} MiB), victim heap +${grown} B`);
    // The declared sizes would be 2 GiB; a little slack for libp2p's own bookkeeping.
    expect(grown).toBeLessThanOrEqual(2 * sent + MiB);
  });

  it('4 MiB of 0x80 on the invite stream: the peer is dropped, the heap grows <= 2x', async () => {
    const denyList = createDenyList();
    const victim = await memoryPeer('inviter', denyList);
    const contacts = createContacts({ store: createMemoryRecordStore() });
    await contacts.start();
    const invites = createInvites(
      { origin: 'https://app.example' },
      {
        host: victim,
        contacts,
        denyList,
        store: createMemoryRecordStore<OutstandingInvite>(),
        profile: () => ({ name: 'Victim' }),
        relays: () => []
      }
    );
    await invites.start();
    stops.push(() => invites.stop());
    await invites.create();
    const attacker = await memoryPeer('attacker');
    const before = heapAfterGc();
    const stream = await attacker.dialProtocol(victim.getMultiaddrs()[0]!, INVITE_PROTOCOL);
    const sent = await sendUnfinishedVarint(stream, 4 * MiB);
    await expectDropped(attacker, victim, denyList);
    const grown = heapAfterGc() - before;
    console.log(`invite stream: sent ${sent} B, victim heap +${grown} B`);
    expect(grown).toBeLessThanOrEqual(2 * 4 * MiB);
    expect(contacts.list()).toEqual([]);
  });
});

describe('strangers on the relay (real relay process)', () => {
  let relay: RelayHandle;
  let relayAddr: string;

  beforeAll(async () => {
    relay = await startRelay();
    relayAddr = relay.multiaddrs[0]!;
  });

  afterAll(async () => {
    await relay?.stop();
  });

  it('6 MiB of 0x80 on the circuit-relay hop stream: dropped, kept out, heap <= 2x', async () => {
    const heap = (): Promise<number> => readMetric(relay.url, 'nodejs_heap_size_used_bytes');
    const denied = (): Promise<number> =>
      readMetric(relay.url, 'p2p4e_relay_peers_denied_total').catch(() => 0);
    const attacker = await createTestPeer({ webrtc: false, dial: [relayAddr] });
    stops.push(() => attacker.stop());
    const before = await heap();
    const stream = await attacker.dialProtocol(multiaddr(relayAddr), HOP_PROTOCOL);
    const sent = await sendUnfinishedVarint(stream, 6 * MiB);
    await waitFor(async () => (await denied()) >= 1, { message: 'the relay denied the attacker' });
    await waitFor(() => attacker.getConnections().length === 0, {
      message: 'the relay closed the connection'
    });
    const grown = (await heap()) - before;
    console.log(`relay hop stream: sent ${sent} B, relay heap +${grown} B (no gc in the child)`);
    expect(grown).toBeLessThanOrEqual(2 * 6 * MiB);
    // Kept out: a new connection is refused (the relay's gater runs after the encryption
    // handshake, so the dialer may see the connection for a moment before it is closed).
    const opened = await readMetric(relay.url, 'p2p4e_relay_connections_opened_total');
    await attacker.dial(multiaddr(relayAddr)).catch(() => undefined);
    await waitFor(() => attacker.getConnections().length === 0, {
      message: 'the redial refused'
    });
    expect(await readMetric(relay.url, 'p2p4e_relay_connections_opened_total')).toBe(opened);
    // The relay is still healthy.
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });
});
