/**
 * `npm run bench`: the app's libp2p node against a raw RTCDataChannel, in real Chromium, between
 * two pages in two browser contexts, through a local relay process.
 *
 * 1. page load -> relay reservation (fresh pages): the app itself, served by the relay, with a
 *    breakdown of its start path, and the bench page's node,
 * 2. direct dial time and success rate (hang up + redial, alternating direction),
 * 3. echo round trip of a small message: libp2p stream vs raw data channel,
 * 4. bulk throughput over one libp2p stream vs the raw data channel,
 * 5. conversations (the app's sync stack): catch-up of two conversations over the direct
 *    connection vs applying the same state in memory, send -> observed latency on the other
 *    page vs the echo round trips / 2, and opening a big conversation stored in IndexedDB.
 *
 * Prints a table, writes bench/results/<timestamp>.json and bench/results/latest.json. Every
 * step has a timeout and the whole run has a budget (BENCH_BUDGET_S); it exits non-zero with a
 * message when something does not work. Tunables: see `readConfig()`.
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromiumArgs, findChromium } from '../tests/fixtures/browser.js';
import { startRelay } from '../tests/fixtures/relay.js';
import type {
  BulkResult,
  CatchUpResult,
  DialResult,
  OpenResult,
  SingleDocOpenResult,
  SpanTotals,
  RawConnectResult,
  ReservationTiming
} from './page/api.js';
import { measureAppStart, summarizeAppStart, type AppStartSample } from './lib/app-start.js';
import { measureFiles, type FilesConfig, type FilesResult } from './lib/files-phase.js';
import { filesReport } from './lib/files-report.js';
import { startProfile, startTrace } from './lib/profile.js';
import { fmt, formatTable, ratio, type Row } from './lib/report.js';
import { startStaticServer, type StaticServer } from './lib/static-server.js';
import { mbPerSecond, summarize, type Summary } from './lib/stats.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 * 1024;

class BenchError extends Error {
  override name = 'BenchError';
}

interface Config {
  reservationPages: number;
  dials: number;
  dialTimeoutMs: number;
  dialPauseMs: number;
  rawConnects: number;
  rttSize: number;
  rttCount: number;
  rttRounds: number;
  rttWarmup: number;
  bulkBytes: number;
  bulkRounds: number;
  bulkChunk: number;
  chatMessages: number;
  chatCatchUpTimeoutMs: number;
  chatLatencyCount: number;
  chatLatencyWarmup: number;
  chatOpenMessages: number;
  chatOpenRuns: number;
  chatWindow: number;
  indexEntries: number;
  indexSends: number;
  files: FilesConfig;
  budgetMs: number;
  verbose: boolean;
  phases: Set<Phase>;
}

/** Phases in the order they run; `BENCH_PHASES` picks some of them. */
const PHASES = [
  'reservation',
  'dial',
  'raw',
  'rtt',
  'bulk',
  'catchup',
  'latency',
  'open',
  'index',
  'files'
] as const;
type Phase = (typeof PHASES)[number];

/** `BENCH_PHASES=catchup,latency`: the phases to run (unset or empty: all of them). */
function readPhases(): Set<Phase> {
  const raw = process.env.BENCH_PHASES?.trim();
  if (raw === undefined || raw === '') return new Set(PHASES);
  const out = new Set<Phase>();
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (!(PHASES as readonly string[]).includes(name)) {
      throw new BenchError(`BENCH_PHASES: unknown phase '${name}' (known: ${PHASES.join(',')})`);
    }
    out.add(name as Phase);
  }
  return out;
}

/**
 * Default sizes of the files phase (MiB). Lowered from 256 and 1024: transfers between the two
 * pages run at 3-6 MB/s on the 2-core machine (64 + 192: about 3 minutes), and the phase should
 * stay under 4 minutes.
 */
const FILE_MIB = 64;
const TTFB_MIB = 192;

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new BenchError(`${name} must be an integer >= ${min}`);
  return n;
}

/** The files phase's own time: 0.5 s per MiB it moves (at least 300 s). */
function filesBudgetS(phases: Set<Phase>): number {
  if (!phases.has('files')) return 0;
  const file = intEnv('BENCH_FILE_MIB', FILE_MIB, 1);
  const moved =
    3 * file * intEnv('BENCH_FILE_ROUNDS', 2, 1) + intEnv('BENCH_TTFB_MIB', TTFB_MIB, 1);
  return Math.max(300, Math.ceil(moved / 2));
}

function readConfig(): Config {
  const phases = readPhases();
  return {
    // Each fresh page takes a reservation the relay keeps for its TTL (default limit: 15).
    reservationPages: intEnv('BENCH_RESERVATION_PAGES', 8, 1),
    dials: intEnv('BENCH_DIALS', 60, 1),
    dialTimeoutMs: intEnv('BENCH_DIAL_TIMEOUT_MS', 30_000, 1000),
    // Pause after each hang-up before the next dial.
    dialPauseMs: intEnv('BENCH_DIAL_PAUSE_MS', 0, 0),
    rawConnects: intEnv('BENCH_RAW_CONNECTS', 50, 1),
    rttSize: intEnv('BENCH_RTT_BYTES', 32, 1),
    rttCount: intEnv('BENCH_RTT_COUNT', 500, 1),
    rttRounds: intEnv('BENCH_RTT_ROUNDS', 4, 1),
    rttWarmup: intEnv('BENCH_RTT_WARMUP', 50, 0),
    bulkBytes: intEnv('BENCH_BULK_MIB', 64, 1) * MiB,
    bulkRounds: intEnv('BENCH_BULK_ROUNDS', 3, 1),
    bulkChunk: intEnv('BENCH_BULK_CHUNK_KIB', 64, 1) * 1024,
    chatMessages: intEnv('BENCH_CHAT_MESSAGES', 10_000, 1),
    chatCatchUpTimeoutMs: intEnv('BENCH_CHAT_CATCH_UP_TIMEOUT_S', 180, 1) * 1000,
    chatLatencyCount: intEnv('BENCH_CHAT_LATENCY_COUNT', 300, 2),
    chatLatencyWarmup: intEnv('BENCH_CHAT_LATENCY_WARMUP', 20, 0),
    chatOpenMessages: intEnv('BENCH_CHAT_OPEN_MESSAGES', 100_000, 1),
    chatOpenRuns: intEnv('BENCH_CHAT_OPEN_RUNS', 5, 1),
    indexEntries: intEnv('BENCH_INDEX_ENTRIES', 10_000, 1),
    indexSends: intEnv('BENCH_INDEX_SENDS', 200, 1),
    chatWindow: intEnv('BENCH_CHAT_WINDOW', 40, 1),
    files: {
      fileBytes: intEnv('BENCH_FILE_MIB', FILE_MIB, 1) * MiB,
      rounds: intEnv('BENCH_FILE_ROUNDS', 2, 1),
      ttfbBytes: intEnv('BENCH_TTFB_MIB', TTFB_MIB, 1) * MiB,
      profile: process.env.BENCH_FILES_PROFILE === '1',
      storage: process.env.BENCH_FILES_STORAGE === 'memory' ? 'memory' : 'disk',
      bulkChunk: intEnv('BENCH_BULK_CHUNK_KIB', 64, 1) * 1024,
      timeoutMs: intEnv('BENCH_FILE_TIMEOUT_S', 120, 10) * 1000
    },
    budgetMs: intEnv('BENCH_BUDGET_S', 600 + filesBudgetS(phases), 30) * 1000,
    verbose: process.env.BENCH_VERBOSE === '1',
    phases
  };
}

