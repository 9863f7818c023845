/**
 * What both HistoryStore implementations (history-store.ts, history-store-idb.ts) share: the
 * input checks (each throws StorageInputError before anything is written), the error of a closed
 * store, and the per-conversation serializer.
 */
import { StorageInputError, StorageUnavailableError } from './errors.js';
import type { HistoryEntry } from './history-store.js';

export function checkConv(conv: unknown): asserts conv is string {
  if (typeof conv !== 'string' || conv.length === 0)
    throw new StorageInputError('conversation id must be a non-empty string');
}

export function checkSegment(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new StorageInputError(`segment number must be an integer >= 0, got ${String(n)}`);
}

export function checkCount(what: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new StorageInputError(`${what} must be an integer >= 0, got ${String(n)}`);
}

export function checkKey(what: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new StorageInputError(`${what} must be a string`);
}

export function checkUpdate(update: unknown): asserts update is Uint8Array {
  if (!(update instanceof Uint8Array)) throw new StorageInputError('update must be a Uint8Array');
}

/** Copies made by a layer in front of a store (deferWrites) that nothing else holds. */
const handedOver = new WeakSet<Uint8Array>();

/**
 * Marks `bytes`, a private copy its maker will never touch again, as the store's to keep: the
 * store takes it as it is instead of copying it once more (a catch-up's megabytes were copied
 * twice on their way to IndexedDB).
 */
export function handOver(bytes: Uint8Array): Uint8Array {
  handedOver.add(bytes);
  return bytes;
}

/** Bytes the store may keep: `bytes` itself when handed over, otherwise a compact copy. */
export function keepable(bytes: Uint8Array): Uint8Array {
  return handedOver.delete(bytes) ? bytes : bytes.slice();
}

/** A copy of an optional envelope (undefined stays undefined); throws on anything else. */
export function copyEnvelope(envelope: unknown): Uint8Array | undefined {
  if (envelope === undefined) return undefined;
  if (!(envelope instanceof Uint8Array))
    throw new StorageInputError('envelope must be a Uint8Array');
  return keepable(envelope);
}

/** The part an envelope call names: the head (undefined) or a segment number. */
export function checkPart(n: unknown): asserts n is number | undefined {
  if (n !== undefined) checkSegment(n);
}

/** A validated copy of the positions given to `dropEnvelopes`. */
export function checkPositions(which: readonly number[]): number[] {
  if (!Array.isArray(which)) throw new StorageInputError('positions must be an array');
  const copy = [...(which as unknown[])];
  for (const p of copy) checkCount('envelope position', p);
  return copy as number[];
}

/** A validated plain copy of an entry (no extra properties are stored). */
export function checkEntry(e: HistoryEntry): HistoryEntry {
  if (typeof e !== 'object' || e === null) throw new StorageInputError('entry must be an object');
  if (typeof e.key !== 'string' || e.key.length === 0)
    throw new StorageInputError('entry key must be a non-empty string');
  if (typeof e.id !== 'string' || e.id.length === 0)
    throw new StorageInputError('entry id must be a non-empty string');
  if (typeof e.author !== 'string') throw new StorageInputError('entry author must be a string');
  if (typeof e.deleted !== 'boolean')
    throw new StorageInputError('entry deleted must be a boolean');
  checkSegment(e.segment);
  return { key: e.key, id: e.id, segment: e.segment, author: e.author, deleted: e.deleted };
}

export function checkIds(ids: readonly string[]): void {
  for (const id of ids)
    if (typeof id !== 'string' || id.length === 0)
      throw new StorageInputError('message ids must be non-empty strings');
}

/** What calls on a closed store fail with. */
export const closedError = (): StorageUnavailableError =>
  new StorageUnavailableError('The history store is closed');

/** Runs operations on one key one after another (a failed one doesn't stop the next). */
export function createSerializer(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const queues = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  };
}
