/**
 * The sync service's outbound side: framing (Parts for what does not fit in one frame), the
 * send options per frame type, step1s (state vectors, read from storage for a segment not in
 * memory), acks coalesced per microtask, and storing + forwarding a doc's updates.
 */
import * as Y from 'yjs';
import type { Signer } from '../crypto/signing.js';
import { lacking, step2Payloads } from './authored.js';
import { deflateFrame, deflateFrameAsync, type DeflateRaw, wantsDeflate } from './deflate.js';
import { InvalidInputError } from './errors.js';
import { encodeFrame, encodeParts, frameLength, FrameType, type Frame } from './protocol.js';
import type { Step1Cache } from './step1-cache.js';
import type { Tracer } from './tracer.js';
import type { FrameSendOptions, SyncTransport } from './transport.js';
import type { ConversationState, Unit } from './unit.js';

/** What the sender needs from the sync service. */
export interface SenderHost {
  readonly transport: SyncTransport;
  /** This device (the author of what it seals) and its signer. */
  readonly self: string;
  readonly sign: Signer;
  readonly step1Cache: Step1Cache;
  readonly tracer: Tracer;
  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
  /** Compresses asynchronously, or 'inline' (fflate, within the send call): SyncInit.deflate. */
  readonly deflate: DeflateRaw | 'inline';
  /** The current repair round (when a step1 was asked). */
  round(): number;
  /** Whether the conversation is still the open one (not closed or reopened meanwhile). */
  isOpen(conv: ConversationState): boolean;
  canSync(peer: string, conversationId: string): boolean;
  /** Storage failed: reported as a 'persist-error' event. */
  persistError(conversationId: string, error: unknown): void;
}

/** A frame's encodings, made once for all the peers it goes to. */
interface Encodings {
  plain?: Uint8Array[];
  compressed?: Uint8Array[] | Promise<Uint8Array[]>;
}

export class FrameSender {
  private readonly ackQueue = new Map<string, { peer: string; unit: Unit }>();
  private ackScheduled = false;
  /**
   * Per peer, the frames still being compressed, in send order: every later frame to that peer
   * waits behind them, so a peer reads frames in the order they were sent.
   */
  private readonly pending = new Map<string, Promise<void>>();

  constructor(private readonly host: SenderHost) {}

  send(peer: string, frame: Frame): void {
    const t0 = this.host.tracer.begin();
    try {
      this.dispatch(peer, frame, {});
    } finally {
      this.host.tracer.end('send', t0, frame.payload.byteLength);
    }
  }

  /**
   * Hands `frame` to the transport for `peer`: compressed when the peer reads that, after
   * every frame sent to `peer` before it. `enc` keeps the encodings for the next peer.
   */
  private dispatch(peer: string, frame: Frame, enc: Encodings): void {
    const frames = this.compresses(peer, frame)
      ? (enc.compressed ??= this.compress(frame))
      : (enc.plain ??= this.encode(frame));
    if (frames instanceof Promise || this.pending.has(peer)) {
      this.later(peer, frame, Promise.resolve(frames));
    } else {
      this.put(peer, frame, frames);
    }
  }

  /** Hands `frame`'s encoded bytes to the transport, with the send options of its type. */
  private put(peer: string, frame: Frame, frames: Uint8Array[]): void {
    const { transport } = this.host;
    if (frame.type === FrameType.Step2) {
      const key = `step2\n${frame.conversationId}`;
      frames.forEach((bytes, i) => transport.send(peer, bytes, { key, replace: i === 0 }));
      return;
    }
    const options: FrameSendOptions =
      frame.type === FrameType.Update
        ? {}
        : { control: true, droppable: frame.type === FrameType.Ephemeral };
    for (const bytes of frames) transport.send(peer, bytes, options);
  }

  /** put() once `frames` is ready and every frame sent to `peer` before it has been put. */
  private later(peer: string, frame: Frame, frames: Promise<Uint8Array[]>): void {
    const before = this.pending.get(peer) ?? Promise.resolve();
    frames.catch(() => undefined); // handled below, once its turn comes
    const done: Promise<void> = before
      .then(() => frames)
      .then((encoded) => this.put(peer, frame, encoded))
      .catch(() => {
        // Best effort, as every send: a frame that could not be put is lost like one on a
        // broken channel, and comes again by state vector.
      })
      .finally(() => {
        if (this.pending.get(peer) === done) this.pending.delete(peer);
      });
    this.pending.set(peer, done);
  }

  /** Whether `frame` goes compressed to `peer` (deflate.ts; not past the message limit). */
  private compresses(peer: string, frame: Frame): boolean {
    return (
      wantsDeflate(frame) &&
      frame.payload.byteLength <= this.host.maxMessageBytes &&
      this.host.transport.deflates(peer)
    );
  }

  /** Asks `peer` for what the unit's doc lacks (our state vector). */
  step1(unit: Unit, peer: string): void {
    unit.asked.add(peer);
    if (!unit.awaiting.has(peer)) unit.awaiting.set(peer, { at: this.host.round(), tries: 0 });
    const send = (payload: Uint8Array): void =>
      this.send(peer, { type: FrameType.Step1, conversationId: unit.wire, payload });
    const sv = unit.conv.set.cachedStateVector(unit.part);
    if (sv !== undefined) {
      send(sv);
      return;
    }
    unit.conv.set.stateVector(unit.part).then(
      (v) => {
        if (this.host.isOpen(unit.conv)) send(v);
      },
      (error: unknown) => this.host.persistError(unit.conv.id, error)
    );
  }

