/**
 * Where the device's identity key lives. The key is the protobuf-marshalled libp2p private key
 * (`privateKeyToProtobuf`), so any key type round-trips; the app only ever creates Ed25519 keys.
 */
export interface KeyStore {
  /** The saved key, or `undefined` on first run. */
  load(): Promise<Uint8Array | undefined>;
  /** Replaces the saved key. */
  save(key: Uint8Array): Promise<void>;
}

/** A KeyStore that forgets everything when the page goes away: tests and throwaway nodes. */
export function createMemoryKeyStore(initial?: Uint8Array): KeyStore {
  let stored = initial === undefined ? undefined : initial.slice();
  return {
    async load() {
      // Hand out copies so a caller can't change what is stored by mutating the result.
      return stored?.slice();
    },
    async save(key: Uint8Array) {
      stored = key.slice();
    }
  };
}
