/**
 * Author-signed updates in the sync service (issue 8, "every change authored"): what a doc's
 * update must be before it is applied, and what a peer's step1 is answered with.
 *
 * - Every local update leaves the device sealed by its author (envelope.ts), under one of the
 *   author's client ids (authorship.ts). Members store envelopes as they came and forward them
 *   unchanged: a step2 is the list of stored envelopes the asking peer lacks, never a diff
 *   that someone re-encoded (nobody could check who wrote what in that).
 * - A received envelope is admitted when it names this doc, its signature verifies, its
 *   structs are all of one client id, and write-rules.ts lets its author write everything in
 *   it (its structs and its deletions). Structure is checked first (update-check.ts), by the
 *   receiver, since decoding hostile bytes is what the structural limits are for.
 * - An author merges its own envelopes a peer lacks into one, cut to what the peer lacks, and
 *   signs it again, so a catch-up costs a verification per author, client and doc, not per
 *   message; and keeps its stored runs merged as it writes (OwnRuns, below).
 *
 * ```ts
 * const env = sealEnvelope({ author: self, wire: unit.wire, update }, sign); // envelope.ts
 * const inspected = inspectUpdate(env.update, doc); // update-check.ts
 * const verdict = admit(env, { wire, doc, kind, isMember, verify, inspected });
 * const list = lacking(await set.envelopes(part), sv, { self, wire, sign });
 * ```
 */
import * as Y from 'yjs';
import type { Signer, Verifier } from '../crypto/signing.js';
import {
  encodeEnvelopeList,
  envelopeSigned,
  openEnvelope,
  sealEnvelope,
  singleRange,
  updateRange,
  type Envelope,
  type UpdateRange
} from './envelope.js';
import type { UpdateSummary } from './update-check.js';
import { checkWrites, type DocKind } from './write-rules.js';

const sameRange = (a: UpdateRange | null, b: UpdateRange | null): boolean =>
  a === null || b === null ? a === b : a.client === b.client && a.from === b.from && a.to === b.to;

export interface AdmitContext {
  wire: string;
  doc: Y.Doc;
  kind: DocKind;
  isMember(peer: string): boolean;
  verify: Verifier;
  /** What inspectUpdate read of the update (against `doc`). */
  inspected: UpdateSummary;
  /** The signature was verified already (asynchronously, by WebCrypto: FrameReceiver). */
  signatureChecked?: boolean;
}

export type Admission =
  /** `fresh`: it writes something the doc does not have yet. */
  { ok: true; env: Envelope; fresh: boolean } | { ok: false; pending: boolean; reason: string };

/** Opens an envelope for doc `wire`; when it is not one, the reason (a string). */
export function openFor(bytes: Uint8Array, wire: string): Envelope | string {
  let env: Envelope;
  try {
    env = openEnvelope(bytes);
  } catch (err) {
    return err instanceof Error ? err.message : 'malformed envelope';
  }
  return env.wire === wire ? env : 'envelope of another doc';
}

/**
 * Whether an opened envelope (its update already through inspectUpdate) may be applied.
 * `pending`: it needs changes this doc does not have yet (retry once the doc moved on).
 */
export function admit(env: Envelope, ctx: AdmitContext): Admission {
  let range: UpdateRange | null;
  try {
    range = singleRange(ctx.inspected.ranges);
  } catch (err) {
    return { ok: false, pending: false, reason: (err as Error).message };
  }
  // The header says what the update writes (a step1 is answered from headers): it must.
  if (env.range !== undefined && !sameRange(env.range, range)) {
    return { ok: false, pending: false, reason: 'envelope range does not match its update' };
  }
  // Everything in it is here already (it came again, or inside a merged run): nothing to do,
  // and nothing to verify. Deletions only are always checked.
  if (range !== null && range.to <= Y.getState(ctx.doc.store, range.client)) {
    return { ok: true, env, fresh: false };
  }
  if (ctx.signatureChecked !== true && !envelopeSigned(env, ctx.verify)) {
    return { ok: false, pending: false, reason: 'bad signature' };
  }
  const verdict = checkWrites(ctx.inspected, {
    doc: ctx.doc,
    kind: ctx.kind,
    wire: ctx.wire,
    author: env.author,
    isMember: ctx.isMember
  });
  if (!verdict.ok) return verdict;
  return { ok: true, env, fresh: true };
}

