/**
 * Files are encrypted on the sending device before they are content-addressed: each file gets a
 * fresh random 256-bit key, and its bytes are sealed in fixed-size segments with AES-256-GCM
 * (WebCrypto). A segment can be fetched and opened on its own, so a byte range of a large file
 * needs only the segments it touches.
 *
 * Segment i of n: ciphertext = AES-GCM(key, nonce = 0^8 ‖ u32be(i), plaintext, aad), with
 * aad = "p2p4e/file/1" ‖ u32be(i) ‖ u8(i = n - 1 ? 1 : 0). The key is never reused (one per
 * file), so a counter nonce is safe; the index in the nonce and in the AAD stops reordering, the
 * last-segment flag stops cutting a file short (its last whole segment would not open as last).
 * An empty file is one empty segment (its tag still proves the key). No convergent encryption:
 * equal files give unrelated ciphertexts.
 *
 * ```ts
 * const key = newFileKey();
 * for await (const sealed of encryptSegments(key, file.stream())) blocks.add(sealed);
 * const bytes = await decryptRange(key, { size: file.size }, { start: 1_000, end: 200_000 }, read);
 * ```
 */
import { FileDecryptError, InvalidFileRecordError } from './errors.js';

/** Plaintext bytes per segment (the last one may be shorter). */
export const SEGMENT_SIZE = 256 * 1024;
/** AES-GCM tag bytes added to each segment. */
export const TAG_BYTES = 16;
export const FILE_KEY_BYTES = 32;
/** Larger than anything a browser can store: sizes above are refused before any work. */
export const MAX_FILE_SIZE = 2 ** 46;

const AAD_PREFIX = new TextEncoder().encode('p2p4e/file/1');

/** A fresh random key for one file. */
export function newFileKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(FILE_KEY_BYTES));
}

/** Number of segments of a file of `size` bytes (an empty file has one, empty). */
export function segmentCount(size: number, segmentSize = SEGMENT_SIZE): number {
  checkSize(size);
  return Math.max(1, Math.ceil(size / segmentSize));
}

/** Size of the encrypted file (what is imported into the blockstore). */
export function encryptedSize(size: number, segmentSize = SEGMENT_SIZE): number {
  return size + segmentCount(size, segmentSize) * TAG_BYTES;
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_FILE_SIZE) {
    throw new InvalidFileRecordError(`A file size must be a whole number of bytes, not ${size}.`);
  }
}

async function importKey(key: Uint8Array): Promise<CryptoKey> {
  if (!(key instanceof Uint8Array) || key.length !== FILE_KEY_BYTES) {
    throw new InvalidFileRecordError('A file key is 32 bytes.');
  }
  return crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'encrypt',
    'decrypt'
  ]);
}

function nonceOf(index: number): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setUint32(8, index);
  return nonce;
}

function aadOf(index: number, last: boolean): Uint8Array<ArrayBuffer> {
  const aad = new Uint8Array(AAD_PREFIX.length + 5);
  aad.set(AAD_PREFIX);
  new DataView(aad.buffer).setUint32(AAD_PREFIX.length, index);
  aad[aad.length - 1] = last ? 1 : 0;
  return aad;
}

async function seal(key: CryptoKey, index: number, last: boolean, plain: Uint8Array) {
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: nonceOf(index), additionalData: aadOf(index, last) },
    key,
    plain as Uint8Array<ArrayBuffer>
  );
  return new Uint8Array(sealed);
}

async function open(
  key: CryptoKey,
  index: number,
  last: boolean,
  sealed: Uint8Array
): Promise<Uint8Array> {
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonceOf(index), additionalData: aadOf(index, last) },
      key,
      sealed as Uint8Array<ArrayBuffer>
    );
    return new Uint8Array(plain);
  } catch {
    throw new FileDecryptError(
      'This file could not be decrypted: the key is wrong or its data was changed.'
    );
  }
}

/**
 * Encrypts a stream of any chunking into sealed segments, in order, holding at most two
 * segments of plaintext.
 */
export async function* encryptSegments(
  key: Uint8Array,
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  options: { segmentSize?: number } = {}
): AsyncGenerator<Uint8Array> {
  const segmentSize = options.segmentSize ?? SEGMENT_SIZE;
  const aes = await importKey(key);
  let buffer = new Uint8Array(segmentSize);
  let filled = 0;
  let index = 0;
  // A full segment is sealed only once more bytes follow (or the end says it was the last).
  let pending: Uint8Array | undefined;
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    let at = 0;
    while (at < chunk.length) {
      if (filled === segmentSize) {
        if (pending !== undefined) yield await seal(aes, index++, false, pending);
        pending = buffer;
        buffer = new Uint8Array(segmentSize);
        filled = 0;
      }
      const take = Math.min(segmentSize - filled, chunk.length - at);
      buffer.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
    }
  }
  // `pending` only exists once more bytes followed it, so the buffer's segment is the last (an
  // empty file: one empty segment).
  if (pending !== undefined) yield await seal(aes, index++, false, pending);
  yield await seal(aes, index, true, buffer.subarray(0, filled));
}

