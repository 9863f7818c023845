/**
 * `npm run fuzz`: the sync fuzz loop of tests/unit/sync/fuzz.test.ts for many more cases
 * (tests/fixtures/fuzz-run.ts). Prints progress, cases/s and the seed; exits 1 with the seed and
 * case number of the first broken invariant.
 *
 *   FUZZ_CASES=100000  cases (default 100,000)
 *   FUZZ_SEED=42       seed (default: random, printed)
 *   FUZZ_BATCH=100     cases between two checks of every invariant
 *   FUZZ_EPOCH=10000   cases per pair of fresh honest members (heap growth across is a leak)
 *   FUZZ_FORGE=1       let the attacker reach other devices' changes (see FuzzOptions.forge)
 *
 * Replay a failure: `FUZZ_SEED=<seed> FUZZ_CASES=<case + 1> npm run fuzz`.
 */
import '../tests/fixtures/node-polyfills.js';
import { FuzzFailure, runFuzz } from '../tests/fixtures/fuzz-run.js';
import { heapAfterGc } from '../tests/fixtures/heap.js';

const cases = Number(process.env.FUZZ_CASES ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const batch = Number(process.env.FUZZ_BATCH ?? 100);
const forge = process.env.FUZZ_FORGE === '1';

if (!Number.isSafeInteger(cases) || cases <= 0 || !Number.isSafeInteger(seed) || batch <= 0) {
  console.error('FUZZ_CASES, FUZZ_SEED and FUZZ_BATCH must be positive integers');
  process.exit(2);
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
/**
 * Cases per network: every epoch starts two fresh honest members (their conversation grows
 * with every case; across epochs, heap growth is what stays behind, i.e. leaks).
 */
const epochCases = Number(process.env.FUZZ_EPOCH ?? 10_000);
const heapBudget = 64 * 1024 * 1024;
console.log(
  `fuzz: seed ${seed}, ${cases} cases, batches of ${batch}, fresh members every ${epochCases}` +
    (forge ? ', forge' : '')
);
const started = performance.now();
const baseline = heapAfterGc();
let done = 0;
let frames = 0;
let drops = 0;
let lastPrint = 0;
try {
  for (let epoch = 0; done < cases; epoch++) {
    const first = done;
    const n = Math.min(epochCases, cases - done);
    const result = await runFuzz({
      // Epoch e replays from the same base seed: FUZZ_SEED with FUZZ_CASES past it.
      seed: epoch === 0 ? seed : (seed + Math.imul(epoch, 0x9e3779b1)) >>> 0,
      cases: n,
      batch,
      forge,
      // A full GC every batch would cost more than the cases: measure every 10th (and the last).
      heapEvery: 10,
      progress(p) {
        const ms = performance.now() - started;
        if (ms - lastPrint < 2000) return;
        lastPrint = ms;
        console.log(
          `  ${first + p.cases}/${cases} cases  ${Math.round((first + p.cases) / (ms / 1000))} cases/s  ` +
            `${frames + p.frames} frames  ${drops + p.drops} attackers dropped  ` +
            `${p.honestMessages} honest messages (this epoch)  heap +${mib(p.heapGrowth)} MiB`
        );
      }
    }).catch((err: unknown) => {
      if (err instanceof FuzzFailure) {
        console.error(`\nFAILED in epoch ${epoch} (cases ${first}..): ${err.message}`);
        console.error(
          `replay: FUZZ_SEED=${seed} FUZZ_CASES=${first + err.caseNo + 1} npm run fuzz`
        );
        process.exit(1);
      }
      throw err;
    });
    done += result.cases;
    frames += result.frames;
    drops += result.drops;
    const left = heapAfterGc() - baseline;
    console.log(`  epoch ${epoch}: ${result.cases} cases; heap left behind +${mib(left)} MiB`);
    if (left > heapBudget) {
      console.error(`\nFAILED: heap left behind after ${done} cases: +${mib(left)} MiB`);
      process.exit(1);
    }
  }
  const ms = performance.now() - started;
  console.log(
    `fuzz: ok, seed ${seed}: ${done} cases in ${(ms / 1000).toFixed(1)} s ` +
      `(${Math.round(done / (ms / 1000))} cases/s), ${frames} frames, ${drops} attackers dropped`
  );
  process.exit(0);
} catch (err) {
  console.error(`\nFAILED (seed ${seed}):`, err);
  process.exit(1);
}
