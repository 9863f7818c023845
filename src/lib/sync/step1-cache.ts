/**
 * Answers to state vectors (step1 -> step2 diffs), kept while the doc does not change. A peer
 * (or many) asking the same thing again, e.g. a stranger repeating an empty state vector that
 * costs a full encode each time, gets the same bytes without another encode. Entries go stale
 * when the unit's generation moves (any change of its doc, or another doc loaded); the cache
 * holds at most `maxBytes` of diffs (least recently used go first). Answers read from storage
 * are only shared by identical requests while one is in flight.
 */
import { DEFAULT_STEP1_CACHE_BYTES, MAX_CACHED_STATE_VECTOR_BYTES } from './constants.js';
import type { Unit } from './unit.js';

interface Entry {
  unit: Unit;
  generation: number;
  diff: Uint8Array;
}

export class Step1Cache {
  /** key -> entry; Map order is recency order. */
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, { generation: number; diff: Promise<Uint8Array> }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number = DEFAULT_STEP1_CACHE_BYTES) {}

  /**
   * The diff for `sv`: cached when the unit did not change since, else `compute()`. A result
   * computed from the doc in memory (a Uint8Array) is kept; one read from storage (a promise)
   * is shared by identical requests while in flight only.
   */
  answer(
    unit: Unit,
    sv: Uint8Array,
    compute: () => Uint8Array | Promise<Uint8Array>
  ): Uint8Array | Promise<Uint8Array> {
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
    if (result instanceof Uint8Array) {
      this.keep(key, { unit, generation, diff: result });
      return result;
    }
    // Answers read from storage are shared while in flight but not kept: storage may still
    // change without the doc changing (writes are deferred and land after the doc was
    // evicted), so a kept one could go stale for good.
    const diff = result.finally(() => this.inflight.delete(key));
    this.inflight.set(key, { generation, diff });
    return diff;
  }

  /** Bytes of diffs held now. */
  size(): number {
    return this.bytes;
  }

  private keep(key: string, entry: Entry): void {
    if (entry.diff.byteLength > this.maxBytes) return;
    this.remove(key);
    this.entries.set(key, entry);
    this.bytes += entry.diff.byteLength;
    for (const [old, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(old);
      this.bytes -= e.diff.byteLength;
    }
  }

  private remove(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    this.entries.delete(key);
    this.bytes -= e.diff.byteLength;
  }
}

function keyOf(unit: Unit, sv: Uint8Array): string {
  let s = `${unit.wire}\n`;
  for (const b of sv) s += String.fromCharCode(b);
  return s;
}