  /** Acks (our state vector after what `peer` sent), one per unit and peer per microtask. */
  ack(peer: string, unit: Unit): void {
    this.ackQueue.set(`${peer}\n${unit.wire}`, { peer, unit });
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    queueMicrotask(() => {
      this.ackScheduled = false;
      const queued = [...this.ackQueue.values()];
      this.ackQueue.clear();
      const t0 = this.host.tracer.begin();
      for (const { peer: p, unit: u } of queued) {
        const sv = u.conv.set.cachedStateVector(u.part);
        if (sv === undefined || !this.host.isOpen(u.conv)) continue;
        if (!this.host.canSync(p, u.conv.id)) continue;
        this.send(p, { type: FrameType.Ack, conversationId: u.wire, payload: sv });
      }
      this.host.tracer.end('ack', t0);
    });
  }

  /**
   * Answers a peer's state vector `sv` with the envelopes it lacks (authored.ts `lacking`,
   * read from storage). Identical requests in flight share one answer (Step1Cache).
   */
  step2(unit: Unit, peer: string, sv: Uint8Array): void {
    let theirs: Map<number, number>;
    try {
      theirs = Y.decodeStateVector(sv);
    } catch {
      return; // the receiver refused it already
    }
    const answer = this.host.step1Cache.answer(unit, sv, () => this.lackingOf(unit, theirs));
    Promise.resolve(answer)
      .then((payloads) => {
        if (!this.host.isOpen(unit.conv) || !this.host.canSync(peer, unit.conv.id)) return;
        for (const payload of payloads) {
          this.send(peer, { type: FrameType.Step2, conversationId: unit.wire, payload });
        }
      })
      .catch((error: unknown) => this.host.persistError(unit.conv.id, error));
  }

  private async lackingOf(unit: Unit, sv: Map<number, number>): Promise<Uint8Array[]> {
    const stored = await unit.conv.set.envelopes(unit.part);
    const { tracer, self, sign, maxMessageBytes } = this.host;
    const t0 = tracer.begin();
    // Each step2 stays well inside the message limit (an envelope adds its name and signature).
    const budget = Math.floor(maxMessageBytes / 2);
    const envelopes = lacking(stored, sv, { self, wire: unit.wire, sign, maxMergedBytes: budget });
    const payloads = step2Payloads(envelopes, budget);
    tracer.end(
      'diff',
      t0,
      payloads.reduce((n, p) => n + p.byteLength, 0)
    );
    return payloads;
  }

  /**
   * Stores an update of a doc with the envelope it came in (and the ids of the messages it
   * changed, for the index) and, when `forward`, passes the envelope on unchanged to the
   * other members connected (not back to `fromPeer`).
   */
  publish(
    unit: Unit,
    update: Uint8Array,
    envelope: Uint8Array,
    ids: string[],
    fromPeer?: string,
    forward = true,
    tr?: Y.Transaction
  ): void {
    const { tracer } = this.host;
    const conv = unit.conv;
    const t1 = tracer.begin();
    try {
      conv.set.persist(unit.part, update, ids, tr, envelope).catch((error: unknown) => {
        this.host.persistError(conv.id, error);
      });
    } finally {
      tracer.end('store', t1, update.byteLength);
    }
    const frame: Frame = { type: FrameType.Update, conversationId: unit.wire, payload: envelope };
    const to = forward
      ? [...unit.live].filter((peer) => peer !== fromPeer && this.host.canSync(peer, conv.id))
      : [];
    if (to.length === 0) {
      // Nobody to send it to (e.g. the step2 of a catch-up): don't frame it (a copy of it).
      this.checkSendable(frame);
      return;
    }
    const t2 = tracer.begin();
    try {
      // Encoded at most twice (deflated for the peers that read it, as it is for the others).
      const enc: Encodings = {};
      for (const peer of to) this.dispatch(peer, frame, enc);
    } finally {
      tracer.end('forward', t2, envelope.byteLength);
    }
  }

  /**
   * The frame's encoding, Deflated when that pays (deflate.ts): within this call ('inline'), or
   * once the asynchronous DEFLATE is back (the span then is the wait, the work runs in the
   * platform's DEFLATE).
   */
  private compress(frame: Frame): Uint8Array[] | Promise<Uint8Array[]> {
    const { deflate, tracer } = this.host;
    if (deflate === 'inline') {
      const t0 = tracer.begin();
      const out = deflateFrame(frame);
      tracer.end('deflate', t0, frame.payload.byteLength);
      return this.encode(out);
    }
    const t0 = tracer.now();
    return deflateFrameAsync(frame, deflate).then((out) => {
      tracer.report('deflate', t0, frame.payload.byteLength);
      return this.encode(out);
    });
  }

  /** One frame, or Part frames when a step2/update does not fit in one. */
  private encode(frame: Frame): Uint8Array[] {
    if (!this.checkSendable(frame)) return [encodeFrame(frame)];
    return encodeParts(frame, this.host.maxFrameBytes);
  }

  /** Whether the frame needs Parts; throws when it is too big even for them. */
  private checkSendable(frame: Frame): boolean {
    if (frameLength(frame.conversationId, frame.payload.byteLength) <= this.host.maxFrameBytes) {
      return false;
    }
    if (frame.payload.byteLength > this.host.maxMessageBytes) {
      throw new InvalidInputError('update larger than the sync message limit');
    }
    return true;
  }
}
