/**
 * The app shell's numbers (issue 9), through the built app in Chromium, served by a local relay:
 *
 * - switching: page A (onboarded, a contact "Ben" on page B) holds two groups of 1,000 messages
 *   each ("Alpha", "Bravo"). A click on the other one's link in the navigation "Conversations"
 *   until that conversation is painted: its newest message is in the log "Messages" and inside
 *   the log's box (DOM), then the next animation frame and the frame's rendering (a message
 *   posted from that frame's callback runs after its style, layout and paint). Baselines in the
 *   same page, interleaved: the same click on a conversation of one message ("Ben" <-> "Small"),
 *   and the floor: a click on a button that does nothing, until the next frame is rendered.
 * - first contentful paint (`performance.getEntriesByName('first-contentful-paint')`): a fresh
 *   context's first load (cold), the second and third load of the same page in it (warm: scripts
 *   in the HTTP cache; hot: also V8's code cache), and A reloaded (a returning user with data).
 * - the app's JS and CSS gzipped (gzipSync level 9) in build/_app/immutable/, and how much of
 *   the JS a first load fetched.
 *
 * Seeding: A and B onboard and become contacts by invite; A makes three groups with Ben through
 * "New group"; the messages go through the app's chat service (`sendMany` on the `?debug` hook,
 * as the composer sends), and reach B like any message.
 *
 * Run: `npm run build && node --experimental-websocket --import tsx bench/shell.ts`
 * (part of `npm run bench`). Prints a table; writes bench/results/shell-<time>.json.
 */
import { chromium, type Page } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, findChromium } from '../tests/fixtures/browser.js';
import { startRelay } from '../tests/fixtures/relay.js';
import { befriendPages, conversationLink, openAppPage, TIMEOUT_MS } from './lib/app-pages.js';
import { measureSizes, type Sizes } from './lib/build-sizes.js';
import { timedClick, type Timing } from './lib/click-timing.js';
import { load, measureLoads, type Load, type Loads } from './lib/paint-timing.js';
import { startProfile } from './lib/profile.js';
import { fmt, formatTable, ratio } from './lib/report.js';
import { summarize, type Summary } from './lib/stats.js';

const MESSAGES = Number(process.env.BENCH_SHELL_MESSAGES ?? 1000);
const SWITCHES = Number(process.env.BENCH_SHELL_SWITCHES ?? 30);
const WARMUP = Number(process.env.BENCH_SHELL_WARMUP ?? 10);
const LOADS = Number(process.env.BENCH_SHELL_LOADS ?? 7);
const VIEWPORT = { width: 1280, height: 800 };

/** The targets. */
const TARGET = { switchMs: 50, warmFcpMs: 300, jsKb: 450 };

const BIG = [
  { title: 'Alpha', prefix: 'one: seeded note' },
  { title: 'Bravo', prefix: 'two: seeded note' }
] as const;
const SMALL = [
  { title: 'Ben', prefix: 'a quick word' },
  { title: 'Small', prefix: 'a short hello' }
] as const;

interface DebugHook {
  p2p4eDebug?: {
    sendMany?(conversationId: string, count: number, prefix: string): Promise<void>;
  };
}

interface Conv {
  title: string;
  id: string;
  /** Text of its newest message. */
  newest: string;
}

const log = (msg: string): void => console.error(`[bench:shell] ${msg}`);
const kB = (bytes: number): number => bytes / 1000;

// --- the app through its UI ------------------------------------------------------------------

const link = conversationLink;

async function idOf(page: Page, title: string): Promise<string> {
  const item = link(page, title);
  await item.waitFor({ timeout: TIMEOUT_MS });
  const href = (await item.getAttribute('href')) ?? '';
  const at = href.indexOf('#/c/');
  if (at < 0) throw new Error(`the link to ${title} goes to ${href}, not #/c/<id>`);
  return decodeURIComponent(href.slice(at + '#/c/'.length));
}

async function createGroup(a: Page, title: string): Promise<void> {
  await a.getByRole('button', { name: 'New group' }).click();
  await a.getByRole('textbox', { name: 'Group name' }).fill(title);
  await a.getByRole('checkbox', { name: 'Ben' }).check();
  await a.getByRole('button', { name: 'Create group' }).click();
  await link(a, title).waitFor({ timeout: TIMEOUT_MS });
}

async function seed(a: Page, title: string, count: number, prefix: string): Promise<Conv> {
  const id = await idOf(a, title);
  const started = Date.now();
  await a.evaluate(
    async ({ id, count, prefix }) => {
      const hook = (window as unknown as DebugHook).p2p4eDebug;
      if (hook?.sendMany === undefined) {
        throw new Error('window.p2p4eDebug.sendMany is missing: rebuild the app (npm run build)');
      }
      await hook.sendMany(id, count, prefix);
    },
    { id, count, prefix }
  );
  log(`${title}: ${count} messages sent in ${Date.now() - started} ms`);
  return { title, id, newest: `${prefix} ${String(count).padStart(String(count).length, '0')}` };
}

