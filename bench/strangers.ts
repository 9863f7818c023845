/**
 * What a stranger's worst inputs cost, in memory per byte sent, on a tab-side node (the app's
 * sync transport and invite handler on a Node libp2p node) and on the real relay process:
 *
 * - 4 MiB of 0x80 (a length prefix that never ends) on the sync and the invite stream;
 * - 32 sync Part frames each declaring 64 MiB (from a member: strangers get no further);
 * - 100 identical empty state vectors (step1) for a 1,000-message doc: encodes done, time;
 * - 6 MiB of 0x80 on the relay's circuit-relay hop stream (heap from its /metrics, no gc).
 *
 *   npm run build:relay && node --experimental-websocket --import tsx bench/strangers.ts
 *
 * Prints a table; writes bench/results/strangers-<timestamp>.json and strangers-latest.json.
 * Target: every input costs <= 2x its own size.
 */
import '../relay/src/polyfills.js';
import { memory } from '@libp2p/memory';
import { multiaddr } from '@multiformats/multiaddr';
import { mkdir, writeFile } from 'node:fs/promises';
import { createContacts } from '../src/lib/contacts/contacts.js';
import { createInvites } from '../src/lib/contacts/invites.js';
import type { OutstandingInvite } from '../src/lib/contacts/outstanding.js';
import { INVITE_PROTOCOL, SYNC_PROTOCOL } from '../src/lib/p2p/constants.js';
import { createDenyList, type DenyList } from '../src/lib/p2p/deny-list.js';
import { createMemoryHistoryStore } from '../src/lib/storage/history-store.js';
import { createMemoryRecordStore } from '../src/lib/storage/record-store.js';
import { encodeFrame, FrameType } from '../src/lib/sync/protocol.js';
import { createSync, type Sync } from '../src/lib/sync/sync.js';
import { createLibp2pSyncTransport } from '../src/lib/sync/transport-libp2p.js';
import { heapAfterGc } from '../tests/fixtures/heap.js';
import {
  lengthPrefixed,
  partFrameDeclaring,
  sendUnfinishedVarint
} from '../tests/fixtures/junk.js';
import { createTestPeer, signerOf, waitFor, type TestPeer } from '../tests/fixtures/node-peer.js';
import { readMetric, startRelay } from '../tests/fixtures/relay.js';
import { fmt } from './lib/report.js';

const MiB = 1024 * 1024;
const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';
let run = 0;

interface Result {
  input: string;
  where: 'tab' | 'relay';
  bytesSent: number;
  /** Bytes the input claims or would have cost before the fix (for reading the table). */
  note: string;
  memoryGrowth: number;
  perByteSent: number;
  dropped: boolean;
  droppedMs: number | undefined;
}

async function memoryPeer(name: string, denyList?: DenyList): Promise<TestPeer> {
  const node = await createTestPeer({
    webrtc: false,
    listen: [`/memory/bench-strangers-${++run}-${name}`],
    extraTransports: [memory()],
    ...(denyList !== undefined
      ? { libp2p: { connectionGater: { denyDialMultiaddr: () => false, ...denyList.gater } } }
      : {})
  });
  denyList?.attach(node);
  return node;
}

async function syncVictim(
  spans: string[]
): Promise<{ node: TestPeer; sync: Sync; denyList: DenyList }> {
  const denyList = createDenyList();
  const node = await memoryPeer('victim', denyList);
  const sync = createSync(
    { trace: (span) => spans.push(span) },
    {
      transport: createLibp2pSyncTransport(node, { denyList }),
      self: node.peerId.toString(),
      sign: signerOf(node),
      history: createMemoryHistoryStore(),
      access: { canSync: () => true }
    }
  );
  await sync.start();
  await sync.open('c');
  return { node, sync, denyList };
}

