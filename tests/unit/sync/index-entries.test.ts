/**
 * Index entries of a transaction are computed once (the window's observer, then storage) and
 * never carried into another transaction: an edit stored later is indexed as it is then.
 */
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { entryIn, indexEntryOf } from '../../../src/lib/sync/message-format.js';

function messageIn(doc: Y.Doc, id: string): Y.Map<unknown> {
  const m = new Y.Map<unknown>();
  doc.getMap('messages').set(id, m);
  m.set('h', { a: 'author', c: 1, w: 1, n: 0 });
  m.set('text', 'hello');
  return m;
}

describe('entryIn', () => {
  it('computes an entry once per transaction, again in the next one', () => {
    const doc = new Y.Doc();
    let m!: Y.Map<unknown>;
    const seen: (ReturnType<typeof entryIn> | undefined)[] = [];
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      seen.push(entryIn(tr, 'm1', m, 3), entryIn(tr, 'm1', m, 3));
    });
    doc.transact(() => (m = messageIn(doc, 'm1')));
    expect(seen[0]).toEqual(indexEntryOf('m1', m, 3));
    expect(seen[1]).toBe(seen[0]); // the same object: not computed twice
    doc.transact(() => m.set('deleted', true));
    expect(seen[2]).not.toBe(seen[0]);
    expect(seen[2]?.deleted).toBe(true); // the later transaction sees the deletion
    expect(entryIn(undefined, 'm1', m, 3)).toEqual(seen[2]);
  });
});
