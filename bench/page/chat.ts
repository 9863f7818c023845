/**
 * Conversation benchmarks on the app's own sync stack: `createSync` over the page's libp2p node
 * (SYNC_PROTOCOL streams), conversations as head + segment docs, the HistoryStore.
 *
 * - catch-up: A writes N messages into each of two conversations while B's sync is not
 *   running; B starts its sync (the direct connection is up) and catches up by state vector.
 * - latency: ping-pong of messages between A and B in a live conversation (each side
 *   answers as soon as its doc observes the other's message), half the round trip.
 * - open: a conversation of many messages stored in IndexedDB as segments, opened the way
 *   Sync.open does (DocSet.open + openConversation: head, tail segment, newest window) and its
 *   newest window drawn into the page; side by side with the same history stored as one doc
 *   (loaded whole and ordered, as before segments). Then scrolled back to the oldest message.
 */
import * as Y from 'yjs';
import {
  createIdbDocStore,
  createIdbHistoryStore,
  createMemoryHistoryStore,
  type HistoryStore
} from '$lib/storage';
import { verifyByPeer } from '$lib/crypto/signing';
import { openConversation } from '$lib/sync/conversation';
import { DocSet, indexEntryOf, splitLegacy } from '$lib/sync/doc-set';
import {
  createLibp2pSyncTransport,
  createMemberAccess,
  createSync,
  type Conversation,
  type Sync
} from '$lib/sync';
import type { SyncSpan } from '$lib/sync/sync';
import type {
  ChatApi,
  CatchUpBreakdown,
  CatchUpResult,
  OpenResult,
  SingleDocOpenResult,
  SpanTotals
} from './api.ts';
import { trackedBytesSent } from './count-pc.ts';
import { startedLibp2p, startedSigner } from './ours.ts';
import { deadline, errorMessage } from './util.ts';
import { encodeAll, headOf, legacyDocOf, memoryConversation } from '$lib/sync/testing';

const toBase64 = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.byteLength; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
};
const fromBase64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

let sync: Sync | undefined;

/** The reference: each state applied into a fresh doc; `ms` of the applies alone. */
function applyFresh(states: Uint8Array[]): { docs: Y.Doc[]; ms: number } {
  const t0 = performance.now();
  const docs = states.map((st) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, st);
    return doc;
  });
  return { docs, ms: performance.now() - t0 };
}

/**
 * Every doc of the conversations (head and all segments) as stored: the docs in memory are
 * only the newest ones.
 */
async function storedStates(ids: string[]): Promise<Uint8Array[]> {
  const h = store;
  if (h === undefined) throw new Error('chat: no store');
  const out: Uint8Array[] = [];
  for (const id of ids) {
    const head = await h.loadHead(id);
    if (head !== undefined) out.push(head);
    for (const n of await h.segments(id)) {
      const seg = await h.loadSegment(id, n);
      if (seg !== undefined) out.push(seg);
    }
  }
  return out;
}
let store: HistoryStore | undefined;
const PING = 'ping ';
const PONG = 'pong ';

function running(): Sync {
  if (sync === undefined) throw new Error('chat: sync not started');
  return sync;
}

function conversation(id: string): Conversation {
  const conv = running().conversation(id);
  if (conv === undefined) throw new Error(`chat: conversation ${id} is not open`);
  return conv;
}

/** Calls `fn` for every message added to the conversation (remote or local), once each. */
function onAdded(conv: Conversation, fn: (id: string) => void): () => void {
  const seen = new Set<string>();
  return conv.onMessagesChange((ids) => {
    for (const id of ids) {
      if (seen.has(id) || conv.message(id) === undefined) continue;
      seen.add(id);
      fn(id);
    }
  });
}

const nextFrame = (): Promise<number> =>
  new Promise((resolve) =>
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now())))
  );

let pongOff: (() => void) | undefined;
let seenAt: number[] = [];

/** This page's sync spans since `traceReset()` (SyncInit.trace), while `tracing`. */
let spans: SpanTotals = {};
let traceOrigin = 0;
let tracing = false;

function traceReset(): void {
  spans = {};
  traceOrigin = performance.now();
  tracing = true;
}

