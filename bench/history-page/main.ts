/**
 * The history bench page: exposes `window.historyBench` (see api.ts) for bench/history.ts.
 *
 * It stores one long conversation twice in this origin's IndexedDB, made of the same messages
 * (written with the app's `createConversation`, unsigned):
 * - as head + segments + message index in a HistoryStore (`createIdbHistoryStore`), and
 * - as one doc in the DocStore the app uses today (`createIdbDocStore`, y-indexeddb layout),
 * then opens each on a fresh page: the newest window by the index and one segment, against
 * load + apply + order of the whole doc.
 */
import * as Y from 'yjs';
import {
  createIdbDocStore,
  createIdbHistoryStore,
  type HistoryEntry,
  type HistoryStore,
  type DocStore
} from '$lib/storage';
import { createConversation, type Conversation, type Message } from '$lib/sync';
import type {
  HistoryBenchApi,
  OpenTiming,
  ProbeResult,
  SeedOptions,
  SeedResult,
  SegmentedOpenTiming
} from './api.ts';

const HISTORY_DB = 'bench-history';
const DOCS = { prefix: 'bench-history-doc:', catalog: 'bench-history-docs' };
const AUTHOR_A = 'bench-author-a';
const AUTHOR_B = 'bench-author-b';
const READER = 'bench-reader';

const nextFrame = (): Promise<number> =>
  new Promise((resolve) =>
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now())))
  );

const storageUsage = async (): Promise<number> => (await navigator.storage.estimate()).usage ?? 0;

const toEntry = (m: Message, segment: number): HistoryEntry => ({
  key: m.key,
  id: m.id,
  segment,
  author: m.author,
  deleted: m.deleted
});

/**
 * Writes `count` messages into a fresh segment doc, alternating two authors, `batch` per
 * transaction; returns the doc's updates and its index entries.
 */
function makeSegment(
  conv: string,
  segment: number,
  first: number,
  count: number,
  batch: number,
  now: () => number
): { updates: Uint8Array[]; entries: HistoryEntry[] } {
  const doc = new Y.Doc();
  const a = createConversation(doc, { self: AUTHOR_A, now, id: conv });
  const b = createConversation(doc, { self: AUTHOR_B, now, id: conv });
  const updates: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => updates.push(u));
  for (let i = 0; i < count; i += batch) {
    doc.transact(() => {
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const n = first + j;
        (n % 2 === 0 ? a : b).send(`message ${n}: an ordinary line of chat text, not too short`);
      }
    });
  }
  const entries = a.messages().map((m) => toEntry(m, segment));
  a.destroy();
  b.destroy();
  doc.destroy();
  return { updates, entries };
}

let opened: { release(): void } | undefined;

function draw(rows: Message[]): HTMLElement {
  const log = document.createElement('ol');
  for (const m of rows) {
    const li = document.createElement('li');
    li.textContent = `${m.author}: ${m.text}`;
    log.append(li);
  }
  document.body.append(log);
  return log;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
};

