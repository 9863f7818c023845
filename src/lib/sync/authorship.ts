/**
 * Yjs client ids bound to their author's key (issue 8, "every change authored").
 *
 * A device writes a doc under a client id it cannot choose freely: the first 53 bits of
 * SHA-256(label, author, doc wire id, slot), slot < 2^16 (one per session: two tabs of one
 * device pick different slots). Anyone can check a claim "client c is author A's, slot k" by
 * recomputing it, so the claim needs no trust and is written into the doc itself: every doc
 * has a `clients` map, String(c) -> { a: author, k: slot }, and every author writes the entry
 * of its own client id in its first change. Who wrote any item of a doc is then known from its
 * id alone: the receivers' write rules (write-rules.ts) stand on this.
 *
 * Taking over someone's client id means finding another key pair and slot with the same 53
 * bits: about 2^37 key pairs per victim and doc (2^53 / 2^16 slots), and what it buys is that
 * one of the two authors' changes to that doc is refused where the other's arrived first.
 *
 * ```ts
 * const client = claimClientId(doc, self, 'conv-1#3', Math.random); // sets doc.clientID
 * authorOfClient(doc, 'conv-1#3', client); // self
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js';
import * as Y from 'yjs';
import { isId } from './message-format.js';

/** The doc map of client id claims. */
export const CLIENTS_KEY = 'clients';
/** Slots per author and doc. */
export const CLIENT_SLOTS = 2 ** 16;

const LABEL = new TextEncoder().encode('p2p4e/client-id/v1\0');
const utf8 = new TextEncoder();

/** The client id of `author`'s slot `slot` in the doc with wire id `wire` (53 bits). */
export function clientIdOf(author: string, wire: string, slot: number): number {
  const a = utf8.encode(author);
  const w = utf8.encode(wire);
  const input = new Uint8Array(LABEL.length + a.length + 1 + w.length + 1 + 2);
  let at = 0;
  input.set(LABEL, at);
  at += LABEL.length;
  input.set(a, at);
  at += a.length + 1; // a zero byte ends the author
  input.set(w, at);
  at += w.length + 1;
  input[at] = (slot >>> 8) & 0xff;
  input[at + 1] = slot & 0xff;
  const h = sha256(input);
  // 53 bits (exact in a double): 6 whole bytes, then the top 5 bits of the 7th.
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + h[i]!;
  return n * 32 + (h[6]! >>> 3);
}

/** A claim as stored in the `clients` map. */
export interface ClientClaim {
  a: string;
  k: number;
}

/** The claim `value` for client `client` of doc `wire`, if it is well formed and true. */
export function checkClaim(wire: string, client: number, value: unknown): ClientClaim | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { a, k } = value as Record<string, unknown>;
  if (!isId(a) || typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k >= CLIENT_SLOTS) {
    return undefined;
  }
  return clientIdOf(a, wire, k) === client ? { a, k } : undefined;
}

/**
 * Checked claims per doc and wire id (a true claim stays true: the hash decides it, and a
 * claimed key is never given to another author).
 */
const checked = new WeakMap<Y.Doc, Map<string, string>>();

/** The author of client `client` in `doc` (wire id `wire`), from its claim in the doc. */
export function authorOfClient(doc: Y.Doc, wire: string, client: number): string | undefined {
  let known = checked.get(doc);
  const key = `${wire}\n${client}`;
  const cached = known?.get(key);
  if (cached !== undefined) return cached;
  const claim = checkClaim(wire, client, doc.getMap(CLIENTS_KEY).get(String(client)));
  if (claim === undefined) return undefined;
  if (known === undefined) checked.set(doc, (known = new Map()));
  known.set(key, claim.a);
  return claim.a;
}

/**
 * Makes `doc` write as `author`: picks a free slot, sets `doc.clientID` and writes the claim
 * (call before the doc's first local change in this session, and again if Yjs ever replaced
 * the id). Returns the client id.
 */
export function claimClientId(
  doc: Y.Doc,
  author: string,
  wire: string,
  random: () => number = Math.random
): number {
  const inUse = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (let attempt = 0; attempt < 64; attempt++) {
    const slot = Math.floor(random() * CLIENT_SLOTS) % CLIENT_SLOTS;
    const client = clientIdOf(author, wire, slot);
    // A slot another session of ours used: its clocks are not ours to continue.
    if (inUse.has(client)) continue;
    doc.clientID = client;
    doc.getMap(CLIENTS_KEY).set(String(client), { a: author, k: slot } satisfies ClientClaim);
    return client;
  }
  throw new Error('no free client id slot');
}

const watched = new WeakSet<Y.Doc>();

/**
 * Makes every local change of `doc` go under a client id of `author` (claimClientId before
 * the first local transaction, and again whenever the doc's id is not one of the author's:
 * Yjs picks a new random id when it sees another writer use ours). Remote and stored updates
 * (applied with `local` false) don't claim. Idempotent per doc.
 */
export function claimOnWrite(
  doc: Y.Doc,
  author: string,
  wire: string,
  random: () => number = Math.random
): void {
  if (watched.has(doc)) return;
  watched.add(doc);
  doc.on('beforeTransaction', (tr: Y.Transaction) => {
    if (!tr.local || authorOfClient(doc, wire, doc.clientID) === author) return;
    claimClientId(doc, author, wire, random);
  });
}
