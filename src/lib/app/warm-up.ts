/**
 * CPU work the start path needs anyway, moved to where the main thread would otherwise wait.
 *
 * @noble/curves builds a table for the Ed25519 base point on its first base-point
 * multiplication: 25-250 ms of main thread (more on a loaded machine). The node needs it before
 * it can dial the relay (a first run's device key, and Noise's X25519 keys when libp2p is
 * created), right after the device key came out of IndexedDB. Building it while IndexedDB opens
 * hides part of that time behind the storage round trip.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { KeyStore } from '../storage/key-store.js';

/** Builds the base-point table (the first call pays, later calls cost one multiplication). */
export function warmCurve25519(): void {
  ed25519.Point.BASE.multiply(2n);
}

/**
 * The key store, warming the curve table once, right after the first `load()` has sent its
 * IndexedDB request (and before its answer is awaited).
 */
export function keyStoreWarmingCurves(keyStore: KeyStore, warm = warmCurve25519): KeyStore {
  let warmed = false;
  return {
    load() {
      const loading = keyStore.load();
      if (!warmed) {
        warmed = true;
        try {
          warm();
        } catch {
          // Only a head start: the work happens later anyway.
        }
      }
      return loading;
    },
    save: (key) => keyStore.save(key)
  };
}
