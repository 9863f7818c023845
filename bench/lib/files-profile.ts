/**
 * `BENCH_FILES_PROFILE=1` in the `files` phase (files-phase.ts): where the time goes. The same
 * transfer into IndexedDB with packs, with a value per block (no packs) and into memory (twice
 * each, interleaved: the machine drifts), 24 blocks in flight, IndexedDB on one side only, and
 * one-block fetches against the echo stream's round trip.
 */
import type { FilesStoreKind } from '../page/api.js';
import { filesRound, openFiles, type FilesConfig, type FilesSide } from './files-phase.js';
import { fmt } from './report.js';
import { mbPerSecond } from './stats.js';

/** Where the time goes: no IndexedDB at all, and more blocks in flight. */
export async function profileVariants(
  cfg: FilesConfig,
  a: FilesSide,
  b: FilesSide,
  ids: { aId: string; bId: string },
  log: (msg: string) => void
): Promise<Record<string, unknown>> {
  const { aId, bId } = ids;
  const bytes = cfg.fileBytes;
  const expected = (await a.page.evaluate((n) => window.bench.files.expectedHash(n), bytes)).hash;
  const out: Record<string, unknown> = {};
  type Store = FilesStoreKind;
  // [name, A's store, B's store, blocks in flight on B]
  const variants: [string, Store, Store, number | undefined][] = [
    ['IndexedDB, packs', 'idb', 'idb', undefined],
    ['IndexedDB, a value per block (no packs)', 'idb-inline', 'idb-inline', undefined],
    ['memory blockstores on both', 'memory', 'memory', undefined],
    ['IndexedDB, packs (again)', 'idb', 'idb', undefined],
    ['IndexedDB, a value per block (again)', 'idb-inline', 'idb-inline', undefined],
    ['memory blockstores on both (again)', 'memory', 'memory', undefined],
    ['IndexedDB, 24 in flight', 'idb', 'idb', 24],
    ["IndexedDB on A only (B's in memory)", 'idb', 'memory', undefined],
    ["IndexedDB on B only (A's in memory)", 'memory', 'idb', undefined]
  ];
  for (const [name, storeA, storeB, concurrency] of variants) {
    await openFiles(a, storeA);
    await openFiles(b, storeB, concurrency);
    try {
      const r = await filesRound(a, b, aId, bytes, expected, cfg);
      out[name] = {
        addMBps: mbPerSecond(bytes, r.add.ms),
        fetchMBps: mbPerSecond(bytes, r.fetch.ms),
        readMBps: mbPerSecond(bytes, r.read.ms),
        firstBlockMs: r.fetch.firstProgressMs,
        cpu: r.cpu,
        stats: r.stats
      };
      log(
        `files profile, ${name}: add ${fmt(mbPerSecond(bytes, r.add.ms))} MB/s, fetch ${fmt(mbPerSecond(bytes, r.fetch.ms))} MB/s`
      );
    } catch (err) {
      out[name] = { error: String(err) };
      log(`files profile, ${name}: FAILED ${String(err)}`);
    }
  }
  // One bitswap round trip: a 1 KiB file is one block (its root), vs the echo stream's RTT.
  const tiny: Record<string, number[]> = {};
  for (const store of ['memory', 'idb'] as const) {
    await openFiles(a, store);
    await openFiles(b, store);
    tiny[store] = [];
    for (let i = 0; i < 5; i++) {
      const add = await a.page.evaluate(() => window.bench.files.add(1024));
      const f = await b.page.evaluate(
        ([r, p]) => window.bench.files.fetch(r, p, { timeoutMs: 10_000, firstByte: false }),
        [add.record, aId] as const
      );
      tiny[store].push(f.ms);
      await b.page.evaluate((r) => window.bench.files.remove(r), add.record);
      await a.page.evaluate((r) => window.bench.files.remove(r), add.record);
    }
  }
  const echo = await a.page.evaluate((p) => window.bench.ours.rtt(p, 20, 32, 5_000), bId);
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  out['one-block fetch (1 KiB file)'] = {
    memoryMs: tiny.memory,
    idbMs: tiny.idb,
    echoRttMs: med(echo)
  };
  log(
    `files profile, one-block fetch: memory ${fmt(med(tiny.memory ?? []), ' ms')}, ` +
      `IndexedDB ${fmt(med(tiny.idb ?? []), ' ms')}; echo RTT ${fmt(med(echo), ' ms')}`
  );
  return out;
}
