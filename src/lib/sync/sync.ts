/**
 * The sync service: keeps each open conversation's docs (head and message segments, see
 * doc-set.ts) in step with every connected member device. Each doc syncs on its own: a
 * state-vector handshake (step1 -> step2) when a channel comes up or a segment becomes known,
 * then live updates, acks (state vectors) and a repair round for lost frames. A segment not in
 * memory answers a step1 from its stored bytes and is loaded only when something arrives for
 * it, so reconnecting a long conversation costs a state vector per segment, not the history.
 */
import * as Y from 'yjs';
import { verifyByPeer, type Signer, type Verifier } from '../crypto/signing.js';
import { OwnRuns } from './authored.js';
import { createEnvelopeVerifier, sealEnvelope, updateRange } from './envelope.js';
import type { DocStore } from '../storage/doc-store.js';
import { deferWrites, type DeferredHistoryStore } from '../storage/deferred-writes.js';
import {
  DEFAULT_MAX_EPHEMERAL_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_UPDATE_LIMITS,
  DEFAULT_MISBEHAVING_MS,
  DEFAULT_REPAIR_INTERVAL_MS,
  MAX_ID_LENGTH
} from './constants.js';
import { openConversation, type Conversation } from './conversation.js';
import { changedMessageIds, DocSet, HEAD, LOAD_ORIGIN, parseUnitId, unitId } from './doc-set.js';
import { transactionRange } from './doc-ids.js';
import {
  InvalidInputError,
  MalformedFrameError,
  SyncNotStartedError,
  UnknownConversationError
} from './errors.js';
import {
  decodeFrame,
  encodeFrame,
  errorFrame,
  FrameType,
  SyncErrorCode,
  type Frame
} from './protocol.js';
import { nativeDeflateRaw, nativeInflatePayload } from './deflate.js';
import { PeerBans } from './peer-bans.js';
import { Reassembler } from './reassembly.js';
import { Step1Cache } from './step1-cache.js';
import { FrameReceiver } from './receiver.js';
import type {
  MessageStatus,
  Sync,
  SyncAccess,
  SyncDeps,
  SyncEvent,
  SyncInit
} from './sync-types.js';
import { FrameSender } from './sender.js';
import { Tracer } from './tracer.js';
import type { SyncTransport } from './transport.js';
import { createConversationState, type ConversationState, type Unit } from './unit.js';
import { deliveryStatus, peerDown, peerUp, repairAll, type PeerRoom } from './sync-peers.js';

export type * from './sync-types.js';

export function createSync(init: SyncInit, deps: SyncDeps): Sync {
  return new SyncService(init, deps);
}

class SyncService implements Sync {
  private readonly transport: SyncTransport;
  private readonly self: string;
  private readonly history: DeferredHistoryStore;
  private readonly legacy: DocStore | undefined;
  private readonly access: SyncAccess;
  private readonly sign: Signer;
  private readonly verify: Verifier;
  /** Message signatures (Conversation.authenticity): unchecked when not given. */
  private readonly messageVerify: Verifier | undefined;
  private readonly random: (() => number) | undefined;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxEphemeralBytes: number;
  private readonly bans: PeerBans;
  private readonly now: () => number;
  private readonly parts = new Reassembler();
  private readonly step1Cache = new Step1Cache();
  private readonly convs = new Map<string, ConversationState>();
  private readonly opening = new Map<string, Promise<Conversation>>();
  private readonly listeners = new Set<(event: SyncEvent) => void>();
  private started = false;
  private readonly repairIntervalMs: number;
  private repairTimer: ReturnType<typeof setInterval> | undefined;
  private repairRound = 0;
  private readonly tracer: Tracer;
  private readonly sender: FrameSender;
  private readonly receiver: FrameReceiver;
  private readonly ownRuns: OwnRuns;
  private readonly room: PeerRoom;