const log = (msg: string): void => console.error(`[bench] ${msg}`);

interface Side {
  name: string;
  context: BrowserContext;
  page: Page;
}

interface Env {
  cfg: Config;
  browser: Browser;
  pageUrl: string;
  relayAddr: string;
}

async function openPage(env: Env, name: string, autostart: boolean): Promise<Side> {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (env.cfg.verbose || msg.type() === 'error')
      log(`${name}: console.${msg.type()}: ${msg.text()}`);
  });
  const url = autostart ? `${env.pageUrl}?relay=${encodeURIComponent(env.relayAddr)}` : env.pageUrl;
  await page.goto(url, { timeout: 30_000 });
  await page.waitForFunction(() => window.bench !== undefined, undefined, { timeout: 30_000 });
  return { name, context, page };
}

async function closeSide(side: Side): Promise<void> {
  await side.page.evaluate(() => window.bench.ours.stop()).catch(() => {});
  await side.context.close().catch(() => {});
}

// 1. page load -> relay reservation, one fresh context per sample: the app served by the relay
// (its own start path, read through its User Timing marks) and the bench page, interleaved.
async function measureReservation(
  env: Env,
  appUrl: string
): Promise<{
  app: (AppStartSample & { returning?: AppStartSample })[];
  bench: ReservationTiming[];
}> {
  const app: (AppStartSample & { returning?: AppStartSample })[] = [];
  const bench: ReservationTiming[] = [];
  for (let i = 0; i < env.cfg.reservationPages; i++) {
    app.push(await measureAppStart(env.browser, appUrl, 20_000, log, { returning: true }));
    const side = await openPage(env, `fresh-${i}`, true);
    try {
      const startError = await side.page.evaluate(() => window.bench.startError());
      if (startError !== undefined) throw new BenchError(`node did not start: ${startError}`);
      bench.push(await side.page.evaluate((ms) => window.bench.ours.whenReserved(ms), 20_000));
    } finally {
      await closeSide(side);
    }
    if (env.cfg.verbose) {
      const marks = app.at(-1)?.marks ?? {};
      log(`fresh ${i}: app ${JSON.stringify(marks)}, bench ${fmt(bench.at(-1)!.loadToReservedMs)}`);
    }
  }
  return { app, bench };
}

// Reference only: a raw peer connection set up through the runner (Playwright) as signaling.
async function rawConnect(a: Side, b: Side, timeoutMs: number): Promise<RawConnectResult> {
  const offer = await a.page.evaluate(() => window.bench.raw.offer());
  const answer = await b.page.evaluate((o) => window.bench.raw.answer(o), offer);
  const result = await a.page.evaluate(([ans, t]) => window.bench.raw.accept(ans, t), [
    answer,
    timeoutMs
  ] as const);
  await b.page.evaluate((t) => window.bench.raw.waitOpen(t), timeoutMs);
  return result;
}

interface RawConnectRecord {
  ok: boolean;
  ms: number;
  candidatePair?: string;
  error?: string;
}

/** Fresh raw peer connections; a failure is recorded, not fatal. The last one stays open. */
async function measureRawConnects(env: Env, a: Side, b: Side): Promise<RawConnectRecord[]> {
  const out: RawConnectRecord[] = [];
  const once = async (): Promise<RawConnectRecord> => {
    try {
      return { ok: true, ...(await rawConnect(a, b, 5_000)) };
    } catch (err) {
      return { ok: false, ms: Number.NaN, error: (err as Error).message.split('\n')[0] };
    }
  };
  for (let i = 0; i < env.cfg.rawConnects; i++) {
    const r = await once();
    out.push(r);
    if (!r.ok) log(`raw connect ${i + 1}/${env.cfg.rawConnects} FAILED: ${r.error}`);
  }
  for (let i = 0; i < 3 && out.at(-1)?.ok !== true; i++) {
    if ((await once()).ok) return out;
  }
  if (out.at(-1)?.ok !== true) throw new BenchError('raw peer connections keep failing');
  return out;
}

interface DialRecord extends DialResult {
  from: string;
  autoReconnected?: boolean;
}

async function hangUpBoth(a: Side, aId: string, b: Side, bId: string): Promise<boolean> {
  // A connection that was still being set up when hung up (an upgrade in flight) can open
  // right after: hang up again, a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    await a.page.evaluate((p) => window.bench.ours.hangUp(p), bId);
    await b.page.evaluate((p) => window.bench.ours.hangUp(p), aId);
    const [ga, gb] = await Promise.all([
      a.page.evaluate(([p, t]) => window.bench.ours.waitDisconnected(p, t), [bId, 5_000] as const),
      b.page.evaluate(([p, t]) => window.bench.ours.waitDisconnected(p, t), [aId, 5_000] as const)
    ]);
    if (ga && gb) return true;
    log(`hang-up ${attempt + 1}: still connected, again`);
  }
  return false;
}

// 2. direct dials: hang up, then redial, alternating who dials.
async function measureDials(
  env: Env,
  a: Side,
  aId: string,
  b: Side,
  bId: string
): Promise<DialRecord[]> {
  const out: DialRecord[] = [];
  for (let i = 0; i < env.cfg.dials; i++) {
    const [from, to, toId] = i % 2 === 0 ? [a, b, bId] : [b, a, aId];
    const before = await from.page.evaluate((p) => window.bench.ours.connections(p), toId);
    if (before.total > 0) {
      // Something (the node's own reconnect logic?) redialed after the hang-up: drop it again.
      if (!(await hangUpBoth(a, aId, b, bId))) throw new BenchError('peers did not disconnect');
    }
    const r = await from.page.evaluate(([p, t]) => window.bench.ours.dial(p, t), [
      toId,
      env.cfg.dialTimeoutMs
    ] as const);
    out.push({ ...r, from: from.name, ...(before.total > 0 ? { autoReconnected: true } : {}) });
    if (env.cfg.verbose || !r.ok || !r.direct) {
      log(
        `dial ${i + 1}/${env.cfg.dials} ${from.name}->${to.name}: ${r.ok ? 'ok' : 'FAILED'} ` +
          `${fmt(r.ms, ' ms')} ${r.connection ?? ''} direct=${r.direct} ` +
          `attempts=${r.outcomes.join(',') || '0'} peerConnections=${r.peerConnections}` +
          (r.error !== undefined ? ` error=${r.error}` : '')
      );
    }
    if (!(await hangUpBoth(a, aId, b, bId))) throw new BenchError('peers did not disconnect');
    if (env.cfg.dialPauseMs > 0) await new Promise((r) => setTimeout(r, env.cfg.dialPauseMs));
  }
  return out;
}

/** Leaves A and B on a direct connection (a few tries), for the round trip and bulk phases. */
async function ensureDirect(env: Env, a: Side, b: Side, bId: string): Promise<DialResult> {
  let last: DialResult | undefined;
  for (let i = 0; i < 5; i++) {
    last = await a.page.evaluate(([p, t]) => window.bench.ours.dial(p, t), [
      bId,
      env.cfg.dialTimeoutMs
    ] as const);
    if (last.ok && last.direct) return last;
    await a.page.evaluate((p) => window.bench.ours.hangUp(p), bId);
  }
  throw new BenchError(`could not get a direct connection: ${JSON.stringify(last)}`);
}

