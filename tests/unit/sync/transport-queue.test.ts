/**
 * The libp2p sync transport's outbound queue rules (pure functions): a newer step2 replaces an
 * older one still waiting, control frames pass data that waits for a better connection, and
 * droppable frames are dropped rather than kept waiting.
 */
import { describe, expect, it } from 'vitest';
import { enqueue, takeWritable, type Queued } from '../../../src/lib/sync/outbound-queue.js';

const frame = (label: string, size: number, options: Omit<Queued, 'bytes'> = {}): Queued => ({
  ...options,
  bytes: new Uint8Array(size).fill(label.charCodeAt(0))
});
const labels = (queue: Queued[]): string[] =>
  queue.map((q) => String.fromCharCode(q.bytes[0] ?? 0));

describe('outbound queue', () => {
  it('a step2 replaces the unwritten parts of an older one for the same conversation', () => {
    let q: Queued[] = [];
    q = enqueue(q, frame('a', 10, { key: 'step2\nc1', replace: true }), 1e6);
    q = enqueue(q, frame('b', 10, { key: 'step2\nc1' }), 1e6);
    q = enqueue(q, frame('u', 10), 1e6);
    q = enqueue(q, frame('x', 10, { key: 'step2\nc2', replace: true }), 1e6);
    q = enqueue(q, frame('n', 10, { key: 'step2\nc1', replace: true }), 1e6);
    q = enqueue(q, frame('m', 10, { key: 'step2\nc1' }), 1e6);
    expect(labels(q)).toEqual(['u', 'x', 'n', 'm']);
  });

  it('over the byte cap only control frames stay', () => {
    let q: Queued[] = [];
    q = enqueue(q, frame('s', 5, { control: true }), 100);
    q = enqueue(q, frame('d', 60), 100);
    q = enqueue(q, frame('e', 60), 100);
    expect(labels(q)).toEqual(['s']);
  });

  it('data keeps its order and waits; control frames that fit go ahead; ephemeral is dropped', () => {
    const q: Queued[] = [
      frame('p', 300, { key: 'step2\nc1', replace: true }),
      frame('u', 20),
      frame('t', 50, { control: true, droppable: true }),
      frame('a', 10, { control: true })
    ];
    let budget = 40;
    const fits = (n: number): boolean => (n <= budget ? ((budget -= n), true) : false);
    expect(labels([takeWritable(q, fits)!])).toEqual(['a']);
    expect(takeWritable(q, fits)).toBeUndefined();
    // The typing notice did not fit and is gone; the part and the update wait, in order.
    expect(labels(q)).toEqual(['p', 'u']);
    budget = Infinity;
    expect(labels([takeWritable(q, fits)!, takeWritable(q, fits)!])).toEqual(['p', 'u']);
    expect(q).toEqual([]);
  });
});