  constructor(init: SyncInit, deps: SyncDeps) {
    this.transport = deps.transport;
    this.self = deps.self;
    // Storing an update never delays showing it: writes are issued in a later task (reads
    // still see them).
    this.history = deferWrites(deps.history);
    this.legacy = deps.legacy;
    this.access = deps.access;
    this.sign = deps.sign;
    this.verify = deps.verify ?? verifyByPeer; // envelopes, with envelopeChecks 'inline'
    this.messageVerify = deps.verify;
    this.random = init.random;
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxEphemeralBytes = init.maxEphemeralBytes ?? DEFAULT_MAX_EPHEMERAL_BYTES;
    this.now = init.now ?? Date.now;
    this.bans = new PeerBans(this.now, init.misbehavingMs ?? DEFAULT_MISBEHAVING_MS);
    this.repairIntervalMs = init.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS;
    this.tracer = new Tracer(init.trace);
    this.sender = new FrameSender({
      transport: this.transport,
      self: this.self,
      sign: this.sign,
      step1Cache: this.step1Cache,
      tracer: this.tracer,
      maxFrameBytes: this.maxFrameBytes,
      maxMessageBytes: this.maxMessageBytes,
      deflate: init.deflate ?? nativeDeflateRaw ?? 'inline',
      round: () => this.repairRound,
      isOpen: (conv) => this.convs.get(conv.id) === conv,
      canSync: (peer, id) => this.access.canSync(peer, id),
      persistError: (id, error) => this.persistError(id, error)
    });
    this.receiver = new FrameReceiver({
      tracer: this.tracer,
      parts: this.parts,
      sender: this.sender,
      verify: this.verify,
      inflate: init.inflate === 'inline' ? undefined : (init.inflate ?? nativeInflatePayload),
      verifier:
        init.envelopeChecks === 'inline'
          ? undefined
          : (deps.envelopeVerifier ?? createEnvelopeVerifier()),
      maxMessageBytes: this.maxMessageBytes,
      maxEphemeralBytes: this.maxEphemeralBytes,
      updateLimits: { ...DEFAULT_UPDATE_LIMITS, ...init.updateLimits },
      round: () => this.repairRound,
      isOpen: (conv) => this.convs.get(conv.id) === conv,
      connected: (peer) => this.transport.peers().includes(peer),
      canSync: (peer, id) => this.access.canSync(peer, id),
      misbehave: (peer, reason) => this.misbehave(peer, reason),
      banned: (peer) => this.bans.has(peer),
      emit: (event) => this.emit(event),
      persistError: (id, error) => this.persistError(id, error)
    });
    this.ownRuns = new OwnRuns({
      self: this.self,
      sign: this.sign,
      maxMergedBytes: Math.floor(this.maxMessageBytes / 2),
      persistError: (id, error) => this.persistError(id, error)
    });
    this.room = {
      self: this.self,
      transport: this.transport,
      access: this.access,
      bans: this.bans,
      parts: this.parts,
      sender: this.sender,
      convs: this.convs
    };
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.transport.start({
      peerUp: (peer) => peerUp(this.room, peer),
      incompatible: (peer) => this.emit({ type: 'incompatible', peer }),
      peerDown: (peer) => peerDown(this.room, peer),
      frame: (peer, bytes) => this.onFrame(peer, bytes),
      malformed: (peer, err) => this.misbehave(peer, err.message)
    });
    if (this.repairIntervalMs > 0) {
      this.repairTimer = setInterval(() => this.repair(), this.repairIntervalMs);
      // In Node (tests, benchmarks) the round must not keep the process alive.
      (this.repairTimer as { unref?: () => void }).unref?.();
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearInterval(this.repairTimer);
    this.repairTimer = undefined;
    await this.transport.stop();
    for (const id of [...this.convs.keys()]) this.close(id);
    // Everything said before stop() is stored when it returns.
    await this.history.flush();
  }

  async flush(): Promise<void> {
    // Frames whose signatures are still being checked are applied (and stored) first.
    for (let round = 0; round < 64; round++) {
      const checking: Promise<void>[] = [];
      for (const conv of this.convs.values()) {
        for (const unit of conv.units.values()) {
          if (unit.verifying !== undefined) checking.push(unit.verifying);
        }
      }
      if (checking.length === 0) break;
      await Promise.all(checking);
    }
    await this.history.flush();
  }

  async open(conversationId: string): Promise<Conversation> {
    if (!this.started) throw new SyncNotStartedError('sync is not started');
    checkConversationId(conversationId);
    const existing = this.convs.get(conversationId);
    if (existing !== undefined) return existing.conversation;
    let pending = this.opening.get(conversationId);
    if (pending === undefined) {
      pending = this.load(conversationId).finally(() => this.opening.delete(conversationId));
      this.opening.set(conversationId, pending);
    }
    return pending;
  }

  conversation(conversationId: string): Conversation | undefined {
    return this.convs.get(conversationId)?.conversation;
  }

  conversations(): string[] {
    return [...this.convs.keys()].sort();
  }

  close(conversationId: string): void {
    const conv = this.convs.get(conversationId);
    if (conv === undefined) return;
    this.convs.delete(conversationId);
    for (const unit of conv.units.values()) unit.detach();
    conv.conversation.destroy();
    conv.off();
    conv.set.close();
  }

  async delete(conversationId: string): Promise<void> {
    this.close(conversationId);
    await this.history.delete(conversationId);
    await this.legacy?.delete(conversationId);
  }

  resync(peer?: string): void {
    const peers = peer === undefined ? this.transport.peers() : [peer];
    for (const p of peers) peerUp(this.room, p);
  }

  sendEphemeral(conversationId: string, payload: Uint8Array): void {
    const conv = this.convs.get(conversationId);
    if (conv === undefined) throw new UnknownConversationError('conversation is not open');
    if (payload.byteLength > this.maxEphemeralBytes) {
      throw new InvalidInputError('ephemeral payload too large');
    }
    const bytes = encodeFrame({ type: FrameType.Ephemeral, conversationId, payload });
    for (const peer of conv.head.live) {
      if (this.access.canSync(peer, conversationId)) {
        this.transport.send(peer, bytes, { control: true, droppable: true });
      }
    }
  }

  messageStatus(conversationId: string, messageId: string): MessageStatus | undefined {
    return deliveryStatus(this.room, conversationId, messageId);
  }

  misbehaving(): string[] {
    return this.bans.list();
  }

  onEvent(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- conversations --------------------------------------------------------------------

  private async load(id: string): Promise<Conversation> {
    const set = await DocSet.open(id, this.history, this.legacy, {
      author: this.self,
      ...(this.random !== undefined ? { random: this.random } : {})
    });
    const conversation = await openConversation(set, {
      self: this.self,
      now: this.now,
      id,
      sign: this.sign,
      ...(this.messageVerify !== undefined ? { verify: this.messageVerify } : {})
    });
    const existing = this.convs.get(id);
    if (existing !== undefined || !this.started) {
      conversation.destroy();
      set.close();
      if (existing === undefined) throw new SyncNotStartedError('sync stopped');
      return existing.conversation;
    }
    const conv = createConversationState(id, set, conversation, {
      onUpdate: (u, update, origin, tr) => this.onDocUpdate(u, update, origin, tr),
      segmentAdded: (unit) => {
        // A segment the peers may have: ask every member connected for it.
        for (const peer of this.transport.peers()) {
          if (unit.asked.has(peer) || this.bans.has(peer)) continue;
          if (this.access.canSync(peer, id)) this.sender.step1(unit, peer);
        }
      }
    });
    this.convs.set(id, conv);
    for (const peer of this.transport.peers()) {
      if (this.bans.has(peer) || !this.access.canSync(peer, id)) continue;
      for (const unit of conv.units.values()) this.sender.step1(unit, peer);
    }
    return conversation;
  }

  private onDocUpdate(unit: Unit, update: Uint8Array, origin: unknown, tr: Y.Transaction): void {
    if (origin === LOAD_ORIGIN) return;
    const doc = unit.doc();
    const ids =
      unit.part === HEAD || doc === undefined
        ? []
        : changedMessageIds(tr, doc.getMap<unknown>('messages'));
    // Remote updates are stored and passed on by applyRemote (as they came), not from here.
    const t0 = this.tracer.begin();
    // The clocks it wrote are the transaction's: no need to read them from the update.
    const range = transactionRange(tr);
    const envelope = sealEnvelope(
      { author: this.self, wire: unit.wire, update },
      this.sign,
      range === undefined ? updateRange(update) : range
    );
    this.tracer.end('sign', t0, update.byteLength);
    this.sender.publish(unit, update, envelope, ids, undefined, true, tr);
    this.ownRuns.noted(unit);
  }

  // --- peers ----------------------------------------------------------------------------

  private misbehave(peer: string, reason: string): void {
    this.bans.ban(peer);
    peerDown(this.room, peer);
    this.transport.drop(peer, new MalformedFrameError(reason));
    this.emit({ type: 'peer-dropped', peer, reason });
  }

  /** The repair round (see sync-peers.ts repairAll). */
  private repair(): void {
    if (!this.started) return;
    repairAll(this.room, ++this.repairRound);
  }

  // --- frames ---------------------------------------------------------------------------

  private onFrame(peer: string, bytes: Uint8Array): void {
    if (!this.started || peer === this.self) return;
    if (this.bans.has(peer)) {
      this.transport.drop(peer, new Error('peer is ignored for misbehaving'));
      return;
    }
    let frame: Frame;
    const t0 = this.tracer.begin();
    try {
      frame = decodeFrame(bytes, this.maxFrameBytes);
    } catch (err) {
      this.tracer.end('decode', t0, bytes.byteLength);
      this.misbehave(peer, err instanceof Error ? err.message : 'malformed frame');
      return;
    }
    this.tracer.end('decode', t0, bytes.byteLength);
    const parsed = parseUnitId(frame.conversationId);
    const conv = parsed === undefined ? undefined : this.convs.get(parsed.conversationId);
    const unit = parsed === undefined ? undefined : conv?.units.get(parsed.part);
    // Unknown conversation, unknown segment and "not a member" get exactly the same answer.
    if (conv === undefined || unit === undefined || !this.access.canSync(peer, conv.id)) {
      if (frame.type !== FrameType.Error && frame.type !== FrameType.Ack) {
        this.sender.send(peer, errorFrame(frame.conversationId, SyncErrorCode.Unavailable));
      }
      return;
    }
    this.receiver.handle(unit, peer, frame.type, frame.payload);
  }

  private persistError(conversationId: string, error: unknown): void {
    this.emit({
      type: 'persist-error',
      conversationId,
      error: error instanceof Error ? error : new Error(String(error))
    });
  }

  private emit(event: SyncEvent): void {
    const t0 = this.tracer.begin();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break sync.
      }
    }
    this.tracer.end('events', t0);
  }
}

function checkConversationId(id: string): void {
  const bytes = new TextEncoder().encode(id).byteLength;
  // '#' separates a conversation from its segments on the wire (doc-set.ts unitId).
  if (bytes === 0 || bytes > MAX_ID_LENGTH - 8 || id.includes('#')) {
    throw new InvalidInputError('invalid conversation id');
  }
}

export { createMemberAccess } from './member-access.js';
export { unitId };
