/**
 * `npm run fuzz`: the sync fuzz loop of tests/unit/sync/fuzz.test.ts for many more cases
 * (tests/fixtures/fuzz-run.ts). Prints progress, cases/s and the seed; exits 1 with the seed and
 * case number of the first broken invariant.
 *
 *   FUZZ_CASES=100000  cases (default 100,000)
 *   FUZZ_SEED=42       seed (default: random, printed)
 *   FUZZ_BATCH=100     cases between two checks of every invariant
 *   FUZZ_FORGE=1       let the attacker reach other devices' changes (expected to fail until
 *                      author-bound updates are in the receive path: see FuzzOptions.forge)
 *
 * Replay a failure: `FUZZ_SEED=<seed> FUZZ_CASES=<case + 1> npm run fuzz`.
 */
import '../tests/fixtures/node-polyfills.js';
import { FuzzFailure, runFuzz } from '../tests/fixtures/fuzz-run.js';

const cases = Number(process.env.FUZZ_CASES ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const batch = Number(process.env.FUZZ_BATCH ?? 100);
const forge = process.env.FUZZ_FORGE === '1';

if (!Number.isSafeInteger(cases) || cases <= 0 || !Number.isSafeInteger(seed) || batch <= 0) {
  console.error('FUZZ_CASES, FUZZ_SEED and FUZZ_BATCH must be positive integers');
  process.exit(2);
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
console.log(`fuzz: seed ${seed}, ${cases} cases, batches of ${batch}${forge ? ', forge' : ''}`);
let lastPrint = 0;
try {
  const done = await runFuzz({
    seed,
    cases,
    batch,
    forge,
    // A full GC every batch would cost more than the cases: measure every 10th (and the last).
    heapEvery: 10,
    progress(p) {
      if (p.ms - lastPrint < 2000 && p.cases < cases) return;
      lastPrint = p.ms;
      console.log(
        `  ${p.cases}/${cases} cases  ${Math.round(p.cases / (p.ms / 1000))} cases/s  ` +
          `${p.frames} frames  ${p.drops} attackers dropped  ${p.honestMessages} honest messages  ` +
          `heap +${mib(p.heapGrowth)} MiB`
      );
    }
  });
  console.log(
    `fuzz: ok, seed ${seed}: ${done.cases} cases in ${(done.ms / 1000).toFixed(1)} s ` +
      `(${Math.round(done.cases / (done.ms / 1000))} cases/s), heap +${mib(done.heapGrowth)} MiB`
  );
  process.exit(0);
} catch (err) {
  if (err instanceof FuzzFailure) {
    console.error(`\nFAILED: ${err.message}`);
    console.error(`replay: FUZZ_SEED=${err.seed} FUZZ_CASES=${err.caseNo + 1} npm run fuzz`);
  } else {
    console.error(`\nFAILED (seed ${seed}):`, err);
  }
  process.exit(1);
}
