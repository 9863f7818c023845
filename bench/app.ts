/**
 * The app itself, measured through its UI: two Chromium pages load the built app from a local
 * relay, onboard, become contacts by invite, and open their conversation (as people do).
 *
 * - send -> seen: from the click event on "Send" in page A (a capture listener's timestamp) to
 *   the new row appearing in page B's "Messages" log (a MutationObserver's timestamp), and to the
 *   next animation frame after it (painted). Both pages read `performance.timeOrigin + now()`
 *   (one machine, one clock). Baseline, interleaved on the same pages: a libp2p ping round trip
 *   over the same direct connection / 2.
 * - burst: A sends 100 messages in one go while B shows the conversation; counted on B: the
 *   receipt writes (each one document update, stored once and sent once to each member).
 *
 * Run: `npm run build && node --experimental-websocket --import tsx bench/app.ts`
 * (part of `npm run bench`). Prints a table; writes bench/results/app-<time>.json.
 */
import { chromium, type Page } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, findChromium } from '../tests/fixtures/browser.js';
import { startRelay, type RelayHandle } from '../tests/fixtures/relay.js';
import { befriendPages, conversationLink, openAppPage, TIMEOUT_MS } from './lib/app-pages.js';
import { startProfile } from './lib/profile.js';
import { fmt, formatTable, ratio, type Row } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

const SENDS = Number(process.env.BENCH_APP_SENDS ?? 200);
const WARMUP = Number(process.env.BENCH_APP_WARMUP ?? 20);
const BURST = Number(process.env.BENCH_APP_BURST ?? 100);

interface DebugHook {
  p2p4eDebug: {
    peerId: string;
    chatStats(): { receiptWrites: number };
    ping(peer: string): Promise<number>;
  };
}

const log = (page: Page) => page.getByRole('log', { name: 'Messages' });

async function befriend(a: Page, b: Page, relay: RelayHandle): Promise<void> {
  await befriendPages(a, b, relay, { a: 'Ana', b: 'Ben' });
  for (const [page, name] of [
    [b, 'Ana'],
    [a, 'Ben']
  ] as const) {
    await conversationLink(page, name).click();
    await log(page).waitFor({ timeout: TIMEOUT_MS });
  }
}

/** Waits (polling the page) until `check` holds in it. */
async function until(page: Page, check: () => boolean, what: string): Promise<void> {
  await page.waitForFunction(check, undefined, { timeout: TIMEOUT_MS }).catch(() => {
    throw new Error(`timed out waiting for ${what}`);
  });
}

/** Arms page B to report when a row with `text` appears in its log (and when it is painted). */
async function armSeen(page: Page, text: string): Promise<void> {
  // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
  await page.evaluate(`(() => {
    const text = ${JSON.stringify(text)};
    const logEl = document.querySelector('[role="log"][aria-label="Messages"]');
    if (logEl === null) throw new Error('no message log');
    window.__seen = new Promise((resolve, reject) => {
      setTimeout(() => {
        const rows = [...logEl.querySelectorAll('article')].map((a) => a.textContent.slice(0, 40));
        reject(new Error('row never shown: ' + text + '; last rows: ' + rows.slice(-3).join(' | ')));
      }, ${TIMEOUT_MS});
      const observer = new MutationObserver(() => {
        if (![...logEl.querySelectorAll('article')].some((a) => a.textContent.includes(text))) return;
        const dom = performance.timeOrigin + performance.now();
        observer.disconnect();
        requestAnimationFrame(() => resolve({ dom, paint: performance.timeOrigin + performance.now() }));
      });
      observer.observe(logEl, { childList: true, subtree: true, characterData: true });
    });
  })()`);
}

async function armClick(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __clickAt?: number; __armed?: boolean };
    if (w.__armed === true) return;
    w.__armed = true;
    document.addEventListener(
      'click',
      (e) => {
        const target = e.target as HTMLElement | null;
        if (target?.closest('button')?.textContent?.trim() === 'Send') {
          w.__clickAt = performance.timeOrigin + performance.now();
        }
      },
      { capture: true }
    );
  });
}

async function sendOnce(a: Page, b: Page, text: string): Promise<{ dom: number; paint: number }> {
  await armSeen(b, text);
  await a.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await a.getByRole('button', { name: 'Send', exact: true }).click();
  const seen = await b.evaluate(
    () => (window as unknown as { __seen: Promise<{ dom: number; paint: number }> }).__seen
  );
  const clickAt = await a.evaluate(() => (window as unknown as { __clickAt: number }).__clickAt);
  return { dom: seen.dom - clickAt, paint: seen.paint - clickAt };
}

async function pingHalf(a: Page, peer: string): Promise<number> {
  // libp2p's connection monitor pings too, and ping allows one outbound stream at a time:
  // when the monitor holds it, try again shortly.
  for (let attempt = 0; ; attempt++) {
    try {
      return await a.evaluate(
        async (peer) => (await (window as unknown as DebugHook).p2p4eDebug.ping(peer)) / 2,
        peer
      );
    } catch (err) {
      const busy = /TooManyOutboundProtocolStreams|AbortError|aborted/.test(String(err));
      if (attempt >= 10 || !busy) throw err;
      await a.waitForTimeout(20);
    }
  }
}

