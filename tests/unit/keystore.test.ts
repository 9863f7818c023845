import 'fake-indexeddb/auto';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { describe, expect, it } from 'vitest';
import { createIdbKeyStore } from '../../src/lib/storage/key-store-idb.js';
import { createMemoryKeyStore, type KeyStore } from '../../src/lib/storage/key-store.js';

/** The contract every KeyStore meets; run against each implementation. */
function keyStoreContract(name: string, create: () => KeyStore): void {
  describe(`KeyStore contract: ${name}`, () => {
    it('loads undefined on first run', async () => {
      expect(await create().load()).toBeUndefined();
    });

    it('round-trips a protobuf-marshalled Ed25519 key', async () => {
      const store = create();
      const key = await generateKeyPair('Ed25519');
      await store.save(privateKeyToProtobuf(key));
      const loaded = await store.load();
      expect(loaded).toBeInstanceOf(Uint8Array);
      const back = privateKeyFromProtobuf(loaded as Uint8Array);
      expect(back.type).toBe('Ed25519');
      expect(back.equals(key)).toBe(true);
    });

    it('replaces the key on a second save', async () => {
      const store = create();
      await store.save(new Uint8Array([1, 2, 3]));
      await store.save(new Uint8Array([4, 5]));
      expect(Array.from((await store.load()) ?? [])).toEqual([4, 5]);
    });

    it('is not affected by callers mutating buffers', async () => {
      const store = create();
      const bytes = new Uint8Array([9, 9, 9]);
      await store.save(bytes);
      bytes[0] = 0;
      const loaded = (await store.load()) as Uint8Array;
      expect(Array.from(loaded)).toEqual([9, 9, 9]);
      loaded[1] = 0;
      expect(Array.from((await store.load()) ?? [])).toEqual([9, 9, 9]);
    });
  });
}

keyStoreContract('memory', () => createMemoryKeyStore());

let db = 0;
keyStoreContract('IndexedDB (fake-indexeddb)', () =>
  createIdbKeyStore({ dbName: `p2p4e-test-${++db}` })
);

describe('IndexedDB KeyStore', () => {
  it('keeps the key across instances (a page reload)', async () => {
    const dbName = `p2p4e-test-reload-${++db}`;
    const key = privateKeyToProtobuf(await generateKeyPair('Ed25519'));
    await createIdbKeyStore({ dbName }).save(key);
    const again = await createIdbKeyStore({ dbName }).load();
    expect(Array.from(again ?? [])).toEqual(Array.from(key));
  });

  it('does no I/O until used', () => {
    const opened: string[] = [];
    const original = indexedDB.open.bind(indexedDB);
    indexedDB.open = ((name: string, version?: number) => {
      opened.push(name);
      return original(name, version);
    }) as typeof indexedDB.open;
    try {
      createIdbKeyStore({ dbName: 'never-opened' });
      expect(opened).toEqual([]);
    } finally {
      indexedDB.open = original;
    }
  });

  it('separate databases do not share keys', async () => {
    const a = createIdbKeyStore({ dbName: `p2p4e-test-a-${++db}` });
    const b = createIdbKeyStore({ dbName: `p2p4e-test-b-${db}` });
    await a.save(new Uint8Array([1]));
    expect(await b.load()).toBeUndefined();
  });
});

describe('memory KeyStore', () => {
  it('can start with a key', async () => {
    const store = createMemoryKeyStore(new Uint8Array([7]));
    expect(Array.from((await store.load()) ?? [])).toEqual([7]);
  });
});