/** Opens a conversation (not timed) and waits until it shows its newest message. */
async function open(page: Page, conv: Conv): Promise<void> {
  await timedClick(page, link(page, conv.title), conv.newest);
}

/** Own messages' status reached B: waits (up to 60 s) so that the receipts are written. */
async function settle(page: Page, conv: Conv): Promise<void> {
  await open(page, conv);
  const row = page
    .getByRole('log', { name: 'Messages' })
    .getByRole('article')
    .filter({ hasText: conv.newest });
  await row
    .getByRole('status', { name: /^(Delivered|Read)$/ })
    .waitFor({ timeout: 60_000 })
    .catch(() => log(`${conv.title}: its newest message was not marked delivered within 60 s`));
}

interface Switching {
  big: Timing[];
  small: Timing[];
  floor: Timing[];
  /** The warm-up's switches between the big conversations, first one first (not in `big`). */
  warmup: Timing[];
}

async function measureSwitching(page: Page, big: Conv[], small: Conv[]): Promise<Switching> {
  const [b1, b2] = big as [Conv, Conv];
  const [s1, s2] = small as [Conv, Conv];
  await page.evaluate(() => {
    const noop = document.createElement('button');
    noop.id = 'bench-noop';
    noop.type = 'button';
    noop.textContent = '·';
    noop.style.cssText =
      'position:fixed;left:0;top:0;width:12px;height:12px;padding:0;border:0;z-index:2147483647';
    document.body.append(noop);
  });
  const noop = page.locator('#bench-noop');
  const out: Switching = { big: [], small: [], floor: [], warmup: [] };
  await open(page, b1);
  // BENCH_PROFILE=1: a CPU profile of A over the measured rounds (lib/profile.ts).
  let profile: { stop(name: string): Promise<void> } | undefined;
  const rounds = Math.ceil((WARMUP + SWITCHES) / 2);
  for (let round = 0; round < rounds; round++) {
    const keep = round >= WARMUP / 2;
    if (round === Math.ceil(WARMUP / 2) && process.env.BENCH_PROFILE === '1') {
      profile = await startProfile(page.context(), page);
    }
    const floor1 = await timedClick(page, noop, null);
    const there = await timedClick(page, link(page, b2.title), b2.newest);
    const back = await timedClick(page, link(page, b1.title), b1.newest);
    await open(page, s1);
    const floor2 = await timedClick(page, noop, null);
    const toSmall = await timedClick(page, link(page, s2.title), s2.newest);
    const backSmall = await timedClick(page, link(page, s1.title), s1.newest);
    await open(page, b1);
    if (!keep) {
      out.warmup.push(there, back);
      continue;
    }
    out.big.push(there, back);
    out.small.push(toSmall, backSmall);
    out.floor.push(floor1, floor2);
  }
  await profile?.stop('shell-switch');
  return out;
}

// --- the run -----------------------------------------------------------------------------------

interface ShellResult {
  sizes: Sizes & { jsAtStartGzip: number; jsAtStartFiles: number };
  seeding: { messages: number; ms: number };
  switching: {
    big: { dom: Summary; frame: Summary; painted: Summary };
    small: { dom: Summary; frame: Summary; painted: Summary };
    floor: { frame: Summary; painted: Summary };
    samples: Switching;
  };
  fcp: Record<keyof Loads, Summary> & { htmlEnd: Record<keyof Loads, Summary> };
  loads: Loads;
}

const summarizeTimings = (t: Timing[]): { dom: Summary; frame: Summary; painted: Summary } => ({
  dom: summarize(t.map((x) => x.dom)),
  frame: summarize(t.map((x) => x.frame)),
  painted: summarize(t.map((x) => x.painted))
});

