/**
 * Structural limits of a Yjs v1 update, checked before Yjs sees it (issue 8, "every stranger
 * bounded"). A hand-written reader of the update format over lib0's decoding: Y.decodeUpdate
 * builds every struct and lib0's readAny recurses, so neither may see hostile bytes first.
 * One pass over the bytes (update-structs.ts, which also keeps what the write rules go on),
 * then one over the structs: O(update size), no recursion.
 *
 * Refused (UpdateRejectedError, with a reason):
 * - a GC or Skip struct of length 0 (Yjs accepts it, then fails to encode: "Unexpected case"),
 *   any struct or deletion longer than `maxStructLength`, clocks or client ids past 2^53 - 1;
 * - a GC struct over changes the doc holds that are not deleted (storage would keep the GC);
 * - more clients, structs or delete-set ranges than the limits, a client listed twice;
 * - content the app never writes (embeds, formats, subdocs), strings, binaries and plain
 *   values over their limits (plain values are read iteratively, depth-bounded);
 * - a type nested deeper than `maxTypeDepth` (counting the doc's containers above it);
 * - **gaps** (`gap: true`): a struct that starts past what the doc and the update before it
 *   hold for its client, an item whose origin or parent is in neither, or a deletion of clocks
 *   neither holds (Yjs would delete those changes whenever they came). Yjs would keep such
 *   an update pending until the missing changes came, and the receiver stops applying live
 *   updates while it waits. Honest peers cause gaps too (a frame lost with a replaced
 *   stream), so a gap is not misbehaviour: the receiver asks that peer for a step2 instead,
 *   which carries everything missing. On load (`allowGaps`) a gap is kept as Yjs would.
 *
 * ```ts
 * inspectUpdate(update, doc); // throws UpdateRejectedError
 * Y.applyUpdate(doc, update);
 * ```
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { DEFAULT_UPDATE_LIMITS, type UpdateLimits } from './constants.js';
import { UpdateRejectedError } from './errors.js';
import { refuse } from './update-content.js';
import {
  findStruct,
  NONE,
  readDeleteSet,
  readStructs,
  writtenRanges,
  UpdateStructs,
  type ParsedUpdate,
  type WrittenRanges
} from './update-structs.js';

export interface InspectOptions {
  /** Accept clock and dependency gaps (loading stored state, which may hold pending structs). */
  allowGaps?: boolean;
}

/** What an accepted update holds. */
export interface UpdateSummary {
  /** Its structs and deletions as read: what the write rules go on (write-rules.ts). */
  parsed: ParsedUpdate;
  clients: number;
  structs: number;
  deleteRanges: number;
  /**
   * The clocks it writes per client id, [from, to) (Skip structs left out; a client whose
   * structs are all Skips is not here): what Y.parseUpdateMeta would say, without decoding
   * contents again.
   */
  ranges: WrittenRanges;
}

/**
 * Checks `update` against `doc` (its state before the update) and `limits`, without applying
 * it. Throws UpdateRejectedError; returns what the update holds.
 */
export function inspectUpdate(
  update: Uint8Array,
  doc: Y.Doc,
  limits: UpdateLimits = DEFAULT_UPDATE_LIMITS,
  options: InspectOptions = {}
): UpdateSummary {
  const s = new UpdateStructs();
  /** Deletion ranges per client, [clock, end) pairs flat. */
  const deletes = new Map<number, number[]>();
  let deleteRanges = 0;
  try {
    const d = decoding.createDecoder(update);
    readStructs(d, s, limits);
    deleteRanges = readDeleteSet(d, limits, deletes);
    if (decoding.hasContent(d)) refuse('trailing bytes');
  } catch (err) {
    if (err instanceof UpdateRejectedError) throw err;
    refuse('malformed update');
  }
  const reach = checkGaps(s, doc, options.allowGaps === true);
  checkDepth(s, doc, reach, limits.maxTypeDepth, options.allowGaps === true);
  if (options.allowGaps !== true) checkDeleteGaps(deletes, doc, reach);
  checkCollected(s, doc, deletes);
  return {
    clients: s.runs.size,
    structs: s.kind.length,
    deleteRanges,
    ranges: writtenRanges(s),
    parsed: { update, structs: s, deletes }
  };
}

