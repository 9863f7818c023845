import { describe, expect, it } from 'vitest';
import {
  INVITE_PROTOCOL,
  MAX_RELAYED_CLOSE_POSTPONES,
  PAIR_PROTOCOL,
  SYNC_PROTOCOL
} from '../../src/lib/p2p/constants.js';
import { relayedToClose } from '../../src/lib/p2p/peer-links.js';

const relay = '/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3KooWRelay';
const relayed = (...streams: { protocol: string; status: string }[]) => ({
  remoteAddr: `${relay}/p2p-circuit/p2p/12D3KooWPeer`,
  streams
});
const direct = { remoteAddr: '/webrtc/p2p/12D3KooWPeer', streams: [] };

describe('retiring the relayed connection once a peer is reached directly', () => {
  it('closes the relayed connections, not the direct one', () => {
    const r = relayed({ protocol: SYNC_PROTOCOL, status: 'open' });
    expect(relayedToClose([direct, r], 0)).toEqual([r]);
  });

  it('waits while an invite or pairing handshake runs on it, then closes it after it ended', () => {
    for (const protocol of [INVITE_PROTOCOL, PAIR_PROTOCOL]) {
      expect(relayedToClose([direct, relayed({ protocol, status: 'open' })], 0)).toBe('wait');
      const ended = relayed({ protocol, status: 'closed' });
      expect(relayedToClose([direct, ended], 1)).toEqual([ended]);
    }
  });

  it('does not wait forever for a handshake that never ends', () => {
    const stuck = relayed({ protocol: INVITE_PROTOCOL, status: 'open' });
    expect(relayedToClose([stuck], MAX_RELAYED_CLOSE_POSTPONES - 1)).toBe('wait');
    expect(relayedToClose([stuck], MAX_RELAYED_CLOSE_POSTPONES)).toEqual([stuck]);
  });
});