/** A stored envelope read back: its bytes, what it says, and the clocks it writes. */
interface Stored {
  bytes: Uint8Array;
  at: number;
  env: Envelope;
  /** What it writes (null: deletions only). */
  range: UpdateRange | null;
}

/**
 * The envelopes of a doc's log that open. They were admitted when they came, so reading them
 * again is safe; one that does not open (damaged storage) is left out.
 */
function* readLog(stored: readonly Uint8Array[], wire: string): Generator<Stored> {
  for (let at = 0; at < stored.length; at++) {
    const bytes = stored[at]!;
    const env = openFor(bytes, wire);
    if (typeof env === 'string') continue;
    let range = env.range;
    if (range === undefined) {
      // Version 1 (sync 4.0.0) declared no range: read it from the update.
      try {
        range = updateRange(env.update);
      } catch {
        continue;
      }
    }
    yield { bytes, at, env, range };
  }
}

export interface AnswerContext {
  self: string;
  wire: string;
  sign: Signer;
  /** Largest update one merged envelope of our own may hold (a run longer is split). */
  maxMergedBytes: number;
}

/**
 * Own envelopes at least this big (a run OwnRuns merged) go to a peer that lacks all of them
 * as they are stored: merging and signing again would cost the answer a decode and encode of
 * the whole run, and the receiver applies it in one piece either way.
 */
export const FORWARD_AS_IS_BYTES = 16 * 1024;

/**
 * The stored envelopes a peer with state vector `sv` lacks: those writing past what it has of
 * their client id, and every deletions-only one (picked by their headers; the updates are not
 * decoded). This device's own, per client id in clock order, are merged into one envelope,
 * cut to what the peer lacks and signed again, except merged runs the peer lacks wholly (sent
 * as stored).
 */
export function lacking(
  stored: readonly Uint8Array[],
  sv: ReadonlyMap<number, number>,
  ctx: AnswerContext
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const own = new Map<number, (Stored & { range: UpdateRange })[]>();
  for (const entry of readLog(stored, ctx.wire)) {
    const { env, range } = entry;
    if (range !== null && range.to <= (sv.get(range.client) ?? 0)) continue;
    if (range === null || env.author !== ctx.self) {
      out.push(entry.bytes);
      continue;
    }
    let list = own.get(range.client);
    if (list === undefined) own.set(range.client, (list = []));
    list.push({ ...entry, range });
  }
  let svBytes: Uint8Array | undefined;
  for (const [client, entries] of own) {
    // In clock order (a merged run is stored after what was written while it was merged).
    entries.sort((x, y) => x.range.from - y.range.from);
    const has = sv.get(client) ?? 0;
    let updates: Uint8Array[] = [];
    // Our own changes: merged, cut to what the peer lacks, signed again.
    const flush = (): void => {
      svBytes ??= Y.encodeStateVector(sv as Map<number, number>);
      for (const run of batchesUpTo(updates, (u) => u.byteLength, ctx.maxMergedBytes)) {
        const merged = run.length === 1 ? run[0]! : Y.mergeUpdates(run);
        const update = Y.diffUpdate(merged, svBytes);
        out.push(sealEnvelope({ author: ctx.self, wire: ctx.wire, update }, ctx.sign));
      }
      updates = [];
    };
    for (const { bytes, env, range } of entries) {
      if (range.from >= has && bytes.byteLength >= FORWARD_AS_IS_BYTES) {
        flush(); // what comes before it, first
        out.push(bytes);
      } else updates.push(env.update);
    }
    flush();
  }
  return out;
}

