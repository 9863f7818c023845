/**
 * Update inspection: what `inspectUpdate` costs next to `Y.applyUpdate` of the same bytes
 * (Node, one process).
 *
 *   node --import tsx bench/update-check.ts
 *
 * Three shapes: live updates (one message each, inspected against the doc they go into), a
 * 1,000-message segment snapshot (a catch-up step2 into an empty doc) and a head doc after
 * many read receipts. Each is inspected and applied REPEAT times (fresh docs for the apply).
 * Prints a table and writes bench/results/update-check-<timestamp>.json. BENCH_UPDATE_CHECK
 * (default 2000) sets the number of live updates.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as Y from 'yjs';
import { SEGMENT_MESSAGES } from '../src/lib/sync/constants.js';
import { inspectUpdate } from '../src/lib/sync/update-check.js';
import { fmt, formatTable, ratio, type Row } from './lib/report.js';

const LIVE = Number(process.env.BENCH_UPDATE_CHECK ?? 2000);
const REPEAT = 5;

function message(doc: Y.Doc, i: number): void {
  doc.transact(() => {
    const m = new Y.Map<unknown>();
    doc.getMap('messages').set(`m${i}`, m);
    m.set('h', { a: 'author-peer-id', c: 1_700_000_000_000 + i, w: 1_700_000_000_000 + i, n: 0 });
    m.set('text', `message number ${i}: a few words of ordinary length`);
    m.set('s', 'x'.repeat(88));
    if (i % 10 === 0) m.set('r:👍\nother-peer', true);
  });
}

// Live updates, one message each.
const writer = new Y.Doc();
const live: Uint8Array[] = [];
writer.on('update', (u: Uint8Array) => live.push(u));
for (let i = 0; i < LIVE; i++) message(writer, i);

// A segment snapshot of 1,000 messages by 10 writers, a tenth of them edited.
const segment = new Y.Doc();
for (let w = 0; w < 10; w++) {
  const d = new Y.Doc();
  for (let i = 0; i < SEGMENT_MESSAGES / 10; i++) message(d, w * 1000 + i);
  for (let i = 0; i < SEGMENT_MESSAGES / 10; i += 10) {
    (d.getMap('messages').get(`m${w * 1000 + i}`) as Y.Map<unknown>).set('edited', true);
  }
  Y.applyUpdate(segment, Y.encodeStateAsUpdate(d));
}
const snapshot = Y.encodeStateAsUpdate(segment);

// A head after 5,000 read receipts by 20 members.
const head = new Y.Doc();
for (let p = 0; p < 20; p++) {
  const d = new Y.Doc();
  const r = new Y.Map<unknown>();
  d.getMap('receipts').set(`peer${p}`, r);
  for (let i = 0; i < 250; i++) r.set('read', `${i.toString(16).padStart(20, '0')}:peer:m${i}`);
  Y.applyUpdate(head, Y.encodeStateAsUpdate(d));
}
const headState = Y.encodeStateAsUpdate(head);

const time = (run: () => void): number => {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
};

interface Case {
  name: string;
  bytes: number;
  inspectMs: number;
  applyMs: number;
}
const cases: Case[] = [];

function measure(name: string, updates: Uint8Array[], sequential: boolean): void {
  const bytes = updates.reduce((n, u) => n + u.byteLength, 0);
  let inspectMs = 0;
  let applyMs = 0;
  for (let r = 0; r < REPEAT + 1; r++) {
    // Live updates are inspected against the doc they go into, as the receiver does.
    const doc = new Y.Doc();
    let ins = 0;
    let app = 0;
    for (const u of updates) {
      ins += time(() => inspectUpdate(u, sequential ? doc : new Y.Doc()));
      app += time(() => Y.applyUpdate(sequential ? doc : new Y.Doc(), u));
    }
    if (r === 0) continue; // warm-up
    inspectMs += ins;
    applyMs += app;
  }
  cases.push({ name, bytes, inspectMs: inspectMs / REPEAT, applyMs: applyMs / REPEAT });
}

measure(`${LIVE} live updates (1 message each)`, live, true);
measure(`segment snapshot (${SEGMENT_MESSAGES} messages)`, [snapshot], false);
measure('head after 5,000 receipts', [headState], false);

const rows: Row[] = cases.map((c) => [
  `${c.name}, ${fmt(c.bytes / 1024, ' KiB')}`,
  `${fmt(c.inspectMs, ' ms')} (${fmt(c.bytes / 1024 / 1024 / (c.inspectMs / 1000), ' MiB/s')})`,
  fmt(c.applyMs, ' ms'),
  ratio(c.inspectMs, c.applyMs)
]);
console.log(`\nUpdate inspection vs Y.applyUpdate (mean of ${REPEAT} runs)`);
console.log(formatTable(rows, ['update', 'inspectUpdate', 'Y.applyUpdate', 'inspect / apply']));
const result = {
  repeat: REPEAT,
  cases: cases.map((c) => ({
    ...c,
    inspectMiBps: c.bytes / 1024 / 1024 / (c.inspectMs / 1000),
    ratio: c.inspectMs / c.applyMs
  }))
};
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const file = new URL(`update-check-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir);
await writeFile(file, JSON.stringify(result, null, 2));
console.log(`wrote ${file.pathname}`);
