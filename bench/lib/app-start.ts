/**
 * Page load -> relay reservation on the APP itself: the built app served by the relay, in a
 * fresh browser context (empty IndexedDB: first run), through the app's own start path. The app
 * sets User Timing marks along the way (src/lib/app/start-marks.ts); this reads them, the
 * navigation and resource timings, and the WebSocket's own events (an init script wraps
 * `WebSocket` before the app runs, timing its creation, `open` and first frames with the page's
 * `performance.now()`). Nothing reaches into the app.
 */
import type { Browser, Page } from '@playwright/test';
import { summarize, type Summary } from './stats.js';

/** The app's marks (START_MARKS in src/lib/app/start-marks.ts), in start order. */
export const APP_MARKS = [
  'p2p4e:app-created',
  'p2p4e:key-loaded',
  'p2p4e:relay-info',
  'p2p4e:node-started',
  'p2p4e:relay-dial',
  'p2p4e:relay-connected',
  'p2p4e:relay-identified',
  'p2p4e:reserved',
  'p2p4e:webrtc-addr'
] as const;

export interface WsFrame {
  /** ms since navigation start. */
  at: number;
  dir: 'in' | 'out';
  bytes: number;
}

/** One fresh page; every time is in ms since navigation start (performance.timeOrigin). */
export interface AppStartSample {
  /** Marks the app set (missing when a step did not happen). */
  marks: Record<string, number>;
  /** HTML response received. */
  htmlEnd: number;
  /** The last script (`.js`) loaded before the app started. */
  scriptsEnd: number;
  /** Script bytes transferred before the app started (compressed, as sent). */
  scriptBytes: number;
  /** `GET /api/relay-info` requests the page made before its reservation (0: inline). */
  relayInfoFetches: number;
  /** `DOMContentLoaded` fired. */
  domContentLoaded: number;
  /** The first WebSocket (the relay's): constructed, open. */
  wsCreated?: number;
  wsOpen?: number;
  /** Frames on that WebSocket until the first reservation. */
  frames: WsFrame[];
}

const INIT_SCRIPT = `(() => {
  const Native = window.WebSocket;
  const log = (window.__p2p4eWs = []);
  const recs = new WeakMap();
  class Timed extends Native {
    constructor(...args) {
      super(...args);
      const rec = { created: performance.now(), open: undefined, frames: [] };
      log.push(rec);
      recs.set(this, rec);
      this.addEventListener('open', () => { rec.open = performance.now(); });
      this.addEventListener('message', (e) => {
        if (rec.frames.length >= 256) return;
        const d = e.data;
        const bytes = typeof d === 'string' ? d.length : (d.byteLength ?? d.size ?? 0);
        rec.frames.push({ at: performance.now(), dir: 'in', bytes });
      });
    }
    send(data) {
      const rec = recs.get(this);
      if (rec !== undefined && rec.frames.length < 256) {
        const bytes = typeof data === 'string' ? data.length : (data.byteLength ?? data.size ?? 0);
        rec.frames.push({ at: performance.now(), dir: 'out', bytes });
      }
      return super.send(data);
    }
  }
  window.WebSocket = Timed;
})();`;

