import { describe, expect, it } from 'vitest';
import { createMemorySyncNetwork } from '../../../src/lib/sync/transport-memory.js';
import type { SyncTransportHandler } from '../../../src/lib/sync/transport.js';
import { labelled, runSyncTransportContract } from '../../fixtures/sync-transport-contract.js';

/** A relay's default data limit (circuit relay v2: 128 KiB), as the libp2p run gets it. */
const RELAY_LIMIT_BYTES = 128 * 1024;

runSyncTransportContract(
  'in-memory twin',
  async () => {
    const net = createMemorySyncNetwork();
    return {
      peer: async (name, init) => ({ id: name, transport: net.transport(name, init) }),
      connect: async (a, b) => net.connect(a.id, b.id),
      connectLimited: async (a, b) => {
        net.connect(a.id, b.id, { limitBytes: RELAY_LIMIT_BYTES });
        return RELAY_LIMIT_BYTES;
      },
      upgrade: async (a, b) => net.upgrade(a.id, b.id),
      disconnect: async (a, b) => net.disconnect(a.id, b.id),
      flush: () => net.flush(),
      close: async () => {}
    };
  },
  { timeoutMs: 2_000 }
);

describe('in-memory network: faults and delivery control', () => {
  function recorder(): SyncTransportHandler & { got: string[] } {
    const got: string[] = [];
    return {
      got,
      peerUp() {},
      peerDown() {},
      malformed() {},
      frame: (_peer, bytes) => got.push(new TextDecoder().decode(bytes.subarray(0, 3)))
    };
  }

  async function trial(seed: number): Promise<string[]> {
    const net = createMemorySyncNetwork({ seed, drop: 0.2, duplicate: 0.2, reorder: 0.5 });
    const a = net.transport('a');
    const b = net.transport('b');
    const rb = recorder();
    await a.start(recorder());
    await b.start(rb);
    net.connect('a', 'b');
    for (let i = 100; i < 160; i++) a.send('b', labelled(`${i}`, 8));
    net.run();
    return rb.got;
  }

  it('seeded faults drop, duplicate and reorder, the same way for the same seed', async () => {
    const one = await trial(5);
    expect(await trial(5)).toEqual(one);
    expect(await trial(6)).not.toEqual(one);
    const unique = new Set(one);
    expect(unique.size).toBeLessThan(60); // some dropped
    expect(one.length).toBeGreaterThan(unique.size); // some duplicated
    expect(one).not.toEqual([...one].sort()); // some reordered
  });

  it('step() delivers one frame at a time; nothing arrives before', async () => {
    const net = createMemorySyncNetwork();
    const a = net.transport('a');
    const b = net.transport('b');
    const rb = recorder();
    await a.start(recorder());
    await b.start(rb);
    net.connect('a', 'b');
    a.send('b', labelled('one', 8));
    a.send('b', labelled('two', 8));
    expect(net.pending()).toBe(2);
    expect(rb.got).toEqual([]);
    expect(net.step(false)).toBe(true);
    expect(rb.got).toEqual(['one']);
    expect(net.discard(() => true)).toBe(1);
    expect(net.step(false)).toBe(false);
    expect(rb.got).toEqual(['one']);
    expect(net.delivered).toBe(1);
  });

  it('a partition cuts the links across it, frames in flight are lost; heal reconnects', async () => {
    const net = createMemorySyncNetwork();
    const rs = ['a', 'b', 'c'].map(() => recorder());
    const ts = ['a', 'b', 'c'].map((id) => net.transport(id));
    for (let i = 0; i < 3; i++) await ts[i]!.start(rs[i]!);
    net.connectAll();
    ts[0]!.send('c', labelled('lost', 8));
    net.partition(['a'], ['b', 'c']);
    expect(net.linksOf('a')).toEqual([]);
    expect(net.linksOf('b')).toEqual(['c']);
    await net.flush();
    expect(rs[2]!.got).toEqual([]);
    net.heal();
    ts[0]!.send('c', labelled('new', 8));
    await net.flush();
    expect(rs[2]!.got).toEqual(['new']);
  });
});