/**
 * Each client's structs must continue what the doc (or the update, before them) has. Returns
 * the clock up to which doc and update together hold each client of the update.
 */
function checkGaps(s: UpdateStructs, doc: Y.Doc, allowGaps: boolean): Map<number, number> {
  const reach = new Map<number, number>();
  for (const [client, run] of s.runs) {
    let expected = Y.getState(doc.store, client);
    for (let i = run.first; i < run.first + run.count; i++) {
      if (s.kind[i] === 1) continue; // a Skip: the doc must hold these clocks, or what follows gaps
      const clock = s.clock[i]!;
      if (clock > expected) {
        if (!allowGaps) refuse('clock gap', true);
      } else {
        expected = Math.max(expected, clock + s.length[i]!);
      }
    }
    reach.set(client, expected);
  }
  return reach;
}

/**
 * Deletions must name changes that the doc or the update holds. Yjs keeps the rest pending
 * (`pendingDs`) and deletes those items whenever they arrive: a member could delete changes
 * other devices have not written yet, and the update would be stored but never passed on.
 */
function checkDeleteGaps(
  deletes: Map<number, number[]>,
  doc: Y.Doc,
  reach: Map<number, number>
): void {
  for (const [client, ranges] of deletes) {
    const held = reach.get(client) ?? Y.getState(doc.store, client);
    for (let i = 1; i < ranges.length; i += 2) {
      if (ranges[i]! > held) refuse('deletion of changes not here', true);
    }
  }
}

/**
 * A GC struct over clocks the doc already holds must cover only deleted changes (deleted in
 * the doc or by the update itself): what an honest peer collected. Yjs skips clocks it holds,
 * but storage merges the stored updates with Y.mergeUpdates, which keeps the GC struct in
 * their place, so the next load would lose live messages of any device.
 */
function checkCollected(s: UpdateStructs, doc: Y.Doc, deletes: Map<number, number[]>): void {
  for (let i = 0; i < s.kind.length; i++) {
    if (s.kind[i] !== 0) continue;
    const client = s.client[i]!;
    const start = s.clock[i]!;
    const end = Math.min(start + s.length[i]!, Y.getState(doc.store, client));
    if (start >= end) continue;
    const structs = doc.store.clients.get(client);
    if (structs === undefined) continue;
    const ranges = deletes.get(client) ?? [];
    for (let k = Y.findIndexSS(structs, start); k < structs.length; k++) {
      const struct = structs[k]!;
      if (struct.id.clock >= end) break;
      if (!(struct instanceof Y.Item) || struct.deleted) continue;
      const from = Math.max(struct.id.clock, start);
      const to = Math.min(struct.id.clock + struct.length, end);
      let covered = false;
      for (let r = 0; r < ranges.length && !covered; r += 2) {
        covered = ranges[r]! <= from && to <= ranges[r + 1]!;
      }
      if (!covered) refuse('GC struct over live changes');
    }
  }
}

/** Depth of the doc container holding `item` (a root type is 0), counted up to `cap`. */
function docDepth(item: Y.Item | Y.GC, cap: number): number | undefined {
  if (!(item instanceof Y.Item)) return undefined; // collected: Yjs integrates as deleted
  let type = item.parent as Y.AbstractType<unknown> | null;
  let depth = 0;
  while (type instanceof Y.AbstractType && type._item !== null && depth <= cap) {
    depth++;
    type = type._item.parent as Y.AbstractType<unknown> | null;
  }
  return depth;
}

/**
 * Every item's parent is resolved (explicit, or through its origins), iteratively and
 * memoized; a type's depth is its container's plus one. Dependencies must be present.
 */
