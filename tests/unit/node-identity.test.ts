/**
 * The device identity through the real node: the first start creates and saves an Ed25519 key,
 * the next start (a reload) loads it and has the same peer ID. No relays: nothing is dialed.
 */
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { describe, expect, it } from 'vitest';
import { createNode } from '../../src/lib/p2p/node.js';
import { createMemoryKeyStore } from '../../src/lib/storage/key-store.js';

describe('createNode identity', () => {
  it('creates an Ed25519 key once and keeps the peer ID across restarts', async () => {
    const keyStore = createMemoryKeyStore();
    const first = createNode({ relays: [] }, { keyStore, network: new EventTarget() });
    expect(() => first.peerId).toThrow(expect.objectContaining({ name: 'NodeNotStartedError' }));
    expect(first.state.status).toBe('offline');
    expect(await keyStore.load()).toBeUndefined(); // no I/O before start()

    await first.start();
    const id = first.peerId;
    expect(id).toMatch(/^12D3KooW/);
    const saved = await keyStore.load();
    expect(saved).toBeDefined();
    expect(privateKeyFromProtobuf(saved as Uint8Array).type).toBe('Ed25519');
    expect(first.state.status).toBe('connecting'); // started, no relay yet
    await first.stop();
    expect(first.state.status).toBe('offline');

    const second = createNode({ relays: [] }, { keyStore, network: new EventTarget() });
    await second.start();
    expect(second.peerId).toBe(id);
    await second.stop();
  });

  it('rejects connect() before start and for its own ID', async () => {
    const node = createNode(
      { relays: [] },
      { keyStore: createMemoryKeyStore(), network: new EventTarget() }
    );
    await expect(node.connect('anything')).rejects.toMatchObject({ name: 'NodeNotStartedError' });
    await node.start();
    await expect(node.connect(node.peerId)).rejects.toMatchObject({
      name: 'InvalidTargetError',
      reason: 'self'
    });
    await expect(node.connect('nonsense')).rejects.toMatchObject({ name: 'InvalidTargetError' });
    await expect(node.ping(node.peerId)).rejects.toMatchObject({ name: 'PeerNotConnectedError' });
    await node.stop();
  });
});
