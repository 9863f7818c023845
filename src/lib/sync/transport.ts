/**
 * The boundary between the sync service and the network: frame channels to other devices.
 * Two implementations honour the same contract (tests/fixtures/sync-transport-contract.ts):
 * libp2p streams (transport-libp2p.ts) and an in-memory network for tests
 * (transport-memory.ts). Their queueing rules live in outbound-queue.ts.
 */

/**
 * Frame channels to other devices. The libp2p transport opens one outbound stream per peer
 * (per new connection) for its own frames and reads the peer's outbound streams; tests plug in
 * an in-memory network instead.
 */
export interface SyncTransport {
  start(handler: SyncTransportHandler): Promise<void>;
  stop(): Promise<void>;
  /** Best effort, in order per peer; frames are lost when the channel breaks. */
  send(peer: string, frame: Uint8Array, options?: FrameSendOptions): void;
  /** Close every channel with this peer now. */
  drop(peer: string, reason: Error): void;
  /** Peers with an open channel. */
  peers(): string[];
  /** Frames to `peer` not written yet (e.g. waiting for a connection without limits). */
  backlog(peer: string): number;
  /**
   * Whether `peer` reads Deflated frames: it speaks the current sync (a stream either way negotiated
   * it). False when that is not known yet; frames then go uncompressed.
   */
  deflates(peer: string): boolean;
}

/** How a transport may treat a frame that can't be written yet (e.g. a relayed connection's budget). */
export interface FrameSendOptions {
  /**
   * Small control frame (step1, ack, error, ephemeral): may go ahead of data frames that wait
   * for a better connection.
   */
  control?: boolean;
  /** Worthless later (ephemeral): dropped instead of waiting. */
  droppable?: boolean;
  /** Groups frames: the parts of one step2 share the key of its conversation. */
  key?: string;
  /**
   * With `key`: frames with that key not written yet are dropped first (a newer step2 for the
   * same conversation makes an older one that still waits useless).
   */
  replace?: boolean;
}

export interface SyncTransportHandler {
  /** A new channel to `peer` is ready (also after a reconnect): run the handshake. */
  peerUp(peer: string): void;
  frame(peer: string, bytes: Uint8Array): void;
  /** The peer sent something that isn't a frame (e.g. a length over the limit). */
  malformed(peer: string, err: Error): void;
  /**
   * The peer's app speaks none of this one's sync versions (an older or newer protocol): no
   * channel can open until one of the two updates.
   */
  incompatible?(peer: string): void;
  peerDown(peer: string): void;
}

/** Options every transport takes (the libp2p one has more). */
export interface SyncTransportInit {
  /**
   * Largest frame accepted (default DEFAULT_MAX_FRAME_BYTES); a longer one is reported with
   * `malformed` and its stream is closed. Give the sync service the same value.
   */
  maxFrameBytes?: number;
  /** Inbound sync streams one peer may have open at once (default MAX_INBOUND_SYNC_STREAMS). */
  maxInboundStreams?: number;
  /**
   * Act like a device with the previous version of the app (default false), for tests of mixed
   * versions: over libp2p it speaks only sync 3 (so the other side reports it incompatible); the
   * memory transport reads no Deflated frames.
   */
  legacy?: boolean;
}
