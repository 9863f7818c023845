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
import { rng } from '../../fixtures/sync-network.js';

const ids = ['c', 'é'.repeat(40), 'x'.repeat(128), '会話-1'];

function payload(length: number, seed: number): Uint8Array {
  const random = rng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

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
      for (const n of [1, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 40_000]) {
        for (const type of [FrameType.Step2, FrameType.Update]) {
          const frame = { type, conversationId, payload: payload(n, n) };
          const parts = encodeParts(frame, max);
          expect(parts).toEqual(splitIntoParts(frame, max).map(encodeFrame));
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
          expect(joined).toEqual(frame.payload);
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
