/**
 * The sync service: keeps each open conversation's docs (head and message segments, see
 * doc-set.ts) in step with every connected member device. Each doc syncs on its own: a
 * state-vector handshake (step1 -> step2) when a channel comes up or a segment becomes known,
 * then live updates, acks (state vectors) and a repair round for lost frames. A segment not in
 * memory answers a step1 from its stored bytes and is loaded only when something arrives for
 * it, so reconnecting a long conversation costs a state vector per segment, not the history.
 */
import * as Y from 'yjs';
import type { Signer, Verifier } from '../crypto/signing.js';
import type { DocStore } from '../storage/doc-store.js';
import type { HistoryStore } from '../storage/history-store.js';
import {
  DEFAULT_MAX_EPHEMERAL_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MISBEHAVING_MS,
  DEFAULT_REPAIR_INTERVAL_MS,
  MAX_ID_LENGTH
} from './constants.js';
import { messageItem, openConversation, type Conversation } from './conversation.js';
import { changedMessageIds, DocSet, HEAD, LOAD_ORIGIN, parseUnitId, unitId } from './doc-set.js';
import {
  InvalidInputError,
  MalformedFrameError,
  SyncNotStartedError,
  UnknownConversationError
} from './errors.js';
import {
  decodeFrame,
  decodePart,
  encodeFrame,
  encodeParts,
  errorFrame,
  frameLength,
  FrameType,
  SyncErrorCode,
  type Frame
} from './protocol.js';
import { Reassembler } from './reassembly.js';
import type {
  MessageStatus,
  Sync,
  SyncAccess,
  SyncDeps,
  SyncEvent,
  SyncInit
} from './sync-types.js';
import { Tracer } from './tracer.js';
import type { FrameSendOptions, SyncTransport } from './transport.js';
import { createUnit, repairUnit, type ConversationState, type Unit } from './unit.js';

export type * from './sync-types.js';

export function createSync(init: SyncInit, deps: SyncDeps): Sync {
  return new SyncService(init, deps);
}

/** Origin of changes applied from a peer (so they are not echoed back to it). */
class RemoteOrigin {
  constructor(readonly peer: string) {}
}

class SyncService implements Sync {
  private readonly transport: SyncTransport;
  private readonly self: string;
  private readonly history: HistoryStore;
  private readonly legacy: DocStore | undefined;
  private readonly access: SyncAccess;
  private readonly sign: Signer | undefined;
  private readonly verify: Verifier | undefined;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxEphemeralBytes: number;
  private readonly misbehavingMs: number;
  private readonly now: () => number;
  private readonly parts = new Reassembler();
  private readonly convs = new Map<string, ConversationState>();
  private readonly opening = new Map<string, Promise<Conversation>>();
  private readonly banned = new Map<string, number>();
  private readonly listeners = new Set<(event: SyncEvent) => void>();
  private readonly ackQueue = new Map<string, { peer: string; unit: Unit }>();
  private ackScheduled = false;
  private started = false;
  private readonly repairIntervalMs: number;
  private repairTimer: ReturnType<typeof setInterval> | undefined;
  private repairRound = 0;
  private readonly tracer: Tracer;

