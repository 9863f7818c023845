/**
 * One doc of an open conversation (its head or a segment) as the sync service tracks it: who
 * holds it, what they have, what we asked, and the repair round's rules for it.
 */
import * as Y from 'yjs';
import { RESYNC_GIVE_UP_ROUNDS } from './constants.js';
import type { Conversation } from './conversation.js';
import { HEAD, unitId, type DocSet } from './doc-set.js';
import type { WrittenRanges } from './update-structs.js';

export interface ConversationState {
  id: string;
  set: DocSet;
  conversation: Conversation;
  /** part (HEAD or segment number) -> its unit. */
  units: Map<number, Unit>;
  head: Unit;
  /** Stops listening to the DocSet. */
  off: () => void;
}

export type UpdateListener = (
  unit: Unit,
  update: Uint8Array,
  origin: unknown,
  tr: Y.Transaction
) => void;

export interface Unit {
  readonly conv: ConversationState;
  readonly part: number;
  /** Its id in frames: the conversation id, or `${id}#${segment}`. */
  readonly wire: string;
  /** The doc when it is in memory. */
  doc(): Y.Doc | undefined;
  /** A remote update is being applied (see SyncService.applyRemote). */
  applying: boolean;
  /** The doc is being reloaded from storage after an update failed: remote frames wait. */
  reloading: boolean;
  /** Frames waiting for the doc to load. */
  waiting: (() => void)[] | undefined;
  /** Envelope signatures being checked (frames after them wait their turn). */
  verifying: Promise<void> | undefined;
  /** Peers that sent step1 (they hold the doc): live updates go to them. */
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
  /** Goes up on every change of the doc (answers cached for a state vector go stale). */
  generation: number;
  /** Listens to the doc's updates (again, after it was loaded or replaced). */
  attach(): void;
  detach(): void;
  /** Forgets what we know of a peer here (its channel went away, or it refused the doc). */
  forget(peer: string): void;
  /** Must stay in memory (frames waiting, an update applying, pending structs). */
  busy(): boolean;
  /** Enters or leaves the resync mode; false when it may not be entered now (just gave up). */
  setResyncing(on: boolean, round: number): boolean;
  /**
   * A peer that sent a live update has what it carries: its known state vector moves forward
   * (otherwise the repair round would send a one-way talker its own messages back).
   */
  noteRemoteHas(peer: string, written: WrittenRanges): void;
}

/**
 * The sync state of a conversation just opened: a unit per doc it knows (head, segments),
 * attached while its doc is in memory (`onUpdate` hears its updates). A segment the set learns
 * about later gets a unit, then `segmentAdded` runs (the service asks the peers for it).
 */
export function createConversationState(
  id: string,
  set: DocSet,
  conversation: Conversation,
  hooks: { onUpdate: UpdateListener; segmentAdded: (unit: Unit) => void }
): ConversationState {
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
      unit = createUnit(conv, part, hooks.onUpdate);
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
    segmentAdded: (part) => hooks.segmentAdded(unitOf(part))
  });
  return conv;
}

export function createUnit(conv: ConversationState, part: number, onUpdate: UpdateListener): Unit {
  let attached: Y.Doc | undefined;
  const listener = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    unit.generation++;
    onUpdate(unit, update, origin, tr);
  };
  const unit: Unit = {
    conv,
    part,
    wire: unitId(conv.id, part),
    doc: () => conv.set.doc(part),
    applying: false,
    reloading: false,
    waiting: undefined,
    verifying: undefined,
    live: new Set(),
    asked: new Set(),
    remote: new Map(),
    resyncing: false,
    awaiting: new Map(),
    resyncSince: 0,
    quietUntil: 0,
    behind: new Map(),
    generation: 0,
    attach() {
      const doc = conv.set.doc(part);
      if (doc === attached) return;
      // Another doc (loaded again, or replaced after a failed update): cached answers go.
      unit.generation++;
      attached?.off('update', listener);
      attached = doc;
      doc?.on('update', listener);
    },
    detach() {
      attached?.off('update', listener);
      attached = undefined;
    },
    forget(peer) {
      unit.live.delete(peer);
      unit.asked.delete(peer);
      unit.awaiting.delete(peer);
      unit.behind.delete(peer);
    },
    busy() {
      return (
        unit.waiting !== undefined ||
        unit.verifying !== undefined ||
        unit.applying ||
        unit.reloading ||
        conv.set.doc(part)?.store.pendingStructs != null
      );
    },
    setResyncing(on, round) {
      if (!on) {
        unit.resyncing = false;
        return false;
      }
      if (unit.resyncing) return true;
      if (round < unit.quietUntil) return false;
      unit.resyncing = true;
      unit.resyncSince = round;
      return true;
    },
    noteRemoteHas(peer, written) {
      const known = unit.remote.get(peer);
      if (known === undefined) return;
      for (const [client, { to }] of written) {
        if ((known.get(client) ?? 0) < to) known.set(client, to);
      }
    }
  };
  return unit;
}