function checkDepth(
  s: UpdateStructs,
  doc: Y.Doc,
  reach: Map<number, number>,
  maxDepth: number,
  allowGaps: boolean
): void {
  const n = s.kind.length;
  // Depth of the container each item sits in: -2 unknown, -3 visiting, -1 none (deleted).
  const depthIn = new Int32Array(n).fill(-2);
  const present = (client: number, clock: number): boolean =>
    clock < (reach.get(client) ?? Y.getState(doc.store, client));
  const depthOfItem = (i: number): number =>
    depthIn[i]! < 0 ? -1 : depthIn[i]! + (s.kind[i] === 3 ? 1 : 0);
  const docItemDepth = (client: number, clock: number, asParent: boolean): number => {
    const item = Y.getItem(doc.store, Y.createID(client, clock)) as Y.Item | Y.GC;
    const depth = docDepth(item, maxDepth);
    if (depth === undefined) return -1;
    if (!asParent) return depth;
    if (!((item as Y.Item).content instanceof Y.ContentType)) refuse('parent is not a type');
    return (item as Y.Item).deleted ? -1 : depth + 1;
  };
  if (!allowGaps) {
    for (let b = 0; b < s.deps.length; b += 2) {
      const c = s.deps[b]!;
      if (c !== NONE && !present(c, s.deps[b + 1]!)) refuse('missing dependency', true);
    }
  }
  // Depth matters for types only; the items their parents are found through are resolved
  // (and memoized) on the way.
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (s.kind[start] !== 3 || depthIn[start] !== -2) continue;
    stack.push(start);
    while (stack.length > 0) {
      const i = stack[stack.length - 1]!;
      const b = 6 * i;
      let result = -1;
      let next = NONE;
      if (s.root[i] === true) result = 0;
      else {
        // The parent ID, else the origin, else the right origin (both name the same parent).
        const o = s.deps[b + 4]! !== NONE ? 4 : s.deps[b]! !== NONE ? 0 : 2;
        const asParent = o === 4;
        const c = s.deps[b + o]!;
        const k = s.deps[b + o + 1]!;
        if (c === NONE) refuse('item without parent');
        const j = findStruct(s, c, k);
        if (j !== NONE && s.kind[j]! >= 2) {
          if (depthIn[j] === -2) next = j;
          else if (depthIn[j] === -3) refuse('dependency cycle');
          else if (asParent && s.kind[j] !== 3) refuse('parent is not a type');
          else result = asParent ? depthOfItem(j) : depthIn[j]!;
        } else if (j === NONE && k < Y.getState(doc.store, c)) {
          result = docItemDepth(c, k, asParent);
        } // else a GC'd or missing origin: Yjs keeps it pending or as deleted content
      }
      if (next !== NONE) {
        depthIn[i] = -3;
        stack.push(next);
        continue;
      }
      depthIn[i] = result;
      if (s.kind[i] === 3 && result >= maxDepth) refuse('types nested too deep');
      stack.pop();
    }
  }
}

/**
 * Applies a stored update (a doc's saved state) if it passes inspection; otherwise leaves the
 * doc as it is, says why on the console, and returns false. The store keeps one merged state
 * per doc, so what is skipped is that doc's stored state: the conversation's other docs load,
 * and members fill this one again by sync. (Received updates are inspected before they are
 * stored, so only state stored by an older version can fail here.)
 */
export function applyStored(
  doc: Y.Doc,
  update: Uint8Array,
  origin: unknown,
  what: string,
  limits: UpdateLimits = DEFAULT_UPDATE_LIMITS
): boolean {
  try {
    inspectUpdate(update, doc, limits, { allowGaps: true });
  } catch (err) {
    if (!(err instanceof UpdateRejectedError)) throw err;
    console.warn(`p2p4e: stored state of ${what} skipped (${err.reason})`);
    return false;
  }
  Y.applyUpdate(doc, update, origin);
  return true;
}
