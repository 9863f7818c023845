/**
 * The sync service's public types: what createSync() takes (SyncInit, SyncDeps, SyncAccess),
 * what it is (Sync), what it reports (SyncEvent, MessageStatus) and its trace spans.
 */
import type { Signer, Verifier } from '../crypto/signing.js';
import type { DocStore } from '../storage/doc-store.js';
import type { HistoryStore } from '../storage/history-store.js';
import type { UpdateLimits } from './constants.js';
import type { DeflateRaw, InflatePayload } from './deflate.js';
import type { EnvelopeVerifier } from './envelope.js';
import type { Conversation } from './conversation.js';
import type { SyncTransport } from './transport.js';

/** Decides who may sync what. Consulted on every frame, so keep it fast and synchronous. */
export interface SyncAccess {
  /** May the device `peer` sync conversation `conversationId`? */
  canSync(peer: string, conversationId: string): boolean;
}

export interface SyncInit {
  /** Largest frame sent or accepted (default DEFAULT_MAX_FRAME_BYTES). */
  maxFrameBytes?: number;
  /** Largest step2/update reassembled from parts (default DEFAULT_MAX_MESSAGE_BYTES). */
  maxMessageBytes?: number;
  /** Largest ephemeral payload (default DEFAULT_MAX_EPHEMERAL_BYTES). */
  maxEphemeralBytes?: number;
  /** Bounds of one received Yjs update (default DEFAULT_UPDATE_LIMITS; see update-check.ts). */
  updateLimits?: Partial<UpdateLimits>;
  /** How long a misbehaving peer is ignored (default DEFAULT_MISBEHAVING_MS). */
  misbehavingMs?: number;
  /** Clock for bans and message times (default Date.now). */
  now?: () => number;
  /**
   * How often lost frames on a connection that stays up are repaired (default
   * DEFAULT_REPAIR_INTERVAL_MS; 0 turns it off). See SyncService.repair().
   */
  repairIntervalMs?: number;
  /** Optional observer of where receive/send time goes (benchmarks): see SyncTrace. */
  trace?: SyncTrace;
  /**
   * How big step2s and updates are compressed for peers that read Deflated frames: a raw
   * DEFLATE function, asynchronous (default: the platform's CompressionStream, else fflate), or
   * 'inline' (fflate within the send call: frames reach the transport before send() returns,
   * which tests that step a network frame by frame rely on).
   */
  deflate?: DeflateRaw | 'inline';
  /**
   * How Deflated frames are inflated: the platform's INFLATE by default (asynchronous; only
   * with asynchronous envelope checks), or 'inline' (fflate, within the frame's handling).
   */
  inflate?: InflatePayload | 'inline';
  /** Picks client id slots (authorship.ts; default Math.random): seeded in the fuzz tests. */
  random?: () => number;
  /**
   * How envelope signatures are checked: 'async' (default: SyncDeps.envelopeVerifier, else
   * WebCrypto Ed25519, native; frames of a doc wait their turn meanwhile) or 'inline'
   * (SyncDeps.verify within the frame's handling: tests that step a network frame by frame,
   * and made-up keys).
   */
  envelopeChecks?: 'async' | 'inline';
}

export interface SyncDeps {
  /** Frame channels to other devices: `createLibp2pSyncTransport(host)`, or a memory twin. */
  transport: SyncTransport;
  /** This device's peer ID. */
  self: string;
  /** Where conversations are stored: head and segment docs plus the message index. */
  history: HistoryStore;
  /**
   * Where conversations were stored before segments (one doc each): a conversation found only
   * there is moved into `history` when it is opened.
   */
  legacy?: DocStore;
  access: SyncAccess;
  /**
   * Signs this device's messages (see Conversation.authenticity) and the envelope every update
   * leaves in (authored.ts): this device's key.
   */
  sign: Signer;
  /**
   * Checks message signatures (unchecked without), and envelope signatures with
   * SyncInit.envelopeChecks 'inline' (default there: verifyByPeer).
   */
  verify?: Verifier;
  /** Checks envelope signatures asynchronously (default createEnvelopeVerifier(): WebCrypto). */
  envelopeVerifier?: EnvelopeVerifier;
}

