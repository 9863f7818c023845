/**
 * The libp2p configuration of a device node, in one place: the browser node (node.ts) and the
 * Node test peers (tests/fixtures/node-peer.ts) both build their libp2p with it, so tests run
 * the protocols, limits and workarounds the app runs. The relay (relay/src/node.ts) is a
 * different node (a circuit relay server with abuse limits) and is built by itself.
 *
 * ```ts
 * const node = await createLibp2p(
 *   libp2pOptions({ privateKey, listen: ['/p2p-circuit', '/webrtc'], iceServers: () => [] })
 * );
 * ```
 */
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { gossipsub, type GossipsubOpts } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { noise } from '@libp2p/noise';
import { ping } from '@libp2p/ping';
import { webRTC, type DataChannelOptions } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { yamux } from '@libp2p/yamux';
import type { Libp2pOptions } from 'libp2p';
import {
  CONNECTION_PING_TIMEOUT_MS,
  DEFAULT_RESERVATION_TIMEOUT_MS,
  PING_STREAMS
} from './constants.js';
import type { DenyList } from './deny-list.js';
import { installInitChannelFix } from './init-channel-fix.js';
import type { NodeServices } from './types.js';

export interface Libp2pOptionsInit {
  /** The device key (default: libp2p makes a new one). */
  privateKey?: PrivateKey;
  /** Listen addresses, e.g. one `/p2p-circuit` per relay slot and `/webrtc`. */
  listen: string[];
  /**
   * ICE servers of WebRTC connections. A function is read for every new connection (settings
   * changes apply at once). Never undefined in the options: @libp2p/webrtc would fall back to
   * public STUN servers.
   */
  iceServers: RTCIceServer[] | (() => RTCIceServer[]);
  /** Add the WebRTC transport (default true). */
  webrtc?: boolean;
  /** A relay reservation (dial included) must finish within this (default DEFAULT_RESERVATION_TIMEOUT_MS). */
  reservationTimeoutMs?: number;
  /** Transports added after the app's (tests: `memory()` from @libp2p/memory). */
  extraTransports?: NonNullable<Libp2pOptions<NodeServices>['transports']>;
  /** Options merged into the gossipsub init. */
  gossipsub?: Partial<GossipsubOpts>;
  /** Peers kept out for sending junk (their dials and connections are refused). */
  denyList?: Pick<DenyList, 'gater'>;
}

/**
 * Options for `createLibp2p`: WebSockets (to relays), WebRTC (direct) and the circuit relay
 * transport, Noise, yamux, identify, ping, gossipsub. Installs the WebRTC init-channel fix
 * (once per realm; a no-op without RTCPeerConnection) when WebRTC is on. Not started:
 * `start: false`.
 */
/**
 * Options of each stream (data channel) of a direct connection. A bitswap stream's first bytes
 * arrive before bitswap reads it (it waits for its close to be acknowledged first), and a
 * stream drops past its read buffer: 4 MiB by default, less than a file fetch's window of
 * blocks (FETCH_WINDOW_BYTES) from two transfers. What it buffers is the peer's own bytes.
 */
export const WEBRTC_STREAM_OPTIONS: DataChannelOptions & { maxReadBufferLength: number } = {
  // Not in DataChannelOptions' type: @libp2p/webrtc passes these options on to each stream.
  maxReadBufferLength: 16 * 1024 * 1024
};

export function libp2pOptions(init: Libp2pOptionsInit): Libp2pOptions<NodeServices> {
  const useWebRTC = init.webrtc ?? true;
  if (useWebRTC) installInitChannelFix();
  const { iceServers } = init;
  return {
    ...(init.privateKey !== undefined ? { privateKey: init.privateKey } : {}),
    start: false,
    addresses: { listen: init.listen },
    transports: [
      webSockets(),
      ...(useWebRTC
        ? [
            webRTC({
              dataChannel: WEBRTC_STREAM_OPTIONS,
              // A function, so ICE servers changed in Settings apply to the next connection.
              // Always an array: leaving it undefined would make @libp2p/webrtc fall back to
              // public STUN.
              rtcConfiguration: () => ({
                iceServers: (typeof iceServers === 'function' ? iceServers() : iceServers).map(
                  (s) => ({ ...s })
                )
              })
            })
          ]
        : []),
      circuitRelayTransport({
        reservationCompletionTimeout: init.reservationTimeoutMs ?? DEFAULT_RESERVATION_TIMEOUT_MS
      }),
      ...(init.extraTransports ?? [])
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // libp2p's browser default refuses plain ws:// and private/loopback addresses; this app's
    // relays are exactly that (a relay on the LAN or on this machine).
    connectionGater: { denyDialMultiaddr: () => false, ...init.denyList?.gater },
    // A tab's main thread can stall for seconds (GC, opening a long conversation, a slow or
    // throttled device) and can't answer pings meanwhile. With libp2p's default (abort after
    // 5 s without a pong) the other side dropped healthy direct connections mid catch-up.
    // Dead connections are still found: by this, by ICE consent (WebRTC) and by TCP.
    connectionMonitor: { pingTimeout: { minTimeout: CONNECTION_PING_TIMEOUT_MS } },
    services: {
      identify: identify(),
      // Two pings may run on one connection at once: libp2p's connection monitor and this app's
      // RTT measurement. With ping's default (one outbound stream) the second failed with
      // TooManyOutboundProtocolStreamsError, and when that was the monitor's it aborted the whole
      // connection, with any invite or pairing handshake on it ("the connection closed before
      // you were connected").
      ping: ping({ maxOutboundStreams: PING_STREAMS, maxInboundStreams: PING_STREAMS }),
      pubsub: gossipsub(init.gossipsub)
    }
  };
}
