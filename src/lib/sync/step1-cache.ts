/**
 * Answers to state vectors (step1 -> step2 diffs), kept while the doc does not change. A peer
 * (or many) asking the same thing again, e.g. a stranger repeating an empty state vector that
 * costs a full encode each time, gets the same bytes without another encode. Entries go stale
 * when the unit's generation moves (any change of its doc, or another doc loaded); the cache
 * holds at most `maxBytes` of answers (least recently used go first).
 */
import { DEFAULT_STEP1_CACHE_BYTES, MAX_CACHED_STATE_VECTOR_BYTES } from './constants.js';
import type { Unit } from './unit.js';

/** An answer: one step2 payload, or several when it is too big for one message. */
export type Step2Answer = Uint8Array[];

interface Entry {
  unit: Unit;
  generation: number;
  diff: Step2Answer;
  bytes: number;
}

export class Step1Cache {
  /** key -> entry; Map order is recency order. */
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, { generation: number; diff: Promise<Step2Answer> }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number = DEFAULT_STEP1_CACHE_BYTES) {}

  /**
   * The answer for `sv`: cached when the unit did not change since, else `compute()`. A
   * result computed synchronously is kept; one read from storage (a promise) is shared by
   * identical requests while in flight only.
   */
  answer(
    unit: Unit,
    sv: Uint8Array,
    compute: () => Step2Answer | Promise<Step2Answer>
  ): Step2Answer | Promise<Step2Answer> {
    if (sv.byteLength > MAX_CACHED_STATE_VECTOR_BYTES) return compute();
    const key = keyOf(unit, sv);
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.unit === unit && hit.generation === unit.generation) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.diff;
    }
    if (hit !== undefined) this.remove(key);
    const generation = unit.generation;
    const pending = this.inflight.get(key);
    if (pending !== undefined && pending.generation === generation) return pending.diff;
    const result = compute();
    if (!(result instanceof Promise)) {
      this.keep(key, unit, generation, result);
      return result;
    }
    // Read from storage (the envelope log): shared while in flight, and kept once read if the
    // doc did not change meanwhile. Every stored change moves the generation first (the doc
    // changes before its write is issued), and reads see the writes still queued.
    const diff = result.then(
      (answer) => {
        this.inflight.delete(key);
        if (unit.generation === generation) this.keep(key, unit, generation, answer);
        return answer;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      }
    );
    this.inflight.set(key, { generation, diff });
    return diff;
  }

  /** Bytes of diffs held now. */
  size(): number {
    return this.bytes;
  }

  private keep(key: string, unit: Unit, generation: number, diff: Step2Answer): void {
    const entry: Entry = {
      unit,
      generation,
      diff,
      bytes: diff.reduce((n, d) => n + d.byteLength, 0)
    };
    if (entry.bytes > this.maxBytes) return;
    this.remove(key);
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [old, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(old);
      this.bytes -= e.bytes;
    }
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.bytes -= e.bytes;
  }
}

function keyOf(unit: Unit, sv: Uint8Array): string {
  let s = `${unit.wire}\n`;
  for (const b of sv) s += String.fromCharCode(b);
  return s;
}
