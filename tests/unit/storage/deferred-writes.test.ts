import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { deferWrites } from '../../../src/lib/storage/deferred-writes.js';
import { createIdbHistoryStore } from '../../../src/lib/storage/history-store-idb.js';
import {
  createMemoryHistoryBacking,
  createMemoryHistoryStore,
  type HistoryEntry,
  type HistoryStore
} from '../../../src/lib/storage/history-store.js';
import { runHistoryStoreContract } from '../../fixtures/history-store-contract.js';

// The whole store contract holds with writes deferred.
runHistoryStoreContract('deferred writes over memory', () => {
  const backing = createMemoryHistoryBacking();
  return { open: () => deferWrites(createMemoryHistoryStore(backing)) };
});
let n = 0;
runHistoryStoreContract('deferred writes over IndexedDB (fake-indexeddb)', () => {
  const name = `deferred-${++n}`;
  return { open: () => deferWrites(createIdbHistoryStore({ name })) };
});

const entry = (i: number): HistoryEntry => ({
  key: `key-${String(i).padStart(6, '0')}`,
  id: `m${i}`,
  segment: 0,
  author: 'me',
  deleted: false
});

function update(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap('messages').set(text, text);
  return Y.encodeStateAsUpdate(doc);
}

/** A store that records when writes reach it. */
function recording(): { store: HistoryStore; calls: string[] } {
  const inner = createMemoryHistoryStore();
  const calls: string[] = [];
  const store: HistoryStore = {
    ...inner,
    appendSegment: (conv, part, u, w) => {
      calls.push(`append ${part}`);
      return inner.appendSegment(conv, part, u, w);
    },
    appendHead: (conv, u, e) => {
      calls.push('head');
      return inner.appendHead(conv, u, e);
    },
    dropEnvelopes: (conv, n, which) => {
      calls.push(`drop ${n}`);
      return inner.dropEnvelopes(conv, n, which);
    }
  };
  return { store, calls };
}

describe('deferWrites', () => {
  it('issues writes in a later task, in the order they were made', async () => {
    const { store, calls } = recording();
    const later: (() => void)[] = [];
    const deferred = deferWrites(store, (issue) => later.push(issue));
    const written = Promise.all([
      deferred.appendSegment('c', 0, update('a'), { index: [entry(1)] }),
      deferred.appendHead('c', update('h')),
      deferred.appendSegment('c', 1, update('b'))
    ]);
    await Promise.resolve();
    expect(calls).toEqual([]); // nothing in the caller's task
    expect(later).toHaveLength(1); // one timer for the burst
    later[0]!();
    await written;
    expect(calls).toEqual(['append 0', 'head', 'append 1']);
  });

  it('a read issues the queued writes first and sees them', async () => {
    const { store, calls } = recording();
    const deferred = deferWrites(store, () => undefined); // the timer never fires
    void deferred.appendSegment('c', 0, update('a'), { index: [entry(1), entry(2)] });
    expect(await deferred.count('c')).toBe(2);
    expect(await deferred.segments('c')).toEqual([0]);
    expect(calls).toEqual(['append 0']);
  });

  it('keeps its own copy of the bytes (the caller may reuse its buffer)', async () => {
    const deferred = deferWrites(createMemoryHistoryStore(), () => undefined);
    const bytes = update('kept');
    const copy = bytes.slice();
    void deferred.appendHead('c', bytes);
    bytes.fill(0);
    expect(await deferred.loadHead('c')).toEqual(copy);
  });

  it('flush and close wait for every write; a failed write rejects its own promise', async () => {
    const inner = createMemoryHistoryStore();
    const deferred = deferWrites(inner, () => undefined);
    const bad = deferred.appendSegment('c', -1, update('x'));
    void deferred.appendSegment('c', 0, update('a'), { index: [entry(1)] });
    await deferred.flush();
    await expect(bad).rejects.toThrow(/segment number/);
    expect(await inner.count('c')).toBe(1);
    void deferred.appendSegment('c', 0, update('b'), { index: [entry(2)] });
    await deferred.close();
    await expect(inner.count('c')).rejects.toThrow();
  });

  it('passes envelopes through with their write; envelopes() sees the queued ones', async () => {
    const { store, calls } = recording();
    const deferred = deferWrites(store, () => undefined); // the timer never fires
    const sealed = new Uint8Array([1, 2, 3]);
    void deferred.appendSegment('c', 0, update('a'), { index: [entry(1)], envelope: sealed });
    void deferred.appendHead('c', update('h'), new Uint8Array([4]));
    sealed.fill(0); // the queue keeps its own copy
    expect(calls).toEqual([]);
    expect(await deferred.envelopes('c', 0)).toEqual([new Uint8Array([1, 2, 3])]);
    expect(await deferred.envelopes('c')).toEqual([new Uint8Array([4])]);
    expect(calls).toEqual(['append 0', 'head']);
    // a drop is queued like a write, after the appends made before it
    void deferred.appendSegment('c', 0, update('b'), { envelope: new Uint8Array([5]) });
    void deferred.dropEnvelopes('c', 0, [0]);
    void deferred.appendSegment('c', 0, update('c'), { envelope: new Uint8Array([6]) });
    expect(calls).toEqual(['append 0', 'head']);
    expect(await deferred.envelopes('c', 0)).toEqual([new Uint8Array([5]), new Uint8Array([6])]);
    expect(calls).toEqual(['append 0', 'head', 'append 0', 'drop 0', 'append 0']);
  });
});
