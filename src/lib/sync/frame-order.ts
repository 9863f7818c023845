/**
 * A doc's frames keep their order while part of their handling happens later: the envelope
 * signatures checked asynchronously (unit.verifying) and the doc loaded from storage
 * (unit.waiting). The receiver (receiver.ts) runs each frame's handling through these.
 */
import type { ConversationState, Unit } from './unit.js';

/**
 * Runs `then` with `work`'s result once every earlier turn of the unit has run (the checks
 * themselves run at once, side by side). `failed` gets a failure of either.
 */
export function afterTurn<T>(
  unit: Unit,
  work: Promise<T>,
  then: (result: T) => void,
  failed: (error: unknown) => void
): void {
  const before = unit.verifying ?? Promise.resolve();
  const turn: Promise<void> = before
    .then(() => work)
    .then(then)
    .catch(failed)
    .finally(() => {
      if (unit.verifying === turn) unit.verifying = undefined;
    });
  unit.verifying = turn;
}

/** Runs `fn` once the unit's doc is in memory (frames keep their order while it loads). */
export function whenLoaded(
  unit: Unit,
  fn: () => void,
  hooks: { isOpen(conv: ConversationState): boolean; failed(error: unknown): void }
): void {
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
      if (!hooks.isOpen(unit.conv)) return;
      for (const run of queued) run();
    },
    (error: unknown) => {
      unit.waiting = undefined;
      hooks.failed(error);
    }
  );
}