// 3. round trips, raw and ours interleaved per round (order alternates).
async function measureRtt(
  env: Env,
  a: Side,
  bId: string
): Promise<{ raw: number[]; ours: number[] }> {
  const { rttCount, rttRounds, rttSize, rttWarmup } = env.cfg;
  const timeout = 5_000;
  const raw = (n: number): Promise<number[]> =>
    a.page.evaluate(([c, s, t]) => window.bench.raw.rtt(c, s, t), [n, rttSize, timeout] as const);
  const ours = (n: number): Promise<number[]> =>
    a.page.evaluate(([p, c, s, t]) => window.bench.ours.rtt(p, c, s, t), [
      bId,
      n,
      rttSize,
      timeout
    ] as const);
  if (rttWarmup > 0) {
    await raw(rttWarmup);
    await ours(rttWarmup);
  }
  const out = { raw: [] as number[], ours: [] as number[] };
  for (let r = 0; r < rttRounds; r++) {
    if (r % 2 === 0) {
      out.raw.push(...(await raw(rttCount)));
      out.ours.push(...(await ours(rttCount)));
    } else {
      out.ours.push(...(await ours(rttCount)));
      out.raw.push(...(await raw(rttCount)));
    }
  }
  return out;
}

type BulkRecord = BulkResult & { openMs?: number; mbps: number; wireOverhead: number };

// 4. bulk: one warm-up each (discarded), then rounds, order alternating.
async function measureBulk(
  env: Env,
  a: Side,
  bId: string
): Promise<{ raw: BulkRecord[]; ours: BulkRecord[] }> {
  const { bulkBytes, bulkChunk, bulkRounds } = env.cfg;
  const timeout = 120_000;
  const check = (what: string, r: BulkResult): BulkRecord => {
    if (r.received !== r.bytes) {
      throw new BenchError(`${what}: receiver got ${r.received} of ${r.bytes}`);
    }
    // Proof that the transfer went over WebRTC and not through the relay's WebSocket.
    if (r.wireBytes < r.bytes) {
      throw new BenchError(`${what}: only ${r.wireBytes} of ${r.bytes} bytes went over WebRTC`);
    }
    return { ...r, mbps: mbPerSecond(r.bytes, r.ms), wireOverhead: r.wireBytes / r.bytes - 1 };
  };
  const raw = async (bytes: number): Promise<BulkRecord> =>
    check(
      'raw bulk',
      await a.page.evaluate(([n, c, t]) => window.bench.raw.bulk(n, c, t), [
        bytes,
        bulkChunk,
        timeout
      ] as const)
    );
  const ours = async (bytes: number): Promise<BulkRecord> =>
    check(
      'libp2p bulk',
      await a.page.evaluate(([p, n, c, t]) => window.bench.ours.bulk(p, n, c, t), [
        bId,
        bytes,
        bulkChunk,
        timeout
      ] as const)
    );
  const warm = Math.min(bulkBytes, 8 * MiB);
  await raw(warm);
  await ours(warm);
  const out = { raw: [] as BulkRecord[], ours: [] as BulkRecord[] };
  for (let r = 0; r < bulkRounds; r++) {
    if (r % 2 === 0) {
      out.raw.push(await raw(bulkBytes));
      out.ours.push(await ours(bulkBytes));
    } else {
      out.ours.push(await ours(bulkBytes));
      out.raw.push(await raw(bulkBytes));
    }
    log(
      `bulk round ${r + 1}/${bulkRounds}: raw ${fmt(out.raw.at(-1)!.mbps)} MB/s, ` +
        `ours ${fmt(out.ours.at(-1)!.mbps)} MB/s`
    );
  }
  return out;
}

const CATCH_UP_IDS = ['bench-catch-up-1', 'bench-catch-up-2'];
const BIG_ID = 'bench-big';

interface CatchUpRecord {
  writeMs: number[];
  connectionsBefore: { total: number; direct: number };
  catchUp: CatchUpResult;
  /** Bytes A's WebRTC transports sent during the catch-up (proof it went over WebRTC). */
  aWireBytes: number;
  /** A's sync spans during the catch-up (answering B's step1s, acks). */
  sender: SpanTotals;
  /** CPU time both pages spent during the catch-up. */
  cpu: { a: CpuTime; b: CpuTime };
  /** The in-memory reference in a fresh page (code not warmed up, like B's at the catch-up). */
  coldApplyMs: number;
}

interface LatencyRecord {
  /** ping -> pong through the conversation (A sends, B answers when it observes). */
  pingPong: number[];
  /** A's send -> B's observer, by the two pages' clocks (timeOrigin + now): a cross-check. */
  crossClock: number[];
  echo: number[];
  raw: number[];
}

interface HeapSample {
  heapBefore: number;
  heapAfter: number;
  heapPeak: number;
}

interface OpenRecord {
  seedMs: number;
  storedBytes: number;
  segments: number;
  /** The app's path (segments). */
  runs: (OpenResult & HeapSample)[];
  /** The baseline: the same history as one doc. */
  singleDoc: (SingleDocOpenResult & HeapSample)[];
  /** Scrolling back from the newest window to the oldest message. */
  scroll: { ms: number; loads: number };
}

// 5. conversations on the app's sync stack (bench/page/chat.ts): catch-up. Leaves both syncs
// running (the latency phase uses them).
async function measureCatchUp(env: Env, a: Side, b: Side, bId: string): Promise<CatchUpRecord> {
  const { chatMessages } = env.cfg;
  // Both know the conversations (B is a member); A writes while B's sync is off.
  const initial = await a.page.evaluate(([ids, p]) => window.bench.chat.createInitial(ids, p), [
    CATCH_UP_IDS,
    bId
  ] as const);
  const seed = Object.fromEntries(CATCH_UP_IDS.map((id, i) => [id, initial[i] as number[]]));
  await a.page.evaluate((s) => window.bench.chat.start(s), seed);
  const writeMs: number[] = [];
  for (const id of CATCH_UP_IDS) {
    const w = await a.page.evaluate(([c, n]) => window.bench.chat.write(c, n), [
      id,
      chatMessages
    ] as const);
    writeMs.push(w.ms);
    log(`A wrote ${chatMessages} messages into ${id} in ${fmt(w.ms, ' ms')} (${w.state} B)`);
  }
  // The writes keep A busy for seconds: make sure the direct connection is (still) up.
  await ensureDirect(env, a, b, bId);
  const connectionsBefore = await a.page.evaluate((p) => window.bench.ours.connections(p), bId);
  if (connectionsBefore.direct === 0) throw new BenchError('no direct connection for catch-up');
  log(`A-B connections before the catch-up: ${JSON.stringify(connectionsBefore)}`);
  const aBytes0 = await a.page.evaluate(() => window.bench.chat.bytesSent());
  await a.page.evaluate(() => window.bench.chat.traceReset());
  const profiler =
    process.env.BENCH_PROFILE === '1' ? await startProfile(b.context, b.page) : undefined;
  const tracer = process.env.BENCH_TRACE === '1' ? await startTrace(env.browser) : undefined;
  const cpuA = await cpuMeter(a);
  const cpuB = await cpuMeter(b);
  const catchUp = await b.page.evaluate(([s, n, t]) => window.bench.chat.catchUp(s, n, t), [
    seed,
    chatMessages,
    env.cfg.chatCatchUpTimeoutMs
  ] as const);
  const cpu = { a: await cpuA.take(), b: await cpuB.take() };
  if (profiler !== undefined) await profiler.stop('catch-up-b');
  if (tracer !== undefined) await tracer.stop('catch-up');
  const sender = await a.page.evaluate(() => window.bench.chat.traceTake());
  const aWireBytes = (await a.page.evaluate(() => window.bench.chat.bytesSent())) - aBytes0;
  if (aWireBytes < catchUp.stateBytes) {
    // Seen on a loaded machine: the connection was replaced meanwhile (A's writes kept it
    // busy past a ping timeout) and its bytes went uncounted. Say so rather than lose the run.
    log(`warning: catch-up: only ${aWireBytes} of ${catchUp.stateBytes} B seen on A's WebRTC`);
  }
  log(
    `B caught up ${catchUp.messages} messages in ${fmt(catchUp.ms, ' ms')} ` +
      `(in memory ${fmt(catchUp.applyMs, ' ms')})`
  );
  // The same reference in a fresh page (its own renderer): Yjs not warmed up yet, like B's
  // catch-up (the same-page reference runs after it, on warm code).
  const states = await b.page.evaluate((ids) => window.bench.chat.states(ids), CATCH_UP_IDS);
  const fresh = await openPage(env, 'C', false);
  const coldApplyMs = await fresh.page.evaluate((s) => window.bench.chat.applyStates(s), states);
  await fresh.context.close();
  log(`the same state applied in a fresh page: ${fmt(coldApplyMs, ' ms')}`);
  log(
    `CPU during the catch-up: B main thread ${fmt(cpu.b.threadMs, ' ms')}, ` +
      `B renderer ${fmt(cpu.b.processMs, ' ms')}, A renderer ${fmt(cpu.a.processMs, ' ms')} ` +
      `(${cpus().length} cores)`
  );
  return { writeMs, connectionsBefore, catchUp, aWireBytes, sender, cpu, coldApplyMs };
}

