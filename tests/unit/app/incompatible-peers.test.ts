import { describe, expect, it } from 'vitest';
import { IncompatiblePeers } from '../../../src/lib/app/incompatible-peers.js';

describe('IncompatiblePeers', () => {
  it('says what is new and what was there, and keeps at most `max` (the oldest goes)', () => {
    const peers = new IncompatiblePeers(3);
    expect(peers.add('a')).toBe(true);
    expect(peers.add('a')).toBe(false);
    expect(peers.add('b')).toBe(true);
    expect(peers.add('c')).toBe(true);
    expect(peers.add('d')).toBe(true); // 'a' goes
    expect(['a', 'b', 'c', 'd'].map((p) => peers.has(p))).toEqual([false, true, true, true]);
    expect(peers.delete('b')).toBe(true);
    expect(peers.delete('b')).toBe(false);
  });
});
