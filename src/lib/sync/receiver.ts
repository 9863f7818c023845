/**
 * The sync service's inbound side, per doc (unit): answering step1s (from the doc, or from
 * storage for a segment not in memory), applying step2s and updates (loading the segment
 * first; frames keep their order meanwhile), reassembled Parts, acks, refusals, and reloading a
 * doc an update broke.
 */
import * as Y from 'yjs';
import type { SyncEvent } from './sync-types.js';
import { changedMessageIds, HEAD } from './doc-set.js';
import type { UpdateLimits } from './constants.js';
import { UpdateRejectedError } from './errors.js';
import { type Inflated, inflatePayload } from './deflate.js';
import { decodePart, FrameType } from './protocol.js';
import type { Reassembler } from './reassembly.js';
import type { Step1Cache } from './step1-cache.js';
import type { FrameSender } from './sender.js';
import type { Tracer } from './tracer.js';
import type { ConversationState, Unit } from './unit.js';
import { inspectUpdate } from './update-check.js';

/** Origin of changes applied from a peer. */
export class RemoteOrigin {
  constructor(readonly peer: string) {}
}

/** What the receiver needs from the sync service. */
export interface ReceiverHost {
  readonly tracer: Tracer;
  readonly parts: Reassembler;
  readonly step1Cache: Step1Cache;
  readonly sender: FrameSender;
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
  emit(event: SyncEvent): void;
  persistError(conversationId: string, error: unknown): void;
}

export class FrameReceiver {
  constructor(private readonly host: ReceiverHost) {}

  handle(unit: Unit, peer: string, type: FrameType, payload: Uint8Array): void {
    const conv = unit.conv;
    switch (type) {
      case FrameType.Step1: {
        let sv: Map<number, number>;
        try {
          sv = Y.decodeStateVector(payload);
        } catch {
          this.host.misbehave(peer, 'malformed state vector');
          return;
        }
        unit.remote.set(peer, sv);
        unit.live.add(peer);
        if (!unit.asked.has(peer)) this.host.sender.step1(unit, peer);
        this.answerStep1(unit, peer, payload);
        this.host.emit({ type: 'status', conversationId: conv.id });
        return;
      }
      case FrameType.Step2:
      case FrameType.Update:
        if (isEmptyUpdate(payload) && unit.doc() === undefined && unit.waiting === undefined) {
          // Nothing in it (the peer has nothing we lack): no need to load the segment.
          if (type === FrameType.Step2) {
            unit.awaiting.delete(peer);
            this.host.parts.resolved(`${peer}\n${unit.wire}`);
            this.host.sender.ack(peer, unit);
          }
          return;
        }
        this.withDoc(unit, () => this.applyFrame(unit, peer, type, payload));
        return;
      case FrameType.Ephemeral: {
        if (payload.byteLength > this.host.maxEphemeralBytes) {
          this.host.misbehave(peer, 'ephemeral payload too large');
          return;
        }
        if (unit.part !== HEAD) return;
        this.host.emit({ type: 'ephemeral', conversationId: conv.id, peer, payload });
        return;
      }
      case FrameType.Error: {
        unit.forget(peer);
        if (unit.part === HEAD)
          this.host.emit({ type: 'unavailable', conversationId: conv.id, peer });
        return;
      }
      case FrameType.Part: {
        const t0 = this.host.tracer.begin();
        let result;
        const key = `${peer}\n${unit.wire}`;
        try {
          result = this.host.parts.add(key, decodePart(payload, this.host.maxMessageBytes));
        } catch (err) {
          this.host.tracer.end('reassemble', t0);
          this.host.misbehave(peer, err instanceof Error ? err.message : 'malformed part');
          return;
        }
        this.host.tracer.end('reassemble', t0, payload.byteLength);
        if (result.type === 'over-budget') {
          this.host.misbehave(peer, 'too many bytes of parts assembling');
        } else if (result.type === 'gap') {
          // Lost frames: what the parts carried comes again by state vector. One such request
          // at a time per peer, or lossy links would answer gaps with ever more step2s.
          if (this.host.parts.askOnce(key)) this.host.sender.step1(unit, peer);
        } else if (result.type === 'done') {
          this.handle(unit, peer, result.inner as FrameType, result.payload);
        }
        return;
      }
      case FrameType.Deflated: {
        const t0 = this.host.tracer.begin();
        let inflated: Inflated;
        try {
          inflated = inflatePayload(payload, this.host.maxMessageBytes);
        } catch (err) {
          this.host.tracer.end('inflate', t0);
          this.host.misbehave(
            peer,
            err instanceof Error ? err.message : 'malformed deflated frame'
          );
          return;
        }
        this.host.tracer.end('inflate', t0, payload.byteLength);
        this.handle(unit, peer, inflated.inner, inflated.payload);
        return;
      }
      case FrameType.Ack: {
        try {
          unit.remote.set(peer, Y.decodeStateVector(payload));
        } catch {
          this.host.misbehave(peer, 'malformed state vector');
          return;
        }
        this.host.emit({ type: 'status', conversationId: conv.id });
        return;
      }
    }
  }