/** Waits for the page's `/webrtc` address, then reads its timings. */
async function readSample(page: Page, timeoutMs: number): Promise<AppStartSample> {
  await page.waitForFunction(
    (name) => performance.getEntriesByName(name).length > 0,
    'p2p4e:webrtc-addr',
    { timeout: timeoutMs, polling: 20 }
  );
  return page.evaluate((names) => {
    const marks: Record<string, number> = {};
    for (const name of names) {
      const entry = performance.getEntriesByName(name, 'mark')[0];
      if (entry !== undefined) marks[name] = entry.startTime;
    }
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const appStart = marks['p2p4e:app-created'] ?? Number.POSITIVE_INFINITY;
    const reserved = marks['p2p4e:reserved'] ?? Number.POSITIVE_INFINITY;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const scripts = resources.filter((r) => r.name.endsWith('.js') && r.responseEnd <= appStart);
    const ws = (
      window as unknown as {
        __p2p4eWs: { created: number; open?: number; frames: WsFrame[] }[];
      }
    ).__p2p4eWs[0];
    return {
      marks,
      htmlEnd: nav.responseEnd,
      scriptsEnd: Math.max(0, ...scripts.map((r) => r.responseEnd)),
      scriptBytes: scripts.reduce((a, r) => a + r.encodedBodySize, 0),
      relayInfoFetches: resources.filter(
        (r) => r.name.includes('/api/relay-info') && r.startTime <= reserved
      ).length,
      domContentLoaded: nav.domContentLoadedEventStart,
      ...(ws === undefined ? {} : { wsCreated: ws.created }),
      ...(ws?.open === undefined ? {} : { wsOpen: ws.open }),
      frames: (ws?.frames ?? []).filter((f) => f.at <= reserved)
    };
  }, APP_MARKS);
}

/**
 * Opens the app at `url` in a fresh context and waits for its `/webrtc` address; with
 * `returning`, then reloads it (a returning visit) and measures that too.
 */
export async function measureAppStart(
  browser: Browser,
  url: string,
  timeoutMs: number,
  onLog: (msg: string) => void = () => {},
  options: { returning?: boolean } = {}
): Promise<AppStartSample & { returning?: AppStartSample }> {
  const context = await browser.newContext();
  try {
    await context.addInitScript(INIT_SCRIPT);
    const page = await context.newPage();
    page.on('pageerror', (err) => onLog(`app: page error: ${err.message}`));
    await page.goto(url, { timeout: 30_000 });
    const first = await readSample(page, timeoutMs);
    if (!options.returning) return first;
    // The same person opening the app again: scripts cached, the key stored.
    await page.reload({ timeout: 30_000 });
    return { ...first, returning: await readSample(page, timeoutMs) };
  } finally {
    await context.close().catch(() => {});
  }
}

export interface AppStartSummary {
  /** Page load -> first reservation (the `p2p4e:reserved` mark). */
  loadToReservedMs: Summary;
  /** Median of each step (ms since navigation start), in start order. */
  steps: { step: string; median: number; p95: number; n: number }[];
  relayInfoFetches: number;
  framesUntilReserved: Summary;
  scriptKiB: number;
}

/** Medians per step, in the order the steps happen. */
export function summarizeAppStart(samples: AppStartSample[]): AppStartSummary {
  const series: [string, (s: AppStartSample) => number | undefined][] = [
    ['HTML received', (s) => s.htmlEnd],
    ['scripts loaded', (s) => s.scriptsEnd],
    ['DOMContentLoaded', (s) => s.domContentLoaded],
    ...APP_MARKS.slice(0, 5).map((m): [string, (s: AppStartSample) => number | undefined] => [
      m,
      (s) => s.marks[m]
    ]),
    ['WebSocket created', (s) => s.wsCreated],
    ['WebSocket open', (s) => s.wsOpen],
    ...APP_MARKS.slice(5).map((m): [string, (s: AppStartSample) => number | undefined] => [
      m,
      (s) => s.marks[m]
    ])
  ];
  const steps = series.map(([step, pick]) => {
    const values = samples.map(pick).filter((v): v is number => v !== undefined);
    const s = summarize(values);
    return { step, median: s.median, p95: s.p95, n: s.n };
  });
  return {
    loadToReservedMs: summarize(
      samples.map((s) => s.marks['p2p4e:reserved'] ?? Number.NaN).filter(Number.isFinite)
    ),
    steps: steps.filter((s) => s.n > 0).sort((a, b) => a.median - b.median),
    relayInfoFetches: summarize(samples.map((s) => s.relayInfoFetches)).median,
    framesUntilReserved: summarize(samples.map((s) => s.frames.length)),
    scriptKiB: summarize(samples.map((s) => s.scriptBytes / 1024)).median
  };
}
