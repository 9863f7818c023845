/**
 * An update's structs and deletions as update-check.ts reads them: one pass over the bytes of a
 * Yjs v1 update with lib0's decoding, within limits, into parallel arrays (an index is a
 * struct), with what the write rules go on (write-rules.ts, update-places.ts). Nothing here
 * checks the update against a doc: update-check.ts does.
 */
import * as decoding from 'lib0/decoding';
import type { UpdateLimits } from './constants.js';
import { content, MAX_CLOCK, readContent, readString, readUint, refuse } from './update-content.js';

export const NONE = -1;

/** An update as inspectUpdate read it. */
export interface ParsedUpdate {
  update: Uint8Array;
  structs: UpdateStructs;
  /** Deletion ranges per client, [clock, end) pairs flat. */
  deletes: Map<number, number[]>;
}

/** The structs of one update, in parallel arrays (an index is a struct). */
export class UpdateStructs {
  client: number[] = [];
  clock: number[] = [];
  length: number[] = [];
  /** 0 GC, 1 Skip, 2 item, 3 item holding a type. */
  kind: number[] = [];
  /** Origin, right origin and parent ID as (client, clock) pairs; NONE when absent. */
  deps: number[] = [];
  /** Whether the parent is a root type (else an ID in deps[4..5], or implicit from the origins). */
  root: boolean[] = [];
  /** Index of each client's first struct and its count (structs of a client are contiguous). */
  runs = new Map<number, { first: number; count: number }>();
  /** The root type's name when the parent is one, else null. */
  rootName: (string | null)[] = [];
  /** The map key (parentSub) when the item names its parent, else null. */
  key: (string | null)[] = [];
  /** The content's ref (Yjs: 1 deleted, 2 JSON, 3 binary, 4 string, 7 type, 8 values) and,
   * for a type, its type ref (1: a map); for values, where they start in the update. */
  ref: number[] = [];
  typeRef: number[] = [];
  contentAt: number[] = [];
}

/** Clocks an update writes per client id: [from, to) (as Y.parseUpdateMeta says, Skips left out). */
export type WrittenRanges = ReadonlyMap<number, { from: number; to: number }>;

export function writtenRanges(s: UpdateStructs): WrittenRanges {
  const ranges = new Map<number, { from: number; to: number }>();
  for (const [client, run] of s.runs) {
    let from = NONE;
    let to = NONE;
    for (let i = run.first; i < run.first + run.count; i++) {
      if (s.kind[i] === 1) continue;
      if (from === NONE) from = s.clock[i]!;
      to = s.clock[i]! + s.length[i]!;
    }
    if (from !== NONE) ranges.set(client, { from, to });
  }
  return ranges;
}

export function readStructs(d: decoding.Decoder, s: UpdateStructs, limits: UpdateLimits): void {
  const clients = readUint(d);
  if (clients > limits.maxClients) refuse('too many clients');
  for (let c = 0; c < clients; c++) {
    const count = readUint(d);
    const client = readUint(d);
    let clock = readUint(d);
    if (s.runs.has(client)) refuse('client listed twice');
    if (count === 0) refuse('empty struct group');
    if (s.kind.length + count > limits.maxStructs) refuse('too many structs');
    s.runs.set(client, { first: s.kind.length, count });
    for (let i = 0; i < count; i++) {
      const info = decoding.readUint8(d);
      const ref = info & 31;
      let kind = 2;
      let length = 1;
      let o1 = NONE,
        o2 = NONE,
        r1 = NONE,
        r2 = NONE,
        p1 = NONE,
        p2 = NONE;
      let root = false;
      let rootName: string | null = null;
      let key: string | null = null;
      let typeRef = NONE;
      let contentAt = NONE;
      if (ref === 0 || ref === 10) {
        kind = ref === 0 ? 0 : 1;
        length = readUint(d);
        if (length === 0) refuse(ref === 0 ? 'zero-length GC struct' : 'zero-length skip');
      } else {
        if ((info & 128) !== 0) {
          o1 = readUint(d);
          o2 = readUint(d);
        }
        if ((info & 64) !== 0) {
          r1 = readUint(d);
          r2 = readUint(d);
        }
        if ((info & 192) === 0) {
          if (readUint(d) === 1) {
            rootName = readString(d, limits);
            root = true;
          } else {
            p1 = readUint(d);
            p2 = readUint(d);
          }
          if ((info & 32) !== 0) key = readString(d, limits); // parentSub: a map key
        }
        contentAt = d.pos;
        readContent(d, ref, limits);
        kind = content.kind;
        length = content.length;
        if (ref === 7) {
          const end = d.pos;
          d.pos = contentAt;
          typeRef = decoding.readVarUint(d);
          d.pos = end;
        }
      }
      if (length > limits.maxStructLength) refuse('struct too long');
      if (clock + length > MAX_CLOCK) refuse('clock out of range');
      s.client.push(client);
      s.clock.push(clock);
      s.length.push(length);
      s.kind.push(kind);
      s.deps.push(o1, o2, r1, r2, p1, p2);
      s.root.push(root);
      s.rootName.push(rootName);
      s.key.push(key);
      s.ref.push(ref);
      s.typeRef.push(typeRef);
      s.contentAt.push(contentAt);
      clock += length;
    }
  }
}

export function readDeleteSet(
  d: decoding.Decoder,
  limits: UpdateLimits,
  deletes: Map<number, number[]>
): number {
  const clients = readUint(d);
  if (clients > limits.maxClients) refuse('too many clients in the delete set');
  let ranges = 0;
  for (let c = 0; c < clients; c++) {
    const client = readUint(d);
    const n = readUint(d);
    ranges += n;
    if (ranges > limits.maxDeleteRanges) refuse('too many deletions');
    for (let i = 0; i < n; i++) {
      const clock = readUint(d);
      const len = readUint(d);
      if (len === 0) refuse('zero-length deletion');
      if (len > limits.maxStructLength) refuse('deletion too long');
      if (clock + len > MAX_CLOCK) refuse('clock out of range');
      let own = deletes.get(client);
      if (own === undefined) deletes.set(client, (own = []));
      own.push(clock, clock + len);
    }
  }
  return ranges;
}

/** The struct of the update holding (client, clock), or NONE. */
export function findStruct(s: UpdateStructs, client: number, clock: number): number {
  const run = s.runs.get(client);
  if (run === undefined) return NONE;
  let lo = run.first;
  let hi = run.first + run.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (clock < s.clock[mid]!) hi = mid - 1;
    else if (clock >= s.clock[mid]! + s.length[mid]!) lo = mid + 1;
    else return s.kind[mid] === 1 ? NONE : mid;
  }
  return NONE;
}
