/** The files phase's table rows and JSON section (see files-phase.ts). */
import { cpus } from 'node:os';
import type { StoreStats } from '../page/api.js';
import type { FilesConfig, FilesResult, FilesRound } from './files-phase.js';
import { fmt, ratio, type Row } from './report.js';
import type { HeapPeak } from './samplers.js';
import { mbPerSecond, summarize } from './stats.js';

const MiB = 1024 * 1024;

/** Table rows and the JSON section. */
export function filesReport(
  cfg: FilesConfig,
  f: FilesResult
): { rows: Row[]; section: Record<string, unknown> } {
  const bytes = cfg.fileBytes;
  const size = `files ${bytes / MiB} MiB`;
  const mbps = (xs: number[]) => summarize(xs.map((ms) => mbPerSecond(bytes, ms)));
  const add = mbps(f.rounds.map((r) => r.add.ms));
  const fetch = mbps(f.rounds.map((r) => r.fetch.ms));
  const read = mbps(f.rounds.map((r) => r.read.ms));
  const readNoHash = mbps(f.rounds.map((r) => r.read.ms - r.read.hashMs));
  const libp2p = mbps(f.rounds.map((r) => r.bulk.libp2p.ms));
  const raw = mbps(f.rounds.map((r) => r.bulk.raw.ms));
  // Each round's fetch against that round's baselines (the machine's speed drifts).
  const paired = summarize(f.rounds.map((r) => r.bulk.libp2p.ms / r.fetch.ms));
  const cpu = (k: keyof FilesRound['cpu']): string =>
    `${(summarize(f.rounds.map((r) => r.cpu[k])).median * 100).toFixed(0)}%`;
  const range = (s: { median: number; min: number; max: number }) =>
    `${fmt(s.median, ' MB/s')} (${fmt(s.min)}-${fmt(s.max)})`;
  // CPU the machine spent per MB moved (core-seconds): on 2 busy cores a transfer's speed
  // follows it, so the ratio of two transfers is about the inverse ratio of their CPU per MB.
  const cores = cpus().length;
  const perMB = (share: number, ms: number, of = bytes) => (share * cores * ms) / 1000 / (of / 1e6);
  const cpuPerMB = {
    fetch: summarize(f.rounds.map((r) => perMB(r.cpu.fetch, r.fetch.ms))).median,
    libp2p: summarize(f.rounds.map((r) => perMB(r.cpu.libp2p, r.bulk.libp2p.ms))).median,
    raw: summarize(f.rounds.map((r) => perMB(r.cpu.raw, r.bulk.raw.ms))).median
  };
  const t = f.ttfb;
  const bigFetch = mbPerSecond(t.bytes, f.big.fetch.ms);
  const bigStream = mbPerSecond(t.bytes, f.big.bulk.libp2p.ms);
  const bigRaw = mbPerSecond(t.bytes, f.big.bulk.raw.ms);
  const big = `files ${t.bytes / MiB} MiB`;
  const perBlock = (s: StoreStats | undefined, k: 'put' | 'get'): string =>
    s === undefined || s[`${k}s`] === 0 ? 'n/a' : fmt(s[`${k}Ms`] / s[`${k}s`], ' ms');
  const last = f.rounds.at(-1)?.stats;
  const heap = (h: HeapPeak) => `${fmt(h.usedMB, ' MB')} (ArrayBuffers ${fmt(h.backingMB, ' MB')})`;
  const rows: Row[] = [
    [
      `${size}: fetch A -> B into IndexedDB (n=${f.rounds.length})`,
      `median ${range(fetch)}; per block: B's put until durable ${perBlock(last?.fetch, 'put')}, ` +
        `A's get ${perBlock(last?.serve, 'get')}; CPU busy ${cpu('fetch')}`,
      `one libp2p stream ${range(libp2p)}, CPU ${cpu('libp2p')}; ` +
        `raw channel ${range(raw)}, CPU ${cpu('raw')}`,
      `${ratio(fetch.median, libp2p.median)} vs stream (per round ${fmt(paired.median)}x), ` +
        `${ratio(fetch.median, raw.median)} vs raw`
    ],
    [
      `${size}: CPU per MB moved (core-seconds, ${cores} cores)`,
      `fetch ${fmt(cpuPerMB.fetch, ' s')}`,
      `one libp2p stream ${fmt(cpuPerMB.libp2p, ' s')}, raw channel ${fmt(cpuPerMB.raw, ' s')}`,
      `stream / fetch ${fmt(cpuPerMB.libp2p / cpuPerMB.fetch)}x`
    ],
    [
      `${size}: add on A (encrypt + import into IndexedDB)`,
      `median ${range(add)}; per block: put until durable ${perBlock(last?.add, 'put')}; CPU busy ${cpu('add')}`,
      '-',
      '-'
    ],
    [
      `${size}: read + decrypt on B`,
      `median ${range(read)} with the SHA-256 (checked), ${fmt(readNoHash.median, ' MB/s')} without its time`,
      '-',
      '-'
    ],
    [
      `${big} (${fmt(t.bytes / 1e6, ' MB')}): fetch A -> B into IndexedDB (n=1)`,
      `${fmt(bigFetch, ' MB/s')}; CPU busy ${fmt(f.big.cpu.fetch * 100, '%')}, ` +
        `${fmt(perMB(f.big.cpu.fetch, f.big.fetch.ms, t.bytes), ' s')} per MB`,
      `one libp2p stream ${fmt(bigStream, ' MB/s')}, raw channel ${fmt(bigRaw, ' MB/s')}`,
      `${ratio(bigFetch, bigStream)} vs stream, ${ratio(bigFetch, bigRaw)} vs raw`
    ],
    [
      `${big}: time to first byte on B`,
      `first block stored ${fmt(t.fetch.firstProgressMs, ' ms')}, first plaintext byte ` +
        `${fmt(t.fetch.firstByteMs, ' ms')} (whole fetch ${fmt(mbPerSecond(t.bytes, t.fetch.ms), ' MB/s')}, ` +
        `add ${fmt(mbPerSecond(t.bytes, t.add.ms), ' MB/s')})`,
      '-',
      '-'
    ],
    [
      `${big}: JS heap peak (target <= 150 MB)`,
      `A adding ${heap(t.heap.aAdd)}, A serving ${heap(t.heap.aServe)}, B fetching ${heap(t.heap.bFetch)}`,
      `idle: A ${fmt(t.heap.idle.a.usedMB, ' MB')}, B ${fmt(t.heap.idle.b.usedMB, ' MB')}; ` +
        `after a GC at each round's end: B ${f.rounds.map((r) => fmt(r.retainedMB.b)).join(', ')} MB`,
      '-'
    ]
  ];
  for (const [name, v] of Object.entries(f.profile ?? {})) {
    const p = v as {
      fetchMBps?: number;
      addMBps?: number;
      firstBlockMs?: number;
      error?: string;
      cpu?: { fetch: number };
    };
    const one = v as { memoryMs?: number[]; idbMs?: number[]; echoRttMs?: number };
    if (one.memoryMs !== undefined) {
      const m = (xs: number[] | undefined) => fmt(summarize(xs ?? []).median, ' ms');
      rows.push([
        `profile: ${name}`,
        `memory blockstores ${m(one.memoryMs)}, IndexedDB ${m(one.idbMs)} (medians of 5)`,
        `echo stream RTT ${fmt(one.echoRttMs ?? Number.NaN, ' ms')}`,
        '-'
      ]);
      continue;
    }
    rows.push([
      `${size} profile: ${name}`,
      p.error ??
        `fetch ${fmt(p.fetchMBps ?? Number.NaN, ' MB/s')}, add ${fmt(p.addMBps ?? Number.NaN, ' MB/s')}, ` +
          `first block ${fmt(p.firstBlockMs ?? Number.NaN, ' ms')}` +
          (p.cpu === undefined || p.fetchMBps === undefined
            ? ''
            : `; CPU ${fmt((p.cpu.fetch * cores) / p.fetchMBps, ' s')} per MB`),
      '-',
      p.fetchMBps === undefined ? '-' : `${ratio(p.fetchMBps, libp2p.median)} vs stream`
    ]);
  }
  const section = {
    note:
      "createFiles on the pages' nodes, createIdbBlockstore on both sides; add = add() of a " +
      'generated stream until every block is durable; fetch = fetch() start until every block is ' +
      'stored; read = read() of the whole file with a SHA-256 of it; baselines: the same bytes ' +
      'A -> B over one /p2p4e/bench-sink/1.0.0 stream and over the raw data channel, same pages. ' +
      'cpu: busy share of all cores of the machine during each step.',
    storage: f.storage,
    bytes,
    ttfbBytes: t.bytes,
    addMBps: add,
    fetchMBps: fetch,
    readMBps: read,
    readWithoutHashMBps: readNoHash,
    libp2pStreamMBps: libp2p,
    rawChannelMBps: raw,
    ratioToLibp2pStream: fetch.median / libp2p.median,
    ratioToLibp2pStreamPerRound: paired,
    ratioToRawChannel: fetch.median / raw.median,
    cpuCoreSecondsPerMB: { cores, ...cpuPerMB },
    expectedHashMs: f.expectedHashMs,
    rounds: f.rounds,
    ttfb: t,
    big: f.big,
    bigRatioToLibp2pStream: bigFetch / bigStream,
    ...(f.profile === undefined ? {} : { profile: f.profile })
  };
  return { rows, section };
}
