/**
 * The `files` phase of bench/run.ts (issue 10): the files service between two bench pages over
 * their direct WebRTC connection, each page with an on-disk profile (Playwright's fresh contexts
 * keep IndexedDB in memory; the app's blocks go to disk), side by side with the same bytes over
 * one libp2p stream (the bulk sink) and over the raw data channel, on the same two pages.
 *
 * 1. throughput, `rounds` x a file of `fileBytes` (orders alternate): add on A, fetch on B, read
 *    back on B against the SHA-256 A computed; then both remove it.
 * 2. a file of `ttfbBytes`: B's time to first byte, and the JS heap of both pages (CDP
 *    `Runtime.getHeapUsage` every 100 ms, as the open phase reads the heap through CDP).
 * 3. with `profile`: the same transfer with memory blockstores on one or both sides, with more
 *    blocks in flight, and one-block fetches against the echo stream's round trip.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Api from '../page/api.js';
import { profileVariants } from './files-profile.js';
import { startProfile } from './profile.js';
import { fmt } from './report.js';
import { heapSampler, machineCpu, processCpu, retainedHeapMB, type HeapPeak } from './samplers.js';
import { mbPerSecond } from './stats.js';

const MiB = 1024 * 1024;
const WARMUP_BYTES = 8 * MiB;
/** At least 1 MiB/s, or the configured timeout. */
const timeoutFor = (cfg: FilesConfig, bytes: number): number =>
  Math.max(cfg.timeoutMs, (bytes / MiB) * 1000);

export interface FilesConfig {
  fileBytes: number;
  rounds: number;
  ttfbBytes: number;
  profile: boolean;
  /** 'disk': two browsers with on-disk profiles; 'memory': fresh contexts of the run's browser. */
  storage: 'disk' | 'memory';
  bulkChunk: number;
  /** Least time allowed to one transfer or add (else 1 s per MiB). */
  timeoutMs: number;
}

export interface FilesSide {
  name: string;
  context: BrowserContext;
  page: Page;
}

export interface FilesDeps {
  executablePath: string;
  args: string[];
  /** The bench page with `?relay=`: its node starts at load. */
  url: string;
  log: (msg: string) => void;
  verbose: boolean;
  /** A page in a fresh context of the run's browser (IndexedDB in memory), node reserved. */
  openInMemory(name: string): Promise<FilesSide>;
  rawConnect(a: FilesSide, b: FilesSide): Promise<unknown>;
  ensureDirect(a: FilesSide, b: FilesSide, bId: string): Promise<{ remoteAddr?: string }>;
}

export interface FilesRound {
  add: Api.FilesAddResult;
  fetch: Api.FilesFetchResult;
  read: Api.FilesReadResult;
  /** A's WebRTC bytes sent during the fetch (proof it went over WebRTC). */
  aWireBytes: number;
  /** A while adding; A while serving, B while fetching. */
  stats: { add: Api.StoreStats; serve: Api.StoreStats; fetch: Api.StoreStats };
  removeMs: { a: number; b: number };
  /** JS heap of each page after a GC at the end of the round (MB). */
  retainedMB: { a: number; b: number };
  /** Busy share of the machine's cores during each step. */
  cpu: { add: number; fetch: number; read: number; libp2p: number; raw: number };
  /** Core-seconds per MB moved, by kind of process (processCpu). */
  cpuByProcess: Record<'fetch' | 'libp2p' | 'raw', Record<string, number>>;
  bulk: { libp2p: Api.BulkResult; raw: Api.BulkResult };
}

type Procs = { procs: Record<string, number> };

/** Core-seconds per MB (10^6 B) of `bytes`, by process group, rounded. */
function perMB(procs: Record<string, number>, bytes: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(procs)
      .sort(([, x], [, y]) => y - x)
      .map(([k, v]) => [k, Math.round((v / (bytes / 1e6)) * 1000) / 1000])
  );
}