  constructor(init: SyncInit, deps: SyncDeps) {
    this.transport = deps.transport;
    this.self = deps.self;
    this.history = deps.history;
    this.legacy = deps.legacy;
    this.access = deps.access;
    this.sign = deps.sign;
    this.verify = deps.verify;
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxEphemeralBytes = init.maxEphemeralBytes ?? DEFAULT_MAX_EPHEMERAL_BYTES;
    this.misbehavingMs = init.misbehavingMs ?? DEFAULT_MISBEHAVING_MS;
    this.now = init.now ?? Date.now;
    this.repairIntervalMs = init.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS;
    this.tracer = new Tracer(init.trace);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.transport.start({
      peerUp: (peer) => this.peerUp(peer),
      peerDown: (peer) => this.peerDown(peer),
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
    for (const p of peers) this.peerUp(p);
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
    const conv = this.convs.get(conversationId);
    if (conv === undefined) return undefined;
    if (conv.conversation.message(messageId) === undefined) return undefined;
    const receipt = conv.conversation.receiptStatus(messageId);
    if (receipt !== undefined) return receipt;
    const item = messageItem(conv.conversation, messageId);
    const unit = item === undefined ? undefined : conv.units.get(item.segment);
    if (item === undefined || unit === undefined) return 'pending';
    for (const [peer, sv] of unit.remote) {
      if (peer === this.self || !this.access.canSync(peer, conversationId)) continue;
      if ((sv.get(item.client) ?? 0) > item.clock) return 'sent';
    }
    return 'pending';
  }

  misbehaving(): string[] {
    const now = this.now();
    return [...this.banned].filter(([, until]) => until > now).map(([peer]) => peer);
  }

  onEvent(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- conversations --------------------------------------------------------------------

  private async load(id: string): Promise<Conversation> {
    const set = await DocSet.open(id, this.history, this.legacy);
    const conversation = await openConversation(set, {
      self: this.self,
      now: this.now,
      id,
      ...(this.sign !== undefined ? { sign: this.sign } : {}),
      ...(this.verify !== undefined ? { verify: this.verify } : {})
    });
    const existing = this.convs.get(id);
    if (existing !== undefined || !this.started) {
      conversation.destroy();
      set.close();
      if (existing === undefined) throw new SyncNotStartedError('sync stopped');
      return existing.conversation;
    }
    const conv: ConversationState = {
      id,
      set,
      conversation,
      units: new Map(),
      head: undefined as unknown as Unit,
      off: () => undefined
    };
    const unitOf = (part: number): Unit => {
      let unit = conv.units.get(part);
      if (unit === undefined) {
        unit = createUnit(conv, part, (u, update, origin, tr) =>
          this.onDocUpdate(u, update, origin, tr)
        );
        conv.units.set(part, unit);
      }
      return unit;
    };
    conv.head = unitOf(HEAD);
    conv.head.attach();
    for (const n of set.segments()) unitOf(n);
    for (const n of set.hotSegments()) unitOf(n).attach();
    set.canEvict = (part) => conv.units.get(part)?.busy() !== true;
    conv.off = set.subscribe({
      attached: (part) => unitOf(part).attach(),
      detached: (part) => conv.units.get(part)?.detach(),
      segmentAdded: (part) => {
        const unit = unitOf(part);
        // A segment the peers may have: ask every member connected for it.
        for (const peer of this.transport.peers()) {
          if (unit.asked.has(peer) || this.isBanned(peer)) continue;
          if (this.access.canSync(peer, id)) this.sendStep1(unit, peer);
        }
      }
    });
    this.convs.set(id, conv);
    for (const peer of this.transport.peers()) {
      if (this.isBanned(peer) || !this.access.canSync(peer, id)) continue;
      for (const unit of conv.units.values()) this.sendStep1(unit, peer);
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
    this.afterUpdate(unit, update, ids);
  }

  /** Stores an update of a doc and passes it on to the other members connected. */
  private afterUpdate(
    unit: Unit,
    update: Uint8Array,
    ids: string[],
    fromPeer?: string,
    forward = true
  ): void {
    const conv = unit.conv;
    const t1 = this.tracer.begin();
    try {
      conv.set.persist(unit.part, update, ids).catch((error: unknown) => {
        this.emit({
          type: 'persist-error',
          conversationId: conv.id,
          error: error instanceof Error ? error : new Error(String(error))
        });
      });
    } finally {
      this.tracer.end('store', t1, update.byteLength);
    }
    const frame: Frame = { type: FrameType.Update, conversationId: unit.wire, payload: update };
    const to = forward
      ? [...unit.live].filter((peer) => peer !== fromPeer && this.access.canSync(peer, conv.id))
      : [];
    if (to.length === 0) {
      // Nobody to send it to (e.g. the step2 of a catch-up): don't frame it (a copy of it).
      this.checkSendable(frame);
      return;
    }
    const t2 = this.tracer.begin();
    try {
      const frames = this.encode(frame);
      for (const peer of to) for (const bytes of frames) this.transport.send(peer, bytes);
    } finally {
      this.tracer.end('forward', t2, update.byteLength);
    }
  }

  // --- peers ----------------------------------------------------------------------------

  private peerUp(peer: string): void {
    if (peer === this.self) return;
    if (this.isBanned(peer)) {
      this.transport.drop(peer, new Error('peer is ignored for misbehaving'));
      return;
    }
    // Parts in flight stay (the peer's frames keep their order); a new gap may ask again.
    this.parts.forgetPeer(peer, false);
    // `live` is kept: the peer's own step1 may already have arrived on its new stream (both
    // sides open theirs on the same connection event, in any order).
    for (const conv of this.convs.values()) {
      if (!this.access.canSync(peer, conv.id)) continue;
      for (const unit of conv.units.values()) this.sendStep1(unit, peer);
    }
  }

  private peerDown(peer: string): void {
    this.parts.forgetPeer(peer, true);
    for (const conv of this.convs.values())
      for (const unit of conv.units.values()) unit.forget(peer);
  }

  private isBanned(peer: string): boolean {
    const until = this.banned.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.banned.delete(peer);
    return false;
  }

  private misbehave(peer: string, reason: string): void {
    this.banned.set(peer, this.now() + this.misbehavingMs);
    this.peerDown(peer);
    this.transport.drop(peer, new MalformedFrameError(reason));
    this.emit({ type: 'peer-dropped', peer, reason });
  }

  /** The repair round (see unit.ts repairUnit) over every doc of every open conversation. */
  private repair(): void {
    if (!this.started) return;
    const round = ++this.repairRound;
    // Peers with frames still waiting to be written are left alone: what was sent may still
    // arrive, and more would only pile up behind it.
    const connected = new Set(
      this.transport.peers().filter((p) => this.transport.backlog(p) === 0)
    );
    const arriving = this.parts.round();
    for (const conv of this.convs.values()) {
      for (const unit of conv.units.values()) {
        repairUnit(unit, round, {
          connected,
          arriving,
          canSync: (peer) => this.access.canSync(peer, conv.id),
          step1: (peer) => this.sendStep1(unit, peer),
          step2: (peer, payload) =>
            this.send(peer, { type: FrameType.Step2, conversationId: unit.wire, payload })
        });
      }
    }
  }

  private sendStep1(unit: Unit, peer: string): void {
    unit.asked.add(peer);
    if (!unit.awaiting.has(peer)) unit.awaiting.set(peer, { at: this.repairRound, tries: 0 });
    const send = (payload: Uint8Array): void =>
      this.send(peer, { type: FrameType.Step1, conversationId: unit.wire, payload });
    const sv = unit.conv.set.cachedStateVector(unit.part);
    if (sv !== undefined) {
      send(sv);
      return;
    }
    unit.conv.set.stateVector(unit.part).then(
      (v) => {
        if (this.convs.get(unit.conv.id) === unit.conv) send(v);
      },
      (error: unknown) => this.persistError(unit, error)
    );
  }

  private send(peer: string, frame: Frame): void {
    const t0 = this.tracer.begin();
    try {
      const frames = this.encode(frame);
      if (frame.type === FrameType.Step2) {
        const key = `step2\n${frame.conversationId}`;
        frames.forEach((bytes, i) => this.transport.send(peer, bytes, { key, replace: i === 0 }));
        return;
      }
      const options: FrameSendOptions =
        frame.type === FrameType.Update
          ? {}
          : { control: true, droppable: frame.type === FrameType.Ephemeral };
      for (const bytes of frames) this.transport.send(peer, bytes, options);
    } finally {
      this.tracer.end('send', t0, frame.payload.byteLength);
    }
  }

  /** One frame, or Part frames when a step2/update does not fit in one. */
  private encode(frame: Frame): Uint8Array[] {
    if (!this.checkSendable(frame)) return [encodeFrame(frame)];
    return encodeParts(frame, this.maxFrameBytes);
  }

  /** Whether the frame needs Parts; throws when it is too big even for them. */
  private checkSendable(frame: Frame): boolean {
    if (frameLength(frame.conversationId, frame.payload.byteLength) <= this.maxFrameBytes) {
      return false;
    }
    if (frame.payload.byteLength > this.maxMessageBytes) {
      throw new InvalidInputError('update larger than the sync message limit');
    }
    return true;
  }

  // --- frames ---------------------------------------------------------------------------

  private onFrame(peer: string, bytes: Uint8Array): void {
    if (!this.started || peer === this.self) return;
    if (this.isBanned(peer)) {
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
        this.send(peer, errorFrame(frame.conversationId, SyncErrorCode.Unavailable));
      }
      return;
    }
    this.handle(unit, peer, frame.type, frame.payload);
  }

  private handle(unit: Unit, peer: string, type: FrameType, payload: Uint8Array): void {
    const conv = unit.conv;
    switch (type) {
      case FrameType.Step1: {
        let sv: Map<number, number>;
        try {
          sv = Y.decodeStateVector(payload);
        } catch {
          this.misbehave(peer, 'malformed state vector');
          return;
        }
        unit.remote.set(peer, sv);
        unit.live.add(peer);
        if (!unit.asked.has(peer)) this.sendStep1(unit, peer);
        this.answerStep1(unit, peer, payload);
        this.emit({ type: 'status', conversationId: conv.id });
        return;
      }
      case FrameType.Step2:
      case FrameType.Update:
        if (isEmptyUpdate(payload) && unit.doc() === undefined && unit.waiting === undefined) {
          // Nothing in it (the peer has nothing we lack): no need to load the segment.
          if (type === FrameType.Step2) {
            unit.awaiting.delete(peer);
            this.parts.resolved(`${peer}\n${unit.wire}`);
            this.queueAck(peer, unit);
          }
          return;
        }
        this.withDoc(unit, () => this.applyFrame(unit, peer, type, payload));
        return;
      case FrameType.Ephemeral: {
        if (payload.byteLength > this.maxEphemeralBytes) {
          this.misbehave(peer, 'ephemeral payload too large');
          return;
        }
        if (unit.part !== HEAD) return;
        this.emit({ type: 'ephemeral', conversationId: conv.id, peer, payload });
        return;
      }
      case FrameType.Error: {
        unit.forget(peer);
        if (unit.part === HEAD) this.emit({ type: 'unavailable', conversationId: conv.id, peer });
        return;
      }
      case FrameType.Part: {
        const t0 = this.tracer.begin();
        let result;
        const key = `${peer}\n${unit.wire}`;
        try {
          result = this.parts.add(key, decodePart(payload, this.maxMessageBytes));
        } catch (err) {
          this.tracer.end('reassemble', t0);
          this.misbehave(peer, err instanceof Error ? err.message : 'malformed part');
          return;
        }
        this.tracer.end('reassemble', t0, payload.byteLength);
        if (result.type === 'gap') {
          // Lost frames: what the parts carried comes again by state vector. One such request
          // at a time per peer, or lossy links would answer gaps with ever more step2s.
          if (this.parts.askOnce(key)) this.sendStep1(unit, peer);
        } else if (result.type === 'done') {
          this.handle(unit, peer, result.inner as FrameType, result.payload);
        }
        return;
      }
      case FrameType.Ack: {
        try {
          unit.remote.set(peer, Y.decodeStateVector(payload));
        } catch {
          this.misbehave(peer, 'malformed state vector');
          return;
        }
        this.emit({ type: 'status', conversationId: conv.id });
        return;
      }
    }
  }

  /** Sends the step2 for a peer's step1: from the doc when it is in memory, else from storage. */
  private answerStep1(unit: Unit, peer: string, sv: Uint8Array): void {
    const doc = unit.doc();
    const reply = (diff: Uint8Array): void =>
      this.send(peer, { type: FrameType.Step2, conversationId: unit.wire, payload: diff });
    if (doc !== undefined) {
      const t0 = this.tracer.begin();
      const diff = Y.encodeStateAsUpdate(doc, sv);
      this.tracer.end('diff', t0, diff.byteLength);
      reply(diff);
      return;
    }
    unit.conv.set.diff(unit.part, sv).then(
      (diff) => {
        if (this.convs.get(unit.conv.id) === unit.conv && this.transport.peers().includes(peer)) {
          reply(diff);
        }
      },
      (error: unknown) => this.persistError(unit, error)
    );
  }

  /** Runs `fn` once the unit's doc is in memory (frames keep their order while it loads). */
  private withDoc(unit: Unit, fn: () => void): void {
    if (unit.waiting === undefined && unit.doc() !== undefined) {
      fn();
      return;
    }
    if (unit.waiting !== undefined) {
      unit.waiting.push(fn);
      return;
    }
    unit.waiting = [fn];
    unit.conv.set.warm(unit.part).then(
      () => {
        const queued = unit.waiting ?? [];
        unit.waiting = undefined;
        if (this.convs.get(unit.conv.id) !== unit.conv) return;
        for (const run of queued) run();
      },
      (error: unknown) => {
        unit.waiting = undefined;
        this.persistError(unit, error);
      }
    );
  }

  private applyFrame(unit: Unit, peer: string, type: FrameType, payload: Uint8Array): void {
    const conv = unit.conv;
    const doc = unit.doc();
    if (doc === undefined) return;
    if (type === FrameType.Step2) {
      if (!this.applyRemote(unit, peer, payload)) return;
      // A step2 we did not ask for is a repair push: the peer has what it carries. (One we
      // asked for answers our step1; the peer's own step1 already told us its state.)
      if (!unit.awaiting.delete(peer)) unit.noteRemoteHas(peer, payload);
      this.parts.resolved(`${peer}\n${unit.wire}`);
      unit.setResyncing(doc.store.pendingStructs !== null, this.repairRound);
      this.queueAck(peer, unit);
      if (unit.part === HEAD) this.emit({ type: 'synced', conversationId: conv.id, peer });
      this.emit({ type: 'status', conversationId: conv.id });
      return;
    }
    if (unit.resyncing) {
      // Applying more out-of-order updates on top of pending structs costs quadratic time:
      // wait for the step2 asked for instead (ask this peer too, once).
      if (!unit.asked.has(peer)) this.sendStep1(unit, peer);
      return;
    }
    if (!this.applyRemote(unit, peer, payload)) return;
    unit.noteRemoteHas(peer, payload);
    if (doc.store.pendingStructs !== null && unit.setResyncing(true, this.repairRound)) {
      this.sendStep1(unit, peer);
    }
    this.queueAck(peer, unit);
    this.emit({ type: 'status', conversationId: conv.id });
  }

  /**
   * Applies an untrusted update to a doc. It is stored and passed on, as it came, only once it
   * applied completely (and changed something). If it throws (a malformed or hostile update),
   * nothing of it is kept: the peer is dropped and the doc is reloaded from storage, which holds
   * everything before it. While it applies, the unit does not listen to the doc's 'update'
   * events: Yjs would encode the whole change again for them (for a catch-up's step2 that was
   * a good part of the apply), and the bytes are already here.
   * (No shadow copy: trying every update on a second doc doubled the cost of each apply and the
   * memory of each open conversation.)
   */
  private applyRemote(unit: Unit, peer: string, update: Uint8Array): boolean {
    // Nothing in it (the usual step2 from a peer that has nothing new): nothing to do.
    if (isEmptyUpdate(update)) return true;
    const doc = unit.doc();
    if (unit.reloading || doc === undefined) return false;
    const t1 = this.tracer.begin();
    let tr: Y.Transaction | undefined;
    const capture = (t: Y.Transaction): void => {
      tr = t;
    };
    unit.applying = true;
    unit.detach();
    doc.on('afterTransaction', capture);
    let failed = false;
    try {
      Y.applyUpdate(doc, update, new RemoteOrigin(peer));
    } catch {
      failed = true;
    } finally {
      doc.off('afterTransaction', capture);
      unit.applying = false;
      unit.attach();
    }
    this.tracer.end('apply', t1, update.byteLength);
    if (failed) {
      this.misbehave(peer, 'update failed to apply');
      void this.reload(unit);
      return false;
    }
    const done = tr as Y.Transaction | undefined;
    if (done !== undefined && (done.changed.size > 0 || done.deleteSet.clients.size > 0)) {
      const ids =
        unit.part === HEAD ? [] : changedMessageIds(done, doc.getMap<unknown>('messages'));
      // Part of it waits for changes we don't have (pending structs): stored, but not passed
      // on (the others would wait on the same gap; the repair round and step2s bring them what
      // applied here).
      const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      this.afterUpdate(unit, update, ids, peer, !pending);
    }
    return true;
  }

  /**
   * Replaces a doc with the one in storage (after an update failed to apply and may have left
   * it half-changed). Local changes are all stored, so nothing of this device's is lost; what
   * the failed update brought is not there. Then asks the members connected for what it lacks.
   */
  private async reload(unit: Unit): Promise<void> {
    unit.reloading = true;
    try {
      await unit.conv.set.reload(unit.part);
      unit.resyncing = false;
    } catch (error) {
      this.persistError(unit, error);
    } finally {
      unit.reloading = false;
    }
    for (const peer of unit.live) {
      if (this.access.canSync(peer, unit.conv.id)) this.sendStep1(unit, peer);
    }
  }

  private queueAck(peer: string, unit: Unit): void {
    this.ackQueue.set(`${peer}\n${unit.wire}`, { peer, unit });
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      this.ackScheduled = false;
      const queued = [...this.ackQueue.values()];
      this.ackQueue.clear();
      const t0 = this.tracer.begin();
      for (const { peer: p, unit: u } of queued) {
        const sv = u.conv.set.cachedStateVector(u.part);
        if (sv === undefined || this.convs.get(u.conv.id) !== u.conv) continue;
        if (!this.access.canSync(p, u.conv.id)) continue;
        this.send(p, { type: FrameType.Ack, conversationId: u.wire, payload: sv });
      }
      this.tracer.end('ack', t0);
    });
  }

  private persistError(unit: Unit, error: unknown): void {
    this.emit({
      type: 'persist-error',
      conversationId: unit.conv.id,
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

/** The v1 update of no structs and no deletions (what encodeStateAsUpdate gives for "nothing"). */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

function checkConversationId(id: string): void {
  const bytes = new TextEncoder().encode(id).byteLength;
  // '#' separates a conversation from its segments on the wire (doc-set.ts unitId).
  if (bytes === 0 || bytes > MAX_ID_LENGTH - 8 || id.includes('#')) {
    throw new InvalidInputError('invalid conversation id');
  }
}

/**
 * SyncAccess from the members map of each open conversation doc: a device may sync a
 * conversation it is listed in. `lookup` is usually `(id) => sync.conversation(id)`.
 */
export function createMemberAccess(
  lookup: (conversationId: string) => Conversation | undefined
): SyncAccess {
  return {
    canSync(peer, conversationId) {
      return lookup(conversationId)?.isMember(peer) ?? false;
    }
  };
}

export { unitId };
