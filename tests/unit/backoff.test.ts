import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffOptions } from '../../src/lib/p2p/backoff.js';
import { DIAL_RETRY_BACKOFF, RELAY_RETRY_BACKOFF } from '../../src/lib/p2p/constants.js';

const opts: BackoffOptions = { baseMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.3 };
const noJitter = () => 0;
const fullJitter = () => 0.999_999;

describe('backoffDelay', () => {
  it('grows exponentially from the base', () => {
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, opts, noJitter))).toEqual([
      1000, 2000, 4000, 8000, 16_000
    ]);
  });

  it('is capped at maxMs, also for huge attempt numbers', () => {
    expect(backoffDelay(5, opts, noJitter)).toBe(30_000);
    expect(backoffDelay(1e6, opts, noJitter)).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, opts, noJitter)).toBe(30_000);
  });

  it('jitter takes off at most the jitter fraction', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const max = backoffDelay(attempt, opts, noJitter);
      const min = backoffDelay(attempt, opts, fullJitter);
      expect(min).toBeGreaterThanOrEqual(Math.floor(max * 0.7));
      expect(min).toBeLessThanOrEqual(max);
    }
    expect(backoffDelay(0, opts, () => 0.5)).toBe(850);
  });

  it('spreads retries of many clients (no two identical with real randomness)', () => {
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(3, opts)));
    expect(samples.size).toBeGreaterThan(10);
    for (const s of samples) {
      expect(s).toBeGreaterThanOrEqual(5600);
      expect(s).toBeLessThanOrEqual(8000);
    }
  });

  it('treats bad attempt numbers as the first attempt', () => {
    for (const bad of [-1, Number.NaN, Number.NEGATIVE_INFINITY]) {
      expect(backoffDelay(bad, opts, noJitter)).toBe(1000);
    }
    expect(backoffDelay(1.9, opts, noJitter)).toBe(2000);
  });

  it('clamps odd options and odd random values', () => {
    expect(backoffDelay(3, { baseMs: 100, factor: 0.5, maxMs: 1000, jitter: 0 }, noJitter)).toBe(
      100
    );
    expect(backoffDelay(3, { baseMs: 500, factor: 2, maxMs: 10, jitter: 0 }, noJitter)).toBe(500);
    expect(backoffDelay(0, { ...opts, jitter: 5 }, () => 2)).toBe(0);
    expect(backoffDelay(0, opts, () => -3)).toBe(1000);
  });

  it('the shipped schedules stay within what the UI promises', () => {
    // Relay: first retry within ~1 s, never more than 15 s apart.
    expect(backoffDelay(0, RELAY_RETRY_BACKOFF, noJitter)).toBe(1000);
    expect(backoffDelay(50, RELAY_RETRY_BACKOFF, noJitter)).toBe(15_000);
    // Dial retries: short pauses, so four attempts fit well inside a test's 30 s.
    const total = [0, 1, 2].reduce(
      (sum, n) => sum + backoffDelay(n, DIAL_RETRY_BACKOFF, noJitter),
      0
    );
    expect(total).toBeLessThan(2_000);
  });
});
