import { describe, expect, it } from 'vitest';
import { statusLine } from '../../src/lib/app/status.js';
import { describeAddr, relayStatusText, secondsUntil } from '../../src/lib/p2p/messages.js';
import type { NodeState } from '../../src/lib/p2p/types.js';

const RELAY = '12D3KooWCV9smSi6qAxz4shJqxe9tZmeXDCuyotxvLJAQUAvdTby';
const addr = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${RELAY}`;
const base: NodeState = { status: 'connecting', relays: [], addresses: [], peers: [] };

describe('relay status line', () => {
  it('uses the three plain sentences', () => {
    expect(relayStatusText({ ...base, status: 'offline' }, 0)).toBe('Offline');
    expect(relayStatusText(base, 0)).toBe('Connecting to relay…');
    expect(
      relayStatusText(
        { ...base, status: 'online', relays: [{ addr, peerId: RELAY, status: 'reserved' }] },
        0
      )
    ).toBe('Connected via relay');
  });

  it('says which relay is unreachable and when it retries', () => {
    const state: NodeState = {
      ...base,
      relays: [
        {
          addr,
          peerId: RELAY,
          status: 'error',
          error: "Can't reach the relay at 127.0.0.1:9090",
          nextRetryAt: 10_000
        }
      ]
    };
    expect(relayStatusText(state, 5_000)).toBe(
      "Can't reach the relay at 127.0.0.1:9090 — retrying in 5 s"
    );
    expect(relayStatusText(state, 9_999)).toMatch(/retrying in 1 s$/);
    const retrying = { ...state, relays: [{ ...state.relays[0]!, status: 'retrying' as const }] };
    expect(relayStatusText(retrying, 0)).toBe(
      "Can't reach the relay at 127.0.0.1:9090 — retrying now…"
    );
  });

  it('falls back to the relay-info error when no relay is known yet', () => {
    expect(
      statusLine({
        node: base,
        relayInfo: {
          status: 'error',
          url: 'http://127.0.0.1:8080/api/relay-info',
          error: "Can't reach the relay at 127.0.0.1:8080",
          nextRetryAt: 3_000
        },
        starting: false,
        now: 1_000
      })
    ).toBe("Can't reach the relay at 127.0.0.1:8080 — retrying in 2 s");
    expect(
      statusLine({
        node: { ...base, status: 'offline' },
        relayInfo: { status: 'loading', url: '' },
        starting: true,
        now: 0
      })
    ).toBe('Connecting to relay…');
  });

  it('secondsUntil rounds up and never says 0', () => {
    expect(secondsUntil(1_001, 0)).toBe(2);
    expect(secondsUntil(0, 5_000)).toBe(1);
  });
});

describe('describeAddr', () => {
  it('shortens multiaddrs to host:port', () => {
    expect(describeAddr(addr)).toBe('127.0.0.1:9090');
    expect(describeAddr(`/dns4/relay.example/tcp/443/wss/p2p/${RELAY}`)).toBe('relay.example:443');
    expect(describeAddr(`/ip6/::1/tcp/9090/ws/p2p/${RELAY}`)).toBe('[::1]:9090');
    expect(describeAddr('not a multiaddr')).toBe('not a multiaddr');
  });
});