interface AppBenchResult {
  sendDom: Summary;
  sendPaint: Summary;
  pingHalf: Summary;
  burst: { messages: number; receiptWrites: number; members: number; ms: number };
}

async function run(): Promise<AppBenchResult> {
  const relay = await startRelay({ staticDir: 'build' });
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs(),
    headless: true
  });
  try {
    const a = await openAppPage(browser, relay, 'Ana');
    const b = await openAppPage(browser, relay, 'Ben');
    await befriend(a, b, relay);
    const peerB = await b.evaluate(() => (window as unknown as DebugHook).p2p4eDebug.peerId);
    // The direct connection: the ping baseline and the sync frames use it.
    await until(
      a,
      () =>
        (
          window as unknown as { p2p4eDebug: { state: { peers: { connection: string }[] } } }
        ).p2p4eDebug.state.peers.some((p) => p.connection === 'direct'),
      'a direct connection'
    );
    await armClick(a);

    const dom: number[] = [];
    const paint: number[] = [];
    const ping: number[] = [];
    // BENCH_PROFILE=1: CPU profiles of both pages over the measured sends (lib/profile.ts; build
    // with `npx vite build --minify false` for readable names).
    let profiles: { stop(name: string): Promise<void> }[] = [];
    for (let i = 0; i < WARMUP + SENDS; i++) {
      if (i === WARMUP && process.env.BENCH_PROFILE === '1') {
        profiles = [await startProfile(a.context(), a), await startProfile(b.context(), b)];
      }
      const t = await sendOnce(a, b, `latency ${i} ${Math.random().toString(36).slice(2)}`);
      const p = await pingHalf(a, peerB);
      if (i < WARMUP) continue;
      dom.push(t.dom);
      paint.push(t.paint);
      ping.push(p);
    }
    for (const [i, profile] of profiles.entries()) await profile.stop(`app-send-${'ab'[i]}`);

    // The burst: B shows the conversation; A sends BURST messages in one task.
    const before = await b.evaluate(
      () => (window as unknown as DebugHook).p2p4eDebug.chatStats().receiptWrites
    );
    const last = `burst ${BURST - 1}`;
    await armSeen(b, last);
    const started = Date.now();
    await a.evaluate((count) => {
      const input = document.querySelector<HTMLInputElement>('#composer');
      const button = [...document.querySelectorAll('button')].find(
        (x) => x.textContent?.trim() === 'Send'
      );
      if (input === null || button === undefined) throw new Error('no composer');
      for (let i = 0; i < count; i++) {
        input.value = `burst ${i}`;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        button.click();
      }
    }, BURST);
    await b.evaluate(() => (window as unknown as { __seen: Promise<unknown> }).__seen);
    // Everything is marked read once A's last message shows "Read".
    const lastRow = log(a).getByRole('article').filter({ hasText: last });
    await lastRow.getByRole('status', { name: 'Read' }).waitFor({ timeout: TIMEOUT_MS });
    const ms = Date.now() - started;
    const after = await b.evaluate(
      () => (window as unknown as DebugHook).p2p4eDebug.chatStats().receiptWrites
    );
    return {
      sendDom: summarize(dom),
      sendPaint: summarize(paint),
      pingHalf: summarize(ping),
      burst: { messages: BURST, receiptWrites: after - before, members: 1, ms }
    };
  } finally {
    await browser.close();
    await relay.stop();
  }
}

const result = await run();
const rows: Row[] = [
  [
    `send click -> row in B's DOM (n=${result.sendDom.n})`,
    `median ${fmt(result.sendDom.median, ' ms')}, p95 ${fmt(result.sendDom.p95, ' ms')}`,
    `ping RTT/2 ${fmt(result.pingHalf.median, ' ms')}`,
    ratio(result.sendDom.median, result.pingHalf.median)
  ],
  [
    `send click -> B painted (n=${result.sendPaint.n})`,
    `median ${fmt(result.sendPaint.median, ' ms')}, p95 ${fmt(result.sendPaint.p95, ' ms')}`,
    `ping RTT/2 ${fmt(result.pingHalf.median, ' ms')}`,
    ratio(result.sendPaint.median, result.pingHalf.median)
  ],
  [
    `burst of ${result.burst.messages} received in the open conversation`,
    `${result.burst.receiptWrites} receipt writes (${result.burst.receiptWrites * result.burst.members} frames)`,
    `one per message: ${result.burst.messages}`,
    ratio(result.burst.receiptWrites, result.burst.messages)
  ]
];
console.log('\nThe app through its UI (two Chromium pages, direct WebRTC connection)\n');
console.log(formatTable(rows, ['metric', 'the app', 'baseline', 'app / baseline']));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const file = `${dir}app-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await writeFile(
  file,
  JSON.stringify(
    { at: new Date().toISOString(), loadavg: loadavg(), cpus: cpus().length, ...result },
    null,
    2
  )
);
console.log(`\nwrote ${file}`);
