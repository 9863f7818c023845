/**
 * Local search benchmark (Node, one process): builds the minisearch index over 100,000
 * messages the way the app does (chunks between scheduler turns) and compares the median query
 * latency with a naive baseline over the same texts: lower-cased `String.includes` on every
 * message (texts lower-cased once, up front, so the baseline only pays the scan).
 *
 *   node --import tsx bench/search.ts
 *
 * Prints a table and writes bench/results/search-<timestamp>.json and
 * bench/results/search-latest.json. BENCH_SEARCH_MESSAGES (default 100000),
 * BENCH_SEARCH_QUERIES (default 300) and BENCH_SEARCH_SEED change the size and the data.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createSearch, type SearchDoc } from '../src/lib/search/index.js';
import { rng } from '../tests/fixtures/sync-network.js';
import { fmt } from './lib/report.js';
import { summarize } from './lib/stats.js';

const MESSAGES = Number(process.env.BENCH_SEARCH_MESSAGES ?? 100_000);
const QUERIES = Number(process.env.BENCH_SEARCH_QUERIES ?? 300);
const SEED = Number(process.env.BENCH_SEARCH_SEED ?? 42);
const CONVERSATIONS = 20;

// mulberry32 from the test fixtures: every run indexes the same texts.
const random = rng(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;

/**
 * A vocabulary of 20,000 made-up words of 1-4 syllables (some accented), used with Zipf's law
 * like the words of a language: the word of rank r about as often as 1/r.
 */
const SYLLABLES = [...'bcdfghjklmnprstvwz'].flatMap((c) =>
  [...'aeiouéà'].flatMap((v) => [c + v, c + v + pick([...'nrst'])])
);
const VOCABULARY = [
  ...new Set(
    Array.from({ length: 24_000 }, () =>
      Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(SYLLABLES)).join('')
    )
  )
].slice(0, 20_000);
const zipfWord = (): string => VOCABULARY[Math.floor(VOCABULARY.length ** random()) - 1] as string;

function makeDocs(): SearchDoc[] {
  const docs: SearchDoc[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const words = Array.from({ length: 4 + Math.floor(random() * 16) }, zipfWord);
    if (random() < 0.3) words[0] = (words[0] as string).toUpperCase();
    docs.push({
      conversationId: `c-${i % CONVERSATIONS}`,
      messageId: `m-${i}`,
      author: `peer-${i % 7}`,
      at: 1_700_000_000_000 + i * 1000,
      text: `${words.join(' ')}.`
    });
  }
  return docs;
}

/** Word, prefix and two-word queries, from the same vocabulary. */
function makeQueries(): string[] {
  return Array.from({ length: QUERIES }, (_, i) => {
    const w = pick(VOCABULARY);
    if (i % 3 === 0) return w.slice(0, Math.max(3, Math.ceil(w.length / 2)));
    if (i % 3 === 1) return w;
    return `${zipfWord()} ${w}`;
  });
}

async function main(): Promise<void> {
  const docs = makeDocs();
  const queries = makeQueries();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;

  // Build as the app does: chunks between macrotasks, timing the longest chunk (the longest
  // the page would be blocked).
  const chunks: number[] = [];
  let chunkStart = 0;
  const index = createSearch(
    {},
    {
      schedule: (task) =>
        void setImmediate(() => {
          chunkStart = performance.now();
          task();
          chunks.push(performance.now() - chunkStart);
        })
    }
  );
  const buildStart = performance.now();
  await index.build(docs);
  const buildMs = performance.now() - buildStart;
  globalThis.gc?.();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

  // Naive baseline over the same texts.
  const lowered = docs.map((d) => d.text.toLowerCase());
  const naive = (q: string): number => {
    const needle = q.toLowerCase();
    let n = 0;
    for (const t of lowered) if (t.includes(needle)) n++;
    return n;
  };

  // Warm both up, then interleave.
  for (const q of queries.slice(0, 20)) {
    index.query(q);
    naive(q);
  }
  const ours: number[] = [];
  const base: number[] = [];
  let hits = 0;
  for (const q of queries) {
    let t = performance.now();
    hits += index.query(q).length;
    ours.push(performance.now() - t);
    t = performance.now();
    naive(q);
    base.push(performance.now() - t);
  }
  const o = summarize(ours);
  const b = summarize(base);
  const c = summarize(chunks);

  const rows = [
    ['metric', 'minisearch index', 'naive includes scan', 'naive / index'],
    [`index build, ${MESSAGES} messages`, fmt(buildMs, ' ms'), '-', ''],
    [`  longest chunk (of ${c.n})`, fmt(c.max, ' ms'), '-', ''],
    ['  heap after build', `${heapMiB.toFixed(0)} MiB`, '-', ''],
    [
      `query, median of ${QUERIES}`,
      fmt(o.median, ' ms'),
      fmt(b.median, ' ms'),
      `${(b.median / o.median).toFixed(1)}x`
    ],
    ['query, p95', fmt(o.p95, ' ms'), fmt(b.p95, ' ms'), `${(b.p95 / o.p95).toFixed(1)}x`],
    ['query, max', fmt(o.max, ' ms'), fmt(b.max, ' ms'), '']
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(r.map((cell, j) => cell.padEnd(widths[j]!)).join(' | '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
  }
  console.log(`(index results: ${(hits / QUERIES).toFixed(1)} per query, at most 50)`);

  const json = JSON.stringify(
    {
      bench: 'search',
      date: new Date().toISOString(),
      node: process.version,
      messages: MESSAGES,
      queries: QUERIES,
      seed: SEED,
      buildMs,
      chunks: c,
      heapMiB,
      queryMs: o,
      naiveMs: b,
      medianRatio: b.median / o.median
    },
    null,
    2
  );
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  await writeFile(new URL(`search-${stamp}.json`, dir), json);
  await writeFile(new URL('search-latest.json', dir), json);
  console.log(`wrote bench/results/search-${stamp}.json and bench/results/search-latest.json`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench failed:', err);
    process.exit(1);
  }
);
