/**
 * The sync service's inbound side, per doc (unit): answering step1s (sender.step2: the stored
 * envelopes the peer lacks), admitting and applying the envelopes of step2s and updates
 * (signatures checked, the segment loaded first; frames keep their order meanwhile:
 * frame-order.ts), reassembled Parts, acks, refusals, and reloading a doc an update broke.
 */
import * as Y from 'yjs';
import { admit } from './authored.js';
import { changedMessageIds, HEAD, stateMoved } from './doc-ids.js';
import type { Envelope } from './envelope.js';
import type { Checked, DataType, Opened } from './data-frames.js';
import * as frames from './data-frames.js';
import { UpdateRejectedError } from './errors.js';
import { afterTurn, whenLoaded } from './frame-order.js';
import { decodePart, FrameType } from './protocol.js';
import type { ReceiverHost } from './receiver-host.js';
import type { Unit } from './unit.js';
export type { ReceiverHost } from './receiver-host.js';
import { inspectUpdate, type UpdateSummary } from './update-check.js';

type Inspected = UpdateSummary | 'pending' | 'stop';
type Applied = 'applied' | 'have' | 'pending' | 'stop';

/** Origin of changes applied from a peer. */
export class RemoteOrigin {
  constructor(readonly peer: string) {}
}

/** Passes over a step2's envelopes that wait on each other (see applyStep2). */
const MAX_STEP2_PASSES = 8;

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
        // Answered with the envelopes it lacks.
        this.host.sender.step2(unit, peer, payload);
        this.host.emit({ type: 'status', conversationId: conv.id });
        return;
      }
      case FrameType.Step2:
      case FrameType.Update:
        this.data(unit, peer, type, payload);
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
      case FrameType.Deflated:
        this.deflated(unit, peer, payload);
        return;
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

  /**
   * A step2 or an update: its envelopes opened (one that is not an envelope of this doc drops
   * the peer), their signatures checked, then applied once the doc is in memory. With an
   * asynchronous verifier (host.verifier) the checks run at once and the applying waits for
   * the frames of the doc before it; a bad signature drops the peer. Without one, applied at
   * once (admit() checks each signature itself).
   */
  private data(unit: Unit, peer: string, type: DataType, payload: Uint8Array): void {
    const opened = frames.openEnvelopes(unit.wire, type, payload);
    if (typeof opened === 'string') {
      this.host.misbehave(peer, opened);
      return;
    }
    if (
      type === FrameType.Step2 &&
      opened.length === 0 &&
      unit.doc() === undefined &&
      unit.waiting === undefined
    ) {
      // Nothing in it (the peer has nothing we lack): no need to load the segment.
      unit.awaiting.delete(peer);
      this.host.parts.resolved(`${peer}\n${unit.wire}`);
      this.host.sender.ack(peer, unit);
      return;
    }
    const verifier = this.host.verifier;
    if (verifier === undefined) {
      this.apply(unit, peer, type, opened, false);
      return;
    }
    const t0 = this.host.tracer.now();
    this.inTurn(unit, peer, frames.checkSignatures(verifier, type, opened, this.host.tracer, t0));
  }

  /**
   * A Deflated frame: inflated with the platform's INFLATE when there is one (host.inflate,
   * asynchronous: the inflating and the signature checks run at once, the applying waits for
   * the frames of the doc before it), with fflate within the frame's handling otherwise.
   */
  private deflated(unit: Unit, peer: string, payload: Uint8Array): void {
    const { inflate, verifier } = this.host;
    if (inflate === undefined || verifier === undefined) {
      const inflated = frames.inflateNow(payload, this.host.maxMessageBytes, this.host.tracer);
      if (typeof inflated === 'string') this.host.misbehave(peer, inflated);
      else this.data(unit, peer, inflated.inner, inflated.payload);
      return;
    }
    const work = frames.inflateAndCheck(payload, {
      inflate,
      verifier,
      wire: unit.wire,
      maxMessageBytes: this.host.maxMessageBytes,
      tracer: this.host.tracer
    });
    this.inTurn(unit, peer, work);
  }

  /**
   * Applies what `work` checked once every earlier turn of the doc has run (frame-order.ts); a
   * string drops the peer. Nothing of a peer dropped meanwhile is applied.
   */
  private inTurn(unit: Unit, peer: string, work: Promise<Checked>): void {
    afterTurn(
      unit,
      work,
      (checked) => {
        if (!this.host.isOpen(unit.conv) || this.host.banned(peer)) return;
        if (typeof checked === 'string') this.host.misbehave(peer, checked);
        else this.apply(unit, peer, checked.type, checked.opened, true);
      },
      (error) => this.host.persistError(unit.conv.id, error)
    );
  }

  /** Applies a data frame's envelopes once the doc is in memory. */
  private apply(
    unit: Unit,
    peer: string,
    type: DataType,
    opened: Opened[],
    checked: boolean
  ): void {
    this.withDoc(unit, () =>
      type === FrameType.Step2
        ? this.applyStep2(unit, peer, opened, checked)
        : this.applyUpdate(unit, peer, opened[0]!, checked)
    );
  }

  /** Runs `fn` once the unit's doc is in memory (frames keep their order while it loads). */
  private withDoc(unit: Unit, fn: () => void): void {
    whenLoaded(unit, fn, {
      isOpen: (conv) => this.host.isOpen(conv),
      failed: (error) => this.host.persistError(unit.conv.id, error)
    });
  }

  /**
   * A step2: the envelopes the peer found we lack, applied one by one in the order they came.
   * One that needs changes another brings (a reaction on a message further on) is tried
   * again after the others, a few passes at most; what still waits comes again with the next
   * step1 (the repair round asks).
   */
  private applyStep2(unit: Unit, peer: string, list: Opened[], checked: boolean): void {
    const conv = unit.conv;
    const doc = unit.doc();
    if (doc === undefined || unit.reloading) return;
    let todo = list;
    for (let pass = 0; todo.length > 0 && pass < MAX_STEP2_PASSES; pass++) {
      const next: Opened[] = [];
      let progress = false;
      for (const one of todo) {
        const outcome = this.applyEnvelope(unit, peer, one, checked);
        if (outcome === 'stop') return;
        if (outcome === 'pending') next.push(one);
        else if (outcome === 'applied') progress = true;
      }
      todo = next;
      if (!progress) break;
    }
    this.host.parts.resolved(`${peer}\n${unit.wire}`);
    if (todo.length > 0) {
      // Still waiting on changes nobody sent yet: ask this peer again in a while.
      unit.awaiting.set(peer, { at: this.host.round(), tries: 0 });
    } else {
      unit.awaiting.delete(peer);
    }
    unit.setResyncing(false, this.host.round());
    this.host.sender.ack(peer, unit);
    if (unit.part === HEAD) this.host.emit({ type: 'synced', conversationId: conv.id, peer });
    this.host.emit({ type: 'status', conversationId: conv.id });
  }

  private applyUpdate(unit: Unit, peer: string, one: Opened, checked: boolean): void {
    const outcome = this.applyEnvelope(unit, peer, one, checked);
    if (outcome === 'stop') return;
    if (outcome === 'pending') {
      // It needs changes we lack (a frame lost on a replaced stream, or it overtook the one
      // it builds on): the peer's step2 brings them, with this one.
      if (!unit.awaiting.has(peer)) this.host.sender.step1(unit, peer);
      return;
    }
    this.host.sender.ack(peer, unit);
    this.host.emit({ type: 'status', conversationId: unit.conv.id });
  }

  /**
   * Admits and applies one envelope (authored.ts): its structure first (update-check.ts), then
   * its signature and the author's write rights. `pending`: it needs changes the doc lacks;
   * `stop`: the peer was dropped (or the doc is being reloaded), stop handling its frame.
   */
  private applyEnvelope(unit: Unit, peer: string, opened: Opened, checked: boolean): Applied {
    const { bytes, env } = opened;
    const doc = unit.doc();
    if (unit.reloading || doc === undefined) return 'stop';
    const inspected = this.inspect(doc, peer, env.update);
    if (typeof inspected === 'string') return inspected;
    const t0 = this.host.tracer.begin();
    const verdict = admit(env, {
      wire: unit.wire,
      doc,
      kind: unit.part === HEAD ? 'head' : 'segment',
      isMember: (p) => unit.conv.conversation.isMember(p),
      verify: this.host.verify,
      inspected,
      signatureChecked: checked
    });
    this.host.tracer.end('check', t0, bytes.byteLength);
    if (!verdict.ok) {
      if (verdict.pending) return 'pending';
      this.host.misbehave(peer, verdict.reason);
      return 'stop';
    }
    unit.noteRemoteHas(peer, inspected.ranges);
    if (!verdict.fresh) return 'have';
    return this.applyRemote(unit, peer, env, bytes) ? 'applied' : 'stop';
  }

  /**
   * Applies an admitted update to its doc. It is stored and passed on, in the envelope it came
   * in, only once it applied completely (and changed something). If it throws, nothing of it
   * is kept: the peer is dropped and the doc is reloaded from storage, which holds everything
   * before it. While it applies, the unit does not listen to the doc's 'update' events: Yjs
   * would encode the whole change again for them, and the bytes are already here.
   */
  private applyRemote(unit: Unit, peer: string, env: Envelope, bytes: Uint8Array): boolean {
    const doc = unit.doc() as Y.Doc;
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
      Y.applyUpdate(doc, env.update, new RemoteOrigin(peer));
    } catch {
      failed = true;
    } finally {
      doc.off('afterTransaction', capture);
      unit.applying = false;
      unit.attach();
    }
    this.host.tracer.end('apply', t1, env.update.byteLength);
    if (failed) {
      this.host.misbehave(peer, 'update failed to apply');
      void this.reload(unit);
      return false;
    }
    const done = tr as Y.Transaction | undefined;
    // Only what changed the doc is stored and passed on (a deletions-only envelope that came
    // again would otherwise go round the members for ever). A step2's envelopes go on too.
    if (done !== undefined && (done.deleteSet.clients.size > 0 || stateMoved(done))) {
      const ids =
        unit.part === HEAD ? [] : changedMessageIds(done, doc.getMap<unknown>('messages'));
      this.host.sender.publish(unit, env.update, bytes, ids, peer, true, done);
    }
    return true;
  }

  /**
   * Checks an update's structure before Yjs sees it (update-check.ts); returns what it read.
   * A refused update is not applied, stored or passed on, and its sender is dropped like any
   * sender of a bad frame. A gap (changes it needs are missing here) is `pending`.
   */
  private inspect(doc: Y.Doc, peer: string, bytes: Uint8Array): Inspected {
    const t0 = this.host.tracer.begin();
    try {
      return inspectUpdate(bytes, doc, this.host.updateLimits);
    } catch (err) {
      if (!(err instanceof UpdateRejectedError)) throw err;
      if (err.gap) return 'pending';
      this.host.misbehave(peer, err.message);
      return 'stop';
    } finally {
      this.host.tracer.end('inspect', t0, bytes.byteLength);
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
