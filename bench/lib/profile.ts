/**
 * CPU profiles of bench pages (`BENCH_PROFILE=1`), through the Chrome DevTools Protocol, and
 * traces of the whole browser (`BENCH_TRACE=1`).
 */
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fmt } from './report.js';

const resultsDir = fileURLToPath(new URL('../results', import.meta.url));
const log = (msg: string): void => console.error(`[bench] ${msg}`);

/**
 * `BENCH_PROFILE=1`: a CPU profile of one page (Chrome DevTools format, open it in DevTools'
 * Performance panel) written to bench/results/<name>.cpuprofile, and its top functions by self
 * time logged.
 */
export async function startProfile(
  context: BrowserContext,
  page: Page
): Promise<{ stop(name: string): Promise<void> }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  return {
    async stop(name) {
      const { profile } = await cdp.send('Profiler.stop');
      await cdp.detach();
      await mkdir(resultsDir, { recursive: true });
      const file = `${resultsDir}/${name}.cpuprofile`;
      await writeFile(file, JSON.stringify(profile));
      const self = new Map<string, number>();
      const dt = profile.timeDeltas ?? [];
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      (profile.samples ?? []).forEach((id, i) => {
        const f = byId.get(id)?.callFrame;
        if (f === undefined) return;
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
      });
      const top = [...self].sort((x, y) => y[1] - x[1]).slice(0, 25);
      log(`profile ${file}, self time:`);
      for (const [k, ms] of top) log(`  ${fmt(ms, ' ms').padStart(10)}  ${k}`);
      // Total time (self + callees) per function, each counted once per sample.
      const parent = new Map<number, number>();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
      const total = new Map<string, number>();
      (profile.samples ?? []).forEach((id, i) => {
        const seen = new Set<string>();
        for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
          const f = byId.get(n)?.callFrame;
          if (f === undefined || f.functionName === '') continue;
          const key = `${f.functionName} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
          if (seen.has(key)) continue;
          seen.add(key);
          total.set(key, (total.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
        }
      });
      log('total time (with callees):');
      for (const [k, ms] of [...total].sort((x, y) => y[1] - x[1]).slice(0, 40)) {
        log(`  ${fmt(ms, ' ms').padStart(10)}  ${k}`);
      }
    }
  };
}

interface TraceEvent {
  ph?: string;
  name: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * `BENCH_TRACE=1`: a Chrome trace of the whole browser (every process and thread: open it in
 * DevTools' Performance panel or ui.perfetto.dev) written to bench/results/<name>.trace.json,
 * and the CPU time of each renderer thread logged: what competes with the pages' main threads
 * for the cores (V8's concurrent compilers, GC helpers, WebRTC).
 */
export async function startTrace(browser: Browser): Promise<{ stop(name: string): Promise<void> }> {
  await browser.startTracing(undefined, {
    categories: ['toplevel', 'v8', 'disabled-by-default-v8.gc', 'webrtc']
  });
  return {
    async stop(name) {
      const bytes = await browser.stopTracing();
      await mkdir(resultsDir, { recursive: true });
      const file = `${resultsDir}/${name}.trace.json`;
      await writeFile(file, bytes);
      const parsed = JSON.parse(bytes.toString('utf8')) as
        { traceEvents: TraceEvent[] } | TraceEvent[];
      const events = Array.isArray(parsed) ? parsed : parsed.traceEvents;
      const threads = new Map<string, string>();
      const processes = new Map<number, string>();
      for (const e of events) {
        if (e.ph !== 'M') continue;
        if (e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, e.args?.name ?? '?');
        if (e.name === 'process_name') processes.set(e.pid, e.args?.name ?? '?');
      }
      // Top-level tasks only (nested events would count twice): thread time where it is known.
      const cpu = new Map<string, number>();
      for (const e of events) {
        if (e.ph !== 'X' || !TOP_LEVEL.has(e.name)) continue;
        const key = `${processes.get(e.pid) ?? e.pid} ${e.pid} ${threads.get(`${e.pid}/${e.tid}`) ?? e.tid}`;
        cpu.set(key, (cpu.get(key) ?? 0) + (e.tdur ?? e.dur ?? 0) / 1000);
      }
      log(`trace ${file}, CPU per thread (top-level tasks):`);
      for (const [k, ms] of [...cpu].sort((x, y) => y[1] - x[1]).slice(0, 16)) {
        log(`  ${fmt(ms, ' ms').padStart(10)}  ${k}`);
      }
    }
  };
}

const TOP_LEVEL = new Set(['ThreadControllerImpl::RunTask', 'ThreadPool_RunTask', 'EpollEvent']);
