/**
 * The patched size count of bitswap's splitMessage (patches/@helia+bitswap: a block's encoded
 * size is counted, not encoded, which copied every sent block once more): messages are still
 * packed to the byte what the encoder writes. (The modules are not exported: imported by path.)
 */
import { describe, expect, it } from 'vitest';
import { BitswapMessage } from '../../../node_modules/@helia/bitswap/dist/src/pb/message.js';
import { splitMessage } from '../../../node_modules/@helia/bitswap/dist/src/utils/split-message.js';

type Block = { prefix: Uint8Array; data: Uint8Array };

function message(blocks: Block[]) {
  return {
    full: false,
    wantlist: new Map(),
    blockPresences: new Map(),
    blocks: new Map(blocks.map((b, i) => [String(i), b])),
    pendingBytes: 0
  };
}

function encoded(blocks: Block[]): number {
  return BitswapMessage.encode({
    wantlist: { full: false, entries: [] },
    blockPresences: [],
    blocks,
    pendingBytes: 0
  }).byteLength;
}

const block = (prefix: number, data: number): Block => ({
  prefix: new Uint8Array(prefix).fill(1),
  data: new Uint8Array(data).fill(2)
});

describe('bitswap splitMessage (patched size count)', () => {
  it.each([
    [4, 1],
    [4, 127],
    [4, 128],
    [4, 16_383],
    [4, 16_384],
    [6, 262_160],
    [0, 300],
    [130, 1_048_592]
  ])('packs two blocks of prefix %i + data %i B exactly at the limit', (p, d) => {
    const two = [block(p, d), block(p, d)];
    const exact = encoded(two);
    const packed = [...splitMessage(message(two) as never, exact)];
    expect(packed.map((m) => m.byteLength)).toEqual([exact]);
    expect(BitswapMessage.decode(packed[0]!).blocks).toHaveLength(2);

    // One byte less: the second block goes into a message of its own, nothing is lost.
    const split = [...splitMessage(message(two) as never, exact - 1)];
    expect(split.map((m) => BitswapMessage.decode(m).blocks.length)).toEqual([1, 1]);
    expect(split.every((m) => m.byteLength === encoded([two[0]!]))).toBe(true);
  });
});
