/**
 * Author-signed envelopes around Yjs updates (issue 8, "every change authored"). Each update
 * leaves its author's device in one; members store and forward envelopes unchanged, and a
 * receiver applies the update only when the signature verifies (then write-rules.ts decides
 * what in it the author may change).
 *
 * Wire form (all lengths checked before anything is allocated):
 *
 *   u8 version (2) | varint n, n bytes author | varint m, m bytes wire id |
 *   varint client + 1 (0: deletions only) | varint from | varint to - from |
 *   64 bytes signature | the update (the rest)
 *
 * The signature covers "p2p4e/envelope/v2", author, wire id, the client id and clock range and
 * SHA-256 of the update, so one envelope cannot be replayed into another doc. The range is
 * what the update writes (receivers check that it says so, authored.ts admit): a member
 * answering a step1 picks the envelopes a peer lacks from their headers, without decoding
 * the updates. Version 1 (sync 4.0.0: no range, "p2p4e/envelope/v1") is still read, from
 * logs stored then.
 *
 * ```ts
 * const bytes = sealEnvelope({ author: self, wire: 'conv#2', update }, sign);
 * const env = openEnvelope(bytes); // throws MalformedEnvelopeError
 * const ok = await verifier.verifyAll([env]); // [true]
 * ```
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { peerIdFromString } from '@libp2p/peer-id';
import * as Y from 'yjs';
import { SIGNATURE_BYTES, type Signer, type Verifier } from '../crypto/signing.js';
import { MAX_ID_LENGTH } from './constants.js';
import type { WrittenRanges } from './update-structs.js';

export const ENVELOPE_VERSION = 2;
const V1 = 1;
const LABELS: Record<number, Uint8Array> = {
  [V1]: new TextEncoder().encode('p2p4e/envelope/v1\0'),
  [ENVELOPE_VERSION]: new TextEncoder().encode('p2p4e/envelope/v2\0')
};
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Longest wire id: a conversation id, '#', a segment number. */
const MAX_WIRE_LENGTH = MAX_ID_LENGTH + 8;

/** An envelope's bytes could not be read (or name too long, or no update). */
export class MalformedEnvelopeError extends Error {
  override name = 'MalformedEnvelopeError';
}

/** The clocks an update writes: one client id, [from, to). */
export interface UpdateRange {
  client: number;
  from: number;
  to: number;
}

/** The one range of `written` (null: none); throws when it writes for several client ids. */
export function singleRange(written: WrittenRanges): UpdateRange | null {
  if (written.size === 0) return null;
  if (written.size > 1) throw new MalformedEnvelopeError('an envelope writes for one client id');
  const [client, { from, to }] = written.entries().next().value as [
    number,
    { from: number; to: number }
  ];
  return { client, from, to };
}

/** The range of an update (Y.parseUpdateMeta); throws when it writes for several ids. */
export function updateRange(update: Uint8Array): UpdateRange | null {
  const { from, to } = Y.parseUpdateMeta(update);
  const written = new Map<number, { from: number; to: number }>();
  for (const [client, start] of from) written.set(client, { from: start, to: to.get(client)! });
  return singleRange(written);
}

export interface EnvelopeContent {
  author: string;
  /** The doc: `<conv>` (head) or `<conv>#<n>` (segment n). */
  wire: string;
  update: Uint8Array;
}

export interface Envelope extends EnvelopeContent {
  sig: Uint8Array;
  /**
   * What the update writes, as its author declared and signed it: null for deletions only;
   * undefined in a version 1 envelope (not declared).
   */
  range: UpdateRange | null | undefined;
}

function writeVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** The range as the header carries it. */
function rangeBytes(range: UpdateRange | null): number[] {
  const out: number[] = [];
  writeVarint(out, range === null ? 0 : range.client + 1);
  writeVarint(out, range?.from ?? 0);
  writeVarint(out, range === null ? 0 : range.to - range.from);
  return out;
}

/**
 * The bytes an author signs for an update of a doc (version 1 when `range` is undefined);
 * `hash`: the update's SHA-256, when the caller has it already.
 */
export function envelopeSignedBytes(
  c: EnvelopeContent & Pick<Envelope, 'range'>,
  hash?: Uint8Array
): Uint8Array {
  const label = LABELS[c.range === undefined ? V1 : ENVELOPE_VERSION]!;
  const a = utf8.encode(c.author);
  const w = utf8.encode(c.wire);
  const r = c.range === undefined ? [] : rangeBytes(c.range);
  const h = hash ?? sha256(c.update);
  const out = new Uint8Array(label.length + a.length + 1 + w.length + 1 + r.length + h.length);
  let at = 0;
  out.set(label, at);
  at += label.length;
  out.set(a, at);
  at += a.length + 1;
  out.set(w, at);
  at += w.length + 1;
  out.set(r, at);
  at += r.length;
  out.set(h, at);
  return out;
}

