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
 * - An author merges its own envelopes a peer lacks into one and signs it again, so a
 *   catch-up costs a verification per author, client and doc, not per message.
 *
 * ```ts
 * const env = sealLocal(unit.wire, update, self, sign);
 * const verdict = admit(bytes, { wire, doc, kind, isMember, verify }); // after inspectUpdate
 * const list = lacking(await set.envelopes(part), sv, { self, wire, sign });
 * ```
 */
import * as Y from 'yjs';
import type { Signer, Verifier } from '../crypto/signing.js';
import {
  encodeEnvelopeList,
  envelopeSigned,
  MalformedEnvelopeError,
  openEnvelope,
  sealEnvelope,
  type Envelope
} from './envelope.js';
import { checkWrites, type DocKind } from './write-rules.js';

/** The clocks an update writes: one client id, [from, to). Undefined: deletions only. */
export interface UpdateRange {
  client: number;
  from: number;
  to: number;
}

/** The range of an update that passed inspectUpdate; throws when it writes for several ids. */
export function updateRange(update: Uint8Array): UpdateRange | undefined {
  const { from, to } = Y.parseUpdateMeta(update);
  if (from.size === 0) return undefined;
  if (from.size > 1) throw new MalformedEnvelopeError('an envelope writes for one client id');
  const [client, start] = from.entries().next().value as [number, number];
  return { client, from: start, to: to.get(client) ?? start };
}

/** Seals a local update of doc `wire` as `author`. */
export function sealLocal(
  wire: string,
  update: Uint8Array,
  author: string,
  sign: Signer
): Uint8Array {
  return sealEnvelope({ author, wire, update }, sign);
}

export interface AdmitContext {
  wire: string;
  doc: Y.Doc;
  kind: DocKind;
  isMember(peer: string): boolean;
  verify: Verifier;
}

export type Admission =
  /** `fresh`: it writes something the doc does not have yet. */
  { ok: true; env: Envelope; fresh: boolean } | { ok: false; pending: boolean; reason: string };

/** Opens an envelope for doc `wire`: undefined with a reason when it is not one. */
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
  let range: UpdateRange | undefined;
  try {
    range = updateRange(env.update);
  } catch (err) {
    return { ok: false, pending: false, reason: (err as Error).message };
  }
  // Everything in it is here already (it came again, or inside a merged run): nothing to do,
  // and nothing to verify. Deletions only are always checked.
  if (range !== undefined && range.to <= Y.getState(ctx.doc.store, range.client)) {
    return { ok: true, env, fresh: false };
  }
  if (!envelopeSigned(env, ctx.verify))
    return { ok: false, pending: false, reason: 'bad signature' };
  const verdict = checkWrites(env.update, {
    doc: ctx.doc,
    kind: ctx.kind,
    wire: ctx.wire,
    author: env.author,
    isMember: ctx.isMember
  });
  if (!verdict.ok) return verdict;
  return { ok: true, env, fresh: true };
}

export interface AnswerContext {
  self: string;
  wire: string;
  sign: Signer;
  /** Largest update one merged envelope of our own may hold (a run longer is split). */
  maxMergedBytes: number;
}

/**
 * The stored envelopes a peer with state vector `sv` lacks: those writing past what it has of
 * their client id, and every deletions-only one. This device's own are merged per client id
 * into one envelope, signed again. Stored envelopes were admitted when they came, so reading
 * them again is safe; one that does not open (damaged storage) is left out.
 */
export function lacking(
  stored: readonly Uint8Array[],
  sv: ReadonlyMap<number, number>,
  ctx: AnswerContext
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const own = new Map<number, Uint8Array[]>();
  for (const bytes of stored) {
    const env = openFor(bytes, ctx.wire);
    if (typeof env === 'string') continue;
    let range: UpdateRange | undefined;
    try {
      range = updateRange(env.update);
    } catch {
      continue;
    }
    if (range !== undefined && range.to <= (sv.get(range.client) ?? 0)) continue;
    if (range !== undefined && env.author === ctx.self) {
      let list = own.get(range.client);
      if (list === undefined) own.set(range.client, (list = []));
      list.push(env.update);
      continue;
    }
    out.push(bytes);
  }
  for (const updates of own.values()) {
    for (const run of runsUpTo(updates, ctx.maxMergedBytes)) {
      const update = run.length === 1 ? run[0]! : Y.mergeUpdates(run);
      out.push(sealEnvelope({ author: ctx.self, wire: ctx.wire, update }, ctx.sign));
    }
  }
  return out;
}

/** Consecutive runs of updates of at most `max` bytes together (a longer one alone). */
function runsUpTo(updates: Uint8Array[], max: number): Uint8Array[][] {
  const runs: Uint8Array[][] = [];
  let run: Uint8Array[] = [];
  let bytes = 0;
  for (const u of updates) {
    if (run.length > 0 && bytes + u.byteLength > max) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(u);
    bytes += u.byteLength;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Envelopes as step2 payloads of at most `max` bytes each (a list per payload): a history of
 * any size reaches a newcomer, in as many step2s as it takes. Always at least one payload.
 */
export function step2Payloads(envelopes: readonly Uint8Array[], max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let bytes = 0;
  for (const e of envelopes) {
    const cost = e.byteLength + 5; // its length prefix
    if (batch.length > 0 && bytes + cost > max) {
      out.push(encodeEnvelopeList(batch));
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += cost;
  }
  if (batch.length > 0 || out.length === 0) out.push(encodeEnvelopeList(batch));
  return out;
}
