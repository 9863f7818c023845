import { describe, expect, it } from 'vitest';
import { describeStorageUse, formatBytes } from '../../../src/lib/app/bytes.js';

describe('formatBytes', () => {
  it('says sizes in decimal units, two significant digits below 10', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(1000)).toBe('1.0 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(9_960)).toBe('10 KB');
    expect(formatBytes(12_345_678)).toBe('12 MB');
    expect(formatBytes(999_999)).toBe('1.0 MB');
    expect(formatBytes(1_234_567_890)).toBe('1.2 GB');
    expect(formatBytes(5e15)).toBe('5000 TB');
  });

  it('has nothing to say about a size that is not one', () => {
    expect(formatBytes(-1)).toBe('');
    expect(formatBytes(Number.NaN)).toBe('');
  });
});

describe('describeStorageUse', () => {
  it('reports usage and quota', async () => {
    expect(
      await describeStorageUse({ estimate: async () => ({ usage: 2_300_000, quota: 1.2e9 }) })
    ).toBe('2.3 MB of 1.2 GB available');
    expect(await describeStorageUse({ estimate: async () => ({ usage: 500 }) })).toBe('500 bytes');
  });

  it('is undefined when the browser does not say', async () => {
    expect(await describeStorageUse({ estimate: async () => ({}) })).toBeUndefined();
    expect(
      await describeStorageUse({ estimate: () => Promise.reject(new Error('blocked')) })
    ).toBeUndefined();
  });
});
