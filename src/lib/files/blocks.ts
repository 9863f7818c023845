/**
 * Helia over the app's own libp2p node: a light Helia (no routers, no HTTP gateways, no DHT:
 * `createHelia()` would dial the public network) with bitswap as its only block broker. Blocks
 * are fetched only from the peers a caller names as providers (the members who have the file).
 *
 * Bitswap stays off relayed (limited) connections on purpose: they have a data budget. Files go
 * over the direct WebRTC connection between two devices.
 */
import { withBitswap } from '@helia/bitswap';
import type { HeliaWithLibp2p } from '@helia/libp2p';
import type { Libp2p } from '@libp2p/interface';
import { createHeliaLight, type Helia } from 'helia';
import { MemoryDatastore } from 'datastore-core';
import type { Blockstore } from 'interface-blockstore';
import { BITSWAP_LIMITS } from './constants.js';

export interface BlockService {
  /** Helia's block storage: local blocks, and the network through bitswap for missing ones. */
  readonly helia: Helia;
  stop(): Promise<void>;
}

export async function startBlockService(
  libp2p: Libp2p,
  blockstore: Blockstore
): Promise<BlockService> {
  const helia = createHeliaLight({
    blockstore,
    // Helia keeps pins and its version here: nothing the app needs across reloads.
    datastore: new MemoryDatastore(),
    holdGcLock: false
  });
  // The mixins read `helia.libp2p`: the app's node, which is already started and stays the
  // app's (Helia's stop does not stop it).
  Object.defineProperty(helia, 'libp2p', { value: libp2p, enumerable: true });
  withBitswap(helia as unknown as HeliaWithLibp2p, {
    runOnLimitedConnections: false,
    ...BITSWAP_LIMITS
  });
  await helia.start();
  return {
    helia,
    stop: async () => {
      await helia.stop();
    }
  };
}
