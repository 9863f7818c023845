/**
 * The relay keeper against a fake libp2p: backoff with words while the relay is down, an
 * immediate redial when an established reservation is lost, retryNow() on `online`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRelayKeeper, type RelayKeeper } from '../../src/lib/p2p/relays.js';
import { deriveState, INITIAL_MODEL, reduce, type NodeEvent } from '../../src/lib/p2p/state.js';
import type { P2PLibp2p } from '../../src/lib/p2p/types.js';

const RELAY = '12D3KooWCV9smSi6qAxz4shJqxe9tZmeXDCuyotxvLJAQUAvdTby';
const RELAY_ADDR = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${RELAY}`;
const SELF = '12D3KooWBf91TKYAGvS3FB7NPiggURkkLwC1tcTCWeHSk2w4ernf';
const CIRCUIT = `${RELAY_ADDR}/p2p-circuit/p2p/${SELF}`;

class FakeLibp2p {
  up = false;
  /** Whether a connection makes the relay grant a reservation. */
  grants = true;
  dials = 0;
  hangUps = 0;
  deleted: string[] = [];
  connected = false;
  onAddresses: (addrs: string[]) => void = () => {};

  async dial(_addrs: unknown, options: { signal?: AbortSignal } = {}) {
    this.dials++;
    if (!this.up) throw Object.assign(new Error('connection refused'), { name: 'DialError' });
    this.connected = true;
    if (this.grants) queueMicrotask(() => this.onAddresses([CIRCUIT]));
    options.signal?.throwIfAborted();
    return {};
  }
  async hangUp() {
    this.hangUps++;
    this.connected = false;
  }
  getConnections() {
    return this.connected ? [{ status: 'open' }] : [];
  }
  peerStore = {
    delete: async (peer: { toString(): string }) => {
      this.deleted.push(peer.toString());
    }
  };
  /** The relay goes away: the connection drops and the circuit address disappears. */
  crash() {
    this.up = false;
    this.connected = false;
    this.onAddresses([]);
  }
}

describe('relay keeper', () => {
  let fake: FakeLibp2p;
  let keeper: RelayKeeper;
  let model = INITIAL_MODEL;
  let now = 0;

  const state = () => deriveState(model);
  const flush = async (ms = 0) => {
    await vi.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000_000;
    fake = new FakeLibp2p();
    model = reduce(INITIAL_MODEL, { type: 'node:started' });
    keeper = createRelayKeeper({
      libp2p: fake as unknown as P2PLibp2p,
      dispatch: (e: NodeEvent) => {
        model = reduce(model, e);
      },
      reservationTimeoutMs: 2_000,
      maxRelays: 3,
      backoff: { baseMs: 1_000, factor: 2, maxMs: 8_000, jitter: 0 },
      now: () => now + Date.now(),
      random: () => 0
    });
    fake.onAddresses = (addrs) => {
      model = reduce(model, { type: 'addresses', addresses: addrs });
      keeper.addressesChanged(addrs);
    };
  });

  afterEach(() => {
    keeper.stop();
    vi.useRealTimers();
  });

  it('reserves at once when the relay is up', async () => {
    fake.up = true;
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush();
    expect(state().status).toBe('online');
    expect(state().relays[0]?.status).toBe('reserved');
    expect(fake.dials).toBe(1);
  });

  it('backs off with a message while the relay is down, and recovers when it returns', async () => {
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush();
    expect(state().relays[0]).toMatchObject({
      status: 'error',
      error: "Can't reach the relay at 127.0.0.1:9090"
    });
    const first = state().relays[0]?.nextRetryAt ?? 0;
    expect(first - (now + Date.now())).toBe(1_000);
    await flush(1_000);
    expect(fake.dials).toBe(2);
    expect(state().relays[0]?.nextRetryAt ?? 0).toBe(now + Date.now() + 2_000);
    await flush(2_000);
    expect(fake.dials).toBe(3);
    await flush(4_000);
    expect(fake.dials).toBe(4);
    await flush(8_000);
    await flush(8_000); // capped at 8 s
    expect(fake.dials).toBe(6);

    fake.up = true;
    await flush(8_000);
    expect(state().relays[0]?.status).toBe('reserved');
    expect(state().relays[0]?.error).toBeUndefined();
    const dials = fake.dials;
    await flush(60_000);
    expect(fake.dials).toBe(dials); // no dialing while reserved
  });

  it('redials at once when an established reservation is lost (relay restart)', async () => {
    fake.up = true;
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush();
    await flush(10_000); // well past the flap window
    fake.crash();
    await flush();
    expect(fake.dials).toBe(2); // immediate attempt, which fails
    expect(state().relays[0]?.status).toBe('error');
    fake.up = true;
    await flush(1_000);
    expect(state().relays[0]?.status).toBe('reserved');
  });

  it('retryNow() (the browser came back online) skips the remaining wait', async () => {
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush();
    await flush(1_000);
    await flush(2_000); // now waiting 4 s
    const dials = fake.dials;
    fake.up = true;
    keeper.retryNow();
    await flush();
    expect(fake.dials).toBe(dials + 1);
    expect(state().relays[0]?.status).toBe('reserved');
  });

  it('reports a relay that accepts the connection but gives no slot, and hangs up', async () => {
    fake.up = true;
    fake.grants = false;
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush(2_000);
    expect(state().relays[0]).toMatchObject({
      status: 'error',
      error: "The relay at 127.0.0.1:9090 didn't give this device a slot"
    });
    expect(fake.hangUps).toBe(1);
  });

  it('drops relays removed from the list (and forgets them in the peer store)', async () => {
    fake.up = true;
    keeper.setRelays([RELAY_ADDR]);
    keeper.start();
    await flush();
    keeper.setRelays([]);
    await flush();
    expect(state().relays).toEqual([]);
    expect(fake.hangUps).toBe(1);
    expect(fake.deleted).toEqual([RELAY]);
  });

  it('shows a bad relay line as an error without dialing it', async () => {
    keeper.setRelays(['/ip4/127.0.0.1/tcp/9090/ws']);
    keeper.start();
    await flush(10_000);
    expect(fake.dials).toBe(0);
    expect(state().relays[0]).toMatchObject({ status: 'error', peerId: '' });
    expect(state().relays[0]?.error).toMatch(/isn't a valid multiaddr/);
  });
});