async function timeDropped(
  denyList: DenyList,
  peer: string,
  t0: number
): Promise<number | undefined> {
  try {
    await waitFor(() => denyList.isDenied(peer), { timeoutMs: 15_000 });
    return performance.now() - t0;
  } catch {
    return undefined;
  }
}

async function varintOnSync(): Promise<Result> {
  const spans: string[] = [];
  const { node, sync, denyList } = await syncVictim(spans);
  const attacker = await memoryPeer('attacker');
  const before = heapAfterGc();
  const t0 = performance.now();
  const stream = await attacker.dialProtocol(node.getMultiaddrs()[0]!, SYNC_PROTOCOL);
  const sent = await sendUnfinishedVarint(stream, 4 * MiB);
  const droppedMs = await timeDropped(denyList, attacker.peerId.toString(), t0);
  const grown = heapAfterGc() - before;
  await Promise.all([sync.stop(), attacker.stop()]);
  await node.stop();
  return result(
    '4 MiB of 0x80, sync stream',
    'tab',
    4 * MiB,
    `${fmt(sent / MiB)} MiB got through`,
    grown,
    droppedMs
  );
}

async function varintOnInvite(): Promise<Result> {
  const denyList = createDenyList();
  const node = await memoryPeer('inviter', denyList);
  const contacts = createContacts({ store: createMemoryRecordStore() });
  await contacts.start();
  const invites = createInvites(
    { origin: 'https://app.example' },
    {
      host: node,
      contacts,
      denyList,
      store: createMemoryRecordStore<OutstandingInvite>(),
      profile: () => ({ name: 'Victim' }),
      relays: () => []
    }
  );
  await invites.start();
  await invites.create();
  const attacker = await memoryPeer('attacker');
  const before = heapAfterGc();
  const t0 = performance.now();
  const stream = await attacker.dialProtocol(node.getMultiaddrs()[0]!, INVITE_PROTOCOL);
  const sent = await sendUnfinishedVarint(stream, 4 * MiB);
  const droppedMs = await timeDropped(denyList, attacker.peerId.toString(), t0);
  const grown = heapAfterGc() - before;
  await invites.stop();
  await Promise.all([attacker.stop(), node.stop()]);
  return result(
    '4 MiB of 0x80, invite stream',
    'tab',
    4 * MiB,
    `${fmt(sent / MiB)} MiB got through`,
    grown,
    droppedMs
  );
}

/** 4 MiB of Part frames (200 KiB each, in order) of one step2 declaring 64 MiB. */
async function partFrames(): Promise<Result> {
  const spans: string[] = [];
  const { node, sync } = await syncVictim(spans);
  const attacker = await memoryPeer('attacker');
  const stream = await attacker.dialProtocol(node.getMultiaddrs()[0]!, SYNC_PROTOCOL);
  const chunk = 200 * 1024;
  const count = 20;
  const before = heapAfterGc();
  let sent = 0;
  for (let i = 0; i < count; i++) {
    const frame = lengthPrefixed(partFrameDeclaring('c', 64 * MiB, { offset: i * chunk, chunk }));
    if (!stream.send(frame)) await stream.onDrain();
    sent += frame.byteLength;
  }
  await waitFor(() => spans.filter((s) => s === 'reassemble').length === count);
  const grown = heapAfterGc() - before;
  await Promise.all([sync.stop(), attacker.stop()]);
  await node.stop();
  return result(
    '4 MiB of Part frames declaring 64 MiB',
    'tab',
    sent,
    'before the fix: 64 MiB',
    grown,
    undefined
  );
}