interface CpuTime {
  /** CPU time of the page's main thread. */
  threadMs: number;
  /** CPU time of its renderer process (all threads: WebRTC's network thread too). */
  processMs: number;
}

/** CPU time a page spends from now until take() (Chrome's Performance metrics). */
async function cpuMeter(side: Side): Promise<{ take(): Promise<CpuTime> }> {
  const cdp = await side.context.newCDPSession(side.page);
  await cdp.send('Performance.enable');
  const read = async (): Promise<CpuTime> => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = (name: string): number => (metrics.find((x) => x.name === name)?.value ?? 0) * 1000;
    return { threadMs: m('ThreadTime'), processMs: m('ProcessTime') };
  };
  const t0 = await read();
  return {
    async take() {
      const t1 = await read();
      await cdp.detach();
      return { threadMs: t1.threadMs - t0.threadMs, processMs: t1.processMs - t0.processMs };
    }
  };
}

// 6. send latency: ping-pong in a live conversation, interleaved with the echo references.
async function measureLatency(
  env: Env,
  a: Side,
  b: Side,
  bId: string,
  running: boolean
): Promise<LatencyRecord> {
  const { chatLatencyCount, chatLatencyWarmup, rttSize } = env.cfg;
  const id = CATCH_UP_IDS[0] as string;
  if (!running) {
    // No catch-up before: start both syncs on a fresh conversation of A and B.
    const initial = await a.page.evaluate(([c, p]) => window.bench.chat.createInitial([c], p), [
      id,
      bId
    ] as const);
    const seed = { [id]: initial[0] as number[] };
    await a.page.evaluate((s) => window.bench.chat.start(s), seed);
    await b.page.evaluate((s) => window.bench.chat.start(s), seed);
  }
  const timeout = 10_000;
  const pingPong = (n: number): Promise<{ roundTrips: number[]; sentAt: number[] }> =>
    a.page.evaluate(([c, k, t]) => window.bench.chat.pingPong(c, k, t), [id, n, timeout] as const);
  const echo = (n: number): Promise<number[]> =>
    a.page.evaluate(([p, c, sz, t]) => window.bench.ours.rtt(p, c, sz, t), [
      bId,
      n,
      rttSize,
      timeout
    ] as const);
  const raw = (n: number): Promise<number[]> =>
    a.page.evaluate(([c, sz, t]) => window.bench.raw.rtt(c, sz, t), [n, rttSize, timeout] as const);
  await b.page.evaluate((c) => window.bench.chat.answerPings(c), id);
  if (chatLatencyWarmup > 0) await pingPong(chatLatencyWarmup);
  await b.page.evaluate((c) => window.bench.chat.answerPings(c), id); // resets B's record
  const latency: LatencyRecord = { pingPong: [], crossClock: [], echo: [], raw: [] };
  const sentAt: number[] = [];
  const rounds = 4;
  const per = Math.ceil(chatLatencyCount / rounds);
  for (let r = 0; r < rounds; r++) {
    const p = await pingPong(per);
    latency.pingPong.push(...p.roundTrips);
    sentAt.push(...p.sentAt);
    latency.echo.push(...(await echo(per)));
    latency.raw.push(...(await raw(per)));
  }
  const seenAt = await b.page.evaluate(() => window.bench.chat.stopAnswering());
  if (seenAt.length !== sentAt.length) {
    throw new BenchError(`B saw ${seenAt.length} of ${sentAt.length} pings`);
  }
  latency.crossClock = seenAt.map((t, i) => t - (sentAt[i] as number));
  return latency;
}

// 7. opening a big stored conversation, on a fresh page (own context, own IndexedDB): the app's
// path (head + segments + index) and, side by side, the same history stored as one doc.
async function measureOpen(env: Env): Promise<OpenRecord> {
  const c = await openPage(env, 'C', false);
  const total = env.cfg.chatOpenMessages;
  try {
    log(`storing ${total} messages in IndexedDB`);
    const seeded = await c.page.evaluate(([i, n]) => window.bench.chat.seedIdb(i, n, 200), [
      BIG_ID,
      total
    ] as const);
    log(`stored in ${fmt(seeded.ms, ' ms')} (${seeded.segments} segments, ${seeded.bytes} B)`);
    const cdp = await c.context.newCDPSession(c.page);
    await cdp.send('Performance.enable');
    const heap = async (gc: boolean): Promise<number> => {
      if (gc) await cdp.send('HeapProfiler.collectGarbage');
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? Number.NaN;
    };
    const measured = async <T>(open: () => Promise<T>): Promise<T & HeapSample> => {
      const heapBefore = await heap(true);
      const r = await open();
      const heapPeak = await heap(false);
      const heapAfter = await heap(true);
      await c.page.evaluate(() => window.bench.chat.release());
      return { ...r, heapBefore, heapAfter, heapPeak };
    };
    const runs: OpenRecord['runs'] = [];
    const singleDoc: OpenRecord['singleDoc'] = [];
    for (let i = 0; i < env.cfg.chatOpenRuns; i++) {
      const r = await measured(() =>
        c.page.evaluate(([idb, w]) => window.bench.chat.open(idb, w), [
          BIG_ID,
          env.cfg.chatWindow
        ] as const)
      );
      if (r.messages !== total) throw new BenchError(`opened ${r.messages} of ${total} messages`);
      runs.push(r);
      const b = await measured(() =>
        c.page.evaluate(([idb, w]) => window.bench.chat.openSingleDoc(idb, w), [
          BIG_ID,
          env.cfg.chatWindow
        ] as const)
      );
      if (b.messages !== total) throw new BenchError(`baseline has ${b.messages} messages`);
      singleDoc.push(b);
      log(
        `open ${i + 1}/${env.cfg.chatOpenRuns}: ${fmt(r.ms, ' ms')} (one doc: ${fmt(b.ms, ' ms')})`
      );
    }
    await c.page.evaluate(([idb, w]) => window.bench.chat.open(idb, w), [
      BIG_ID,
      env.cfg.chatWindow
    ] as const);
    const scroll = await c.page.evaluate((n) => window.bench.chat.scrollToOldest(n), total);
    await c.page.evaluate(() => window.bench.chat.release());
    log(`scrolled back to the oldest of ${total} in ${fmt(scroll.ms, ' ms')}`);
    await cdp.detach();
    return {
      seedMs: seeded.ms,
      storedBytes: seeded.bytes,
      segments: seeded.segments,
      runs,
      singleDoc,
      scroll
    };
  } finally {
    await c.context.close().catch(() => {});
  }
}