function record(span: SyncSpan, ms: number, bytes?: number): void {
  if (!tracing) return;
  const at = performance.now() - traceOrigin;
  const t = (spans[span] ??= { count: 0, ms: 0, bytes: 0, first: at, last: at });
  t.count++;
  t.ms += ms;
  t.bytes += bytes ?? 0;
  t.last = at;
}

const spanMs = (names: string[]): number => names.reduce((n, k) => n + (spans[k]?.ms ?? 0), 0);

/** A sync service on the started node over a memory HistoryStore whose heads are `seed`. */
async function seededSync(seed: Record<string, number[]>): Promise<Sync> {
  const history = createMemoryHistoryStore();
  for (const [id, state] of Object.entries(seed)) {
    await history.appendHead(id, new Uint8Array(state));
  }
  store = history;
  const s: Sync = createSync(
    { trace: record },
    {
      transport: createLibp2pSyncTransport(startedLibp2p()),
      self: startedLibp2p().peerId.toString(),
      history,
      access: createMemberAccess((id) => s.conversation(id)),
      // Signed like the app's messages (what the latency includes); checked only on screen.
      sign: startedSigner(),
      verify: verifyByPeer
    }
  );
  return s;
}

export const chat: ChatApi = {
  async createInitial(ids, peer) {
    const self = startedLibp2p().peerId.toString();
    const out: number[][] = [];
    for (const id of ids) {
      const conv = memoryConversation({ self, id });
      conv.init({ kind: 'group', name: id, members: [peer] });
      out.push([...Y.encodeStateAsUpdate(headOf(conv))]);
      conv.destroy();
    }
    return out;
  },

  async start(seed) {
    if (sync !== undefined) throw new Error('chat: already started');
    const s = await seededSync(seed);
    const t0 = performance.now();
    await s.start();
    sync = s;
    for (const id of Object.keys(seed)) await s.open(id);
    return performance.now() - t0;
  },

  async write(id, count) {
    const conv = conversation(id);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      conv.send(`message ${i} of ${id}: some ordinary text`);
      // Signing 10,000 messages blocks for seconds: let the node answer its pings meanwhile.
      if (i % 500 === 499) await new Promise((r) => setTimeout(r));
    }
    const state = encodeAll(conv).reduce((n, u) => n + u.byteLength, 0);
    return { ms: performance.now() - t0, state };
  },

  async catchUp(seed, expected, timeoutMs): Promise<CatchUpResult> {
    if (sync !== undefined) throw new Error('chat: already started');
    const ids = Object.keys(seed);
    // The state B had before going offline: meta and members, no messages.
    const s = await seededSync(seed);
    const bytesBefore = await trackedBytesSent();
    const events: Record<string, number> = {};
    let orderMs = 0;
    let listenerMs = 0;
    traceReset();
    const t0 = performance.now();
    let checkNow = (): void => {};
    const done = new Promise<number>((resolve) => {
      const check = (): void => {
        const o0 = performance.now();
        const all = ids.every((id) => s.conversation(id)?.size() === expected);
        orderMs += performance.now() - o0;
        if (all) {
          tracing = false;
          resolve(performance.now());
          off();
        }
      };
      checkNow = check;
      const off = s.onEvent((e) => {
        const l0 = performance.now();
        events[e.type] = (events[e.type] ?? 0) + 1;
        if (e.type === 'peer-dropped') events[`dropped: ${e.reason}`] = 1;
        if (e.type === 'synced' || e.type === 'status') check();
        listenerMs += performance.now() - l0;
      });
    });
    await s.start();
    sync = s;
    // A conversation's count beyond its window comes from storage (after the data is stored):
    // its change events say when it moved.
    for (const id of ids) {
      (await s.open(id)).onChange(() => {
        const l0 = performance.now();
        checkNow();
        listenerMs += performance.now() - l0;
      });
    }
    // Spans before the first frame (step1s once the stream is up) are B's own work too.
    const startMs = performance.now() - t0 - spanMs(Object.keys(spans));
    const t1 = await deadline(done, timeoutMs, 'catch-up did not finish').catch((err: unknown) => {
      const sizes = ids.map((id) => s.conversation(id)?.size());
      throw new Error(
        `${errorMessage(err)}; B has ${sizes.join(' + ')} messages; ` +
          `events ${JSON.stringify(events)}`
      );
    });
    const ms = t1 - t0;
    tracing = false;
    const decode = spans.decode;
    const sumOf = (names: string[]): number => spanMs(names);
    const cpu: Omit<CatchUpBreakdown, 'firstFrameMs' | 'wireMs' | 'wireBytes' | 'frames'> = {
      decodeMs: sumOf(['decode', 'reassemble', 'inflate']),
      checkMs: sumOf(['inspect', 'check']),
      applyMs: sumOf(['apply']),
      storeMs: sumOf(['store']),
      orderMs,
      uiMs: listenerMs - orderMs,
      otherMs: sumOf(['forward', 'diff', 'send', 'deflate', 'ack']),
      startMs,
      idleMs: 0,
      spans
    };
    // 'events' (the listeners) is measured by the listener itself: listenerMs.
    cpu.idleMs =
      ms -
      (cpu.decodeMs +
        cpu.checkMs +
        cpu.applyMs +
        cpu.storeMs +
        listenerMs +
        cpu.otherMs +
        cpu.startMs);
    const breakdown: CatchUpBreakdown = {
      firstFrameMs: decode?.first ?? Number.NaN,
      wireMs: decode === undefined ? Number.NaN : decode.last - decode.first,
      wireBytes: decode?.bytes ?? 0,
      frames: decode?.count ?? 0,
      ...cpu
    };
    const bytesAfter = await trackedBytesSent();
    // Reference: the same state (every doc: heads and segments) applied in memory in this
    // page, into fresh docs.
    const states = await storedStates(ids);
    const { docs: fresh, ms: applyMs } = applyFresh(states);
    // The same plus ordering the messages (what B's model does).
    const o0 = performance.now();
    const keys: string[] = [];
    for (const doc of fresh) {
      for (const [mid, value] of doc.getMap('messages').entries()) {
        const e = indexEntryOf(mid, value, 0);
        if (e !== undefined) keys.push(e.key);
      }
    }
    keys.sort();
    const n = keys.length;
    const freshOrderMs = performance.now() - o0;
    for (const doc of fresh) doc.destroy();
    if (n !== expected * ids.length) throw new Error(`in-memory copy has ${n} messages`);
    return {
      ms,
      messages: expected * ids.length,
      stateBytes: states.reduce((a, st) => a + st.byteLength, 0),
      applyMs,
      applyAndOrderMs: applyMs + freshOrderMs,
      pageBytesSentMeanwhile: bytesAfter - bytesBefore,
      breakdown
    };
  },

  traceReset,

  traceTake() {
    tracing = false;
    return spans;
  },

  async pingPong(id, count, timeoutMs) {
    const conv = conversation(id);
    const samples: number[] = [];
    const sentAt: number[] = [];
    for (let i = 0; i < count; i++) {
      let off: () => void = () => {};
      const back = new Promise<number>((resolve) => {
        off = onAdded(conv, (mid) => {
          const msg = conv.message(mid);
          if (msg?.text === `${PONG}${i}`) resolve(performance.now());
        });
      });
      const t0 = performance.now();
      conv.send(`${PING}${i}`);
      sentAt.push(performance.timeOrigin + t0);
      try {
        samples.push((await deadline(back, timeoutMs, `no answer to ping ${i}`)) - t0);
      } finally {
        off();
      }
    }
    return { roundTrips: samples, sentAt };
  },

  answerPings(id) {
    const conv = conversation(id);
    pongOff?.();
    seenAt = [];
    pongOff = onAdded(conv, (mid) => {
      const msg = conv.message(mid);
      if (msg === undefined || !msg.text.startsWith(PING) || msg.author === conv.self) return;
      seenAt.push(performance.timeOrigin + performance.now());
      // Not from inside the observer (that is still the remote transaction): right after it.
      queueMicrotask(() => conv.send(`${PONG}${msg.text.slice(PING.length)}`));
    });
  },

  stopAnswering() {
    pongOff?.();
    pongOff = undefined;
    return seenAt;
  },

  bytesSent: () => trackedBytesSent(),

  async stop() {
    pongOff?.();
    await sync?.stop();
    await store?.close();
    sync = undefined;
  },

  async seedIdb(id, count, batch) {
    const t0 = performance.now();
    // Written by the app's own model, then stored both ways: as segments with their index (what
    // the app opens) and as one doc in the DocStore (how it was stored before: the baseline).
    let t = Date.now() - count * 1000;
    const conv = memoryConversation({ self: 'bench-author-a', now: () => t });
    conv.init({ kind: 'group', name: 'big', members: ['bench-author-b'] });
    for (let i = 0; i < count; i++) {
      t += 1000;
      conv.send(`message ${i}: an ordinary line of chat text, not too short`);
      if (i % batch === batch - 1 && i % 10_000 === 9_999) await new Promise((r) => setTimeout(r));
    }
    const single = Y.encodeStateAsUpdate(legacyDocOf(conv));
    conv.destroy();
    const history = createIdbHistoryStore({ name: BENCH_HISTORY });
    const snapshot = splitLegacy(single);
    await history.replace(id, snapshot);
    await history.close();
    const docs = createIdbDocStore({ prefix: 'bench-doc:', catalog: 'bench-docs' });
    await docs.delete(id);
    await docs.append(id, single);
    await docs.close();
    let bytes = snapshot.head?.byteLength ?? 0;
    for (const u of snapshot.segments.values()) bytes += u.byteLength;
    return { ms: performance.now() - t0, bytes, segments: snapshot.segments.size };
  },

  async open(id, windowSize): Promise<OpenResult> {
    // The app's path (what Sync.open runs): head + tail segment, then the newest window.
    const t0 = performance.now();
    const history = createIdbHistoryStore({ name: BENCH_HISTORY });
    const set = await DocSet.open(id, history);
    const t1 = performance.now();
    const conv = await openConversation(set, { self: 'bench-reader', id });
    const list = conv.messages({ limit: windowSize });
    const t2 = performance.now();
    const log = paint(list);
    const painted = await nextFrame();
    opened = { close: () => history.close(), conv, set, log };
    return {
      ms: painted - t0,
      loadMs: t1 - t0,
      windowMs: t2 - t1,
      paintMs: painted - t2,
      messages: conv.size(),
      windowMessages: conv.ids().length,
      segmentsInMemory: set.hotSegments().length
    };
  },

  async openSingleDoc(id, windowSize): Promise<SingleDocOpenResult> {
    // Baseline: the same history stored as one doc, loaded whole and ordered (before segments).
    const t0 = performance.now();
    const store = createIdbDocStore({ prefix: 'bench-doc:', catalog: 'bench-docs' });
    const state = await store.load(id);
    const t1 = performance.now();
    if (state === undefined) throw new Error('nothing stored');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const t2 = performance.now();
    const keys: string[] = [];
    for (const [mid, value] of doc.getMap('messages').entries()) {
      const e = indexEntryOf(mid, value, 0);
      if (e !== undefined) keys.push(e.key);
    }
    keys.sort();
    const newest = keys.slice(-windowSize).map((k) => {
      const m = doc.getMap('messages').get(k.slice(k.lastIndexOf(':') + 1)) as Y.Map<unknown>;
      return { author: 'x', text: String(m.get('text')) };
    });
    const t3 = performance.now();
    const log = paint(newest);
    const painted = await nextFrame();
    opened = {
      close: () => store.close(),
      log,
      destroy: () => doc.destroy()
    };
    return {
      ms: painted - t0,
      loadMs: t1 - t0,
      applyMs: t2 - t1,
      orderMs: t3 - t2,
      paintMs: painted - t3,
      messages: keys.length
    };
  },

  async scrollToOldest(expected) {
    // What scrolling to the top does: loadOlder() until the window starts at the oldest.
    const o = opened;
    if (o?.conv === undefined) throw new Error('open() first');
    const t0 = performance.now();
    let loads = 0;
    while ((await o.conv.loadOlder(2_000)) > 0) loads++;
    const ids = o.conv.ids();
    const oldest = o.conv.message(ids[0] ?? '')?.text ?? '';
    if (ids.length !== expected || !oldest.startsWith('message 0:')) {
      throw new Error(`scrolled to ${ids.length} messages, oldest "${oldest.slice(0, 20)}"`);
    }
    return { ms: performance.now() - t0, loads };
  },

  async indexWrites(count, batch, sends) {
    // The message index written the app's way (blocks of a segment, history-idb-layout.ts) and,
    // as the baseline, the way version 1 stored it: one record per message under three indexes.
    const entries = Array.from({ length: count + sends }, (_, i) => ({
      key: `${String(1_700_000_000_000 + i * 1000).padStart(16, '0')}-0001-bench`,
      id: `m-${i.toString(36).padStart(8, '0')}-bench-message-id`,
      segment: Math.floor(i / 1000),
      author: i % 2 === 0 ? 'bench-author-a'.padEnd(52, 'a') : 'bench-author-b'.padEnd(52, 'b'),
      deleted: false
    }));
    const empty = Y.encodeStateAsUpdate(new Y.Doc());
    const ours = createIdbHistoryStore({ name: 'bench-index-ours' });
    const t0 = performance.now();
    for (let i = 0; i < count; i += batch)
      await ours.putIndex('c', entries.slice(i, Math.min(count, i + batch)));
    const t1 = performance.now();
    for (let i = count; i < count + sends; i++) {
      const e = entries[i] as (typeof entries)[number];
      await ours.appendSegment('c', e.segment, empty, { index: [e] });
    }
    const t2 = performance.now();
    if ((await ours.count('c')) !== count + sends) throw new Error('index: entries lost');
    await ours.close();

    const v1 = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('bench-index-v1', 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('updates', { autoIncrement: true }).createIndex('part', ['c', 'n']);
        const st = d.createObjectStore('entries', { keyPath: ['c', 'k'] });
        st.createIndex('id', ['c', 'i'], { unique: true });
        st.createIndex('author', ['c', 'a', 'k']);
        st.createIndex('deleted', ['c', 'x']);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const write = (fill: (t: IDBTransaction) => void): Promise<void> =>
      new Promise((resolve, reject) => {
        const t = v1.transaction(['updates', 'entries'], 'readwrite');
        fill(t);
        t.oncomplete = () => resolve();
        t.onerror = () => reject(t.error);
      });
    const record = (e: (typeof entries)[number]) => ({
      c: 'c',
      k: e.key,
      i: e.id,
      s: e.segment,
      a: e.author
    });
    const t3 = performance.now();
    for (let i = 0; i < count; i += batch)
      await write((t) => {
        for (const e of entries.slice(i, Math.min(count, i + batch)))
          t.objectStore('entries').add(record(e));
      });
    const t4 = performance.now();
    for (let i = count; i < count + sends; i++) {
      const e = entries[i] as (typeof entries)[number];
      await write((t) => {
        t.objectStore('updates').add({ c: 'c', n: e.segment, u: empty });
        t.objectStore('entries').add(record(e));
      });
    }
    const t5 = performance.now();
    v1.close();
    for (const name of ['bench-index-ours', 'bench-index-v1']) indexedDB.deleteDatabase(name);
    return {
      bulkMs: t1 - t0,
      sendMs: (t2 - t1) / sends,
      baseBulkMs: t4 - t3,
      baseSendMs: (t5 - t4) / sends
    };
  },

  async states(ids) {
    return (await storedStates(ids)).map(toBase64);
  },

  applyStates(states) {
    const { docs, ms } = applyFresh(states.map(fromBase64));
    for (const doc of docs) doc.destroy();
    return ms;
  },

  async release() {
    if (opened === undefined) return;
    const o = opened;
    opened = undefined;
    o.log.remove();
    o.conv?.destroy();
    o.set?.close();
    o.destroy?.();
    await o.close();
  }
};

const BENCH_HISTORY = 'bench-history';

function paint(list: { author: string; text: string }[]): HTMLElement {
  const log = document.createElement('ol');
  for (const m of list) {
    const li = document.createElement('li');
    li.textContent = `${m.author}: ${m.text}`;
    log.append(li);
  }
  document.body.append(log);
  return log;
}

let opened:
  | {
      close: () => Promise<void>;
      log: HTMLElement;
      conv?: Conversation;
      set?: DocSet;
      destroy?: () => void;
    }
  | undefined;
