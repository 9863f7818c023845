/**
 * History bench (issue 7, storage layer): opening a long conversation stored as head + message
 * segments + a persisted message index (HistoryStore) against the single Yjs doc stored today
 * (DocStore), in real Chromium.
 *
 *   node --import tsx bench/history.ts
 *
 * 1. On one page, 100,000 messages (BENCH_HISTORY_MESSAGES) are made with the app's
 *    `createConversation` (unsigned) in segments of 1,000 (BENCH_HISTORY_SEGMENT) and stored
 *    both ways in the page's IndexedDB: head + segment updates + the index written in batches
 *    of one segment (`putIndex`, one transaction each), and every update into one DocStore doc.
 * 2. Each open runs in a freshly started browser over the same profile (the data stays in
 *    IndexedDB, the page and the browser's caches start empty), alternating which layout goes
 *    first: segmented = count + window(newest 40) + head + loadSegment + Y.applyUpdate + read the
 *    40 rows; single doc = load + Y.applyUpdate + ordered list (today's open); both then draw
 *    the rows and wait for the next frame. The JS heap it retains is measured by CDP
 *    (HeapProfiler.collectGarbage, then Runtime.getHeapUsage) before and after, with the opened
 *    state still referenced.
 * 3. Then the other index operations (window/range in the middle, countAfter, position, …),
 *    the cost of storing one received message, and loading a segment of unmerged updates.
 *
 * Prints a table, writes bench/results/history-<timestamp>.json and history-latest.json.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { chromiumArgs, findChromium } from '../tests/fixtures/browser.js';
import type { OpenTiming, SegmentedOpenTiming } from './history-page/api.js';
import { fmt } from './lib/report.js';
import { startStaticServer } from './lib/static-server.js';
import { summarize, type Summary } from './lib/stats.js';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 * 1024;
const CONV = 'big-conversation';

class BenchError extends Error {
  override name = 'BenchError';
}

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new BenchError(`${name} must be an integer >= ${min}`);
  return n;
}

const cfg = {
  messages: intEnv('BENCH_HISTORY_MESSAGES', 100_000, 1),
  segmentSize: intEnv('BENCH_HISTORY_SEGMENT', 1_000, 1),
  batch: intEnv('BENCH_HISTORY_BATCH', 200, 1),
  runs: intEnv('BENCH_HISTORY_RUNS', 5, 1),
  window: intEnv('BENCH_HISTORY_WINDOW', 40, 1),
  probeReps: intEnv('BENCH_HISTORY_PROBE_REPS', 15, 1),
  unmerged: intEnv('BENCH_HISTORY_UNMERGED', 400, 1),
  budgetMs: intEnv('BENCH_BUDGET_S', 900, 30) * 1000
};

const log = (msg: string): void => console.error(`[history] ${msg}`);

type Heap = { heapBefore: number; heapAfter: number; heapPeak: number };
type SegRun = SegmentedOpenTiming & Heap;
type SingleRun = OpenTiming & Heap;

async function run(cleanups: (() => Promise<unknown>)[]): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const executablePath = findChromium();
  log(`load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs`);

  log('building the page (vite)');
  await build({ configFile: `${benchDir}history.vite.config.ts`, logLevel: 'warn' });
  const server = await startStaticServer(`${benchDir}dist/history`);
  cleanups.push(() => server.close());
  const profile = await mkdtemp(join(tmpdir(), 'p2p4e-history-bench-'));
  cleanups.push(() => rm(profile, { recursive: true, force: true }));

  let current: BrowserContext | undefined;
  cleanups.push(async () => current?.close());
  /** A freshly started browser over the bench profile, with the page loaded. */
  const launch = async (): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      args: chromiumArgs(),
      headless: true
    });
    current = context;
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => log(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') log(`console.error: ${msg.text()}`);
    });
    await page.goto(`${server.url}/`, { timeout: 30_000 });
    await page.waitForFunction(() => window.historyBench !== undefined, undefined, {
      timeout: 30_000
    });
    return { context, page };
  };
  const shut = async (context: BrowserContext): Promise<void> => {
    await context.close();
    current = undefined;
  };

  log(
    `storing ${cfg.messages} messages (segments of ${cfg.segmentSize}, ${cfg.batch} per update) both ways`
  );
  const s = await launch();
  const browserVersion = s.context.browser()?.version() ?? 'unknown';
  const isolated = await s.page.evaluate(() => window.historyBench.isolated);
  if (!isolated) log('warning: page is not cross-origin isolated; clock resolution is 100 µs');
  const seed = await s.page.evaluate((o) => window.historyBench.seed(o), {
    conv: CONV,
    messages: cfg.messages,
    segmentSize: cfg.segmentSize,
    batch: cfg.batch
  });
  await shut(s.context);
  if (seed.messages !== cfg.messages) throw new BenchError(`seeded ${seed.messages} messages`);
  log(
    `stored in ${fmt(seed.segmentWriteMs + seed.indexBatchMs.reduce((a, b) => a + b, 0), ' ms')} ` +
      `(segments + index) and ${fmt(seed.docWriteMs, ' ms')} (single doc)`
  );

  const measure = async <T>(open: (page: Page) => Promise<T>): Promise<T & Heap> => {
    const { context, page } = await launch();
    try {
      const cdp = await context.newCDPSession(page);
      const heap = async (gc: boolean): Promise<number> => {
        if (gc) await cdp.send('HeapProfiler.collectGarbage');
        return (await cdp.send('Runtime.getHeapUsage')).usedSize;
      };
      const heapBefore = await heap(true);
      const r = await open(page);
      const heapPeak = await heap(false);
      const heapAfter = await heap(true);
      await page.evaluate(() => window.historyBench.release());
      await cdp.detach();
      return { ...r, heapBefore, heapAfter, heapPeak };
    } finally {
      await shut(context);
    }
  };

  const segmented: SegRun[] = [];
  const single: SingleRun[] = [];
  const openSeg = (): Promise<SegRun> =>
    measure((p) =>
      p.evaluate(([c, w]) => window.historyBench.openSegmented(c, w), [CONV, cfg.window] as const)
    );
  const openSingle = (): Promise<SingleRun> =>
    measure((p) =>
      p.evaluate(([c, w]) => window.historyBench.openSingle(c, w), [CONV, cfg.window] as const)
    );
  for (let i = 0; i < cfg.runs; i++) {
    const order = i % 2 === 0 ? (['seg', 'single'] as const) : (['single', 'seg'] as const);
    for (const which of order) {
      if (which === 'seg') segmented.push(await openSeg());
      else single.push(await openSingle());
    }
    const a = segmented.at(-1) as SegRun;
    const b = single.at(-1) as SingleRun;
    log(`open ${i + 1}/${cfg.runs}: segmented ${fmt(a.ms, ' ms')}, single doc ${fmt(b.ms, ' ms')}`);
    if (a.messages !== cfg.messages || b.messages !== cfg.messages)
      throw new BenchError(`opened ${a.messages} / ${b.messages} of ${cfg.messages} messages`);
    if (a.rows !== cfg.window || b.rows !== cfg.window || a.newestKey !== b.newestKey)
      throw new BenchError(
        `the two layouts drew different windows (${a.newestKey} / ${b.newestKey})`
      );
  }

  log(`index operations (${cfg.probeReps} each) and per-message writes`);
  const p = await launch();
  const probe = await p.page.evaluate(([c, r, u]) => window.historyBench.probe(c, r, u), [
    CONV,
    cfg.probeReps,
    cfg.unmerged
  ] as const);
  await shut(p.context);
  const middle = Math.floor(cfg.messages / 2);
  if (probe.checks.positionOfMiddle !== middle)
    throw new BenchError(`position of the middle key is ${probe.checks.positionOfMiddle}`);

  const loadAtEnd = loadavg();
  const sum = <T>(xs: T[], f: (x: T) => number): Summary => summarize(xs.map(f));
  const ms = (x: Summary): string => `${fmt(x.median, ' ms')} (p95 ${fmt(x.p95, ' ms')})`;
  const mib = (x: Summary): string => fmt(x.median, ' MiB');
  const segMs = sum(segmented, (r) => r.ms);
  const singleMs = sum(single, (r) => r.ms);
  const segHeap = sum(segmented, (r) => (r.heapAfter - r.heapBefore) / MiB);
  const singleHeap = sum(single, (r) => (r.heapAfter - r.heapBefore) / MiB);
  const segPeak = sum(segmented, (r) => (r.heapPeak - r.heapBefore) / MiB);
  const singlePeak = sum(single, (r) => (r.heapPeak - r.heapBefore) / MiB);
  const med = <T>(xs: T[], f: (x: T) => number): string => fmt(sum(xs, f).median, ' ms');
  const index = summarize(seed.indexBatchMs);
  const indexTotal = seed.indexBatchMs.reduce((a, b) => a + b, 0);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

  const rows: [string, string, string, string][] = [
    [
      `open ${cfg.messages} msgs -> ${cfg.window} rows painted (n=${segMs.n})`,
      ms(segMs),
      ms(singleMs),
      ratio(segMs.median, singleMs.median)
    ],
    [
      '  parts (medians)',
      `open db + count ${med(segmented, (r) => r.countMs)}, window ${med(segmented, (r) => r.windowMs)}, ` +
        `head ${med(segmented, (r) => r.headMs)}, load ${med(segmented, (r) => r.loadMs)}, ` +
        `apply ${med(segmented, (r) => r.applyMs)}, read ${med(segmented, (r) => r.readMs)}, ` +
        `paint ${med(segmented, (r) => r.paintMs)}`,
      `load ${med(single, (r) => r.loadMs)}, apply ${med(single, (r) => r.applyMs)}, ` +
        `order ${med(single, (r) => r.orderMs)}, paint ${med(single, (r) => r.paintMs)}`,
      ''
    ],
    [
      'state read from IndexedDB',
      `${fmt((segmented[0]?.stateBytes ?? 0) / 1024, ' KiB')} (${segmented[0]?.segmentsLoaded} segment + head)`,
      `${fmt((single[0]?.stateBytes ?? 0) / MiB, ' MiB')}`,
      ''
    ],
    [
      'JS heap retained by the open (after GC)',
      mib(segHeap),
      mib(singleHeap),
      ratio(segHeap.median, singleHeap.median)
    ],
    ['JS heap peak during the open', mib(segPeak), mib(singlePeak), ''],
    [
      `write the index: ${seed.segments} x putIndex(${cfg.segmentSize})`,
      `${fmt(indexTotal, ' ms')} total, ${fmt(index.median, ' ms')} per batch (p95 ${fmt(index.p95, ' ms')})`,
      '',
      ''
    ],
    [
      'write the updates',
      `${fmt(seed.segmentWriteMs, ' ms')} (+ merge each segment once ${fmt(seed.compactSegmentsMs, ' ms')})`,
      fmt(seed.docWriteMs, ' ms'),
      ''
    ],
    [
      'stored (merged state; storage.estimate growth)',
      `${fmt(seed.segmentBytes / MiB, ' MiB')}; ~${fmt(seed.historyUsageBytes / MiB, ' MiB')} with index`,
      `${fmt(seed.docBytes / MiB, ' MiB')}; ~${fmt(seed.docUsageBytes / MiB, ' MiB')}`,
      ''
    ],
    [
      'one received message stored (median)',
      `${fmt(probe.appendWithIndexMs, ' ms')} (update + index entry, one transaction)`,
      fmt(probe.docAppendMs, ' ms'),
      ratio(probe.appendWithIndexMs, probe.docAppendMs)
    ],
    [
      `loadSegment of ${probe.uncompactedUpdates} unmerged one-message updates`,
      `${fmt(probe.uncompactedLoadMs, ' ms')} (then ${fmt(probe.compactedLoadMs, ' ms')} merged)`,
      '',
      ''
    ],
    ...Object.entries(probe.medianMs).map(([name, v]): [string, string, string, string] => [
      `  ${name}`,
      fmt(v, ' ms'),
      '',
      ''
    ])
  ];
  const header: [string, string, string, string] = [
    'metric',
    'segments + index (HistoryStore)',
    'single doc (DocStore, today)',
    'ratio'
  ];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
  for (const r of rows) console.log(line(r));
  console.log('');
  console.log(
    `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ` +
      `${loadAtEnd.map((l) => l.toFixed(2)).join(' ')} (${cpus().length} CPUs); messages unsigned`
  );

  const result = {
    startedAt: startedAt.toISOString(),
    environment: {
      chromium: browserVersion,
      node: process.version,
      platform: `${platform()} ${release()}`,
      cpus: cpus().length,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadAtEnd,
      crossOriginIsolated: isolated
    },
    config: cfg,
    notes:
      'Messages made with createConversation, unsigned. Each open in a freshly started browser ' +
      'over the same profile; heap = Runtime.getHeapUsage().usedSize after ' +
      'HeapProfiler.collectGarbage, with the opened state still referenced, minus before.',
    seed,
    open: {
      segmented: { ms: segMs, retainedHeapMiB: segHeap, peakHeapMiB: segPeak, runs: segmented },
      single: { ms: singleMs, retainedHeapMiB: singleHeap, peakHeapMiB: singlePeak, runs: single }
    },
    probe
  };
  const dir = `${benchDir}results`;
  await mkdir(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(`${dir}/history-${stamp}.json`, json);
  await writeFile(`${dir}/history-latest.json`, json);
  log(`wrote bench/results/history-${stamp}.json and bench/results/history-latest.json`);
}

async function main(): Promise<number> {
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
    await Promise.race([run(cleanups), budget]);
  } catch (err) {
    const e = err as Error;
    console.error(`\nbench failed: ${e.name}: ${e.message}`);
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
setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