export interface FilesResult {
  storage: string;
  expectedHashMs: number;
  rounds: FilesRound[];
  ttfb: {
    bytes: number;
    add: Api.FilesAddResult;
    fetch: Api.FilesFetchResult;
    heap: Record<'aAdd' | 'aServe' | 'bFetch', HeapPeak> & { idle: { a: HeapPeak; b: HeapPeak } };
    removeMs: { a: number; b: number };
  };
  /** A round of `ttfbBytes` (the issue's >= 200 MB), between its two baselines. */
  big: FilesRound;
  profile?: Record<string, unknown>;
}

class FilesPhaseError extends Error {
  override name = 'FilesPhaseError';
}

/**
 * `BENCH_FILES_PIN=1` (2+ cores): FA's browser runs on core 0 and FB's on core 1, like two
 * devices (each side's storage and crypto then cost its own CPU, not the other's). The stream
 * and raw-channel baselines run on the same pinned browsers.
 */
async function pinnedBrowser(executablePath: string, name: string, dir: string): Promise<string> {
  if (process.env.BENCH_FILES_PIN !== '1' || cpus().length < 2) return executablePath;
  const script = join(dir, 'chromium-pinned.sh');
  const core = name === 'FA' ? 0 : 1;
  await writeFile(script, `#!/bin/sh\nexec taskset -c ${core} '${executablePath}' "$@"\n`);
  await chmod(script, 0o755);
  return script;
}

