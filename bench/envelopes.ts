/**
 * Authored updates: what signing, verifying and checking the write rules cost per message,
 * side by side with applying the same update to a doc (Node, one process).
 *
 *   node --import tsx bench/envelopes.ts
 *
 * One message = the update `send` writes (header, text, signature field) under a key-bound
 * client id. Signing: @noble/curves Ed25519 (synchronous, as the app signs). Verifying: WebCrypto
 * Ed25519 (as browsers and Node 20 have it) and @noble/curves, batched per 1,000. Checks:
 * `checkWrites` against the doc the update goes into, from the bytes (so the structural
 * inspection it goes on, update-check.ts, is counted with the rules). Prints a table and writes
 * bench/results/envelopes-<timestamp>.json. BENCH_ENVELOPES (default 2000) sets the count.
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { mkdir, writeFile } from 'node:fs/promises';
import * as Y from 'yjs';
import { ed25519Signer } from '../src/lib/crypto/signing.js';
import { claimClientId } from '../src/lib/sync/authorship.js';
import {
  createEnvelopeVerifier,
  openEnvelope,
  sealEnvelope,
  type Envelope
} from '../src/lib/sync/envelope.js';
import { checkWrites } from '../src/lib/sync/write-rules.js';
import { fmt, formatTable, ratio, type Row } from './lib/report.js';

const COUNT = Number(process.env.BENCH_ENVELOPES ?? 2000);
const WIRE = 'bench-conv#0';

const key = await generateKeyPair('Ed25519');
const author = peerIdFromPrivateKey(key).toString();
const sign = ed25519Signer(key.raw);

// The author's updates, one per message.
const writer = new Y.Doc();
const updates: Uint8Array[] = [];
writer.on('update', (u: Uint8Array) => updates.push(u));
claimClientId(writer, author, WIRE);
for (let i = 0; i < COUNT; i++) {
  writer.transact(() => {
    const m = new Y.Map<unknown>();
    writer.getMap('messages').set(`m${i}`, m);
    m.set('h', { a: author, c: 1_700_000_000_000 + i, w: 1_700_000_000_000 + i, n: 0 });
    m.set('text', `message number ${i}: a few words of ordinary length`);
    m.set('s', 'x'.repeat(88));
  });
}

const time = async (run: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
};

let sealed: Uint8Array[] = [];
const signMs = await time(() => {
  sealed = updates.map((update) => sealEnvelope({ author, wire: WIRE, update }, sign));
});
let envs: Envelope[] = [];
const openMs = await time(() => {
  envs = sealed.map(openEnvelope);
});
const verifyBatched = async (verifier = createEnvelopeVerifier()): Promise<void> => {
  for (let i = 0; i < envs.length; i += 1000) {
    const ok = await verifier.verifyAll(envs.slice(i, i + 1000));
    if (ok.includes(false)) throw new Error('an envelope did not verify');
  }
};
await verifyBatched(); // warm-up: key import
const webMs = await time(() => verifyBatched());
const nobleMs = await time(() => verifyBatched(createEnvelopeVerifier(null)));

const target = new Y.Doc();
let rulesMs = 0;
let applyMs = 0;
for (const env of envs) {
  const t0 = performance.now();
  const verdict = checkWrites(env.update, {
    doc: target,
    kind: 'segment',
    wire: WIRE,
    author,
    isMember: () => true
  });
  const t1 = performance.now();
  if (!verdict.ok) throw new Error(`refused: ${verdict.reason}`);
  Y.applyUpdate(target, env.update);
  rulesMs += t1 - t0;
  applyMs += performance.now() - t1;
}

// A catch-up's case: the author's run merged into one update (authored.ts OwnRuns, lacking),
// checked once against an empty doc, side by side with applying it.
const merged = Y.mergeUpdates(updates);
const mergedRules = await time(() => {
  const verdict = checkWrites(merged, {
    doc: new Y.Doc(),
    kind: 'segment',
    wire: WIRE,
    author,
    isMember: () => true
  });
  if (!verdict.ok) throw new Error(`merged run refused: ${verdict.reason}`);
});
const mergedApply = await time(() => Y.applyUpdate(new Y.Doc(), merged));

const per = (ms: number): string => `${fmt((ms * 1000) / COUNT, ' µs')} per message`;
const rows: Row[] = [
  ['sign (noble Ed25519) + seal', per(signMs), per(applyMs), ratio(signMs, applyMs)],
  ['open (decode)', per(openMs), per(applyMs), ratio(openMs, applyMs)],
  ['verify, WebCrypto Ed25519', per(webMs), per(applyMs), ratio(webMs, applyMs)],
  ['verify, noble Ed25519', per(nobleMs), per(applyMs), ratio(nobleMs, applyMs)],
  ['structure + write rules (checkWrites)', per(rulesMs), per(applyMs), ratio(rulesMs, applyMs)],
  [
    'structure + write rules, one merged run',
    per(mergedRules),
    `${per(mergedApply)} (merged)`,
    ratio(mergedRules, mergedApply)
  ]
];
console.log(`\nAuthored updates (${COUNT} messages, one update each)`);
console.log(formatTable(rows, ['step', 'cost', 'baseline: Y.applyUpdate', 'step / baseline']));
const result = {
  count: COUNT,
  usPerMessage: {
    sign: (signMs * 1000) / COUNT,
    open: (openMs * 1000) / COUNT,
    verifyWebCrypto: (webMs * 1000) / COUNT,
    verifyNoble: (nobleMs * 1000) / COUNT,
    writeRules: (rulesMs * 1000) / COUNT,
    apply: (applyMs * 1000) / COUNT,
    writeRulesMergedRun: (mergedRules * 1000) / COUNT,
    applyMergedRun: (mergedApply * 1000) / COUNT
  }
};
const dir = new URL('./results/', import.meta.url);
await mkdir(dir, { recursive: true });
const file = new URL(`envelopes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, dir);
await writeFile(file, JSON.stringify(result, null, 2));
console.log(`wrote ${file.pathname}`);