const INDEX_BATCH = 200;

interface IndexRecord {
  bulkMs: number;
  sendMs: number;
  baseBulkMs: number;
  baseSendMs: number;
}

// 8. writing the message index into IndexedDB, on a fresh page: our layout vs version 1's.
async function measureIndex(env: Env): Promise<IndexRecord> {
  const c = await openPage(env, 'I', false);
  try {
    return await c.page.evaluate(([n, b, s]) => window.bench.chat.indexWrites(n, b, s), [
      env.cfg.indexEntries,
      INDEX_BATCH,
      env.cfg.indexSends
    ] as const);
  } finally {
    await c.context.close().catch(() => {});
  }
}

/** The catch-up's breakdown as rows: where B's time went, and A's side. */
function catchUpBreakdownRows(
  cu: CatchUpResult,
  sender: SpanTotals,
  cpu: CatchUpRecord['cpu']
): string[][] {
  const bd = cu.breakdown;
  const share = (x: number): string => `${((x / cu.ms) * 100).toFixed(1)}%`;
  const row = (part: string, x: number, note: string): string[] => [
    part,
    fmt(x, ' ms'),
    share(x),
    note
  ];
  const sp = (name: string, on: SpanTotals = bd.spans): string => {
    const s = on[name];
    return s === undefined ? `${name} -` : `${name} ${fmt(s.ms, ' ms')} x${s.count}`;
  };
  // A's deflate is the wait for the platform's DEFLATE (CompressionStream), overlapping A's
  // other work: shown, not added up.
  const aMs = Object.entries(sender).reduce((n, [k, s]) => (k === 'deflate' ? n : n + s.ms), 0);
  return [
    ['part (B = receiver)', 'ms', 'share', 'what'],
    row('start', bd.startMs, "createSync.start() + opening B's conversations (no frame yet)"),
    row(
      'decode / reassembly',
      bd.decodeMs,
      `${sp('decode')}, ${sp('reassemble')}, ${sp('inflate')}; native, beside: ${sp('inflate-native')}`
    ),
    row(
      'check',
      bd.checkMs,
      `${sp('inspect')}, ${sp('check')} (structure, then signature and write rules: before Yjs sees an update)`
    ),
    row('apply', bd.applyMs, `${sp('apply')} (with the doc's observers)`),
    row(
      'store',
      bd.storeMs,
      `${sp('store')} (DocSet.persist: update + index entries, synchronous part)`
    ),
    row('ordering', bd.orderMs, "first size() of B's conversations after the data"),
    row('UI', bd.uiMs, 'event listeners (the bench draws nothing during the catch-up)'),
    row(
      'other sync',
      bd.otherMs,
      `${sp('send')}, ${sp('ack')}, ${sp('forward')}, ${sp('diff')}, ${sp('deflate')}`
    ),
    row('idle / waiting', bd.idleMs, 'stream setup, A at work, the network, GC'),
    row('total', cu.ms, `in-memory Y.applyUpdate of the same state: ${fmt(cu.applyMs, ' ms')}`),
    [
      'wire',
      fmt(bd.wireMs, ' ms'),
      '-',
      `first -> last frame (first at ${fmt(bd.firstFrameMs, ' ms')}): ` +
        `${fmt(bd.wireBytes / MiB, ' MiB')} in ${bd.frames} frames`
    ],
    [
      'A (sender)',
      fmt(aMs, ' ms'),
      '-',
      `${sp('diff', sender)}, ${sp('send', sender)}, ${sp('events', sender)}, ` +
        `${sp('decode', sender)}; waits for the platform's DEFLATE: ${sp('deflate', sender)}`
    ],
    [
      'CPU',
      fmt(cpu.a.processMs + cpu.b.processMs, ' ms'),
      '-',
      `both renderers (${cpus().length} cores): B main thread ${fmt(cpu.b.threadMs, ' ms')}, ` +
        `B ${fmt(cpu.b.processMs, ' ms')}, A ${fmt(cpu.a.processMs, ' ms')} ` +
        '(plus the browser process: DTLS/SCTP)'
    ]
  ];
}

function formatRows(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [
    line(rows[0] ?? []),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.slice(1).map(line)
  ].join('\n');
}

function pickRelayAddr(multiaddrs: string[]): string {
  const ws = multiaddrs.filter((a) => a.includes('/ws') && a.includes('/p2p/'));
  const local = ws.find((a) => a.startsWith('/ip4/127.0.0.1/')) ?? ws[0];
  if (local === undefined) {
    throw new BenchError(`relay has no WebSocket multiaddr with /p2p/: ${multiaddrs.join(', ')}`);
  }
  return local;
}

