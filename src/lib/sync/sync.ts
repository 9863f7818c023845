import * as Y from 'yjs';
import type { Signer, Verifier } from '../crypto/signing.js';
import type { DocStore } from '../storage/doc-store.js';
import {
  DEFAULT_MAX_EPHEMERAL_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MISBEHAVING_MS,
  DEFAULT_REPAIR_INTERVAL_MS,
  MAX_ID_LENGTH,
  RESYNC_GIVE_UP_ROUNDS
} from './constants.js';
import { createConversation, replaceDoc, type Conversation } from './conversation.js';
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
import type {
  MessageStatus,
  Sync,
  SyncAccess,
  SyncDeps,
  SyncEvent,
  SyncInit,
  SyncSpan,
  SyncTrace
} from './sync-types.js';
import type { FrameSendOptions, SyncTransport } from './transport.js';

export type * from './sync-types.js';

export function createSync(init: SyncInit, deps: SyncDeps): Sync {
  return new SyncService(init, deps);
}

/** Origin of changes applied from a peer (so they are not echoed back to it). */
class RemoteOrigin {
  constructor(readonly peer: string) {}
}
/** Origin of the state loaded from storage (not saved again, not broadcast). */
const LOAD_ORIGIN = Symbol('load');

interface ConversationState {
  id: string;
  doc: Y.Doc;
  conversation: Conversation;
  /**
   * While a remote update is being applied: the doc's 'update' events, held back until it
   * applied completely (a failing update must not be stored or passed on, even in part).
   */
  applying: Uint8Array[] | undefined;
  /** The doc is being reloaded from storage after an update failed: remote frames wait. */
  reloading: boolean;
  /** Peers that sent step1 (they hold the conversation): live updates go to them. */
  live: Set<string>;
  /** Peers that got our step1 since their channel came up. */
  asked: Set<string>;
  /** Latest state vector known per peer (step1, ack). */
  remote: Map<string, Map<number, number>>;
  /** Pending structs: live updates are ignored until a step2 fills the gap. */
  resyncing: boolean;
  /** Peers whose step2 answer to our step1 has not arrived yet: round asked in, tries. */
  awaiting: Map<string, { at: number; tries: number }>;
  /** Repair round in which `resyncing` began, and the round until which it may not begin again. */
  resyncSince: number;
  quietUntil: number;
  /** Per peer: its known state vector (encoded) at the last repair round, if it lacked ours. */
  behind: Map<string, string>;
  onUpdate: (update: Uint8Array, origin: unknown) => void;
}

class SyncService implements Sync {
  private readonly transport: SyncTransport;
  private readonly self: string;
  private readonly docs: DocStore;
  private readonly access: SyncAccess;
  private readonly sign: Signer | undefined;
  private readonly verify: Verifier | undefined;
  private readonly maxFrameBytes: number;
  private readonly maxMessageBytes: number;
  /** `${peer}\n${conversationId}` with a step1 sent because parts went missing. */
  private readonly gapResync = new Set<string>();
  /** Step2s/updates being reassembled from parts, per `${peer}\n${conversationId}`. */
  private readonly assembling = new Map<
    string,
    { inner: number; total: number; received: number; buf: Uint8Array }
  >();
  private readonly maxEphemeralBytes: number;
  private readonly misbehavingMs: number;
  private readonly now: () => number;
  private readonly convs = new Map<string, ConversationState>();
  private readonly opening = new Map<string, Promise<Conversation>>();
  private readonly banned = new Map<string, number>();
  private readonly listeners = new Set<(event: SyncEvent) => void>();
  private readonly ackQueue = new Set<string>();
  private ackScheduled = false;
  private started = false;
  private readonly repairIntervalMs: number;
  private repairTimer: ReturnType<typeof setInterval> | undefined;
  private repairRound = 0;
  /** Reassemblies in progress at the last repair round: `${key}` -> bytes received then. */
  private readonly assemblingSeen = new Map<string, number>();
  private readonly trace: SyncTrace | undefined;
  /** Per open span (tracing only): ms spent in the spans nested in it. */
  private readonly traceStack: number[] = [];