/** 100 identical empty step1s for a 1,000-message doc: how many encodes, how long. */
async function emptyStep1s(): Promise<{ encodes: number; ms: number; diffBytes: number }> {
  const spans: string[] = [];
  const { node, sync } = await syncVictim(spans);
  const conv = sync.conversation('c')!;
  conv.init({ kind: '1:1', members: ['someone'] });
  for (let i = 0; i < 1000; i++) conv.send(`message ${i}`);
  const attacker = await memoryPeer('attacker');
  const stream = await attacker.dialProtocol(node.getMultiaddrs()[0]!, SYNC_PROTOCOL);
  const step1 = lengthPrefixed(
    encodeFrame({ type: FrameType.Step1, conversationId: 'c#0', payload: new Uint8Array([0]) })
  );
  spans.length = 0;
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) stream.send(step1);
  await waitFor(() => spans.filter((s) => s === 'send').length >= 100, { timeoutMs: 30_000 });
  const ms = performance.now() - t0;
  const encodes = spans.filter((s) => s === 'diff').length;
  await Promise.all([sync.stop(), attacker.stop()]);
  await node.stop();
  return { encodes, ms, diffBytes: 0 };
}

async function varintOnRelay(): Promise<Result> {
  const relay = await startRelay();
  try {
    const addr = relay.multiaddrs[0]!;
    const attacker = await createTestPeer({ webrtc: false, dial: [addr] });
    const heap = (): Promise<number> => readMetric(relay.url, 'nodejs_heap_size_used_bytes');
    const before = await heap();
    const t0 = performance.now();
    const stream = await attacker.dialProtocol(multiaddr(addr), HOP_PROTOCOL);
    const sent = await sendUnfinishedVarint(stream, 6 * MiB);
    let droppedMs: number | undefined;
    try {
      await waitFor(
        async () =>
          (await readMetric(relay.url, 'p2p4e_relay_peers_denied_total').catch(() => 0)) >= 1,
        { timeoutMs: 15_000 }
      );
      droppedMs = performance.now() - t0;
    } catch {
      droppedMs = undefined;
    }
    const grown = (await heap()) - before;
    await attacker.stop();
    return result(
      '6 MiB of 0x80, circuit-relay hop',
      'relay',
      6 * MiB,
      `${fmt(sent / MiB)} MiB got through; no gc`,
      grown,
      droppedMs
    );
  } finally {
    await relay.stop();
  }
}

function result(
  input: string,
  where: 'tab' | 'relay',
  bytesSent: number,
  note: string,
  memoryGrowth: number,
  droppedMs: number | undefined
): Result {
  return {
    input,
    where,
    bytesSent,
    note,
    memoryGrowth,
    perByteSent: memoryGrowth / bytesSent,
    dropped: droppedMs !== undefined,
    droppedMs
  };
}

const results: Result[] = [];
for (const bench of [varintOnSync, varintOnInvite, partFrames, varintOnRelay]) {
  results.push(await bench());
}
const step1 = await emptyStep1s();

const header = [
  'input',
  'where',
  'sent',
  'memory growth',
  'growth / sent',
  'dropped after',
  'note'
];
const rows = results.map((r) => [
  r.input,
  r.where,
  `${fmt(r.bytesSent / 1024)} KiB`,
  `${fmt(r.memoryGrowth / 1024)} KiB`,
  `${r.perByteSent.toFixed(2)}x`,
  r.droppedMs === undefined ? 'not dropped' : fmt(r.droppedMs, ' ms'),
  r.note
]);
const all = [header, ...rows];
const widths = header.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
for (const row of all) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join(' | '));
console.log(
  `100 identical empty step1s (1,000-message doc): ${step1.encodes} encodes, ${fmt(step1.ms, ' ms')}`
);
const worst = Math.max(...results.map((r) => r.perByteSent));
console.log(`worst growth / sent: ${worst.toFixed(2)}x (target <= 2x)`);

const json = JSON.stringify(
  {
    date: new Date().toISOString(),
    node: process.version,
    results,
    step1,
    worstPerByteSent: worst
  },
  null,
  2
);
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
await writeFile(new URL(`strangers-${stamp}.json`, dir), json);
await writeFile(new URL('strangers-latest.json', dir), json);
console.log(`wrote bench/results/strangers-${stamp}.json and bench/results/strangers-latest.json`);
process.exit(0);