/** Consecutive batches of `items` of at most `max` together by `size` (a bigger one alone). */
function batchesUpTo<T>(items: readonly T[], size: (item: T) => number, max: number): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const cost = size(item);
    if (batch.length > 0 && bytes + cost > max) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += cost;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * Envelopes as step2 payloads of at most `max` bytes each (a list per payload): a history of
 * any size reaches a newcomer, in as many step2s as it takes. Always at least one payload.
 */
export function step2Payloads(envelopes: readonly Uint8Array[], max: number): Uint8Array[] {
  // Each envelope costs its length prefix too (at most 5 bytes).
  const batches = batchesUpTo(envelopes, (e) => e.byteLength + 5, max);
  return batches.length === 0 ? [encodeEnvelopeList([])] : batches.map(encodeEnvelopeList);
}

/** Own envelopes of one client id a device keeps merged as one (about a segment's worth). */
export const OWN_RUN_EVERY = 64;

export interface OwnRunsHost {
  self: string;
  sign: Signer;
  /** Largest update of one merged envelope. */
  maxMergedBytes: number;
  persistError(conversationId: string, error: unknown): void;
}

/** What OwnRuns needs of a doc: its wire id and where its envelopes are stored. */
export interface OwnRunsDoc {
  readonly wire: string;
  readonly part: number;
  readonly conv: {
    readonly id: string;
    readonly set: {
      envelopes(part: number): Promise<Uint8Array[]>;
      dropEnvelopes(part: number, positions: readonly number[], add?: Uint8Array): Promise<void>;
    };
  };
}

/**
 * Keeps this device's stored envelopes merged: after every OWN_RUN_EVERY local updates of a
 * doc, its own envelopes of one client id (the newest, up to `maxMergedBytes` together) are
 * replaced by one, merged and signed again. So what a catch-up reads, verifies and applies
 * stays a few envelopes per author and doc however many messages were written.
 */
export class OwnRuns {
  private readonly counts = new WeakMap<OwnRunsDoc, number>();
  private readonly running = new WeakSet<OwnRunsDoc>();

  constructor(private readonly host: OwnRunsHost) {}

  /** A local update of `doc` was stored. */
  noted(doc: OwnRunsDoc): void {
    this.counts.set(doc, (this.counts.get(doc) ?? 0) + 1);
    this.start(doc);
  }

  /** Merges when enough were written since the last merge (again once one running ends). */
  private start(doc: OwnRunsDoc): void {
    if ((this.counts.get(doc) ?? 0) < OWN_RUN_EVERY || this.running.has(doc)) return;
    this.counts.set(doc, 0);
    this.running.add(doc);
    this.merge(doc)
      .catch((error: unknown) => this.host.persistError(doc.conv.id, error))
      .finally(() => {
        this.running.delete(doc);
        this.start(doc);
      });
  }

  /** Merges the newest run of own envelopes of the client id with the most of them. */
  async merge(doc: OwnRunsDoc): Promise<void> {
    const { self, sign, maxMergedBytes } = this.host;
    const stored = await doc.conv.set.envelopes(doc.part);
    const byClient = new Map<number, { at: number[]; updates: Uint8Array[] }>();
    for (const { at, env, range } of readLog(stored, doc.wire)) {
      if (env.author !== self || range === null) continue;
      let group = byClient.get(range.client);
      if (group === undefined) byClient.set(range.client, (group = { at: [], updates: [] }));
      group.at.push(at);
      group.updates.push(env.update);
    }
    let best: { at: number[]; updates: Uint8Array[] } | undefined;
    for (const g of byClient.values()) if (g.at.length > (best?.at.length ?? 1)) best = g;
    if (best === undefined) return;
    // The newest envelopes that fit together (an older full run stays as it is).
    let bytes = 0;
    let from = best.updates.length;
    while (from > 0 && bytes + best.updates[from - 1]!.byteLength <= maxMergedBytes) {
      bytes += best.updates[--from]!.byteLength;
    }
    if (best.updates.length - from < 2) return;
    const update = Y.mergeUpdates(best.updates.slice(from));
    const merged = sealEnvelope({ author: self, wire: doc.wire, update }, sign);
    await doc.conv.set.dropEnvelopes(doc.part, best.at.slice(from), merged);
  }
}