  constructor(init: SyncInit, deps: Required<Pick<SyncDeps, 'transport' | 'self'>> & SyncDeps) {
    this.transport = deps.transport;
    this.self = deps.self;
    this.docs = deps.docs;
    this.access = deps.access;
    this.sign = deps.sign;
    this.verify = deps.verify;
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = init.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxEphemeralBytes = init.maxEphemeralBytes ?? DEFAULT_MAX_EPHEMERAL_BYTES;
    this.misbehavingMs = init.misbehavingMs ?? DEFAULT_MISBEHAVING_MS;
    this.now = init.now ?? Date.now;
    this.repairIntervalMs = init.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS;
    this.trace = init.trace;
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
    const state = this.convs.get(conversationId);
    if (state === undefined) return;
    state.doc.off('update', state.onUpdate);
    state.conversation.destroy();
    this.convs.delete(conversationId);
  }

  async delete(conversationId: string): Promise<void> {
    this.close(conversationId);
    await this.docs.delete(conversationId);
  }

  resync(peer?: string): void {
    const peers = peer === undefined ? this.transport.peers() : [peer];
    for (const p of peers) this.peerUp(p);
  }

  sendEphemeral(conversationId: string, payload: Uint8Array): void {
    const state = this.convs.get(conversationId);
    if (state === undefined) throw new UnknownConversationError('conversation is not open');
    if (payload.byteLength > this.maxEphemeralBytes) {
      throw new InvalidInputError('ephemeral payload too large');
    }
    const bytes = encodeFrame({ type: FrameType.Ephemeral, conversationId, payload });
    for (const peer of state.live) {
      if (this.access.canSync(peer, conversationId)) {
        this.transport.send(peer, bytes, { control: true, droppable: true });
      }
    }
  }