export interface RepairContext {
  /** Peers connected with nothing waiting to be written. */
  connected: Set<string>;
  /** `${peer}\n${wire}` of Part reassemblies that made progress this round. */
  arriving: Set<string>;
  canSync(peer: string): boolean;
  step1(peer: string): void;
  /** Sends `peer` what it lacks by its state vector `sv`. */
  step2(peer: string, sv: Uint8Array): void;
}

/**
 * Repairs what frames lost on a connection that stays up would otherwise leave stuck for
 * good (the transport is best effort, and only a new connection runs the handshake again):
 * - a step1 of ours whose step2 has not come back is sent again after 2, 4, 8, then every 16
 *   rounds, unless its parts are still arriving;
 * - while a resync waits for a step2 (pending structs), every connected member is asked 1, 2
 *   and 4 rounds after the gap appeared; after RESYNC_GIVE_UP_ROUNDS without success (nobody
 *   online has the missing changes) live updates apply again and nobody is asked for a while;
 * - a member whose acknowledged state vector lacks our changes for a whole round (its acks
 *   stopped moving: our updates were lost) gets them as a step2.
 * Costs one state vector per doc in memory and round when everything is in sync.
 */
export function repairUnit(unit: Unit, round: number, ctx: RepairContext): void {
  if (unit.resyncing && round - unit.resyncSince >= RESYNC_GIVE_UP_ROUNDS) {
    unit.resyncing = false;
    unit.quietUntil = round + RESYNC_GIVE_UP_ROUNDS * 2;
  }
  const sinceResync = round - unit.resyncSince;
  if (unit.resyncing && (sinceResync & (sinceResync - 1)) === 0) {
    // Rounds 1, 2, 4 after the gap appeared: everyone online may have what is missing.
    for (const peer of unit.live) {
      if (ctx.connected.has(peer) && ctx.canSync(peer)) ctx.step1(peer);
    }
  }
  for (const [peer, wait] of unit.awaiting) {
    if (!ctx.connected.has(peer) || !ctx.canSync(peer)) {
      unit.awaiting.delete(peer);
      continue;
    }
    if (ctx.arriving.has(`${peer}\n${unit.wire}`)) continue;
    if (round - wait.at < 2 << Math.min(wait.tries, 3)) continue;
    unit.awaiting.set(peer, { at: round, tries: wait.tries + 1 });
    ctx.step1(peer);
  }
  const doc = unit.doc();
  // Nobody to compare with (most docs), or not in memory (nothing changed here since).
  if (unit.live.size === 0 || doc === undefined) return;
  const ours = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const peer of unit.live) {
    const theirs = unit.remote.get(peer);
    if (theirs === undefined || !ctx.connected.has(peer) || !ctx.canSync(peer)) {
      unit.behind.delete(peer);
      continue;
    }
    // What they lack of ours, as of their last ack (their own progress does not count).
    const lacking = [...ours]
      .filter(([client, clock]) => (theirs.get(client) ?? 0) < clock)
      .map(([client]) => `${client}:${theirs.get(client) ?? 0}`)
      .join(',');
    if (lacking === '') {
      unit.behind.delete(peer);
      continue;
    }
    if (unit.behind.get(peer) !== lacking) {
      unit.behind.set(peer, lacking);
      continue;
    }
    unit.behind.delete(peer);
    ctx.step2(peer, Y.encodeStateVector(theirs));
  }
}