  /** Sends the step2 for a peer's step1: from the doc when it is in memory, else from storage. */
  private answerStep1(unit: Unit, peer: string, sv: Uint8Array): void {
    const doc = unit.doc();
    const reply = (diff: Uint8Array): void =>
      this.host.sender.send(peer, {
        type: FrameType.Step2,
        conversationId: unit.wire,
        payload: diff
      });
    // Identical step1s (the same peer asking again, or a stranger repeating an empty state
    // vector) are answered from the cache while the doc is unchanged: no new full encode.
    const answer = this.host.step1Cache.answer(unit, sv, () => {
      if (doc === undefined) return unit.conv.set.diff(unit.part, sv);
      const t0 = this.host.tracer.begin();
      const diff = Y.encodeStateAsUpdate(doc, sv);
      this.host.tracer.end('diff', t0, diff.byteLength);
      return diff;
    });
    if (answer instanceof Uint8Array) {
      reply(answer);
      return;
    }
    answer.then(
      (diff) => {
        if (this.host.isOpen(unit.conv) && this.host.connected(peer)) {
          reply(diff);
        }
      },
      (error: unknown) => this.host.persistError(unit.conv.id, error)
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
        if (!this.host.isOpen(unit.conv)) return;
        for (const run of queued) run();
      },
      (error: unknown) => {
        unit.waiting = undefined;
        this.host.persistError(unit.conv.id, error);
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
      this.host.parts.resolved(`${peer}\n${unit.wire}`);
      unit.setResyncing(doc.store.pendingStructs !== null, this.host.round());
      this.host.sender.ack(peer, unit);
      if (unit.part === HEAD) this.host.emit({ type: 'synced', conversationId: conv.id, peer });
      this.host.emit({ type: 'status', conversationId: conv.id });
      return;
    }
    if (unit.resyncing) {
      // Applying more out-of-order updates on top of pending structs costs quadratic time:
      // wait for the step2 asked for instead (ask this peer too, once).
      if (!unit.asked.has(peer)) this.host.sender.step1(unit, peer);
      return;
    }
    if (!this.applyRemote(unit, peer, payload, true)) return;
    unit.noteRemoteHas(peer, payload);
    if (doc.store.pendingStructs !== null && unit.setResyncing(true, this.host.round())) {
      this.host.sender.step1(unit, peer);
    }
    this.host.sender.ack(peer, unit);
    this.host.emit({ type: 'status', conversationId: conv.id });
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
  private applyRemote(unit: Unit, peer: string, update: Uint8Array, live = false): boolean {
    // Nothing in it (the usual step2 from a peer that has nothing new): nothing to do.
    if (isEmptyUpdate(update)) return true;
    const doc = unit.doc();
    if (unit.reloading || doc === undefined) return false;
    if (!this.inspect(unit, doc, peer, update, live)) return false;
    const t1 = this.host.tracer.begin();
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
    this.host.tracer.end('apply', t1, update.byteLength);
    if (failed) {
      this.host.misbehave(peer, 'update failed to apply');
      void this.reload(unit);
      return false;
    }
    const done = tr as Y.Transaction | undefined;
    // A change is also structs that change no type (GC structs, which step2s carry for deleted
    // content): the state vector moved, so they are stored and passed on like the rest, or
    // members would disagree on state vectors and the doc in memory on what storage holds.
    if (
      done !== undefined &&
      (done.changed.size > 0 || done.deleteSet.clients.size > 0 || stateMoved(done))
    ) {
      const ids =
        unit.part === HEAD ? [] : changedMessageIds(done, doc.getMap<unknown>('messages'));
      // Part of it waits for changes we don't have (pending structs): stored, but not passed
      // on (the others would wait on the same gap; the repair round and step2s bring them what
      // applied here).
      const pending = doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
      this.host.sender.publish(unit, update, ids, peer, !pending, done);
    }
    return true;
  }

  /**
   * Checks an update's structure before Yjs sees it (update-check.ts). A refused update is not
   * applied, stored or passed on, and its sender is dropped like any sender of a bad frame.
   * A gap (changes it needs are missing here) is no misbehaviour: a frame lost with a
   * replaced stream causes it too. A live update with a gap is dropped and the peer asked for
   * a step2 (which carries all that is missing, gap-free); a step2 with a gap (the peer's own
   * pending changes) waits for the next repair round.
   */
  private inspect(
    unit: Unit,
    doc: Y.Doc,
    peer: string,
    update: Uint8Array,
    live: boolean
  ): boolean {
    const t0 = this.host.tracer.begin();
    try {
      inspectUpdate(update, doc, this.host.updateLimits);
      return true;
    } catch (err) {
      if (!(err instanceof UpdateRejectedError)) throw err;
      if (!err.gap) this.host.misbehave(peer, err.message);
      else if (live && !unit.awaiting.has(peer)) this.host.sender.step1(unit, peer);
      return false;
    } finally {
      this.host.tracer.end('inspect', t0, update.byteLength);
    }
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
      this.host.persistError(unit.conv.id, error);
    } finally {
      unit.reloading = false;
    }
    for (const peer of unit.live) {
      if (this.host.canSync(peer, unit.conv.id)) this.host.sender.step1(unit, peer);
    }
  }
}

/** Whether a transaction added structs (of any kind) to the doc. */
function stateMoved(tr: Y.Transaction): boolean {
  if (tr.afterState.size !== tr.beforeState.size) return true;
  for (const [client, clock] of tr.afterState) {
    if (tr.beforeState.get(client) !== clock) return true;
  }
  return false;
}

/** The v1 update of no structs and no deletions (what encodeStateAsUpdate gives for "nothing"). */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 2 && update[0] === 0 && update[1] === 0;
}