  messageStatus(conversationId: string, messageId: string): MessageStatus | undefined {
    const state = this.convs.get(conversationId);
    if (state === undefined) return undefined;
    if (state.conversation.message(messageId) === undefined) return undefined;
    const receipt = state.conversation.receiptStatus(messageId);
    if (receipt !== undefined) return receipt;
    const map = state.doc.getMap('messages').get(messageId);
    const item = map instanceof Y.Map ? map._item : null;
    if (item === null) return 'pending';
    for (const [peer, sv] of state.remote) {
      if (peer === this.self || !this.access.canSync(peer, conversationId)) continue;
      if ((sv.get(item.id.client) ?? 0) > item.id.clock) return 'sent';
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
    const stored = await this.docs.load(id);
    const existing = this.convs.get(id);
    if (existing !== undefined) return existing.conversation;
    const doc = new Y.Doc();
    if (stored !== undefined) Y.applyUpdate(doc, stored, LOAD_ORIGIN);
    const state: ConversationState = {
      id,
      doc,
      conversation: createConversation(doc, {
        self: this.self,
        now: this.now,
        id,
        ...(this.sign !== undefined ? { sign: this.sign } : {}),
        ...(this.verify !== undefined ? { verify: this.verify } : {})
      }),
      applying: undefined,
      reloading: false,
      live: new Set(),
      asked: new Set(),
      remote: new Map(),
      resyncing: false,
      awaiting: new Map(),
      resyncSince: 0,
      quietUntil: 0,
      behind: new Map(),
      onUpdate: (update, origin) => this.onDocUpdate(state, update, origin)
    };
    doc.on('update', state.onUpdate);
    this.convs.set(id, state);
    for (const peer of this.transport.peers()) {
      if (!this.isBanned(peer) && this.access.canSync(peer, id)) this.sendStep1(state, peer);
    }
    return state.conversation;
  }

  private onDocUpdate(state: ConversationState, update: Uint8Array, origin: unknown): void {
    if (origin === LOAD_ORIGIN) return;
    const fromPeer = origin instanceof RemoteOrigin ? origin.peer : undefined;
    if (fromPeer !== undefined && state.applying !== undefined) {
      // Stored and passed on once the whole update applied (see applyRemote).
      state.applying.push(update);
      return;
    }
    this.afterUpdate(state, update, fromPeer);
  }

  /** Stores an update of the doc and passes it on to the other members connected. */
  private afterUpdate(state: ConversationState, update: Uint8Array, fromPeer?: string): void {
    const t1 = this.begin();
    try {
      this.docs.append(state.id, update).catch((error: unknown) => {
        this.emit({
          type: 'persist-error',
          conversationId: state.id,
          error: error instanceof Error ? error : new Error(String(error))
        });
      });
    } finally {
      this.end('store', t1, update.byteLength);
    }
    const frame: Frame = { type: FrameType.Update, conversationId: state.id, payload: update };
    const to = [...state.live].filter(
      (peer) => peer !== fromPeer && this.access.canSync(peer, state.id)
    );
    if (to.length === 0) {
      // Nobody to send it to (e.g. the step2 of a catch-up): don't frame it (a copy of it).
      this.checkSendable(frame);
      return;
    }
    const t2 = this.begin();
    try {
      const frames = this.encode(frame);
      for (const peer of to) {
        for (const bytes of frames) this.transport.send(peer, bytes);
      }
    } finally {
      this.end('forward', t2, update.byteLength);
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
    for (const key of [...this.gapResync]) {
      if (key.startsWith(`${peer}\n`)) this.gapResync.delete(key);
    }
    // `live` is kept: the peer's own step1 may already have arrived on its new stream (both
    // sides open theirs on the same connection event, in any order).
    for (const state of this.convs.values()) {
      if (this.access.canSync(peer, state.id)) this.sendStep1(state, peer);
    }
  }

  private peerDown(peer: string): void {
    this.forgetParts(peer);
    for (const state of this.convs.values()) this.forgetPeer(state, peer);
  }

  private forgetPeer(state: ConversationState, peer: string): void {
    state.live.delete(peer);
    state.asked.delete(peer);
    state.awaiting.delete(peer);
    state.behind.delete(peer);
  }

  private isBanned(peer: string): boolean {
    const until = this.banned.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.banned.delete(peer);
    return false;
  }

  private forgetParts(peer: string): void {
    for (const key of [...this.assembling.keys()]) {
      if (key.startsWith(`${peer}\n`)) this.assembling.delete(key);
    }
    for (const key of [...this.gapResync]) {
      if (key.startsWith(`${peer}\n`)) this.gapResync.delete(key);
    }
  }

  private misbehave(peer: string, reason: string): void {
    this.banned.set(peer, this.now() + this.misbehavingMs);
    this.forgetParts(peer);
    for (const state of this.convs.values()) this.forgetPeer(state, peer);
    this.transport.drop(peer, new MalformedFrameError(reason));
    this.emit({ type: 'peer-dropped', peer, reason });
  }

  /**
   * Repairs what frames lost on a connection that stays up would otherwise leave stuck for
   * good (the transport is best effort, and only a new connection runs the handshake again):
   * - a step1 of ours whose step2 has not come back is sent again after 2, 4, 8, then every 16
   *   rounds, unless its parts are still arriving;
   * - a reassembly that made no progress for a round is dropped (the step1 is asked again);
   * - while a resync waits for a step2 (pending structs), every connected member is asked 1, 2
   *   and 4 rounds after the gap appeared; after RESYNC_GIVE_UP_ROUNDS without success (nobody
   *   online has the missing changes) live updates apply again and nobody is asked for a while;
   * - a member whose acknowledged state vector lacks our changes for a whole round (its acks
   *   stopped moving: our updates were lost) gets them as a step2.
   * Costs one state vector per conversation and round when everything is in sync.
   */
  private repair(): void {
    if (!this.started) return;
    const round = ++this.repairRound;
    // Peers with frames still waiting to be written are left alone: what was sent may still
    // arrive, and more would only pile up behind it.
    const connected = new Set(
      this.transport.peers().filter((p) => this.transport.backlog(p) === 0)
    );
    const arriving = new Set<string>();
    for (const [key, a] of this.assembling) {
      if (this.assemblingSeen.get(key) !== a.received) {
        this.assemblingSeen.set(key, a.received);
        arriving.add(key);
      } else {
        this.assembling.delete(key); // stalled: its step1 is asked again below
      }
    }
    for (const key of [...this.assemblingSeen.keys()]) {
      if (!this.assembling.has(key)) this.assemblingSeen.delete(key);
    }
    for (const state of this.convs.values()) {
      if (state.resyncing && round - state.resyncSince >= RESYNC_GIVE_UP_ROUNDS) {
        state.resyncing = false;
        state.quietUntil = round + RESYNC_GIVE_UP_ROUNDS * 2;
      }
      const sinceResync = round - state.resyncSince;
      if (state.resyncing && (sinceResync & (sinceResync - 1)) === 0) {
        // Rounds 1, 2, 4 after the gap appeared: everyone online may have what is missing.
        for (const peer of state.live) {
          if (connected.has(peer) && this.access.canSync(peer, state.id)) {
            this.sendStep1(state, peer);
          }
        }
      }
      for (const [peer, wait] of state.awaiting) {
        if (!connected.has(peer) || !this.access.canSync(peer, state.id)) {
          state.awaiting.delete(peer);
          continue;
        }
        if (arriving.has(`${peer}\n${state.id}`)) continue;
        if (round - wait.at < 2 << Math.min(wait.tries, 3)) continue;
        state.awaiting.set(peer, { at: round, tries: wait.tries + 1 });
        this.sendStep1(state, peer);
      }
      if (state.live.size === 0) continue; // nobody to compare with (most conversations)
      const ours = Y.decodeStateVector(Y.encodeStateVector(state.doc));
      for (const peer of state.live) {
        const theirs = state.remote.get(peer);
        if (theirs === undefined || !connected.has(peer) || !this.access.canSync(peer, state.id)) {
          state.behind.delete(peer);
          continue;
        }
        // What they lack of ours, as of their last ack (their own progress does not count).
        const lacking = [...ours]
          .filter(([client, clock]) => (theirs.get(client) ?? 0) < clock)
          .map(([client]) => `${client}:${theirs.get(client) ?? 0}`)
          .join(',');
        if (lacking === '') {
          state.behind.delete(peer);
          continue;
        }
        if (state.behind.get(peer) !== lacking) {
          state.behind.set(peer, lacking);
          continue;
        }
        state.behind.delete(peer);
        this.send(peer, {
          type: FrameType.Step2,
          conversationId: state.id,
          payload: Y.encodeStateAsUpdate(state.doc, Y.encodeStateVector(theirs))
        });
      }
    }
  }

  private sendStep1(state: ConversationState, peer: string): void {
    state.asked.add(peer);
    if (!state.awaiting.has(peer)) state.awaiting.set(peer, { at: this.repairRound, tries: 0 });
    this.send(peer, {
      type: FrameType.Step1,
      conversationId: state.id,
      payload: Y.encodeStateVector(state.doc)
    });
  }

  private send(peer: string, frame: Frame): void {
    const t0 = this.begin();
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
      this.end('send', t0, frame.payload.byteLength);
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
    const t0 = this.begin();
    try {
      frame = decodeFrame(bytes, this.maxFrameBytes);
    } catch (err) {
      this.end('decode', t0, bytes.byteLength);
      this.misbehave(peer, err instanceof Error ? err.message : 'malformed frame');
      return;
    }
    this.end('decode', t0, bytes.byteLength);
    const id = frame.conversationId;
    const state = this.convs.get(id);
    // Unknown conversation and "not a member" get exactly the same answer.
    if (state === undefined || !this.access.canSync(peer, id)) {
      if (frame.type !== FrameType.Error && frame.type !== FrameType.Ack) {
        this.send(peer, errorFrame(id, SyncErrorCode.Unavailable));
      }
      return;
    }
    this.handle(state, peer, frame.type, frame.payload);
  }

  private handle(
    state: ConversationState,
    peer: string,
    type: FrameType,
    payload: Uint8Array
  ): void {
    const id = state.id;
    const frame = { payload };
    switch (type) {
      case FrameType.Step1: {
        let sv: Map<number, number>;
        let diff: Uint8Array;
        const t0 = this.begin();
        try {
          sv = Y.decodeStateVector(frame.payload);
          diff = Y.encodeStateAsUpdate(state.doc, frame.payload);
        } catch {
          this.end('diff', t0);
          this.misbehave(peer, 'malformed state vector');
          return;
        }
        this.end('diff', t0, diff.byteLength);
        state.remote.set(peer, sv);
        state.live.add(peer);
        this.send(peer, { type: FrameType.Step2, conversationId: id, payload: diff });
        if (!state.asked.has(peer)) this.sendStep1(state, peer);
        this.emit({ type: 'status', conversationId: id });
        return;
      }
      case FrameType.Step2: {
        if (!this.applyRemote(state, peer, frame.payload)) return;
        // A step2 we did not ask for is a repair push: the peer has what it carries. (One we
        // asked for answers our step1; the peer's own step1 already told us its state.)
        if (!state.awaiting.delete(peer)) this.noteRemoteHas(state, peer, frame.payload);
        this.gapResync.delete(`${peer}\n${id}`);
        this.setResyncing(state, state.doc.store.pendingStructs !== null);
        this.queueAck(peer, id);
        this.emit({ type: 'synced', conversationId: id, peer });
        this.emit({ type: 'status', conversationId: id });
        return;
      }
      case FrameType.Update: {
        if (state.resyncing) {
          // Applying more out-of-order updates on top of pending structs costs quadratic
          // time: wait for the step2 asked for instead (ask this peer too, once).
          if (!state.asked.has(peer)) this.sendStep1(state, peer);
          return;
        }
        if (!this.applyRemote(state, peer, frame.payload)) return;
        this.noteRemoteHas(state, peer, frame.payload);
        if (state.doc.store.pendingStructs !== null && this.setResyncing(state, true)) {
          this.sendStep1(state, peer);
        }
        this.queueAck(peer, id);
        this.emit({ type: 'status', conversationId: id });
        return;
      }
      case FrameType.Ephemeral: {
        if (frame.payload.byteLength > this.maxEphemeralBytes) {
          this.misbehave(peer, 'ephemeral payload too large');
          return;
        }
        this.emit({ type: 'ephemeral', conversationId: id, peer, payload: frame.payload });
        return;
      }
      case FrameType.Error: {
        state.live.delete(peer);
        // Ask again when the peer opens it later (its step1 then gets our step1 back); until
        // then the repair round leaves it alone.
        state.asked.delete(peer);
        state.awaiting.delete(peer);
        state.behind.delete(peer);
        this.emit({ type: 'unavailable', conversationId: id, peer });
        return;
      }
      case FrameType.Part: {
        let part;
        const t0 = this.begin();
        try {
          part = decodePart(frame.payload, this.maxMessageBytes);
        } catch (err) {
          this.end('reassemble', t0);
          this.misbehave(peer, err instanceof Error ? err.message : 'malformed part');
          return;
        }
        const key = `${peer}\n${id}`;
        let a = this.assembling.get(key);
        if (part.offset === 0) {
          a = {
            inner: part.inner,
            total: part.total,
            received: 0,
            buf: new Uint8Array(part.total)
          };
          this.assembling.set(key, a);
        }
        if (
          a === undefined ||
          a.inner !== part.inner ||
          a.total !== part.total ||
          a.received !== part.offset
        ) {
          // A gap (lost frames): what the parts carried comes again by state vector. One such
          // request at a time per peer, or lossy links would answer gaps with ever more step2s.
          this.end('reassemble', t0);
          this.assembling.delete(key);
          if (!this.gapResync.has(key)) {
            this.gapResync.add(key);
            this.sendStep1(state, peer);
          }
          return;
        }
        a.buf.set(part.chunk, part.offset);
        a.received += part.chunk.byteLength;
        this.end('reassemble', t0, part.chunk.byteLength);
        if (a.received === a.total) {
          this.assembling.delete(key);
          this.handle(state, peer, a.inner as FrameType, a.buf);
        }
        return;
      }
      case FrameType.Ack: {
        try {
          state.remote.set(peer, Y.decodeStateVector(frame.payload));
        } catch {
          this.misbehave(peer, 'malformed state vector');
          return;
        }
        this.emit({ type: 'status', conversationId: id });
        return;
      }
    }
  }

  /**
   * Applies an untrusted update to the doc. What it changes is stored and passed on only once
   * it applied completely. If it throws (a malformed or hostile update), nothing of it is kept:
   * the peer is dropped and the doc is reloaded from storage, which holds everything before it.
   * (No shadow copy: trying every update on a second doc doubled the cost of each apply and the
   * memory of each open conversation.)
   */
  private applyRemote(state: ConversationState, peer: string, update: Uint8Array): boolean {
    // Nothing in it (the usual step2 from a peer that has nothing new): nothing to do.
    if (isEmptyUpdate(update)) return true;
    if (state.reloading) return false;
    const t1 = this.begin();
    state.applying = [];
    let failed = false;
    try {
      Y.applyUpdate(state.doc, update, new RemoteOrigin(peer));
    } catch {
      failed = true;
    }
    const applied = state.applying;
    state.applying = undefined;
    this.end('apply', t1, update.byteLength);
    if (failed) {
      this.misbehave(peer, 'update failed to apply');
      void this.reload(state);
      return false;
    }
    for (const u of applied) this.afterUpdate(state, u, peer);
    return true;
  }

  /**
   * Replaces a conversation's doc with the one in storage (after an update failed to apply and
   * may have left the doc half-changed). Local changes are all stored, so nothing of this
   * device's is lost; what the failed update brought is not there. Then asks the members
   * connected for what it lacks.
   */
  private async reload(state: ConversationState): Promise<void> {
    state.reloading = true;
    try {
      const stored = await this.docs.load(state.id);
      if (this.convs.get(state.id) !== state) return;
      const doc = new Y.Doc();
      if (stored !== undefined) Y.applyUpdate(doc, stored, LOAD_ORIGIN);
      state.doc.off('update', state.onUpdate);
      const broken = state.doc;
      state.doc = doc;
      doc.on('update', state.onUpdate);
      replaceDoc(state.conversation, doc);
      broken.destroy();
      state.resyncing = false;
    } catch (error) {
      this.emit({
        type: 'persist-error',
        conversationId: state.id,
        error: error instanceof Error ? error : new Error(String(error))
      });
    } finally {
      state.reloading = false;
    }
    for (const peer of state.live) {
      if (this.access.canSync(peer, state.id)) this.sendStep1(state, peer);
    }
  }

  /** Enters or leaves the resync mode; false when it may not be entered now (just gave up). */
  private setResyncing(state: ConversationState, on: boolean): boolean {
    if (!on) {
      state.resyncing = false;
      return false;
    }
    if (state.resyncing) return true;
    if (this.repairRound < state.quietUntil) return false;
    state.resyncing = true;
    state.resyncSince = this.repairRound;
    return true;
  }

  /**
   * A peer that sent a live update has what it carries: its known state vector moves forward
   * (otherwise the repair round would send a one-way talker its own messages back).
   */
  private noteRemoteHas(state: ConversationState, peer: string, update: Uint8Array): void {
    const known = state.remote.get(peer);
    if (known === undefined) return;
    let carried: Map<number, number>;
    try {
      carried = Y.parseUpdateMeta(update).to;
    } catch {
      return; // it applied, so this does not happen; the repair round copes either way
    }
    for (const [client, clock] of carried) {
      if ((known.get(client) ?? 0) < clock) known.set(client, clock);
    }
  }

  private queueAck(peer: string, id: string): void {
    this.ackQueue.add(`${peer}\n${id}`);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      this.ackScheduled = false;
      const queued = [...this.ackQueue];
      this.ackQueue.clear();
      const t0 = this.begin();
      for (const entry of queued) {
        const nl = entry.indexOf('\n');
        const p = entry.slice(0, nl);
        const state = this.convs.get(entry.slice(nl + 1));
        if (state === undefined || !this.access.canSync(p, state.id)) continue;
        this.send(p, {
          type: FrameType.Ack,
          conversationId: state.id,
          payload: Y.encodeStateVector(state.doc)
        });
      }
      this.end('ack', t0);
    });
  }

  private emit(event: SyncEvent): void {
    const t0 = this.begin();
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure must not break sync.
      }
    }
    this.end('events', t0);
  }

  /** Starts a traced span: its start time (0 without a trace: no clock is read). */
  private begin(): number {
    if (this.trace === undefined) return 0;
    this.traceStack.push(0);
    return performance.now();
  }

  /** Ends the span begun at `t0`: reports its time minus that of the spans nested in it. */
  private end(span: SyncSpan, t0: number, bytes?: number): void {
    if (this.trace === undefined) return;
    const ms = performance.now() - t0;
    const nested = this.traceStack.pop() ?? 0;
    const depth = this.traceStack.length;
    if (depth > 0) this.traceStack[depth - 1] = (this.traceStack[depth - 1] as number) + ms;
    try {
      this.trace(span, ms - nested, bytes);
    } catch {
      // An observer's failure must not break sync.
    }
  }
}

/** The v1 update of no structs and no deletions (what encodeStateAsUpdate gives for "nothing"). */
function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}

function checkConversationId(id: string): void {
  const bytes = new TextEncoder().encode(id).byteLength;
  if (bytes === 0 || bytes > MAX_ID_LENGTH) throw new InvalidInputError('invalid conversation id');
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
