/**
 * The seeded fuzz suite of the sync path (issue 8, "Tests"): a slice of the loop that
 * `npm run fuzz` runs at 100,000 cases (tests/fixtures/fuzz-run.ts). Two honest members keep
 * writing while an attacker member sends them its real updates, mutated ones, nesting bombs and
 * mutated frames of every type; after every batch: nothing threw or hung, no honest message is
 * lost or changed, every honest doc encodes and reloads, the honest members converge, and the
 * heap stays within budget.
 *
 * Replay a failure with the seed and case it prints:
 * `FUZZ_SEED=<seed> FUZZ_CASES=<case + 1> npm run fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../fixtures/fuzz-run.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const CASES = Number(process.env.FUZZ_TEST_CASES ?? 3000);

describe('sync fuzzing', () => {
  it(`${CASES} seeded cases (seed ${SEED}): honest members intact, converged, within budget`, async () => {
    const stats = await runFuzz({ seed: SEED, cases: CASES, batch: 100 });
    expect(stats.cases).toBe(CASES);
    // The attacker was dropped and replaced many times, and the honest members kept writing.
    expect(stats.drops).toBeGreaterThan(CASES / 10);
    expect(stats.honestMessages).toBeGreaterThan(CASES / 40);
    console.log(
      `fuzz: ${stats.cases} cases, ${stats.frames} frames, ${stats.drops} attackers dropped, ` +
        `${stats.honestMessages} honest messages, heap +${(stats.heapGrowth / 2 ** 20).toFixed(1)} MiB, ` +
        `${(stats.ms / 1000).toFixed(1)} s`
    );
  }, 120_000);
});
