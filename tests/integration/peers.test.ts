/**
 * Node peers meeting through the real relay process: reservations, a relayed connection, the
 * upgrade to direct WebRTC, and gossipsub between peers connected only to the relay.
 */
import type { Connection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestPeer,
  dialWithRetry,
  meshPeers,
  pingOver,
  waitFor,
  type TestPeer
} from '../fixtures/node-peer.js';
import { readMetric, startRelay, type RelayHandle } from '../fixtures/relay.js';

let relay: RelayHandle;
let relayAddr: string;
const peers: TestPeer[] = [];

async function peer(opts: Parameters<typeof createTestPeer>[0]): Promise<TestPeer> {
  const p = await createTestPeer(opts);
  peers.push(p);
  return p;
}

const metricValue = (name: string): Promise<number> => readMetric(relay.url, name);

beforeAll(async () => {
  relay = await startRelay();
  relayAddr = relay.multiaddrs[0] ?? '';
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await relay?.stop();
});

describe('peers through the relay', () => {
  it('reserve slots, connect through the relay, then upgrade to direct WebRTC', async () => {
    const a = await peer({ relay: relayAddr });
    const b = await peer({ relay: relayAddr });

    // Both hold reservations: their addresses include circuit and WebRTC addresses on the relay.
    for (const p of [a, b]) {
      const addrs = await waitFor(
        () => {
          const list = p.getMultiaddrs().map((ma) => ma.toString());
          return list.some((s) => s.includes('/p2p-circuit/webrtc')) ? list : undefined;
        },
        { message: 'a /webrtc address through the relay' }
      );
      expect(addrs.some((s) => s.startsWith(`${relayAddr}/p2p-circuit`))).toBe(true);
    }
    await waitFor(async () => (await metricValue('p2p4e_relay_reservations')) === 2, {
      message: 'the relay to count 2 reservations'
    });

    // Relayed connection: limited, through the relay, and a ping round trip works over it.
    const circuitsBefore = await metricValue('p2p4e_relay_circuits_opened_total');
    const relayed: Connection = await a.dial(
      multiaddr(`${relayAddr}/p2p-circuit/p2p/${b.peerId.toString()}`)
    );
    expect(relayed.remoteAddr.toString()).toContain('/p2p-circuit');
    expect(relayed.limits).toBeDefined();
    expect(await pingOver(relayed)).toBeGreaterThanOrEqual(0);
    expect(await metricValue('p2p4e_relay_circuits_opened_total')).toBe(circuitsBefore + 1);
    expect(await metricValue('p2p4e_relay_circuits_active')).toBeGreaterThanOrEqual(1);
    expect(await metricValue('p2p4e_relay_relayed_bytes_total')).toBeGreaterThan(64);

    // Direct WebRTC, signaled over the relay: no limits, and its traffic bypasses the relay.
    // (The dialer's remoteAddr is the address it dialed, <relay>/p2p-circuit/webrtc/p2p/<b>:
    // the transport is the last component, /webrtc.)
    const direct: Connection = await dialWithRetry(
      a,
      `${relayAddr}/p2p-circuit/webrtc/p2p/${b.peerId.toString()}`
    );
    expect(direct.limits).toBeUndefined();
    expect(direct.status).toBe('open');
    expect(direct.remoteAddr.toString()).toMatch(/\/webrtc\/p2p\/[^/]+$/);
    expect(direct.id).not.toBe(relayed.id);
    const relayedBytesBefore = await metricValue('p2p4e_relay_relayed_bytes_total');
    // 256 KiB each way: more than a relayed connection could carry under the default limit.
    expect(await pingOver(direct, { size: 256 * 1024 })).toBeGreaterThanOrEqual(0);
    const relayedBytesAfter = await metricValue('p2p4e_relay_relayed_bytes_total');
    expect(relayedBytesAfter - relayedBytesBefore).toBeLessThan(16 * 1024);
    // And the other side sees the same direct connection.
    await waitFor(
      () =>
        b
          .getConnections(a.peerId)
          .some((c) => c.limits === undefined && c.remoteAddr.toString().includes('/webrtc')),
      { message: 'b to see the direct WebRTC connection' }
    );
  });

  it('two peers connected only to the relay exchange a gossipsub message', async () => {
    const topic = `p2p4e-test-${Math.random().toString(36).slice(2)}`;
    const c = await peer({ dial: [relayAddr], webrtc: false });
    const d = await peer({ dial: [relayAddr], webrtc: false });
    expect(c.getPeers().map(String)).toEqual([relay.peerId]);
    expect(d.getPeers().map(String)).toEqual([relay.peerId]);

    c.services.pubsub.subscribe(topic);
    d.services.pubsub.subscribe(topic);

    // The relay joins the topic because its peers did, and grafts both into its mesh.
    for (const p of [c, d]) {
      await waitFor(() => meshPeers(p, topic).includes(relay.peerId), {
        message: 'the relay in the topic mesh'
      });
    }
    expect(await metricValue('p2p4e_relay_gossipsub_topics')).toBeGreaterThanOrEqual(1);

    const received = new Promise<string>((resolve) => {
      d.services.pubsub.addEventListener('message', (evt) => {
        if (evt.detail.topic === topic) resolve(new TextDecoder().decode(evt.detail.data));
      });
    });
    const result = await c.services.pubsub.publish(topic, new TextEncoder().encode('hello d'));
    expect(result.recipients.map(String)).toContain(relay.peerId);
    await expect(
      Promise.race([
        received,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('no gossipsub message within 10 s')), 10_000)
        )
      ])
    ).resolves.toBe('hello d');
  });

  it('frees reservations when peers disconnect', async () => {
    const released = (): Promise<number> =>
      readMetric(relay.url, 'p2p4e_relay_reservations_released_total', {
        reason: 'disconnect'
      }).catch(() => 0);
    const before = await released();
    const e = await peer({ relay: relayAddr, webrtc: false });
    await waitFor(async () => (await metricValue('p2p4e_relay_reservations')) >= 1, {
      message: 'a reservation'
    });
    await e.stop();
    peers.splice(peers.indexOf(e), 1);
    await waitFor(async () => (await metricValue('p2p4e_relay_reservations')) === 0, {
      message: 'the reservation to be released on disconnect'
    });
    expect(await released()).toBeGreaterThan(before);
  });
});