async function run(cfg: Config, cleanups: (() => Promise<unknown>)[]): Promise<void> {
  const startedAt = new Date();
  const executablePath = findChromium();
  const loadAtStart = loadavg();
  const { phases } = cfg;
  if ((loadAtStart[0] ?? 0) > cpus().length) {
    log(
      `warning: load average ${loadAtStart[0]?.toFixed(1)} on ${cpus().length} CPUs: numbers will be noisy`
    );
  }
  log(`phases: ${[...phases].join(', ')}`);

  log('building the bench page (vite)');
  await build({ configFile: `${benchDir}vite.config.ts`, logLevel: 'warn' });
  const server: StaticServer = await startStaticServer(`${benchDir}dist`);
  cleanups.push(() => server.close());

  log('starting the relay');
  const relay = await startRelay();
  cleanups.push(() => relay.stop());
  const relayAddr = pickRelayAddr(relay.multiaddrs);

  log(`launching ${executablePath}`);
  const browser = await chromium.launch({ executablePath, args: chromiumArgs(), headless: true });
  cleanups.push(() => browser.close());
  const env: Env = { cfg, browser, pageUrl: `${server.url}/`, relayAddr };

  const appUrl = `${relay.url}/`;
  let reservations: ReservationTiming[] | undefined;
  let appStarts: (AppStartSample & { returning?: AppStartSample })[] | undefined;
  if (phases.has('reservation')) {
    log(
      `reservation: page load -> reservation on ${cfg.reservationPages} fresh app pages ` +
        `(${appUrl}) and ${cfg.reservationPages} fresh bench pages, interleaved`
    );
    const measured = await measureReservation(env, appUrl);
    reservations = measured.bench;
    appStarts = measured.app;
  }

  // Pages A and B serve every phase but reservation and open.
  const pairPhases: Phase[] = ['dial', 'raw', 'rtt', 'bulk', 'catchup', 'latency'];
  let isolated: boolean | undefined;
  let rawConnects: RawConnectRecord[] | undefined;
  let dials: DialRecord[] | undefined;
  let finalDial: DialResult | undefined;
  let rtt: { raw: number[]; ours: number[] } | undefined;
  let bulk: { raw: BulkRecord[]; ours: BulkRecord[] } | undefined;
  let catchUp: CatchUpRecord | undefined;
  let latency: LatencyRecord | undefined;
  if (pairPhases.some((p) => phases.has(p))) {
    const a = await openPage(env, 'A', true);
    const b = await openPage(env, 'B', true);
    cleanups.push(
      () => closeSide(a),
      () => closeSide(b)
    );
    for (const side of [a, b]) {
      const err = await side.page.evaluate(() => window.bench.startError());
      if (err !== undefined) throw new BenchError(`${side.name}: node did not start: ${err}`);
      await side.page.evaluate((ms) => window.bench.ours.whenReserved(ms), 20_000);
    }
    isolated = await a.page.evaluate(() => window.bench.isolated);
    const aId = await a.page.evaluate(() => window.bench.ours.peerId());
    const bId = await b.page.evaluate(() => window.bench.ours.peerId());

    if (phases.has('raw')) {
      log(`raw: ${cfg.rawConnects} raw peer connections (reference)`);
      rawConnects = await measureRawConnects(env, a, b);
    } else if (phases.has('rtt') || phases.has('bulk') || phases.has('latency')) {
      // Their references run over the raw data channel that the raw phase leaves open.
      await measureRawConnects({ ...env, cfg: { ...cfg, rawConnects: 1 } }, a, b);
    }
    if (phases.has('dial')) {
      log(`dial: ${cfg.dials} libp2p dials`);
      dials = await measureDials(env, a, aId, b, bId);
    }
    if (['rtt', 'bulk', 'catchup', 'latency'].some((p) => phases.has(p as Phase))) {
      finalDial = await ensureDirect(env, a, b, bId);
      log(`direct connection for the data phases: ${finalDial.remoteAddr ?? '?'}`);
    }
    if (phases.has('rtt')) {
      log(`rtt: echo round trips (${cfg.rttSize} B, ${cfg.rttRounds} x ${cfg.rttCount} each)`);
      rtt = await measureRtt(env, a, bId);
    }
    if (phases.has('bulk')) {
      log(
        `bulk: ${cfg.bulkBytes / MiB} MiB x ${cfg.bulkRounds} each, ${cfg.bulkChunk / 1024} KiB writes`
      );
      bulk = await measureBulk(env, a, bId);
    }
    if (phases.has('catchup')) {
      log(`catchup: 2 x ${cfg.chatMessages} messages on the app's sync stack`);
      catchUp = await measureCatchUp(env, a, b, bId);
    }
    if (phases.has('latency')) {
      log(`latency: ${cfg.chatLatencyCount} sends in a live conversation`);
      latency = await measureLatency(env, a, b, bId, catchUp !== undefined);
    }
    if (catchUp !== undefined || latency !== undefined) {
      await a.page.evaluate(() => window.bench.chat.stop());
      await b.page.evaluate(() => window.bench.chat.stop());
    }
  }

  let open: OpenRecord | undefined;
  if (phases.has('open')) {
    log(`open: ${cfg.chatOpenMessages} messages from IndexedDB x ${cfg.chatOpenRuns}`);
    open = await measureOpen(env);
  }
  let index: IndexRecord | undefined;
  if (phases.has('index')) {
    log(`index: ${cfg.indexEntries} entries in IndexedDB, ours vs one record per message`);
    index = await measureIndex(env);
  }
  let files: FilesResult | undefined;
  if (phases.has('files')) {
    const f = cfg.files;
    log(
      `files: ${f.fileBytes / MiB} MiB x ${f.rounds} (add, fetch, read) vs one libp2p stream and ` +
        `the raw channel, then ${f.ttfbBytes / MiB} MiB for the time to first byte and the heap`
    );
    const own: (() => Promise<unknown>)[] = [];
    try {
      files = await measureFiles(
        f,
        {
          executablePath,
          args: chromiumArgs(),
          url: `${env.pageUrl}?relay=${encodeURIComponent(relayAddr)}`,
          log,
          verbose: cfg.verbose,
          openInMemory: async (name) => {
            const side = await openPage(env, name, true);
            await side.page.evaluate((t) => window.bench.ours.whenReserved(t), 20_000);
            return side;
          },
          rawConnect: (a, b) => rawConnect(a, b, 5_000),
          ensureDirect: (a, b, bId) => ensureDirect(env, a, b, bId)
        },
        own
      );
    } finally {
      for (const fn of own.reverse()) await fn().catch(() => {});
    }
  }
  if (isolated === false) {
    log('warning: page is not cross-origin isolated; clock resolution is 100 µs');
  }

  // Summaries, table, JSON.
  const ms = (s: Summary): string => `median ${fmt(s.median, ' ms')}, p95 ${fmt(s.p95, ' ms')}`;
  const pct = (n: number, of: number): string => `${((n / of) * 100).toFixed(1)}%`;
  const rows: Row[] = [];
  const sections: Record<string, unknown> = {};

  if (reservations !== undefined && appStarts !== undefined) {
    const app = appStarts;
    const appSummary = summarizeAppStart(app);
    const back = summarizeAppStart(
      app.flatMap((a) => (a.returning === undefined ? [] : [a.returning]))
    );
    const resv = summarize(reservations.map((r) => r.loadToReservedMs));
    const resvCreate = summarize(reservations.map((r) => r.createToReservedMs));
    const resvCircuit = summarize(reservations.map((r) => r.loadToCircuitAddrMs));
    const scriptStart = summarize(reservations.map((r) => r.scriptStartMs));
    rows.push(
      [
        `page load -> reservation, app (n=${appSummary.loadToReservedMs.n})`,
        `${ms(appSummary.loadToReservedMs)} (the app served by the relay, first run; ` +
          `relay-info requests ${appSummary.relayInfoFetches}, ${fmt(appSummary.scriptKiB, ' KiB')} ` +
          `of scripts)`,
        '-',
        '-'
      ],
      ...appSummary.steps.map((s): Row => [
        `  app: ${s.step}`,
        `at median ${fmt(s.median, ' ms')}, p95 ${fmt(s.p95, ' ms')}`,
        '-',
        '-'
      ]),
      [
        `page load -> reservation, app returning visit (n=${back.loadToReservedMs.n})`,
        `${ms(back.loadToReservedMs)} (reload in the same context: scripts cached, key stored)`,
        '-',
        '-'
      ],
      ...back.steps.map((s): Row => [
        `  returning: ${s.step}`,
        `at median ${fmt(s.median, ' ms')}, p95 ${fmt(s.p95, ' ms')}`,
        '-',
        '-'
      ]),
      [
        `page load -> reservation, bench page (n=${resv.n})`,
        `${ms(resv)} (createNode -> reserved ${fmt(resvCreate.median, ' ms')}; ` +
          `libp2p has the circuit addr at ${fmt(resvCircuit.median, ' ms')})`,
        '-',
        '-'
      ]
    );
    sections.reservation = {
      app: { url: appUrl, ...appSummary, samples: app },
      returning: back,
      loadToReservedMs: resv,
      createToReservedMs: resvCreate,
      loadToCircuitAddrMs: resvCircuit,
      scriptStartMs: scriptStart,
      samples: reservations
    };
  }

  const rawOk = rawConnects?.filter((r) => r.ok);
  const rawConn = rawOk === undefined ? undefined : summarize(rawOk.map((r) => r.ms));
  if (dials !== undefined) {
    const ok = dials.filter((d) => d.ok && d.direct);
    const dialMs = summarize(ok.map((d) => d.ms));
    const retried = dials.filter((d) => d.attempts > 1).length;
    const failedAttempts: Record<string, number> = {};
    for (const d of dials) {
      for (const o of d.outcomes)
        if (o !== 'direct') failedAttempts[o] = (failedAttempts[o] ?? 0) + 1;
    }
    const failedText =
      Object.entries(failedAttempts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none';
    const firstTry = dials.filter((d) => d.outcomes[0] === 'direct').length;
    const successRate = ok.length / dials.length;
    rows.push([
      `direct dial (${ok.length}/${dials.length} ok = ${(successRate * 100).toFixed(1)}%)`,
      `${ms(dialMs)}; 1st attempt ok ${pct(firstTry, dials.length)}; ` +
        `${retried} retried (failed attempts: ${failedText})`,
      rawConn === undefined || rawConnects === undefined || rawOk === undefined
        ? '- (raw phase not run)'
        : `${ms(rawConn)}; ok ${rawOk.length}/${rawConnects.length} ` +
          `(PC setup signaled by the runner; reference)`,
      rawConn === undefined ? '-' : ratio(dialMs.median, rawConn.median)
    ]);
    sections.dial = {
      dials: dials.length,
      directOk: ok.length,
      successRate,
      ms: dialMs,
      needingRetry: retried,
      failedAttempts,
      attempts: summarize(dials.map((d) => d.attempts)),
      autoReconnects: dials.filter((d) => d.autoReconnected === true).length,
      firstAttemptOk: firstTry,
      samples: dials,
      dataPhaseConnection: finalDial?.remoteAddr
    };
  }
  if (rawConnects !== undefined && rawOk !== undefined && rawConn !== undefined) {
    if (dials === undefined) {
      rows.push([
        `raw peer connection (n=${rawConn.n})`,
        '- (dial phase not run)',
        `${ms(rawConn)}; ok ${rawOk.length}/${rawConnects.length} (signaled by the runner)`,
        '-'
      ]);
    }
    sections.raw = {
      rawPeerConnectionMs: rawConn,
      rawPeerConnections: rawConnects.length,
      rawPeerConnectionsOk: rawOk.length,
      rawCandidatePairs: [...new Set(rawOk.map((r) => r.candidatePair))],
      rawFailures: rawConnects.filter((r) => !r.ok).map((r) => r.error)
    };
  }

  if (rtt !== undefined) {
    const rttRaw = summarize(rtt.raw);
    const rttOurs = summarize(rtt.ours);
    rows.push([
      `echo RTT ${cfg.rttSize} B (n=${rttOurs.n})`,
      `${ms(rttOurs)}, p99 ${fmt(rttOurs.p99, ' ms')}`,
      `${ms(rttRaw)}, p99 ${fmt(rttRaw.p99, ' ms')}`,
      ratio(rttOurs.median, rttRaw.median)
    ]);
    sections.rtt = {
      bytes: cfg.rttSize,
      ours: rttOurs,
      raw: rttRaw,
      ratioMedian: rttOurs.median / rttRaw.median,
      ratioP95: rttOurs.p95 / rttRaw.p95
    };
  }

  if (bulk !== undefined) {
    const bulkRaw = summarize(bulk.raw.map((r) => r.mbps));
    const bulkOurs = summarize(bulk.ours.map((r) => r.mbps));
    const overhead = (rs: BulkRecord[]): string =>
      `${(summarize(rs.map((r) => r.wireOverhead)).median * 100).toFixed(1)}%`;
    rows.push([
      `bulk ${cfg.bulkBytes / MiB} MiB, one stream (n=${bulkOurs.n})`,
      `median ${fmt(bulkOurs.median, ' MB/s')} (${fmt(bulkOurs.min)}-${fmt(bulkOurs.max)}), ` +
        `wire +${overhead(bulk.ours)}`,
      `median ${fmt(bulkRaw.median, ' MB/s')} (${fmt(bulkRaw.min)}-${fmt(bulkRaw.max)}), ` +
        `wire +${overhead(bulk.raw)}`,
      ratio(bulkOurs.median, bulkRaw.median)
    ]);
    sections.bulk = {
      bytes: cfg.bulkBytes,
      chunkBytes: cfg.bulkChunk,
      oursMBps: bulkOurs,
      rawMBps: bulkRaw,
      ratioMedian: bulkOurs.median / bulkRaw.median,
      wireOverheadOurs: summarize(bulk.ours.map((r) => r.wireOverhead)).median,
      wireOverheadRaw: summarize(bulk.raw.map((r) => r.wireOverhead)).median,
      samples: bulk
    };
  }

  const chat: Record<string, unknown> = {};
  let breakdown: string | undefined;
  if (catchUp !== undefined) {
    const cu = catchUp.catchUp;
    rows.push([
      `catch-up 2 x ${cfg.chatMessages} msgs (sync, direct)`,
      `${fmt(cu.ms, ' ms')} until B has all ${cu.messages} ` +
        `(${fmt(cu.stateBytes / MiB, ' MiB')} state, ` +
        `${fmt(catchUp.aWireBytes / MiB, ' MiB')} on A's wire)`,
      `in memory, same page: Y.applyUpdate ${fmt(cu.applyMs, ' ms')} ` +
        `(with ordering: ${fmt(cu.applyAndOrderMs, ' ms')})`,
      ratio(cu.ms, cu.applyMs)
    ]);
    rows.push([
      'catch-up vs a cold in-memory apply',
      `${fmt(cu.ms, ' ms')} (B's page had applied nothing before)`,
      `in memory, fresh page: Y.applyUpdate ${fmt(catchUp.coldApplyMs, ' ms')}`,
      ratio(cu.ms, catchUp.coldApplyMs)
    ]);
    breakdown = formatRows(catchUpBreakdownRows(cu, catchUp.sender, catchUp.cpu));
    chat.catchUp = {
      conversations: CATCH_UP_IDS.length,
      messagesPerConversation: cfg.chatMessages,
      ...cu,
      ratioToApply: cu.ms / cu.applyMs,
      coldApplyMs: catchUp.coldApplyMs,
      ratioToColdApply: cu.ms / catchUp.coldApplyMs,
      aWireBytes: catchUp.aWireBytes,
      writeMs: catchUp.writeMs,
      connectionsBefore: catchUp.connectionsBefore,
      senderSpans: catchUp.sender,
      cpu: catchUp.cpu
    };
  }
  if (latency !== undefined) {
    const half = (xs: number[]): number[] => xs.map((x) => x / 2);
    const sendOneWay = summarize(half(latency.pingPong));
    const echoOneWay = summarize(half(latency.echo));
    const rawOneWay = summarize(half(latency.raw));
    const crossClock = summarize(latency.crossClock);
    rows.push([
      `send -> observed on B, one way (n=${sendOneWay.n})`,
      `${ms(sendOneWay)} (ping-pong / 2; clocks: median ${fmt(crossClock.median, ' ms')})`,
      `echo stream / 2: ${ms(echoOneWay)}; raw channel / 2: ${ms(rawOneWay)}`,
      `${ratio(sendOneWay.median, echoOneWay.median)} vs stream, ` +
        `${ratio(sendOneWay.median, rawOneWay.median)} vs raw`
    ]);
    chat.latency = {
      sendToObservedOneWayMs: sendOneWay,
      crossClockMs: crossClock,
      echoStreamHalfRttMs: echoOneWay,
      rawChannelHalfRttMs: rawOneWay,
      ratioToEchoMedian: sendOneWay.median / echoOneWay.median,
      ratioToEchoP95: sendOneWay.p95 / echoOneWay.p95,
      ratioToRawMedian: sendOneWay.median / rawOneWay.median,
      ratioToRawP95: sendOneWay.p95 / rawOneWay.p95,
      samples: latency
    };
  }
  if (open !== undefined) {
    const openMs = summarize(open.runs.map((r) => r.ms));
    const baseMs = summarize(open.singleDoc.map((r) => r.ms));
    const part = (k: 'loadMs' | 'windowMs' | 'paintMs'): string =>
      fmt(summarize(open.runs.map((r) => r[k])).median, ' ms');
    const basePart = (k: 'loadMs' | 'applyMs' | 'orderMs'): string =>
      fmt(summarize(open.singleDoc.map((r) => r[k])).median, ' ms');
    const retained = (xs: HeapSample[]): Summary =>
      summarize(xs.map((r) => (r.heapAfter - r.heapBefore) / MiB));
    const peak = (xs: HeapSample[]): Summary =>
      summarize(xs.map((r) => (r.heapPeak - r.heapBefore) / MiB));
    const retainedMiB = retained(open.runs);
    const baseRetainedMiB = retained(open.singleDoc);
    rows.push(
      [
        `open ${cfg.chatOpenMessages} msgs from IndexedDB (n=${openMs.n})`,
        `${ms(openMs)} to first paint of ${cfg.chatWindow} rows (head + tail ${part('loadMs')}, ` +
          `window ${part('windowMs')}, paint ${part('paintMs')})`,
        `one doc: ${ms(baseMs)} (load ${basePart('loadMs')}, apply ${basePart('applyMs')}, ` +
          `order ${basePart('orderMs')})`,
        ratio(openMs.median, baseMs.median)
      ],
      [
        `JS heap of the opened conversation`,
        `retained ${fmt(retainedMiB.median, ' MiB')}, peak +${fmt(peak(open.runs).median, ' MiB')}`,
        `one doc: retained ${fmt(baseRetainedMiB.median, ' MiB')}, ` +
          `peak +${fmt(peak(open.singleDoc).median, ' MiB')}`,
        ratio(retainedMiB.median, baseRetainedMiB.median)
      ],
      [
        `scroll back to the oldest message`,
        `${fmt(open.scroll.ms, ' ms')} (${open.scroll.loads} loads of 2,000)`,
        '-',
        '-'
      ]
    );
    chat.open = {
      messages: cfg.chatOpenMessages,
      windowRows: cfg.chatWindow,
      seedMs: open.seedMs,
      storedBytes: open.storedBytes,
      segments: open.segments,
      ms: openMs,
      singleDocMs: baseMs,
      ratioToSingleDoc: openMs.median / baseMs.median,
      retainedHeapMiB: retainedMiB,
      singleDocRetainedHeapMiB: baseRetainedMiB,
      peakHeapMiB: peak(open.runs),
      scroll: open.scroll,
      runs: open.runs,
      singleDocRuns: open.singleDoc
    };
  }
  if (index !== undefined) {
    rows.push(
      [
        `message index: ${cfg.indexEntries} entries in transactions of ${INDEX_BATCH}`,
        `${fmt(index.bulkMs, ' ms')} (blocks of a segment)`,
        `one record per message: ${fmt(index.baseBulkMs, ' ms')}`,
        ratio(index.bulkMs, index.baseBulkMs)
      ],
      [
        `message index: a send (update + entry, n=${cfg.indexSends})`,
        `${fmt(index.sendMs, ' ms')} per message (rewrites its segment's block)`,
        `one record per message: ${fmt(index.baseSendMs, ' ms')}`,
        ratio(index.sendMs, index.baseSendMs)
      ]
    );
    sections.index = {
      note:
        "createIdbHistoryStore's message index (one record per segment) vs version 1's layout " +
        '(one record per message under three IndexedDB indexes), same entries, same page.',
      entries: cfg.indexEntries,
      batch: INDEX_BATCH,
      sends: cfg.indexSends,
      ...index,
      ratioBulk: index.bulkMs / index.baseBulkMs,
      ratioSend: index.sendMs / index.baseSendMs
    };
  }
  if (files !== undefined) {
    const report = filesReport(cfg.files, files);
    rows.push(...report.rows);
    sections.files = report.section;
  }
  if (Object.keys(chat).length > 0) {
    sections.chat = {
      note:
        'App sync stack (createSync over the page node, head + segment docs, memory HistoryStore ' +
        'for catch-up and latency; DocSet.open + openConversation over createIdbHistoryStore for ' +
        "open, as Sync.open does) in the bench page; latency is observed in B's model, not " +
        'rendered by the app UI; open draws the window into the bench page.',
      ...chat
    };
  }

  const finishedAt = new Date();
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    environment: {
      node: process.version,
      chromium: browser.version(),
      chromiumPath: executablePath,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      os: `${platform()} ${release()}`,
      crossOriginIsolated: isolated,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg()
    },
    config: { ...cfg, phases: [...phases] },
    relay: { addr: relayAddr },
    ...sections,
    table: rows
  };

  console.log('');
  console.log(formatTable(rows));
  console.log('');
  if (breakdown !== undefined) {
    console.log("catch-up breakdown (B's main thread: the parts add up to the total)");
    console.log(breakdown);
    console.log('');
  }
  const dir = `${benchDir}results`;
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(`${dir}/${stamp}.json`, json);
  await writeFile(`${dir}/latest.json`, json);
  log(`wrote bench/results/${stamp}.json and bench/results/latest.json`);
}

async function main(): Promise<number> {
  let cfg: Config;
  try {
    cfg = readConfig();
  } catch (err) {
    console.error(`bench failed: ${(err as Error).message}`);
    return 1;
  }
  const cleanups: (() => Promise<unknown>)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const budget = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new BenchError(`did not finish within BENCH_BUDGET_S=${cfg.budgetMs / 1000}`)),
      cfg.budgetMs
    );
  });
  let code = 0;
  try {
    await Promise.race([run(cfg, cleanups), budget]);
  } catch (err) {
    const e = err as Error;
    console.error(`\nbench failed: ${e.name}: ${e.message}`);
    if (cfg.verbose && e.stack !== undefined) console.error(e.stack);
    code = 1;
  } finally {
    clearTimeout(timer);
    for (const fn of cleanups.reverse()) {
      await Promise.race([fn().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
    }
  }
  return code;
}

process.exitCode = await main();
// Nothing is meant to outlive main(); don't let a stray handle keep the process alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
