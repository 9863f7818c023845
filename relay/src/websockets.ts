/**
 * `@libp2p/websockets` with the listener limits its options do not expose.
 *
 * The transport's listener owns a raw `net.Server` (it sniffs the first byte to choose HTTP or
 * HTTPS) and a `ws` WebSocketServer created with the `ws` defaults. Left alone:
 * - a WebSocket message may be 100 MiB (`ws` default `maxPayload`), buffered in memory before
 *   libp2p sees it, while libp2p itself never sends more than ~64 KiB per message (one Noise
 *   frame);
 * - a TCP connection that sends nothing is held forever (the listener awaits its first byte
 *   without a timeout), and raw sockets are unlimited: libp2p's connection limits only apply
 *   once the WebSocket handshake is done.
 *
 * - a WebSocket protocol error (oversized message, unmasked frame, ...) is emitted as an
 *   'error' event nobody listens to: the process crashes on one malformed frame.
 *
 * `hardenedWebSockets()` wraps `createListener` and, on each listener, handles WebSocket
 * errors, caps `maxPayload` (oversized messages close the socket with 1009), caps the raw
 * socket count, and destroys sockets that have not completed the WebSocket handshake within
 * the handshake timeout (`ws` clears the socket timeout once the WebSocket is established).
 * It touches private fields, so each step checks that the field exists and reports what it
 * could not apply.
 *
 * @example
 * ```ts
 * transports: [hardenedWebSockets({ maxPayload: 1 << 20, maxSockets: 2048, handshakeTimeoutMs: 10_000, onWarning })]
 * ```
 */
import { Server as NetServer, type Socket } from 'node:net';
import type { CreateListenerOptions, Listener, Transport } from '@libp2p/interface';
import { webSockets, type WebSocketsComponents, type WebSocketsInit } from '@libp2p/websockets';

export interface HardeningOptions {
  /** Largest WebSocket message accepted, in bytes. */
  maxPayload: number;
  /** Raw TCP sockets accepted at once (upgraded and not yet upgraded). */
  maxSockets: number;
  /** Milliseconds a socket may take to complete the WebSocket handshake. */
  handshakeTimeoutMs: number;
  /** Called when a limit could not be applied (the library's internals changed). */
  onWarning?: (message: string) => void;
  /** Called when a WebSocket is dropped for a protocol error (e.g. an oversized message). */
  onSocketError?: (err: Error) => void;
}

interface ListenerInternals {
  wsServer?: { options?: { maxPayload?: unknown } };
  server?: unknown;
  onWsServerConnection?: (socket: WsSocket, req: unknown) => void;
}

/** The parts of a `ws` WebSocket used here. */
interface WsSocket {
  on(event: 'error', listener: (err: Error) => void): unknown;
  terminate(): void;
}

export function hardenListener(listener: Listener, opts: HardeningOptions): void {
  const internals = listener as unknown as ListenerInternals;

  // `ws` reports protocol errors (oversized message, unmasked or malformed frame, bad close
  // code, ...) as an 'error' event on the WebSocket. @libp2p/websockets registers no 'error'
  // listener, so the EventEmitter throws and a single bad frame crashes the process. `ws` has
  // already started the close handshake with the right status code (1009, 1002, ...) when it
  // emits the error; give the close frame a moment to leave, then drop the socket.
  const onConnection = internals.onWsServerConnection;
  if (typeof onConnection === 'function') {
    internals.onWsServerConnection = function (this: unknown, socket: WsSocket, req: unknown) {
      socket.on('error', (err) => {
        opts.onSocketError?.(err);
        setTimeout(() => socket.terminate(), 1_000).unref();
      });
      return onConnection.call(this, socket, req);
    };
  } else {
    opts.onWarning?.(
      'cannot catch WebSocket protocol errors: @libp2p/websockets internals changed; ' +
        'a malformed frame may crash the relay'
    );
  }

  const wsOptions = internals.wsServer?.options;
  if (wsOptions != null && typeof wsOptions.maxPayload === 'number') {
    wsOptions.maxPayload = opts.maxPayload;
  } else {
    opts.onWarning?.('cannot cap the WebSocket message size: @libp2p/websockets internals changed');
  }

  const server = internals.server;
  if (server instanceof NetServer) {
    server.maxConnections = opts.maxSockets;
    server.on('connection', (socket: Socket) => {
      socket.setTimeout(opts.handshakeTimeoutMs);
      socket.once('timeout', () => socket.destroy());
    });
  } else {
    opts.onWarning?.('cannot limit raw sockets: @libp2p/websockets internals changed');
  }
}

export function hardenedWebSockets(
  hardening: HardeningOptions,
  init: WebSocketsInit = {}
): (components: WebSocketsComponents) => Transport {
  const factory = webSockets(init);
  return (components) => {
    const transport = factory(components);
    const createListener = transport.createListener.bind(transport);
    transport.createListener = (options: CreateListenerOptions): Listener => {
      const listener = createListener(options);
      hardenListener(listener, hardening);
      return listener;
    };
    return transport;
  };
}
