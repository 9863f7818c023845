/**
 * For tests of src/lib/sync only: conversation models over in-memory docs, the Y.Docs behind
 * them (so a test can play a hostile member that writes raw Yjs), and a synchronous exchange of
 * every doc between two models. Not exported from index.ts: nothing above sync may reach a doc.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import * as Y from 'yjs';
import { concatBytes } from '../crypto/encoding.js';
import type { Signer, Verifier } from '../crypto/signing.js';
import {
  envelopeSignedBytes,
  sealEnvelope,
  updateRange,
  type EnvelopeContent,
  type EnvelopeVerifier,
  type UpdateRange
} from './envelope.js';
import { createMemoryHistoryStore, type HistoryStore } from '../storage/history-store.js';
import { createConversation, type Conversation, type ConversationOptions } from './conversation.js';
import { DocSet } from './doc-set.js';
import { copyMap } from './migrate.js';

/**
 * A new conversation over docs in memory (stored in `history`, a memory store by default).
 * With `claims`, its writes go under client ids of `options.self` (authorship.ts), as a sync
 * service's do; without, under Yjs's random ones.
 */
export function memoryConversation(
  options: ConversationOptions,
  history: HistoryStore = createMemoryHistoryStore(),
  claims?: { random?: () => number }
): Conversation {
  const writer = claims === undefined ? {} : { author: options.self, ...claims };
  return createConversation(DocSet.create(options.id ?? 'conv', history, writer), options);
}

/** The docs behind a conversation model. */
export function setOf(conversation: Conversation): DocSet {
  const set = (conversation as unknown as { set?: DocSet }).set;
  if (!(set instanceof DocSet)) throw new Error('not a conversation over a DocSet');
  return set;
}

/** The head doc (meta, members, receipts, announcements, segment numbers). */
export function headOf(conversation: Conversation): Y.Doc {
  return setOf(conversation).head;
}

/** A segment doc in memory (default: the tail, where new messages go). */
export function segmentOf(conversation: Conversation, n?: number): Y.Doc {
  const set = setOf(conversation);
  const doc = set.doc(n ?? set.tail());
  if (doc === undefined) throw new Error(`segment ${String(n)} is not in memory`);
  return doc;
}

/** Brings two models' docs (head and every segment in memory on either side) in step. */
export function exchange(a: Conversation, b: Conversation): void {
  copyInto(a, b);
  copyInto(b, a);
}

/** Everything `from` has in memory (head and segments), applied to `to`. */
export function copyInto(from: Conversation, to: Conversation): void {
  const x = setOf(from);
  const y = setOf(to);
  for (const n of x.hotSegments()) {
    const source = x.doc(n) as Y.Doc;
    const target = y.doc(n) ?? y.createSegment(n);
    if (target === undefined) throw new Error(`segment ${n} is not in memory`);
    Y.applyUpdate(target, Y.encodeStateAsUpdate(source, Y.encodeStateVector(target)));
  }
  Y.applyUpdate(y.head, Y.encodeStateAsUpdate(x.head, Y.encodeStateVector(y.head)));
}

/** The state vector of the head and of every segment in memory, by wire id (converged = equal). */
export function stateVectors(conversation: Conversation): Record<string, Uint8Array> {
  const set = setOf(conversation);
  const out: Record<string, Uint8Array> = { head: Y.encodeStateVector(set.head) };
  for (const n of set.hotSegments()) out[`#${n}`] = Y.encodeStateVector(set.doc(n) as Y.Doc);
  return out;
}

/** Whether any doc in memory waits for missing structs. */
export function hasPendingStructs(conversation: Conversation): boolean {
  const set = setOf(conversation);
  return [set.head, ...set.hotSegments().map((n) => set.doc(n) as Y.Doc)].some(
    (doc) => doc.store.pendingStructs !== null
  );
}

/** The full state of the head and of every segment in memory (to compare before/after). */
export function encodeAll(conversation: Conversation): Uint8Array[] {
  const set = setOf(conversation);
  return [set.head, ...set.hotSegments().map((n) => set.doc(n) as Y.Doc)].map((doc) =>
    Y.encodeStateAsUpdate(doc)
  );
}

/**
 * The conversation as one doc in the layout before segments (head maps and every message in
 * one doc): what a device that stored it with the DocStore has, to test the migration.
 */
export function legacyDocOf(conversation: Conversation): Y.Doc {
  const set = setOf(conversation);
  const doc = new Y.Doc();
  doc.transact(() => {
    for (const name of ['meta', 'members', 'receipts', 'groups']) {
      copyMap(set.head.getMap(name), doc.getMap(name));
    }
    const messages = doc.getMap('messages');
    for (const n of set.hotSegments()) copyMap((set.doc(n) as Y.Doc).getMap('messages'), messages);
  });
  return doc;
}

/**
 * Signatures for devices with made-up peer IDs ('a', 'b': no keys in them), for tests over the
 * memory transport: each device gets a random secret, a "signature" is SHA-256(secret, data)
 * twice over, and only the holder of a device's secret can make one that verifies. The real
 * thing (Ed25519 by the key in the peer ID, verifyByPeer) runs in the integration tests.
 */
export interface TestSigning {
  signer(peer: string): Signer;
  verify: Verifier;
  /** What createSync takes for device `peer`: its signer and the verifiers. */
  deps(peer: string): { sign: Signer; verify: Verifier; envelopeVerifier: EnvelopeVerifier };
}

export function createTestSigning(): TestSigning {
  const secrets = new Map<string, Uint8Array>();
  const secretOf = (peer: string): Uint8Array => {
    let s = secrets.get(peer);
    if (s === undefined) secrets.set(peer, (s = crypto.getRandomValues(new Uint8Array(32))));
    return s;
  };
  const sig = (secret: Uint8Array, data: Uint8Array): Uint8Array => {
    const h = sha256(concatBytes(secret, data));
    return concatBytes(h, sha256(concatBytes(h, secret)));
  };
  const signer = (peer: string): Signer => {
    const secret = secretOf(peer);
    return (data) => sig(secret, data);
  };
  const verify: Verifier = (peer, data, signature) => {
    const secret = secrets.get(peer);
    if (secret === undefined || signature.byteLength !== 64) return false;
    const expected = sig(secret, data);
    return expected.every((b, i) => b === signature[i]);
  };
  // The asynchronous path (SyncInit.envelopeChecks 'async'), answering a turn of the loop later.
  const envelopeVerifier: EnvelopeVerifier = {
    verifyAll: async (envs) => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return envs.map((e) => verify(e.author, envelopeSignedBytes(e), e.sig));
    }
  };
  return {
    signer,
    verify,
    deps: (peer) => ({ sign: signer(peer), verify, envelopeVerifier })
  };
}

/**
 * Seals any bytes as an envelope of `c.author`, declaring the range they seem to write (or
 * none when they don't parse, write for several ids or nothing): what an attacker's device
 * sends, past the envelope's own checks to the receiver's inspection of the update.
 */
export function sealAnything(c: EnvelopeContent, sign: Signer): Uint8Array {
  let range: UpdateRange | null = null;
  try {
    range = updateRange(c.update);
    if (range !== null && range.to <= range.from) range = null; // a header can't say that
  } catch {
    // declared as deletions only: the receiver finds out what the bytes are
  }
  return sealEnvelope(c, sign, range);
}
