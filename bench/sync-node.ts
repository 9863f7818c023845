/**
 * Catch-up benchmark for conversation sync: device A holds two conversations with 10,000
 * messages each that device B has never seen; B connects and catches up over real libp2p
 * (two Node nodes, WebSockets on loopback, Noise, yamux, SYNC_PROTOCOL), compared with
 * applying the same state to fresh docs in memory (no network, no framing, no shadow doc).
 *
 *   node --experimental-websocket --import tsx bench/sync-node.ts
 *
 * Prints a table and writes bench/results/sync-node-<timestamp>.json and
 * bench/results/sync-node-latest.json. BENCH_SYNC_MESSAGES (default 10000) and
 * BENCH_SYNC_RUNS (default 5) change the size and the number of runs.
 */
import '../tests/fixtures/node-polyfills.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { multiaddr } from '@multiformats/multiaddr';
import * as Y from 'yjs';
import { createMemoryDocStore, type DocStore } from '../src/lib/storage/doc-store.js';
import { createConversation } from '../src/lib/sync/conversation.js';
import { createSync, type SyncAccess, type SyncSpan } from '../src/lib/sync/sync.js';
import { createLibp2pSyncTransport } from '../src/lib/sync/transport-libp2p.js';
import { createTestPeer } from '../tests/fixtures/node-peer.js';
import { fmt } from './lib/report.js';

const MESSAGES = Number(process.env.BENCH_SYNC_MESSAGES ?? 10_000);
const RUNS = Number(process.env.BENCH_SYNC_RUNS ?? 5);
const CONVERSATIONS = ['bench-1', 'bench-2'];
const allowAll: SyncAccess = { canSync: () => true };

/** A DocStore holding two conversations of MESSAGES messages each, written by `author`. */
function seededStore(author: string): { docs: DocStore; states: Uint8Array[] } {
  const docs = createMemoryDocStore();
  const states: Uint8Array[] = [];
  for (const id of CONVERSATIONS) {
    const doc = new Y.Doc();
    const conv = createConversation(doc, { self: author });
    conv.init({ kind: 'group', name: id, members: ['b'] });
    for (let i = 0; i < MESSAGES; i++) conv.send(`message ${i} of ${id}: some ordinary text`);
    const state = Y.encodeStateAsUpdate(doc);
    states.push(state);
    void docs.append(id, state);
  }
  return { docs, states };
}

/** ms per SyncSpan of one side (SyncInit.trace), while `on`. */
function recorder(): {
  spans: Record<string, number>;
  on: boolean;
  trace: (s: SyncSpan, ms: number) => void;
} {
  const r = {
    spans: {} as Record<string, number>,
    on: false,
    trace: (span: SyncSpan, ms: number): void => {
      if (r.on) r.spans[span] = (r.spans[span] ?? 0) + ms;
    }
  };
  return r;
}

async function overLibp2p(): Promise<{
  ms: number;
  bytes: number;
  a: Record<string, number>;
  b: Record<string, number>;
}> {
  const a = await createTestPeer({ webrtc: false, listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
  const b = await createTestPeer({ webrtc: false, listen: [] });
  const { docs, states } = seededStore(a.peerId.toString());
  const traceA = recorder();
  const traceB = recorder();
  const over = (n: typeof a) => ({
    transport: createLibp2pSyncTransport(n),
    self: n.peerId.toString()
  });
  const syncA = createSync({ trace: traceA.trace }, { ...over(a), docs, access: allowAll });
  const syncB = createSync(
    { trace: traceB.trace },
    { ...over(b), docs: createMemoryDocStore(), access: allowAll }
  );
  await syncA.start();
  await syncB.start();
  for (const id of CONVERSATIONS) {
    await syncA.open(id);
    await syncB.open(id);
  }
  const done = new Promise<void>((resolve) => {
    const pending = new Set(CONVERSATIONS);
    syncB.onEvent((e) => {
      if (e.type !== 'synced') return;
      if (syncB.conversation(e.conversationId)?.size() === MESSAGES)
        pending.delete(e.conversationId);
      if (pending.size === 0) {
        traceA.on = traceB.on = false;
        resolve();
      }
    });
  });
  traceA.on = traceB.on = true;
  const started = performance.now();
  await b.dial(multiaddr(a.getMultiaddrs()[0]!.toString()));
  await done;
  const ms = performance.now() - started;
  await syncA.stop();
  await syncB.stop();
  await a.stop();
  await b.stop();
  return {
    ms,
    bytes: states.reduce((n, s) => n + s.byteLength, 0),
    a: traceA.spans,
    b: traceB.spans
  };
}

function inMemory(): number {
  const { states } = seededStore('a');
  const started = performance.now();
  for (const state of states) {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const conv = createConversation(doc, { self: 'b' });
    if (conv.size() !== MESSAGES) throw new Error('in-memory apply lost messages');
  }
  return performance.now() - started;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

async function main(): Promise<void> {
  const net: number[] = [];
  const mem: number[] = [];
  const spansA: Record<string, number>[] = [];
  const spansB: Record<string, number>[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const r = await overLibp2p();
    net.push(r.ms);
    spansA.push(r.a);
    spansB.push(r.b);
    bytes = r.bytes;
    mem.push(inMemory());
  }
  // Both sides share this one thread: each span's median over the runs, per side.
  const medianSpans = (runs: Record<string, number>[]): Record<string, number> => {
    const names = [...new Set(runs.flatMap((r) => Object.keys(r)))].sort();
    return Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r[n] ?? 0))]));
  };
  const breakdownA = medianSpans(spansA);
  const breakdownB = medianSpans(spansB);
  const spanText = (spans: Record<string, number>): string =>
    Object.entries(spans)
      .filter(([, ms]) => ms >= 0.05)
      .map(([n, ms]) => `${n} ${fmt(ms, ' ms')}`)
      .join(', ');
  const rows = [
    ['metric', 'libp2p (ws loopback)', 'in memory', 'libp2p / memory'],
    [
      `catch-up, 2 x ${MESSAGES} messages (median of ${RUNS})`,
      fmt(median(net), ' ms'),
      fmt(median(mem), ' ms'),
      `${(median(net) / median(mem)).toFixed(2)}x`
    ],
    ['min', fmt(Math.min(...net), ' ms'), fmt(Math.min(...mem), ' ms'), ''],
    ['max', fmt(Math.max(...net), ' ms'), fmt(Math.max(...mem), ' ms'), ''],
    ['state size (both docs)', `${(bytes / 1024).toFixed(0)} KiB`, '', ''],
    ['spans of B (receiver), medians', spanText(breakdownB), '', ''],
    ['spans of A (sender), medians', spanText(breakdownA), '', '']
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j]!)).join(' | '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
  }
  const json = JSON.stringify(
    {
      bench: 'sync-node',
      date: new Date().toISOString(),
      node: process.version,
      messagesPerConversation: MESSAGES,
      conversations: CONVERSATIONS.length,
      runs: RUNS,
      stateBytes: bytes,
      libp2pMs: net,
      inMemoryMs: mem,
      medianLibp2pMs: median(net),
      medianInMemoryMs: median(mem),
      spansMedianMs: { receiver: breakdownB, sender: breakdownA },
      spans: { receiver: spansB, sender: spansA }
    },
    null,
    2
  );
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(new URL(`sync-node-${stamp}.json`, dir), json);
  await writeFile(new URL('sync-node-latest.json', dir), json);
  console.log(`wrote bench/results/sync-node-${stamp}.json`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench failed:', err);
    process.exit(1);
  }
);
