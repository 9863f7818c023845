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
import * as Y from 'yjs';
import { LOAD_ORIGIN } from '../../../src/lib/sync/doc-set.js';
import { headOf, segmentOf } from '../../../src/lib/sync/testing.js';
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

  it(`${CASES / 2} forging cases: the attacker aims at the honest members' own changes`, async () => {
    // Their client ids, overwrites of their values, deletions of their messages, snapshots of
    // their state, all sealed with the attacker's key: the write rules refuse them.
    const stats = await runFuzz({ seed: SEED + 1, cases: CASES / 2, batch: 100, forge: true });
    expect(stats.cases).toBe(CASES / 2);
    expect(stats.drops).toBeGreaterThan(CASES / 20);
  }, 120_000);
});

describe('the fuzz checks can fail', () => {
  const short = { seed: 1, cases: 200, batch: 100 };

  it('an honest message changed on one member', async () => {
    await expect(
      runFuzz({
        ...short,
        tamper: ([a]) => {
          const messages = segmentOf(a, 0).getMap<Y.Map<unknown>>('messages');
          const id = [...messages.keys()].find((k) => k.startsWith('b-'));
          messages.get(id!)!.set('text', 'changed behind their back');
        }
      })
    ).rejects.toThrow(/case 99: honest message b-\d+ on a/);
  });

  it('members that do not converge', async () => {
    await expect(
      runFuzz({
        ...short,
        tamper: ([a]) => {
          // A change of a's that sync never sees (applied as if it came from storage).
          const doc = headOf(a);
          Y.applyUpdate(doc, gcOf(doc.clientID + 1, 0, 3), LOAD_ORIGIN);
        }
      })
    ).rejects.toThrow(/case 99: the honest members do not converge on head: /);
  });

  it('a hang, and a heap over budget', async () => {
    await expect(runFuzz({ ...short, timeoutMs: 0 })).rejects.toThrow(/no answer within 0 ms/);
    // Memory kept from one batch to the next (here by the test itself) counts against the budget.
    const hoard: Uint8Array[] = [];
    await expect(
      runFuzz({
        ...short,
        heapBudget: 2 ** 20,
        tamper: () => hoard.push(new Uint8Array(8 * 2 ** 20).fill(1))
      })
    ).rejects.toThrow(/case 199: heap grew/);
    expect(hoard).toHaveLength(2);
  });
});

function gcOf(client: number, clock: number, length: number): Uint8Array {
  return Uint8Array.of(1, 1, ...varUint(client), clock, 0, length, 0);
}

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push(0x80 | (n & 0x7f));
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
