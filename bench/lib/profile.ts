/**
 * CPU profiles of bench pages (`BENCH_PROFILE=1`), through the Chrome DevTools Protocol.
 */
import type { BrowserContext, Page } from '@playwright/test';
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