/**
 * Signs and encodes an update of `wire` by `author`. `range`: what the update writes, when
 * the caller knows it (otherwise it is read from the update); throws MalformedEnvelopeError
 * when the update writes for several client ids.
 */
export function sealEnvelope(
  c: EnvelopeContent,
  sign: Signer,
  range: UpdateRange | null = updateRange(c.update)
): Uint8Array {
  const sig = sign(envelopeSignedBytes({ ...c, range }));
  if (sig.byteLength !== SIGNATURE_BYTES) throw new TypeError('not an Ed25519 signature');
  const a = utf8.encode(c.author);
  const w = utf8.encode(c.wire);
  const head: number[] = [ENVELOPE_VERSION];
  writeVarint(head, a.length);
  const afterAuthor: number[] = [];
  writeVarint(afterAuthor, w.length);
  const afterWire = rangeBytes(range);
  const out = new Uint8Array(
    head.length +
      a.length +
      afterAuthor.length +
      w.length +
      afterWire.length +
      SIGNATURE_BYTES +
      c.update.length
  );
  let at = 0;
  for (const part of [head, a, afterAuthor, w, afterWire, sig, c.update]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Reads a short length (at most two varint bytes: up to 16,383). */
function readLength(bytes: Uint8Array, at: number, max: number): [number, number] {
  const b0 = bytes[at];
  if (b0 === undefined) throw new MalformedEnvelopeError('envelope cut short');
  if (b0 < 0x80) return check(b0, at + 1, max);
  const b1 = bytes[at + 1];
  if (b1 === undefined || b1 >= 0x80) throw new MalformedEnvelopeError('bad length');
  return check((b0 & 0x7f) | (b1 << 7), at + 2, max);
}

function check(n: number, next: number, max: number): [number, number] {
  if (n === 0 || n > max) throw new MalformedEnvelopeError('bad length');
  return [n, next];
}

/** Decodes an envelope (the update is a view into `bytes`). The signature is not checked. */
export function openEnvelope(bytes: Uint8Array): Envelope {
  const version = bytes[0];
  if (version !== ENVELOPE_VERSION && version !== V1) {
    throw new MalformedEnvelopeError('unknown envelope version');
  }
  let [n, at] = readLength(bytes, 1, MAX_ID_LENGTH * 4);
  if (at + n > bytes.length) throw new MalformedEnvelopeError('envelope cut short');
  let author: string;
  let wire: string;
  try {
    author = fromUtf8.decode(bytes.subarray(at, at + n));
    at += n;
    [n, at] = readLength(bytes, at, MAX_WIRE_LENGTH * 4);
    if (at + n > bytes.length) throw new MalformedEnvelopeError('envelope cut short');
    wire = fromUtf8.decode(bytes.subarray(at, at + n));
    at += n;
  } catch (err) {
    if (err instanceof MalformedEnvelopeError) throw err;
    throw new MalformedEnvelopeError('names are not UTF-8');
  }
  if (author.length > MAX_ID_LENGTH || wire.length > MAX_WIRE_LENGTH) {
    throw new MalformedEnvelopeError('name too long');
  }
  let range: UpdateRange | null | undefined;
  if (version === ENVELOPE_VERSION) {
    let client: number, from: number, length: number;
    [client, at] = readVarint(bytes, at, 8);
    [from, at] = readVarint(bytes, at, 8);
    [length, at] = readVarint(bytes, at, 8);
    if (client === 0) {
      if (from !== 0 || length !== 0) throw new MalformedEnvelopeError('bad range');
      range = null;
    } else {
      if (
        length === 0 ||
        from + length > Number.MAX_SAFE_INTEGER ||
        client - 1 > Number.MAX_SAFE_INTEGER
      ) {
        throw new MalformedEnvelopeError('bad range');
      }
      range = { client: client - 1, from, to: from + length };
    }
  }
  if (at + SIGNATURE_BYTES >= bytes.length) throw new MalformedEnvelopeError('no update');
  const sig = bytes.subarray(at, at + SIGNATURE_BYTES);
  return { author, wire, sig, range, update: bytes.subarray(at + SIGNATURE_BYTES) };
}

/** Checks envelopes' signatures; `verifyAll` answers per envelope, in order. */
export interface EnvelopeVerifier {
  verifyAll(envelopes: readonly Envelope[]): Promise<boolean[]>;
}

type Subtle = Pick<SubtleCrypto, 'importKey' | 'verify' | 'digest'>;

/**
 * Ed25519 through WebCrypto where the runtime has it (current Chromium, Node 20), keys
 * imported once per author; @noble/curves otherwise (or with `platform` null). A malformed
 * author or signature is `false`, never an exception.
 */
export function createEnvelopeVerifier(
  platform: Subtle | null = globalThis.crypto?.subtle ?? null
): EnvelopeVerifier {
  const subtle = platform ?? undefined; // null: @noble only
  const keys = new Map<string, Promise<CryptoKey | Uint8Array | null>>();
  let webCrypto: boolean | undefined = subtle === undefined ? false : undefined;

  const rawKey = (author: string): Uint8Array | null => {
    try {
      const id = peerIdFromString(author);
      return id.type === 'Ed25519' && id.publicKey !== undefined ? id.publicKey.raw : null;
    } catch {
      return null;
    }
  };

  const keyOf = (author: string): Promise<CryptoKey | Uint8Array | null> => {
    let key = keys.get(author);
    if (key === undefined) {
      key = (async () => {
        const raw = rawKey(author);
        if (raw === null) return null;
        if (webCrypto === false || subtle === undefined) return raw;
        try {
          const k = await subtle.importKey('raw', raw as BufferSource, { name: 'Ed25519' }, false, [
            'verify'
          ]);
          webCrypto = true;
          return k;
        } catch {
          webCrypto = false; // no Ed25519 in this runtime's WebCrypto
          return raw;
        }
      })();
      if (keys.size >= 4096) keys.clear();
      keys.set(author, key);
    }
    return key;
  };

  const verifyOne = async (env: Envelope): Promise<boolean> => {
    if (env.sig.byteLength !== SIGNATURE_BYTES) return false;
    const key = await keyOf(env.author);
    if (key === null) return false;
    try {
      if (key instanceof Uint8Array) return ed25519.verify(env.sig, envelopeSignedBytes(env), key);
      // The update's hash natively too (off the main thread in browsers): a catch-up's
      // megabytes cost ~70 ms of main thread with the JavaScript SHA-256.
      const hash = new Uint8Array(await subtle!.digest('SHA-256', env.update as BufferSource));
      const data = envelopeSignedBytes(env, hash);
      return await subtle!.verify(
        { name: 'Ed25519' },
        key,
        env.sig as BufferSource,
        data as BufferSource
      );
    } catch {
      return false;
    }
  };

  return {
    verifyAll: (envelopes) => Promise.all(envelopes.map(verifyOne))
  };
}

/** Checks one envelope's signature with a synchronous verifier (never throws). */
export function envelopeSigned(env: Envelope, verify: Verifier): boolean {
  return verify(env.author, envelopeSignedBytes(env), env.sig);
}

/**
 * A list of envelopes (a step2 of sync 4: what the asking peer lacks, as the authors signed
 * it): varint count, then per envelope varint length and its bytes.
 */
export function encodeEnvelopeList(envelopes: readonly Uint8Array[]): Uint8Array {
  const head: number[] = [];
  writeVarint(head, envelopes.length);
  const lengths = envelopes.map((e) => {
    const l: number[] = [];
    writeVarint(l, e.byteLength);
    return l;
  });
  let size = head.length;
  envelopes.forEach((e, i) => (size += lengths[i]!.length + e.byteLength));
  const out = new Uint8Array(size);
  out.set(head, 0);
  let at = head.length;
  envelopes.forEach((e, i) => {
    out.set(lengths[i]!, at);
    at += lengths[i]!.length;
    out.set(e, at);
    at += e.byteLength;
  });
  return out;
}

/** Reads an unsigned varint of at most `max` bytes (5: < 2^35) at `at`: [value, next]. */
function readVarint(bytes: Uint8Array, at: number, max = 5): [number, number] {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < max; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw new MalformedEnvelopeError('envelope cut short');
    n += (b & 0x7f) * scale;
    if (b < 0x80) return [n, at + i + 1];
    scale *= 128;
  }
  throw new MalformedEnvelopeError('bad length');
}

/**
 * Decodes a list of envelopes (views into `bytes`, not opened). The count is checked against
 * the bytes there are (each envelope takes at least one byte more than its length prefix),
 * so a hostile count allocates nothing.
 */
export function decodeEnvelopeList(bytes: Uint8Array): Uint8Array[] {
  const [count, first] = readVarint(bytes, 0);
  let at = first;
  if (count > (bytes.byteLength - at) / 2) throw new MalformedEnvelopeError('bad count');
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    let n: number;
    [n, at] = readVarint(bytes, at);
    if (n === 0 || at + n > bytes.byteLength) throw new MalformedEnvelopeError('bad length');
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  if (at !== bytes.byteLength) throw new MalformedEnvelopeError('trailing bytes');
  return out;
}

/** The step2 of "nothing you lack". */
export const EMPTY_ENVELOPE_LIST = Uint8Array.of(0);
