/** Exponential backoff with jitter, as a pure function so it can be tested without timers. */

export interface BackoffOptions {
  /** Delay before the first retry (attempt 0), before jitter. */
  baseMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Upper bound, before jitter. */
  maxMs: number;
  /**
   * Fraction of the delay that is random, 0..1: the result lies in [d * (1 - jitter), d]. Some
   * jitter keeps many tabs from hammering a relay that just came back all at the same moment.
   */
  jitter: number;
}

/**
 * Delay in ms before retry number `attempt` (0 = first retry).
 * `random` returns a number in [0, 1), like Math.random (inject a fixed one in tests).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random
): number {
  const n = Number.isFinite(attempt) && attempt > 0 ? Math.floor(attempt) : 0;
  const base = Math.max(0, options.baseMs);
  const max = Math.max(base, options.maxMs);
  const factor = Math.max(1, options.factor);
  // factor ** n overflows to Infinity for large n, which min() then caps.
  const raw = Math.min(max, base * factor ** n);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(raw * (1 - jitter * r));
}
