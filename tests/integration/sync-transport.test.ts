/**
 * The SyncTransport contract (tests/fixtures/sync-transport-contract.ts) against the libp2p
 * transport on real libp2p nodes in this process, built with the app's libp2p options
 * (createTestPeer) plus @libp2p/memory for direct connections. The limited connection goes
 * through an in-process circuit relay v2 server with its default limits (128 KiB, 2 minutes),
 * reached over loopback WebSockets: the circuit relay client does not take a /memory relay
 * address (its listener throws on it), so only the relay hop uses TCP.
 */
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import type { Libp2p } from '@libp2p/interface';
import { memory } from '@libp2p/memory';
import { noise } from '@libp2p/noise';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { describe, expect, it } from 'vitest';
import { createLibp2pSyncTransport } from '../../src/lib/sync/transport-libp2p.js';
import { createTestPeer, type TestPeer } from '../fixtures/node-peer.js';
import {
  runSyncTransportContract,
  type ContractPeer
} from '../fixtures/sync-transport-contract.js';

let run = 0;

runSyncTransportContract('libp2p streams (@libp2p/memory + in-process circuit relay)', async () => {
  const prefix = `sync-contract-${process.pid}-${++run}`;
  const relay: Libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), relay: circuitRelayServer() }
  });
  const relayAddr = relay.getMultiaddrs()[0]!.toString();
  const nodes = new Map<string, { node: TestPeer; direct: string }>();
  const node = (p: ContractPeer): TestPeer => nodes.get(p.id)!.node;
  const direct = (p: ContractPeer): string => nodes.get(p.id)!.direct;
  return {
    async peer(name, init) {
      const n = await createTestPeer({
        webrtc: false,
        // createTestPeer resolves once the reservation on the relay is made.
        listen: [`/memory/${prefix}-${name}`, `${relayAddr}/p2p-circuit`],
        extraTransports: [memory()]
      });
      const id = n.peerId.toString();
      nodes.set(id, { node: n, direct: `/memory/${prefix}-${name}/p2p/${id}` });
      return { id, transport: createLibp2pSyncTransport(n, init) };
    },
    async connect(a, b) {
      await node(a).dial(multiaddr(direct(b)));
    },
    async connectLimited(a, b) {
      const conn = await node(a).dial(multiaddr(`${relayAddr}/p2p-circuit/p2p/${b.id}`));
      // What is left of the relay's data limit (both directions); it goes down as data flows.
      const bytes = conn.limits?.bytes;
      if (bytes === undefined) throw new Error('the relayed connection has no data limit');
      return Number(bytes);
    },
    async upgrade(a, b) {
      const conn = await node(a).dial(multiaddr(direct(b)));
      if (conn.limits !== undefined) throw new Error('the direct dial gave a limited connection');
    },
    async disconnect(a, b) {
      await node(a).hangUp(multiaddr(`/p2p/${b.id}`));
    },
    flush: async () => {},
    async close() {
      await Promise.all([...nodes.values()].map(({ node: n }) => n.stop()));
      await relay.stop();
    }
  };
});

describe('libp2p sync transport and other app versions', () => {
  it('reports a peer whose app speaks none of our sync versions as incompatible, not as up', async () => {
    const prefix = `sync-versions-${process.pid}`;
    const plain = (name: string): Promise<Libp2p> =>
      createLibp2p({
        addresses: { listen: [`/memory/${prefix}-${name}`] },
        transports: [memory()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        services: { identify: identify() }
      });
    const ours = await plain('ours');
    const old = await plain('old');
    try {
      // An app from before sync 2: it answers only its own version.
      await old.handle('/p2p4e/sync/1.0.0', (stream) => stream.abort(new Error('unused')));
      const seen: string[] = [];
      let wake = (): void => {};
      const transport = createLibp2pSyncTransport(ours);
      await transport.start({
        peerUp: (peer) => seen.push(`up ${peer}`),
        peerDown: () => {},
        frame: () => {},
        malformed: () => {},
        incompatible: (peer) => {
          seen.push(`incompatible ${peer}`);
          wake();
        }
      });
      const reported = new Promise<void>((resolve) => (wake = resolve));
      await ours.dial(multiaddr(`/memory/${prefix}-old/p2p/${old.peerId.toString()}`));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        reported,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no incompatible report')), 10_000);
        })
      ]).finally(() => clearTimeout(timer));
      expect(seen).toEqual([`incompatible ${old.peerId.toString()}`]);
      expect(transport.peers()).toEqual([]);
      expect(transport.deflates(old.peerId.toString())).toBe(false);
      await transport.stop();
    } finally {
      await ours.stop();
      await old.stop();
    }
  });
});