/** Opens sealed segment `index` of a file of `size` bytes. */
export async function decryptSegment(
  key: Uint8Array,
  size: number,
  index: number,
  sealed: Uint8Array,
  segmentSize = SEGMENT_SIZE
): Promise<Uint8Array> {
  const count = segmentCount(size, segmentSize);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new InvalidFileRecordError(`No segment ${index} in a file of ${count}.`);
  }
  const plain = await open(await importKey(key), index, index === count - 1, sealed);
  const expected = index === count - 1 ? size - index * segmentSize : segmentSize;
  if (plain.length !== expected) {
    throw new FileDecryptError('This file could not be decrypted: a part has the wrong size.');
  }
  return plain;
}

/** Where plaintext bytes [start, end) are in the encrypted file. */
export interface SegmentSpan {
  first: number;
  last: number;
  /** Byte offsets in the encrypted file: [cipherStart, cipherEnd). */
  cipherStart: number;
  cipherEnd: number;
}

export function spanOf(
  size: number,
  range: { start: number; end: number },
  segmentSize = SEGMENT_SIZE
): SegmentSpan {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > size) {
    throw new InvalidFileRecordError(`Bytes ${start}–${end} are not in a file of ${size}.`);
  }
  if (end <= start) {
    throw new InvalidFileRecordError(`The byte range ${start}–${end} is empty.`);
  }
  const sealedSize = segmentSize + TAG_BYTES;
  const first = Math.floor(start / segmentSize);
  const last = Math.floor((end - 1) / segmentSize);
  const total = encryptedSize(size, segmentSize);
  return {
    first,
    last,
    cipherStart: first * sealedSize,
    cipherEnd: Math.min(total, (last + 1) * sealedSize)
  };
}

/**
 * Plaintext bytes [start, end) of a file of `size` bytes: reads only the sealed segments that
 * hold them (`read(cipherStart, cipherEnd)` gives encrypted bytes) and opens each.
 */
export async function decryptRange(
  key: Uint8Array,
  size: number,
  range: { start: number; end: number },
  read: (cipherStart: number, cipherEnd: number) => Promise<Uint8Array>,
  segmentSize = SEGMENT_SIZE
): Promise<Uint8Array> {
  const span = spanOf(size, range, segmentSize);
  const sealedSize = segmentSize + TAG_BYTES;
  const out = new Uint8Array(range.end - range.start);
  let written = 0;
  for (let i = span.first; i <= span.last; i++) {
    const from = i * sealedSize;
    const to = Math.min(span.cipherEnd, from + sealedSize);
    const sealed = await read(from, to);
    if (sealed.length !== to - from) {
      throw new FileDecryptError('This file could not be decrypted: a part is missing.');
    }
    const plain = await decryptSegment(key, size, i, sealed, segmentSize);
    const segStart = i * segmentSize;
    const lo = Math.max(range.start, segStart) - segStart;
    const hi = Math.min(range.end, segStart + plain.length) - segStart;
    out.set(plain.subarray(lo, hi), written);
    written += hi - lo;
  }
  return out;
}

/**
 * Opens a stream of encrypted bytes (any chunking) that starts at segment `first`, yielding the
 * plaintext of each segment in order. The key is imported once.
 */
export async function* decryptSegments(
  key: Uint8Array,
  size: number,
  source: AsyncIterable<Uint8Array>,
  options: { first?: number; segmentSize?: number } = {}
): AsyncGenerator<Uint8Array> {
  const segmentSize = options.segmentSize ?? SEGMENT_SIZE;
  const count = segmentCount(size, segmentSize);
  const aes = await importKey(key);
  const sealedSize = segmentSize + TAG_BYTES;
  let index = options.first ?? 0;
  let buffer = new Uint8Array(sealedSize);
  let filled = 0;
  const expected = (i: number) =>
    i === count - 1 ? size - i * segmentSize + TAG_BYTES : sealedSize;
  for await (const chunk of source) {
    let at = 0;
    while (at < chunk.length) {
      if (index >= count) throw new FileDecryptError('This file has more data than it should.');
      const want = expected(index);
      const take = Math.min(want - filled, chunk.length - at);
      buffer.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === want) {
        yield await open(aes, index, index === count - 1, buffer.subarray(0, want));
        index++;
        buffer = new Uint8Array(sealedSize);
        filled = 0;
      }
    }
  }
  if (filled !== 0)
    throw new FileDecryptError('This file could not be decrypted: a part is missing.');
}
