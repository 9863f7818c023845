/**
 * Conversation benchmarks (issue 3) on the app's own sync stack: `createSync` over the page's
 * libp2p node (SYNC_PROTOCOL streams), `createConversation` docs, `createIdbDocStore`.
 *
 * - catch-up: A writes N messages into each of two conversations while B's sync is not
 *   running; B starts its sync (the direct connection is up) and catches up by state vector.
 * - latency: ping-pong of messages between A and B in a live conversation (each side
 *   answers as soon as its doc observes the other's message), half the round trip.
 * - open: a conversation of many messages stored in IndexedDB, loaded into a fresh Y.Doc,
 *   ordered (what the conversation store does) and its newest window drawn into the page.
 */
import * as Y from 'yjs';
import { createIdbDocStore, createMemoryDocStore, type DocStore } from '$lib/storage';
import { verifyByPeer } from '$lib/crypto/signing';
import {
  createConversation,
  createLibp2pSyncTransport,
  createMemberAccess,
  createSync,
  type Conversation,
  type Sync
} from '$lib/sync';
import type { SyncSpan } from '$lib/sync/sync';
import type { ChatApi, CatchUpBreakdown, CatchUpResult, OpenResult, SpanTotals } from './api.ts';
import { trackedBytesSent } from './count-pc.ts';
import { startedLibp2p, startedSigner } from './ours.ts';
import { deadline, errorMessage } from './util.ts';
import { docOf } from '$lib/sync/testing';

let sync: Sync | undefined;
let docs: DocStore | undefined;
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

/** Calls `fn` for every message added to the conversation's doc (remote or local). */
function onAdded(conv: Conversation, fn: (id: string) => void): () => void {
  const map = docOf(conv).getMap('messages');
  const observer = (event: Y.YMapEvent<unknown>): void => {
    for (const [id, change] of event.changes.keys) if (change.action === 'add') fn(id);
  };
  map.observe(observer);
  return () => map.unobserve(observer);
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

/** A sync service on the started node over a memory DocStore holding `seed` (not started). */
async function seededSync(seed: Record<string, number[]>): Promise<Sync> {
  const store = createMemoryDocStore();
  for (const [id, state] of Object.entries(seed)) await store.append(id, new Uint8Array(state));
  docs = store;
  const s: Sync = createSync(
    { trace: record },
    {
      transport: createLibp2pSyncTransport(startedLibp2p()),
      self: startedLibp2p().peerId.toString(),
      docs: store,
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
      const doc = new Y.Doc();
      createConversation(doc, { self }).init({ kind: 'group', name: id, members: [peer] });
      out.push([...Y.encodeStateAsUpdate(doc)]);
      doc.destroy();
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
    return { ms: performance.now() - t0, state: Y.encodeStateAsUpdate(docOf(conv)).byteLength };
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
      const off = s.onEvent((e) => {
        const l0 = performance.now();
        events[e.type] = (events[e.type] ?? 0) + 1;
        if (e.type === 'peer-dropped') events[`dropped: ${e.reason}`] = 1;
        if (e.type === 'synced') check();
        listenerMs += performance.now() - l0;
      });
    });
    await s.start();
    sync = s;
    for (const id of ids) await s.open(id);
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
      decodeMs: sumOf(['decode', 'reassemble']),
      applyMs: sumOf(['apply']),
      storeMs: sumOf(['store']),
      orderMs,
      uiMs: listenerMs - orderMs,
      otherMs: sumOf(['forward', 'diff', 'send', 'ack']),
      startMs,
      idleMs: 0,
      spans
    };
    // 'events' (the listeners) is measured by the listener itself: listenerMs.
    cpu.idleMs =
      ms - (cpu.decodeMs + cpu.applyMs + cpu.storeMs + listenerMs + cpu.otherMs + cpu.startMs);
    const breakdown: CatchUpBreakdown = {
      firstFrameMs: decode?.first ?? Number.NaN,
      wireMs: decode === undefined ? Number.NaN : decode.last - decode.first,
      wireBytes: decode?.bytes ?? 0,
      frames: decode?.count ?? 0,
      ...cpu
    };
    const bytesAfter = await trackedBytesSent();
    // Reference: the same state applied in memory in this page, into fresh docs.
    const states = ids.map((id) => Y.encodeStateAsUpdate(docOf(conversation(id))));
    const m0 = performance.now();
    const fresh = states.map((st) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, st);
      return doc;
    });
    const applyMs = performance.now() - m0;
    // The same plus ordering the messages (what B's size() check did).
    const o0 = performance.now();
    let n = 0;
    for (const doc of fresh) n += createConversation(doc, { self: 'x' }).size();
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
    await docs?.close();
    sync = undefined;
  },

  async seedIdb(id, count, batch) {
    const store = createIdbDocStore({ prefix: 'bench-doc:', catalog: 'bench-docs' });
    const doc = new Y.Doc();
    const conv = createConversation(doc, { self: 'bench-author-a' });
    const pending: Uint8Array[] = [];
    doc.on('update', (u: Uint8Array) => pending.push(u));
    const t0 = performance.now();
    conv.init({ kind: 'group', name: 'big', members: ['bench-author-b'] });
    for (let i = 0; i < count; i += batch) {
      doc.transact(() => {
        for (let j = i; j < Math.min(count, i + batch); j++) {
          conv.send(`message ${j}: an ordinary line of chat text, not too short`);
        }
      });
      for (const u of pending.splice(0)) await store.append(id, u);
    }
    // The first load merges the stored updates into one (as the app's first open would).
    const merged = await store.load(id);
    await store.close();
    conv.destroy();
    doc.destroy();
    return { ms: performance.now() - t0, bytes: merged?.byteLength ?? 0 };
  },

  async open(id, windowSize): Promise<OpenResult> {
    const t0 = performance.now();
    const store = createIdbDocStore({ prefix: 'bench-doc:', catalog: 'bench-docs' });
    const state = await store.load(id);
    const t1 = performance.now();
    if (state === undefined) throw new Error('nothing stored');
    const doc = new Y.Doc();
    Y.applyUpdate(doc, state);
    const t2 = performance.now();
    const conv = createConversation(doc, { self: 'bench-reader' });
    // What the conversation store does: the full ordered list, then a virtualized window.
    const list = conv.messages();
    const t3 = performance.now();
    const log = document.createElement('ol');
    for (const m of list.slice(-windowSize)) {
      const li = document.createElement('li');
      li.textContent = `${m.author}: ${m.text}`;
      log.append(li);
    }
    document.body.append(log);
    const painted = await nextFrame();
    opened = { store, doc, conv, list, log };
    return {
      ms: painted - t0,
      loadMs: t1 - t0,
      applyMs: t2 - t1,
      orderMs: t3 - t2,
      paintMs: painted - t3,
      messages: list.length,
      stateBytes: state.byteLength
    };
  },

  async release() {
    if (opened === undefined) return;
    const o = opened;
    opened = undefined;
    o.log.remove();
    o.conv.destroy();
    o.doc.destroy();
    await o.store.close();
  }
};

let opened:
  | { store: DocStore; doc: Y.Doc; conv: Conversation; list: unknown[]; log: HTMLElement }
  | undefined;
