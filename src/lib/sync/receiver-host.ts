/** What the frame receiver (receiver.ts) needs from the sync service (sync.ts). */
import type { Verifier } from '../crypto/signing.js';
import type { UpdateLimits } from './constants.js';
import type { InflatePayload } from './deflate.js';
import type { EnvelopeVerifier } from './envelope.js';
import type { Reassembler } from './reassembly.js';
import type { FrameSender } from './sender.js';
import type { SyncEvent } from './sync-types.js';
import type { Tracer } from './tracer.js';
import type { ConversationState } from './unit.js';

export interface ReceiverHost {
  readonly tracer: Tracer;
  readonly parts: Reassembler;
  readonly sender: FrameSender;
  /** Checks envelope signatures synchronously (the author's key from its peer ID). */
  readonly verify: Verifier;
  /**
   * Checks them asynchronously instead (WebCrypto Ed25519: native, ~25x faster than the
   * synchronous JavaScript one); frames of a doc keep their order meanwhile.
   */
  readonly verifier: EnvelopeVerifier | undefined;
  /**
   * Inflates Deflated frames asynchronously (the platform's INFLATE); undefined: fflate within
   * the frame's handling.
   */
  readonly inflate: InflatePayload | undefined;
  readonly maxMessageBytes: number;
  readonly maxEphemeralBytes: number;
  /** Bounds of one Yjs update (inspectUpdate). */
  readonly updateLimits: UpdateLimits;
  /** The current repair round. */
  round(): number;
  isOpen(conv: ConversationState): boolean;
  /** Whether a channel to `peer` is up. */
  connected(peer: string): boolean;
  canSync(peer: string, conversationId: string): boolean;
  /** Drops and ignores the peer for a while. */
  misbehave(peer: string, reason: string): void;
  /** Whether the peer is ignored now (see misbehave). */
  banned(peer: string): boolean;
  emit(event: SyncEvent): void;
  persistError(conversationId: string, error: unknown): void;
}
