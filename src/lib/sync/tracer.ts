import type { SyncSpan, SyncTrace } from './sync-types.js';

/**
 * Measures SyncSpans for a SyncTrace observer: `ms` of a span excludes the spans nested in it,
 * so the spans of one frame add up. Without an observer no clock is read.
 */
export class Tracer {
  private readonly stack: number[] = [];
  constructor(private readonly trace: SyncTrace | undefined) {}

  /** Starts a span: its start time (0 without an observer). */
  begin(): number {
    if (this.trace === undefined) return 0;
    this.stack.push(0);
    return performance.now();
  }

  /** A clock reading for report() (0 without an observer). */
  now(): number {
    return this.trace === undefined ? 0 : performance.now();
  }

  /**
   * Reports `span` as the time since `t0` (from now()), as it is: for work that ends in a later
   * task (an asynchronous DEFLATE), which nests in nothing and has nothing nested in it.
   */
  report(span: SyncSpan, t0: number, bytes?: number): void {
    if (this.trace === undefined) return;
    try {
      this.trace(span, performance.now() - t0, bytes);
    } catch {
      // An observer's failure must not break sync.
    }
  }

  /** Ends the span begun at `t0`: reports its time minus that of the spans nested in it. */
  end(span: SyncSpan, t0: number, bytes?: number): void {
    if (this.trace === undefined) return;
    const ms = performance.now() - t0;
    const nested = this.stack.pop() ?? 0;
    const depth = this.stack.length;
    if (depth > 0) this.stack[depth - 1] = (this.stack[depth - 1] as number) + ms;
    try {
      this.trace(span, ms - nested, bytes);
    } catch {
      // An observer's failure must not break sync.
    }
  }
}