async function run(): Promise<ShellResult> {
  const sizes = await measureSizes();
  const relay = await startRelay({ staticDir: 'build' });
  const browser = await chromium.launch({
    executablePath: findChromium(),
    args: chromiumArgs(),
    headless: true
  });
  try {
    log(`Chromium ${browser.version()}`);
    const a = await openAppPage(browser, relay, 'Ana', { viewport: VIEWPORT });
    const b = await openAppPage(browser, relay, 'Ben', { viewport: VIEWPORT });
    await befriendPages(a, b, relay, { a: 'Ana', b: 'Ben' });
    for (const { title } of [...BIG, SMALL[1]]) await createGroup(a, title);
    const started = Date.now();
    const big: Conv[] = [];
    for (const { title, prefix } of BIG) big.push(await seed(a, title, MESSAGES, prefix));
    const seedMs = Date.now() - started;
    const small: Conv[] = [];
    for (const { title, prefix } of SMALL) small.push(await seed(a, title, 1, prefix));
    for (const conv of [...big, ...small]) await settle(a, conv);
    // The search index is built in the background: let it finish.
    await a.waitForTimeout(3_000);
    log('measuring switches');
    const samples = await measureSwitching(a, big, small);

    log('measuring loads');
    const returning: Load[] = [];
    for (let i = 0; i < LOADS; i++) {
      returning.push(await load(a, `${relay.url}/?debug`));
      await a.waitForTimeout(1_000);
    }
    await a.context().close();
    await b.context().close();
    const loads: Loads = {
      ...(await measureLoads(browser, relay, LOADS, { viewport: VIEWPORT })),
      returning
    };

    const atStart = new Set(loads.cold.flatMap((l) => l.scripts));
    const fcpOf = (kind: keyof Loads): Summary => summarize(loads[kind].map((l) => l.fcp));
    const htmlOf = (kind: keyof Loads): Summary => summarize(loads[kind].map((l) => l.htmlEnd));
    const kinds = ['cold', 'warm', 'hot', 'returning'] as const;
    return {
      sizes: {
        ...sizes,
        jsAtStartFiles: atStart.size,
        jsAtStartGzip: [...atStart].reduce((sum, f) => sum + (sizes.gzipByFile[f] ?? 0), 0)
      },
      seeding: { messages: 2 * MESSAGES, ms: seedMs },
      switching: {
        big: summarizeTimings(samples.big),
        small: summarizeTimings(samples.small),
        floor: {
          frame: summarize(samples.floor.map((x) => x.frame)),
          painted: summarize(samples.floor.map((x) => x.painted))
        },
        samples
      },
      fcp: {
        ...(Object.fromEntries(kinds.map((k) => [k, fcpOf(k)])) as Record<keyof Loads, Summary>),
        htmlEnd: Object.fromEntries(kinds.map((k) => [k, htmlOf(k)])) as Record<
          keyof Loads,
          Summary
        >
      },
      loads
    };
  } finally {
    await browser.close();
    await relay.stop();
  }
}

const result = await run();
const ms = (s: Summary): string => `median ${fmt(s.median, ' ms')}, p95 ${fmt(s.p95, ' ms')}`;
const meets = (value: number, target: number): string =>
  !Number.isFinite(value) ? 'n/a' : value <= target ? 'yes' : 'NO';
const { big, small, floor } = result.switching;
const floorCell = `floor ${fmt(floor.painted.median, ' ms')}`;
const n = (s: Summary): string => `n=${s.n}`;
const fcpRow = (label: string, kind: keyof Loads, target?: number): string[] => [
  `first contentful paint, ${label} (${n(result.fcp[kind])})`,
  ms(result.fcp[kind]),
  `HTML received ${fmt(result.fcp.htmlEnd[kind].median, ' ms')}`,
  ratio(result.fcp[kind].median, result.fcp.htmlEnd[kind].median),
  target === undefined ? '' : `<= ${target} ms`,
  target === undefined ? '' : meets(result.fcp[kind].median, target)
];
const rows: string[][] = [
  [
    `switch 2 x ${MESSAGES.toLocaleString('en')} messages: click -> painted (${n(big.painted)})`,
    ms(big.painted),
    floorCell,
    ratio(big.painted.median, floor.painted.median),
    `<= ${TARGET.switchMs} ms`,
    meets(big.painted.median, TARGET.switchMs)
  ],
  [
    `  click -> newest message in the DOM`,
    ms(big.dom),
    floorCell,
    ratio(big.dom.median, floor.painted.median),
    '',
    ''
  ],
  [
    `switch 2 x 1 message: click -> painted (${n(small.painted)})`,
    ms(small.painted),
    floorCell,
    ratio(small.painted.median, floor.painted.median),
    '',
    ''
  ],
  [
    `floor: click on a no-op button -> painted (${n(floor.painted)})`,
    ms(floor.painted),
    '',
    '',
    '',
    ''
  ],
  fcpRow('cold (new context)', 'cold'),
  fcpRow('warm (2nd load, same context)', 'warm', TARGET.warmFcpMs),
  fcpRow('hot (3rd load, code cache)', 'hot'),
  fcpRow(`returning (onboarded, 2 x ${MESSAGES.toLocaleString('en')})`, 'returning'),
  [
    `app JS gzipped (${result.sizes.js.files} files)`,
    `${fmt(kB(result.sizes.js.gzip), ' kB')} (${fmt(kB(result.sizes.js.bytes), ' kB')} raw)`,
    `first load: ${fmt(kB(result.sizes.jsAtStartGzip), ' kB')} (${result.sizes.jsAtStartFiles} files)`,
    '',
    `<= ${TARGET.jsKb} kB`,
    meets(kB(result.sizes.js.gzip), TARGET.jsKb)
  ],
  [
    `app CSS gzipped (${result.sizes.css.files} files)`,
    `${fmt(kB(result.sizes.css.gzip), ' kB')} (${fmt(kB(result.sizes.css.bytes), ' kB')} raw)`,
    '',
    '',
    '',
    ''
  ]
];
console.log('\nThe app shell (built app in Chromium, 1280 x 800)\n');
console.log(
  formatTable(rows, ['metric', 'the app', 'baseline', 'app / baseline', 'target', 'meets it'])
);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const file = `${dir}shell-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
await writeFile(
  file,
  JSON.stringify(
    {
      at: new Date().toISOString(),
      loadavg: loadavg(),
      cpus: cpus().length,
      targets: TARGET,
      ...result
    },
    null,
    2
  )
);
console.log(`\nwrote ${file}`);