const api: HistoryBenchApi = {
  isolated: globalThis.crossOriginIsolated,

  async seed(options: SeedOptions): Promise<SeedResult> {
    const { conv, messages, segmentSize, batch } = options;
    let clock = 1_700_000_000_000;
    const now = (): number => clock++;
    const history = createIdbHistoryStore({ name: HISTORY_DB });
    const docs = createIdbDocStore(DOCS);
    const usage0 = await storageUsage();

    // The same messages for both layouts: made once, written to each.
    const g0 = performance.now();
    const headDoc = new Y.Doc();
    createConversation(headDoc, { self: AUTHOR_A, now, id: conv }).init({
      kind: 'group',
      name: 'big',
      members: [AUTHOR_B]
    });
    const head = Y.encodeStateAsUpdate(headDoc);
    const segments: { updates: Uint8Array[]; entries: HistoryEntry[] }[] = [];
    for (let s = 0, first = 0; first < messages; s++, first += segmentSize)
      segments.push(
        makeSegment(conv, s, first, Math.min(segmentSize, messages - first), batch, now)
      );
    const generateMs = performance.now() - g0;

    // HistoryStore: head, segment updates, then the index one batch per segment.
    const h0 = performance.now();
    await history.appendHead(conv, head);
    for (const [s, seg] of segments.entries())
      for (const u of seg.updates) await history.appendSegment(conv, s, u);
    const segmentWriteMs = performance.now() - h0;
    const indexBatchMs: number[] = [];
    for (const seg of segments) {
      const t0 = performance.now();
      await history.putIndex(conv, seg.entries);
      indexBatchMs.push(performance.now() - t0);
    }
    // Steady state: every segment merged into one update (as after a first load).
    const c0 = performance.now();
    let segmentBytes = 0;
    for (let s = 0; s < segments.length; s++)
      segmentBytes += (await history.loadSegment(conv, s))?.byteLength ?? 0;
    const compactSegmentsMs = performance.now() - c0;
    await history.close();
    const usage1 = await storageUsage();

    // DocStore (today's layout): every update of every segment into one conversation doc.
    const d0 = performance.now();
    await docs.append(conv, head);
    for (const seg of segments) for (const u of seg.updates) await docs.append(conv, u);
    const docWriteMs = performance.now() - d0;
    const merged = await docs.load(conv); // merged into one, as the app's first open does
    await docs.close();
    const usage2 = await storageUsage();
    return {
      messages: segments.reduce((n, s) => n + s.entries.length, 0),
      segments: segments.length,
      generateMs,
      segmentWriteMs,
      indexBatchMs,
      compactSegmentsMs,
      segmentBytes,
      headBytes: head.byteLength,
      docWriteMs,
      docBytes: merged?.byteLength ?? 0,
      historyUsageBytes: usage1 - usage0,
      docUsageBytes: usage2 - usage1
    };
  },

  async openSegmented(conv, windowSize): Promise<SegmentedOpenTiming> {
    const t0 = performance.now();
    const store = createIdbHistoryStore({ name: HISTORY_DB });
    const total = await store.count(conv);
    const t1 = performance.now();
    const win = await store.window(conv, { limit: windowSize });
    const t2 = performance.now();
    const headState = await store.loadHead(conv);
    const headDoc = new Y.Doc();
    if (headState !== undefined) Y.applyUpdate(headDoc, headState);
    const head = createConversation(headDoc, { self: READER, id: conv });
    const name = head.meta()?.name;
    const t3 = performance.now();
    const needed = [...new Set(win.map((e) => e.segment))].sort((x, y) => x - y);
    const states: Uint8Array[] = [];
    for (const n of needed) {
      const state = await store.loadSegment(conv, n);
      if (state === undefined) throw new Error(`segment ${n} is not stored`);
      states.push(state);
    }
    const t4 = performance.now();
    const docs = states.map((state) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, state);
      return doc;
    });
    const t5 = performance.now();
    const convs = new Map<number, Conversation>(
      needed.map((n, i) => [n, createConversation(docs[i] as Y.Doc, { self: READER, id: conv })])
    );
    const rows = win
      .map((e) => convs.get(e.segment)?.message(e.id))
      .filter((m): m is Message => m !== undefined);
    const t6 = performance.now();
    const log = draw(rows);
    const painted = await nextFrame();
    if (name !== 'big') throw new Error(`head doc has name ${String(name)}`);
    opened = {
      release() {
        log.remove();
        for (const c of convs.values()) c.destroy();
        for (const d of docs) d.destroy();
        head.destroy();
        headDoc.destroy();
        void store.close();
      }
    };
    return {
      ms: painted - t0,
      countMs: t1 - t0,
      windowMs: t2 - t1,
      headMs: t3 - t2,
      loadMs: t4 - t3,
      applyMs: t5 - t4,
      readMs: t6 - t5,
      paintMs: painted - t6,
      messages: total,
      rows: rows.length,
      segmentsLoaded: needed.length,
      stateBytes: states.reduce((n, s) => n + s.byteLength, 0) + (headState?.byteLength ?? 0),
      newestKey: win.at(-1)?.key ?? ''
    };
  },

  async openSingle(conv, windowSize): Promise<OpenTiming> {
    const t0 = performance.now();
    const store: DocStore = createIdbDocStore(DOCS);
    const state = await store.load(conv);
    const t1 = performance.now();
    if (state === undefined) throw new Error('nothing stored');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const t2 = performance.now();
    const c = createConversation(doc, { self: READER, id: conv });
    // What the conversation store does today: the whole ordered list, then the window.
    const list = c.messages();
    const t3 = performance.now();
    const rows = list.slice(-windowSize);
    const log = draw(rows);
    const painted = await nextFrame();
    opened = {
      release() {
        log.remove();
        c.destroy();
        doc.destroy();
        void store.close();
      }
    };
    return {
      ms: painted - t0,
      loadMs: t1 - t0,
      applyMs: t2 - t1,
      orderMs: t3 - t2,
      paintMs: painted - t3,
      messages: list.length,
      rows: rows.length,
      stateBytes: state.byteLength,
      newestKey: rows.at(-1)?.key ?? ''
    };
  },

  release() {
    opened?.release();
    opened = undefined;
  },

  async probe(conv, reps, unmerged): Promise<ProbeResult> {
    const store: HistoryStore = createIdbHistoryStore({ name: HISTORY_DB });
    const total = await store.count(conv);
    const middle = Math.floor(total / 2);
    const [mid] = await store.range(conv, { from: middle, limit: 1 });
    const [nearEnd] = await store.range(conv, { from: Math.max(0, total - 1000), limit: 1 });
    if (mid === undefined || nearEnd === undefined) throw new Error('index is empty');
    const ops: Record<string, () => Promise<unknown>> = {
      count: () => store.count(conv),
      'window(newest 40)': () => store.window(conv, { limit: 40 }),
      'window(40 before the middle)': () => store.window(conv, { before: mid.key, limit: 40 }),
      'range(40 from the middle)': () => store.range(conv, { from: middle, limit: 40 }),
      'range(40 from the end - 40)': () => store.range(conv, { from: total - 40, limit: 40 }),
      'position(middle key)': () => store.position(conv, mid.key),
      'countAfter(1,000 unread)': () =>
        store.countAfter(conv, nearEnd.key, { notAuthor: AUTHOR_A }),
      'countAfter(never read: all)': () =>
        store.countAfter(conv, undefined, { notAuthor: AUTHOR_A }),
      'segmentOf(id)': () => store.segmentOf(conv, mid.id),
      segments: () => store.segments(conv)
    };
    const out: Record<string, number> = {};
    for (const [name, op] of Object.entries(ops)) {
      const samples: number[] = [];
      for (let i = 0; i < reps; i++) samples.push((await timed(op))[1]);
      out[name] = median(samples);
    }
    const checks = {
      positionOfMiddle: await store.position(conv, mid.key),
      unreadOf1000: await store.countAfter(conv, nearEnd.key, { notAuthor: AUTHOR_A })
    };

    // One received message: one segment update plus its index entry (one transaction), vs one
    // DocStore append. Into a scratch conversation, deleted afterwards.
    const scratch = `${conv}-scratch`;
    let clock = 1_800_000_000_000;
    const now = (): number => clock++;
    const seg = makeSegment(scratch, 0, 0, unmerged, 1, now);
    const appendWithIndex: number[] = [];
    for (const [i, u] of seg.updates.entries())
      appendWithIndex.push(
        (
          await timed(() =>
            store.appendSegment(scratch, 0, u, { index: [seg.entries[i] as HistoryEntry] })
          )
        )[1]
      );
    // The newest segment as it is while people chat: hundreds of one-message updates, merged
    // on this load.
    const [uncompacted, firstLoadMs] = await timed(() => store.loadSegment(scratch, 0));
    const [, secondLoadMs] = await timed(() => store.loadSegment(scratch, 0));
    await store.delete(scratch);
    const docs = createIdbDocStore(DOCS);
    const docAppend: number[] = [];
    for (const u of seg.updates) docAppend.push((await timed(() => docs.append(scratch, u)))[1]);
    await docs.delete(scratch);
    await docs.close();
    await store.close();
    return {
      medianMs: out,
      checks,
      appendWithIndexMs: median(appendWithIndex),
      docAppendMs: median(docAppend),
      uncompactedUpdates: seg.updates.length,
      uncompactedLoadMs: firstLoadMs,
      uncompactedBytes: uncompacted?.byteLength ?? 0,
      compactedLoadMs: secondLoadMs
    };
  }
};

window.historyBench = api;
const status = document.getElementById('status');
if (status !== null) status.textContent = 'ready';