/** A bench page in a browser of its own with a fresh on-disk profile (removed at cleanup). */
async function openDiskSide(
  deps: FilesDeps,
  name: string,
  cleanups: (() => Promise<unknown>)[]
): Promise<FilesSide> {
  const dir = await mkdtemp(join(tmpdir(), `p2p4e-bench-files-${name}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: await pinnedBrowser(deps.executablePath, name, dir),
    args: deps.args,
    headless: true
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => deps.log(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (deps.verbose || msg.type() === 'error')
      deps.log(`${name}: console.${msg.type()}: ${msg.text()}`);
  });
  await page.goto(deps.url, { timeout: 30_000 });
  await page.waitForFunction(() => window.bench !== undefined, undefined, { timeout: 30_000 });
  const err = await page.evaluate(() => window.bench.startError());
  if (err !== undefined) throw new FilesPhaseError(`${name}: node did not start: ${err}`);
  await page.evaluate((ms) => window.bench.ours.whenReserved(ms), 20_000);
  return { name, context, page };
}

async function bulk(
  kind: 'libp2p' | 'raw',
  a: FilesSide,
  bId: string,
  bytes: number,
  cfg: FilesConfig
): Promise<Api.BulkResult & { cpu: number } & Procs> {
  const cpu = machineCpu();
  const procs = processCpu(process.env.BENCH_THREADS === '1');
  const r =
    kind === 'raw'
      ? await a.page.evaluate(([n, c, t]) => window.bench.raw.bulk(n, c, t), [
          bytes,
          cfg.bulkChunk,
          timeoutFor(cfg, bytes)
        ] as const)
      : await a.page.evaluate(([p, n, c, t]) => window.bench.ours.bulk(p, n, c, t), [
          bId,
          bytes,
          cfg.bulkChunk,
          timeoutFor(cfg, bytes)
        ] as const);
  const busy = cpu();
  const spent = procs();
  if (r.received !== r.bytes)
    throw new FilesPhaseError(`${kind} bulk: got ${r.received} of ${r.bytes}`);
  if (r.wireBytes < r.bytes) throw new FilesPhaseError(`${kind} bulk: not over WebRTC`);
  return { ...r, cpu: busy, procs: spent };
}

/** A round's record from its steps: the files round and both baselines over `bytes`. */
function roundOf(
  files: Awaited<ReturnType<typeof filesRound>>,
  libp2p: Awaited<ReturnType<typeof bulk>>,
  raw: Awaited<ReturnType<typeof bulk>>,
  bytes: number,
  retainedMB: FilesRound['retainedMB']
): FilesRound {
  const { procs, ...round } = files;
  return {
    ...round,
    retainedMB,
    cpu: { ...files.cpu, libp2p: libp2p.cpu, raw: raw.cpu },
    cpuByProcess: {
      fetch: perMB(procs, bytes),
      libp2p: perMB(libp2p.procs, bytes),
      raw: perMB(raw.procs, bytes)
    },
    bulk: { libp2p, raw }
  };
}

/** add on A, fetch on B, read back on B (checked), remove on both. */
export async function filesRound(
  a: FilesSide,
  b: FilesSide,
  aId: string,
  bytes: number,
  expected: string,
  cfg: FilesConfig,
  /** Where to put the file to remove later (else it is removed now). */
  kept?: Api.FilesAddResult['record'][]
): Promise<
  Omit<FilesRound, 'bulk' | 'cpu' | 'retainedMB' | 'cpuByProcess'> & {
    cpu: Omit<FilesRound['cpu'], 'libp2p' | 'raw'>;
  } & Procs
> {
  await a.page.evaluate(() => window.bench.files.takeStats());
  let cpu = machineCpu();
  const add = await a.page.evaluate((n) => window.bench.files.add(n), bytes);
  const addCpu = cpu();
  const addStats = await a.page.evaluate(() => window.bench.files.takeStats());
  await b.page.evaluate(() => window.bench.files.takeStats());
  const wire0 = await a.page.evaluate(() => window.bench.chat.bytesSent());
  cpu = machineCpu();
  const procs = processCpu(process.env.BENCH_THREADS === '1');
  // BENCH_PROFILE=1: both pages' CPU while B fetches (bench/results/files-fetch-<page>).
  const profiles =
    process.env.BENCH_PROFILE === '1'
      ? await Promise.all([a, b].map((s) => startProfile(s.context, s.page)))
      : [];
  const fetch = await b.page.evaluate(
    ([r, p, t]) => window.bench.files.fetch(r, p, { timeoutMs: t, firstByte: false }),
    [add.record, aId, timeoutFor(cfg, bytes)] as const
  );
  const fetchCpu = cpu();
  const fetchProcs = procs();
  for (const [i, p] of profiles.entries()) await p.stop(`files-fetch-${[a, b][i]!.name}`);
  const aWireBytes = (await a.page.evaluate(() => window.bench.chat.bytesSent())) - wire0;
  const serve = await a.page.evaluate(() => window.bench.files.takeStats());
  const fetchStats = await b.page.evaluate(() => window.bench.files.takeStats());
  if (aWireBytes < bytes)
    throw new FilesPhaseError(`files: only ${aWireBytes} of ${bytes} B over WebRTC`);
  cpu = machineCpu();
  const read = await b.page.evaluate((r) => window.bench.files.readAll(r), add.record);
  const readCpu = cpu();
  if (read.bytes !== bytes || read.hash !== expected) {
    throw new FilesPhaseError(
      `files: B read ${read.bytes} B, sha256 ${read.hash}, expected ${expected}`
    );
  }
  // Kept files are removed after all rounds: deleting 64 MiB right before the next round's
  // transfer made it pay for the browser's cleanup (add and fetch slowed round after round).
  const removeMs = kept === undefined ? await removeBoth(a, b, add.record, true) : { a: 0, b: 0 };
  kept?.push(add.record);
  return {
    add,
    fetch,
    read,
    aWireBytes,
    stats: { add: addStats, serve, fetch: fetchStats },
    removeMs,
    cpu: { add: addCpu, fetch: fetchCpu, read: readCpu },
    procs: fetchProcs
  };
}

/** Removes `record` on B then A (ms each); `last`: both stores must be empty now. */
async function removeBoth(
  a: FilesSide,
  b: FilesSide,
  record: Api.FilesAddResult['record'],
  last: boolean
): Promise<{ a: number; b: number }> {
  const rb = await b.page.evaluate((r) => window.bench.files.remove(r), record);
  const ra = await a.page.evaluate((r) => window.bench.files.remove(r), record);
  for (const left of last ? [ra.left, rb.left] : []) {
    if (left !== undefined && left.blocks > 0)
      throw new FilesPhaseError(`files: ${left.blocks} blocks left after remove`);
  }
  return { a: ra.ms, b: rb.ms };
}

export async function openFiles(
  side: FilesSide,
  store: Api.FilesStoreKind,
  concurrency?: number
): Promise<void> {
  await side.page.evaluate(
    ([s, n, c]) =>
      window.bench.files.open({
        store: s,
        name: n,
        ...(c === undefined ? {} : { concurrency: c })
      }),
    [store, `bench-files-${side.name}`, concurrency] as const
  );
}

export async function measureFiles(
  cfg: FilesConfig,
  deps: FilesDeps,
  cleanups: (() => Promise<unknown>)[]
): Promise<FilesResult> {
  const { log } = deps;
  const open = async (name: string): Promise<FilesSide> => {
    if (cfg.storage === 'disk') return openDiskSide(deps, name, cleanups);
    const side = await deps.openInMemory(name);
    cleanups.push(() => side.context.close());
    return side;
  };
  const a = await open('FA');
  const b = await open('FB');
  const aId = await a.page.evaluate(() => window.bench.ours.peerId());
  const bId = await b.page.evaluate(() => window.bench.ours.peerId());
  await deps.rawConnect(a, b);
  const direct = await deps.ensureDirect(a, b, bId);
  log(`files: pages with ${cfg.storage} profiles, direct connection ${direct.remoteAddr ?? '?'}`);
  await openFiles(a, 'idb');
  await openFiles(b, 'idb');
  const { fileBytes, rounds: roundCount } = cfg;

  // Warm-up (discarded): a small file, both baselines.
  const warm = await a.page.evaluate((n) => window.bench.files.expectedHash(n), WARMUP_BYTES);
  await filesRound(a, b, aId, WARMUP_BYTES, warm.hash, cfg);
  await bulk('libp2p', a, bId, WARMUP_BYTES, cfg);
  await bulk('raw', a, bId, WARMUP_BYTES, cfg);

  const expected = await a.page.evaluate((n) => window.bench.files.expectedHash(n), fileBytes);
  log(`files: sha256 of the ${fileBytes / MiB} MiB file made in ${fmt(expected.ms, ' ms')}`);
  const rounds: FilesRound[] = [];
  const kept: Api.FilesAddResult['record'][] = [];
  for (let r = 0; r < roundCount; r++) {
    let files: Awaited<ReturnType<typeof filesRound>> | undefined;
    let libp2p: Awaited<ReturnType<typeof bulk>> | undefined;
    let raw: Awaited<ReturnType<typeof bulk>> | undefined;
    const steps = [
      async () => (files = await filesRound(a, b, aId, fileBytes, expected.hash, cfg, kept)),
      async () => (libp2p = await bulk('libp2p', a, bId, fileBytes, cfg)),
      async () => (raw = await bulk('raw', a, bId, fileBytes, cfg))
    ];
    for (const step of r % 2 === 0 ? steps : steps.reverse()) await step();
    if (files === undefined || libp2p === undefined || raw === undefined)
      throw new FilesPhaseError('round incomplete');
    const retainedMB = { a: await retainedHeapMB(a), b: await retainedHeapMB(b) };
    const round = roundOf(files, libp2p, raw, fileBytes, retainedMB);
    rounds.push(round);
    const { cpuByProcess } = round;
    for (const [k, v] of Object.entries(cpuByProcess))
      log(`files round ${r + 1}: ${k} core-s per MB by process ${JSON.stringify(v)}`);
    log(
      `files round ${r + 1}/${roundCount}: add ${fmt(mbPerSecond(fileBytes, files.add.ms))} MB/s, ` +
        `fetch ${fmt(mbPerSecond(fileBytes, files.fetch.ms))} MB/s, read ${fmt(mbPerSecond(fileBytes, files.read.ms))} MB/s; ` +
        `libp2p stream ${fmt(mbPerSecond(fileBytes, libp2p.ms))} MB/s, raw ${fmt(mbPerSecond(fileBytes, raw.ms))} MB/s`
    );
  }
  for (const [i, record] of kept.entries()) {
    rounds[i]!.removeMs = await removeBoth(a, b, record, i === kept.length - 1);
  }

  // The big file: time to first byte, heap of both pages.
  const big = cfg.ttfbBytes;
  log(`files: ${big / MiB} MiB file, time to first byte and JS heap`);
  const heapA = await heapSampler(a);
  const heapB = await heapSampler(b);
  await Promise.all([heapA.gc(), heapB.gc()]);
  heapA.take(); // drops the samples from before the GC
  heapB.take();
  await new Promise((res) => setTimeout(res, 300));
  const idle = { a: heapA.take(), b: heapB.take() };
  const add = await a.page.evaluate((n) => window.bench.files.add(n), big);
  const aAdd = heapA.take();
  heapB.take();
  const fetch = await b.page.evaluate(
    ([r, p, t]) => window.bench.files.fetch(r, p, { timeoutMs: t, firstByte: true }),
    [add.record, aId, timeoutFor(cfg, big)] as const
  );
  const heap = { idle, aAdd, aServe: heapA.take(), bFetch: heapB.take() };
  await Promise.all([heapA.stop(), heapB.stop()]);
  const byte0 = await a.page.evaluate((n) => window.bench.files.firstByte(n), big);
  if (fetch.firstByte !== byte0)
    throw new FilesPhaseError(`files: B's first byte ${fetch.firstByte}, A's ${byte0}`);
  const rb = await b.page.evaluate((r) => window.bench.files.remove(r), add.record);
  const ra = await a.page.evaluate((r) => window.bench.files.remove(r), add.record);
  log(
    `files: ${big / MiB} MiB: add ${fmt(mbPerSecond(big, add.ms))} MB/s, first block ${fmt(fetch.firstProgressMs, ' ms')}, ` +
      `first byte ${fmt(fetch.firstByteMs, ' ms')}, fetch ${fmt(mbPerSecond(big, fetch.ms))} MB/s (heap sampled); ` +
      `heap peak A add ${fmt(aAdd.usedMB, ' MB')}, A serve ${fmt(heap.aServe.usedMB, ' MB')}, B fetch ${fmt(heap.bFetch.usedMB, ' MB')}`
  );
  // The size (>= 200 MB: 192 MiB is 201 MB) as a round of its own, like the others: no
  // heap sampling, no first byte, the fetch between its two baselines.
  const bigExpected = await a.page.evaluate((n) => window.bench.files.expectedHash(n), big);
  const bigLibp2p = await bulk('libp2p', a, bId, big, cfg);
  const bigFiles = await filesRound(a, b, aId, big, bigExpected.hash, cfg);
  const bigRaw = await bulk('raw', a, bId, big, cfg);
  const bigRound = roundOf(bigFiles, bigLibp2p, bigRaw, big, { a: NaN, b: NaN });
  log(
    `files: ${big / MiB} MiB round: fetch ${fmt(mbPerSecond(big, bigFiles.fetch.ms))} MB/s; ` +
      `libp2p stream ${fmt(mbPerSecond(big, bigLibp2p.ms))} MB/s, raw ${fmt(mbPerSecond(big, bigRaw.ms))} MB/s`
  );
  const result: FilesResult = {
    storage:
      cfg.storage === 'disk'
        ? 'IndexedDB (createIdbBlockstore) in on-disk Chromium profiles, one browser per page'
        : "IndexedDB (createIdbBlockstore) in fresh contexts of the run's browser (kept in memory)",
    expectedHashMs: expected.ms,
    rounds,
    ttfb: { bytes: big, add, fetch, heap, removeMs: { a: ra.ms, b: rb.ms } },
    big: bigRound
  };
  if (cfg.profile) result.profile = await profileVariants(cfg, a, b, { aId, bId }, log);
  return result;
}
