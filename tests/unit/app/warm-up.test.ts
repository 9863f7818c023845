import { describe, expect, it } from 'vitest';
import { keyStoreWarmingCurves, warmCurve25519 } from '../../../src/lib/app/warm-up.js';
import type { KeyStore } from '../../../src/lib/storage/key-store.js';

describe('keyStoreWarmingCurves', () => {
  it('warms once, after the first load was sent and before it answered', async () => {
    const events: string[] = [];
    let answer: (key: Uint8Array | undefined) => void = () => {};
    const inner: KeyStore = {
      load: () => {
        events.push('load sent');
        return new Promise((resolve) => {
          answer = (key) => {
            events.push('load answered');
            resolve(key);
          };
        });
      },
      save: async () => {
        events.push('save');
      }
    };
    const store = keyStoreWarmingCurves(inner, () => events.push('warm'));
    const first = store.load();
    answer(new Uint8Array([1, 2]));
    expect(await first).toEqual(new Uint8Array([1, 2]));
    const second = store.load();
    answer(undefined);
    expect(await second).toBeUndefined();
    await store.save(new Uint8Array([3]));
    expect(events).toEqual([
      'load sent',
      'warm',
      'load answered',
      'load sent',
      'load answered',
      'save'
    ]);
  });

  it('a failing warm-up changes nothing', async () => {
    const store = keyStoreWarmingCurves(
      { load: async () => new Uint8Array([7]), save: async () => {} },
      () => {
        throw new Error('no curve');
      }
    );
    expect(await store.load()).toEqual(new Uint8Array([7]));
  });

  it('warmCurve25519 runs', () => {
    expect(() => warmCurve25519()).not.toThrow();
  });
});
