/**
 * Samplers for the bench runner: the machine's CPU (Linux /proc/stat) and a page's JS heap
 * through CDP (`Runtime.getHeapUsage`, as the open phase reads the heap through CDP).
 */
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';

export interface HeapPeak {
  /** Highest `usedSize` (JS heap) sampled, MB (10^6 B), and ArrayBuffer backing stores. */
  usedMB: number;
  backingMB: number;
  samples: number;
  /** Longest gap between two samples (a busy main thread answers CDP late). */
  maxGapMs: number;
}

/** Busy share of all the machine's cores from now until the call (Linux /proc/stat; else NaN). */
export function machineCpu(): () => number {
  const read = (): [number, number] => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
      const v = f.map(Number);
      const idle = (v[3] ?? 0) + (v[4] ?? 0);
      return [v.reduce((x, y) => x + y, 0) - idle, v.reduce((x, y) => x + y, 0)];
    } catch {
      return [Number.NaN, Number.NaN];
    }
  };
  const [b0, t0] = read();
  return () => {
    const [b1, t1] = read();
    return (b1 - b0) / (t1 - t0);
  };
}

/** Samples a page's heap every `everyMs` until take(), which returns the peak and restarts. */
export async function heapSampler(side: { context: BrowserContext; page: Page }, everyMs = 100) {
  const cdp: CDPSession = await side.context.newCDPSession(side.page);
  const fresh = () => ({ used: 0, backing: 0, samples: 0, maxGap: 0, last: Date.now() });
  let peak = fresh();
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      const r = (await cdp.send('Runtime.getHeapUsage').catch(() => undefined)) as
        { usedSize: number; backingStorageSize?: number } | undefined;
      if (r !== undefined) {
        peak.used = Math.max(peak.used, r.usedSize);
        peak.backing = Math.max(peak.backing, r.backingStorageSize ?? Number.NaN);
        peak.samples++;
        peak.maxGap = Math.max(peak.maxGap, Date.now() - peak.last);
        peak.last = Date.now();
      }
      await new Promise((res) => setTimeout(res, Math.max(0, everyMs - (Date.now() - t))));
    }
  })();
  return {
    gc: () => cdp.send('HeapProfiler.collectGarbage'),
    take(): HeapPeak {
      const p = peak;
      peak = fresh();
      return {
        usedMB: p.used / 1e6,
        backingMB: p.backing / 1e6,
        samples: p.samples,
        maxGapMs: p.maxGap
      };
    },
    async stop() {
      running = false;
      await loop;
      await cdp.detach().catch(() => {});
    }
  };
}

/** A page's JS heap after a full GC (MB): what it retains. */
export async function retainedHeapMB(side: { context: BrowserContext; page: Page }) {
  const cdp = await side.context.newCDPSession(side.page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    return usedSize / 1e6;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * Core-seconds each kind of process spent from now until the call (Linux /proc; else empty):
 * Chromium's by `--type` (renderer, network utility, gpu; 'browser' without one), node (the
 * relay and this runner), everything else as 'other'; `byThread`: by process kind and thread name.
 */
export function processCpu(byThread = false): () => Record<string, number> {
  const hz = 100; // USER_HZ on Linux
  const read = (): Map<number, { group: string; ticks: number }> => {
    const out = new Map<number, { group: string; ticks: number }>();
    let pids: string[] = [];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return out;
    }
    const ticksOf = (stat: string): number => {
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]);
    };
    for (const pid of pids) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/u);
        const group = groupOf(cmd);
        if (!byThread) {
          out.set(Number(pid), {
            group,
            ticks: ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))
          });
          continue;
        }
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          const name = stat
            .slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
            .replace(/\d+$/u, '');
          out.set(Number(tid), { group: `${group} / ${name}`, ticks: ticksOf(stat) });
        }
      } catch {
        // gone meanwhile
      }
    }
    return out;
  };
  const before = read();
  return () => {
    const sums: Record<string, number> = {};
    for (const [pid, now] of read()) {
      const spent = (now.ticks - (before.get(pid)?.ticks ?? 0)) / hz;
      if (spent > 0) sums[now.group] = (sums[now.group] ?? 0) + spent;
    }
    return sums;
  };
}

function groupOf(cmd: string[]): string {
  const exe = cmd[0] ?? '';
  if (/chrom/i.test(exe) || exe === '/proc/self/exe') {
    const type = cmd.find((a) => a.startsWith('--type='))?.slice(7);
    if (type === undefined) return 'chromium browser';
    if (type === 'utility') {
      const sub = cmd.find((a) => a.startsWith('--utility-sub-type='))?.slice(19) ?? 'utility';
      return `chromium ${sub.split('.')[0] ?? sub}`;
    }
    return `chromium ${type}`;
  }
  if (/node/.test(exe)) return 'node';
  return 'other';
}
