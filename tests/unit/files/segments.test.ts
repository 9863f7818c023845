/**
 * Segment encryption of files (src/lib/files/segments.ts): round trips at and around segment
 * boundaries, byte ranges that cross them, and every way a stored or received file can be wrong
 * (another key, a changed byte, reordered, cut short or padded segments) gives FileDecryptError.
 */
import { describe, expect, it } from 'vitest';
import {
  decryptRange,
  decryptSegment,
  encryptSegments,
  encryptedSize,
  newFileKey,
  segmentCount,
  spanOf,
  TAG_BYTES
} from '../../../src/lib/files/segments.js';

const SEG = 1024; // small segments keep the tests fast; the code is size-agnostic

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** The file as a stream of uneven chunks (as File.stream() or a network gives it). */
async function* chunks(data: Uint8Array, sizes = [1, 700, 3000, 5]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function encrypt(key: Uint8Array, data: Uint8Array): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const sealed of encryptSegments(key, chunks(data), { segmentSize: SEG })) {
    out.push(sealed);
  }
  return out;
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function decryptAll(key: Uint8Array, size: number, sealed: Uint8Array[]) {
  const parts = [];
  for (let i = 0; i < sealed.length; i++) {
    parts.push(await decryptSegment(key, size, i, sealed[i]!, SEG));
  }
  return join(parts);
}

describe('file segments', () => {
  it.each([0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 17])(
    'round-trips %i bytes, in segmentCount segments of the expected size',
    async (size) => {
      const key = newFileKey();
      const data = bytes(size, size + 1);
      const sealed = await encrypt(key, data);
      expect(sealed).toHaveLength(segmentCount(size, SEG));
      expect(join(sealed).length).toBe(encryptedSize(size, SEG));
      expect(sealed.slice(0, -1).every((s) => s.length === SEG + TAG_BYTES)).toBe(true);
      expect(await decryptAll(key, size, sealed)).toEqual(data);
    }
  );

  it('gives unrelated ciphertexts for the same file (a fresh key each time)', async () => {
    const data = bytes(2 * SEG);
    const [a, b] = [await encrypt(newFileKey(), data), await encrypt(newFileKey(), data)];
    expect(join(a)).not.toEqual(join(b));
  });

  it('never reuses a nonce: equal segments of one file encrypt differently', async () => {
    const segment = bytes(SEG, 3);
    const sealed = await encrypt(newFileKey(), join([segment, segment, segment]));
    const bodies = sealed.map((s) => Array.from(s.subarray(0, SEG)).join());
    expect(new Set(bodies).size).toBe(3);
  });

  it('refuses another key, a changed byte, a swapped, dropped or added segment', async () => {
    const key = newFileKey();
    const size = 3 * SEG + 5;
    const sealed = await encrypt(key, bytes(size));

    await expect(decryptAll(newFileKey(), size, sealed)).rejects.toMatchObject({
      name: 'FileDecryptError'
    });

    const changed = sealed.map((s) => s.slice());
    changed[1]![10]! ^= 1;
    await expect(decryptAll(key, size, changed)).rejects.toMatchObject({
      name: 'FileDecryptError'
    });

    const swapped = [sealed[1]!, sealed[0]!, ...sealed.slice(2)];
    await expect(decryptAll(key, size, swapped)).rejects.toMatchObject({
      name: 'FileDecryptError'
    });

    // Cut short at a segment boundary: the new "last" segment was not sealed as last.
    await expect(decryptAll(key, 3 * SEG, sealed.slice(0, 3))).rejects.toMatchObject({
      name: 'FileDecryptError'
    });
    // A size that claims more than there is: the real last segment is not "last" there.
    await expect(decryptSegment(key, size + SEG, 3, sealed[3]!, SEG)).rejects.toMatchObject({
      name: 'FileDecryptError'
    });
  });

  it('refuses malformed keys, sizes and segment numbers before any crypto', async () => {
    const sealed = await encrypt(newFileKey(), bytes(10));
    await expect(decryptSegment(new Uint8Array(16), 10, 0, sealed[0]!, SEG)).rejects.toMatchObject({
      name: 'InvalidFileRecordError'
    });
    await expect(decryptSegment(newFileKey(), 10, 1, sealed[0]!, SEG)).rejects.toMatchObject({
      name: 'InvalidFileRecordError'
    });
    expect(() => segmentCount(-1)).toThrow(
      expect.objectContaining({ name: 'InvalidFileRecordError' })
    );
    expect(() => segmentCount(1.5)).toThrow(
      expect.objectContaining({ name: 'InvalidFileRecordError' })
    );
    expect(() => spanOf(10, { start: 5, end: 11 }, SEG)).toThrow(
      expect.objectContaining({ name: 'InvalidFileRecordError' })
    );
  });

  it('decrypts byte ranges across segment boundaries, reading only the segments they touch', async () => {
    const key = newFileKey();
    const size = 5 * SEG + 100;
    const data = bytes(size, 7);
    const file = join(await encrypt(key, data));
    for (const [start, end] of [
      [0, 1],
      [SEG - 1, SEG + 1],
      [SEG, 2 * SEG],
      [SEG + 5, 4 * SEG - 5],
      [5 * SEG, size],
      [size - 1, size],
      [0, size]
    ] as const) {
      const reads: [number, number][] = [];
      const got = await decryptRange(
        key,
        size,
        { start, end },
        async (from, to) => {
          reads.push([from, to]);
          return file.subarray(from, to);
        },
        SEG
      );
      expect(got).toEqual(data.subarray(start, end));
      const span = spanOf(size, { start, end }, SEG);
      expect(reads).toHaveLength(span.last - span.first + 1);
      expect(reads[0]![0]).toBe(span.cipherStart);
      expect(reads.at(-1)![1]).toBe(span.cipherEnd);
    }
  });

  it('says a short read is a missing part, not a wrong key', async () => {
    const key = newFileKey();
    const file = join(await encrypt(key, bytes(2 * SEG)));
    await expect(
      decryptRange(
        key,
        2 * SEG,
        { start: 0, end: 10 },
        async (f, t) => file.subarray(f, t - 1),
        SEG
      )
    ).rejects.toThrow('a part is missing');
  });
});