/**
 * pending: no other member is known to have it yet; sent: at least one member device has it
 * (by their state vector); delivered / read: by another member's receipt.
 */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read';

export type SyncEvent =
  /** Message statuses of the conversation may have changed. */
  | { type: 'status'; conversationId: string }
  /** A step2 from `peer` was applied: this device has what the peer had. */
  | { type: 'synced'; conversationId: string; peer: string }
  | { type: 'ephemeral'; conversationId: string; peer: string; payload: Uint8Array }
  /** The peer does not sync this conversation with us (unknown to it, or not allowed). */
  | { type: 'unavailable'; conversationId: string; peer: string }
  /** The peer sent something invalid and is ignored for `misbehavingMs`. */
  | { type: 'peer-dropped'; peer: string; reason: string }
  /** The peer's app speaks no sync version this one does (see SyncTransportHandler). */
  | { type: 'incompatible'; peer: string }
  /** An update could not be saved (it stays in memory and syncs). */
  | { type: 'persist-error'; conversationId: string; error: Error };

export interface Sync {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Applies the frames received whose signatures are still being checked, issues the storage
   * writes still queued (they leave the caller's task: see deferWrites) and resolves once all
   * of them are stored. For a page about to be hidden or closed.
   */
  flush(): Promise<void>;
  /**
   * Loads a conversation's head, newest messages and tail segment from the HistoryStore (empty
   * if new), starts syncing its docs with every connected member and returns its model. Local changes are saved at once and sent to
   * members as soon as one is reachable.
   */
  open(conversationId: string): Promise<Conversation>;
  /** The conversation model over an open doc (author = this device). */
  conversation(conversationId: string): Conversation | undefined;
  /** Ids of open conversations. */
  conversations(): string[];
  /** Stops syncing a conversation and forgets its doc in memory (storage is kept). */
  close(conversationId: string): void;
  /** Closes and deletes the stored conversation. */
  delete(conversationId: string): Promise<void>;
  /** Run the state-vector handshake again with one peer or every connected one. */
  resync(peer?: string): void;
  /** Presence, typing...: sent to connected members only, never stored. */
  sendEphemeral(conversationId: string, payload: Uint8Array): void;
  /** Status of a message, or undefined when there is no such message. */
  messageStatus(conversationId: string, messageId: string): MessageStatus | undefined;
  /** Peers currently ignored for misbehaving. */
  misbehaving(): string[];
  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (event: SyncEvent) => void): () => void;
}

/**
 * Where sync spends its time, span by span (all synchronous, measured with performance.now();
 * `ms` excludes the spans nested in it, so the spans of one frame add up):
 * - decode: a received frame's header; reassemble: a Part's header and copying its chunk;
 * - inspect: an update's structure (update-check.ts); check: an envelope's signature (when
 *   checked synchronously) and its author's write rights (authored.ts); verify: the wait for
 *   asynchronous (WebCrypto) signature checks; sign: sealing a local update in its envelope;
 * - apply: applying a remote update to the doc (with the doc's observers, e.g. the
 *   conversation's index bookkeeping);
 * - store: the synchronous part of DocStore.append; forward: framing an update and handing it
 *   to the transport for other members;
 * - diff: the step2 answering a step1 (Y.encodeStateAsUpdate); send: framing any frame and
 *   handing it to the transport; ack: the acks of a microtask (state vectors);
 * - events: SyncEvent listeners (the UI's stores).
 */
export type SyncSpan =
  | 'decode'
  | 'reassemble'
  | 'inflate'
  | 'inflate-native'
  | 'inspect'
  | 'check'
  | 'verify'
  | 'sign'
  | 'apply'
  | 'store'
  | 'forward'
  | 'diff'
  | 'send'
  | 'deflate'
  | 'ack'
  | 'events';

/** Observer of SyncSpans (SyncInit.trace): `bytes` is what the span handled, when it has any. */
export type SyncTrace = (span: SyncSpan, ms: number, bytes?: number) => void;
