import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  decodePart,
  encodeFrame,
  encodeParts,
  frameLength,
  FrameType,
  splitIntoParts
} from '../../../src/lib/sync/protocol.js';

const ids = ['c', 'é'.repeat(40), 'x'.repeat(128), '会話-1'];

/** Bytes that differ from one offset to the next (a misplaced chunk shows). */
function payload(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 131 + (i >>> 8)) & 0xff;
  return out;
}

const same = (x: Uint8Array, y: Uint8Array): boolean => Buffer.compare(x, y) === 0;

describe('sync wire format', () => {
  it('frameLength is the length encodeFrame writes (varint boundaries included)', () => {
    for (const conversationId of ids) {
      for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
        const frame = { type: FrameType.Step2, conversationId, payload: new Uint8Array(n) };
        expect(frameLength(conversationId, n)).toBe(encodeFrame(frame).byteLength);
      }
    }
  });

  it('encodeParts writes exactly the frames of splitIntoParts + encodeFrame', () => {
    const max = 1024;
    // Chunk size for 1 KiB frames: every boundary around it, and offsets past 2-byte varints.
    const chunk = max - (2 + 2 + 128 * 4) - (1 + 2 * 8);
    for (const conversationId of ids) {
      for (const n of [1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 20_000]) {
        for (const type of [FrameType.Step2, FrameType.Update]) {
          const frame = { type, conversationId, payload: payload(n) };
          const parts = encodeParts(frame, max);
          const expected = splitIntoParts(frame, max).map(encodeFrame);
          expect(parts.length).toBe(expected.length);
          parts.forEach((bytes, i) => expect(same(bytes, expected[i]!)).toBe(true));
          // And they read back into the payload.
          const joined = new Uint8Array(n);
          for (const bytes of parts) {
            expect(bytes.byteLength).toBeLessThanOrEqual(max);
            const decoded = decodeFrame(bytes, max);
            expect(decoded).toMatchObject({ type: FrameType.Part, conversationId });
            const part = decodePart(decoded.payload, 1 << 20);
            expect(part).toMatchObject({ inner: type, total: n });
            joined.set(part.chunk, part.offset);
          }
          expect(same(joined, frame.payload)).toBe(true);
        }
      }
    }
  });

  it('encodeParts refuses ids encodeFrame refuses', () => {
    for (const conversationId of ['', 'x'.repeat(129)]) {
      const frame = { type: FrameType.Step2, conversationId, payload: new Uint8Array(5000) };
      expect(() => encodeParts(frame, 1024)).toThrow(
        expect.objectContaining({ name: 'MalformedFrameError' })
      );
    }
  });
});
