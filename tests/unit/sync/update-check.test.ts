/**
 * inspectUpdate on real bytes: each update the outside fuzzer sent (issue 8) is refused before
 * Yjs sees it, and everything the app itself writes passes.
 */
import * as encoding from 'lib0/encoding';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DEFAULT_UPDATE_LIMITS, SEGMENT_MESSAGES } from '../../../src/lib/sync/constants.js';
import { UpdateRejectedError } from '../../../src/lib/sync/errors.js';
import { exchange, headOf, memoryConversation, segmentOf } from '../../../src/lib/sync/testing.js';
import { inspectUpdate } from '../../../src/lib/sync/update-check.js';

/** The refusal of `update` against `doc`, or undefined when it passes. */
function refusal(update: Uint8Array, doc = new Y.Doc()): UpdateRejectedError | undefined {
  try {
    inspectUpdate(update, doc);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(UpdateRejectedError);
    expect((err as Error).name).toBe('UpdateRejectedError');
    return err as UpdateRejectedError;
  }
}

/** One client's structs, hand-encoded in the v1 format, and an empty delete set. */
function structsUpdate(client: number, clock: number, write: (e: encoding.Encoder) => number) {
  const body = encoding.createEncoder();
  const count = write(body);
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 1);
  encoding.writeVarUint(e, count);
  encoding.writeVarUint(e, client);
  encoding.writeVarUint(e, clock);
  encoding.writeUint8Array(e, encoding.toUint8Array(body));
  encoding.writeVarUint(e, 0); // delete set
  return encoding.toUint8Array(e);
}

const gc = (len: number) => (e: encoding.Encoder) => {
  encoding.writeUint8(e, 0);
  encoding.writeVarUint(e, len);
  return 1;
};

/** An item under root map `root`, key `key`, holding one plain value written by `value`. */
const anyItem =
  (root: string, key: string, value: (e: encoding.Encoder) => void) => (e: encoding.Encoder) => {
    encoding.writeUint8(e, 8 | 32); // ContentAny, has parentSub
    encoding.writeVarUint(e, 1); // parent is a root name
    encoding.writeVarString(e, root);
    encoding.writeVarString(e, key);
    encoding.writeVarUint(e, 1); // one value
    value(e);
    return 1;
  };

/** A doc's full state, with `doc` applied to a fresh doc to show it is sound. */
function roundTrips(doc: Y.Doc): boolean {
  const copy = new Y.Doc();
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
  return Y.encodeStateAsUpdate(copy).byteLength > 0;
}

describe('inspectUpdate refuses', () => {
  it('the 10-byte poison: a zero-length GC struct (Yjs takes it and the doc breaks)', () => {
    const poison = structsUpdate(7, 0, gc(0));
    expect(poison.byteLength).toBeLessThanOrEqual(10);
    expect(refusal(poison)?.reason).toBe('zero-length GC struct');
    // What it does to Yjs (why it must never get there):
    const doc = new Y.Doc();
    doc.getMap('m').set('a', 1);
    Y.applyUpdate(doc, poison);
    expect(() => roundTrips(doc)).toThrow();
  });

  it('a zero-length skip, deletion and deleted content', () => {
    const skip = structsUpdate(7, 0, (e) => {
      encoding.writeUint8(e, 10);
      encoding.writeVarUint(e, 0);
      return 1;
    });
    expect(refusal(skip)?.reason).toBe('zero-length skip');
    const del = encoding.createEncoder();
    encoding.writeVarUint(del, 0);
    encoding.writeVarUint(del, 1);
    encoding.writeVarUint(del, 7);
    encoding.writeVarUint(del, 1);
    encoding.writeVarUint(del, 0);
    encoding.writeVarUint(del, 0);
    expect(refusal(encoding.toUint8Array(del))?.reason).toBe('zero-length deletion');
  });

  it('claiming a device’s client id: a 16-byte GC struct with a 2^40 length', () => {
    const victim = new Y.Doc();
    victim.getMap('m').set('a', 1);
    const claim = structsUpdate(victim.clientID, 1, gc(2 ** 40));
    expect(claim.byteLength).toBeLessThanOrEqual(16);
    expect(refusal(claim, victim)?.reason).toBe('struct too long');
    // A long but bounded run passes (a device's overwritten values, merged).
    const ok = structsUpdate(victim.clientID, 1, gc(DEFAULT_UPDATE_LIMITS.maxStructLength));
    expect(refusal(ok, victim)).toBeUndefined();
  });

  it('client ids past 2^53 - 1; 53-bit ids (authorship.ts) pass', () => {
    const big = structsUpdate(2 ** 53, 0, gc(1));
    expect(refusal(big)?.reason).toBe('number out of range');
    const id53 = 2 ** 53 - 1;
    expect(
      refusal(
        structsUpdate(
          id53,
          0,
          anyItem('m', 'k', (e) => e && encoding.writeUint8(e, 120))
        )
      )
    ).toBeUndefined();
  });

  it('more clients, structs or deletion ranges than the limits', () => {
    const many = (n: number): Uint8Array => {
      const e = encoding.createEncoder();
      encoding.writeVarUint(e, 0);
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint(e, 1);
      encoding.writeVarUint(e, n);
      for (let i = 0; i < n; i++) {
        encoding.writeVarUint(e, 2 * i);
        encoding.writeVarUint(e, 1);
      }
      return encoding.toUint8Array(e);
    };
    // Deletions of what the doc holds (client 1, clocks 0..19).
    const holder = new Y.Doc();
    holder.clientID = 1;
    holder.getText('t').insert(0, 'x'.repeat(20));
    expect(refusal(many(10), holder)).toBeUndefined();
    expect(refusal(many(DEFAULT_UPDATE_LIMITS.maxDeleteRanges + 1))?.reason).toBe(
      'too many deletions'
    );
    const clients = encoding.createEncoder();
    encoding.writeVarUint(clients, DEFAULT_UPDATE_LIMITS.maxClients + 1);
    expect(refusal(encoding.toUint8Array(clients))?.reason).toBe('too many clients');
    const structs = structsUpdate(7, 0, (e) => {
      for (let i = 0; i <= DEFAULT_UPDATE_LIMITS.maxStructs; i++) gc(1)(e);
      return DEFAULT_UPDATE_LIMITS.maxStructs + 1;
    });
    expect(refusal(structs)?.reason).toBe('too many structs');
  });

  it('a clock gap (Yjs would hold it pending and live updates would wait)', () => {
    const a = new Y.Doc();
    const updates: Uint8Array[] = [];
    a.on('update', (u: Uint8Array) => updates.push(u));
    a.getMap('m').set('x', 1);
    a.getMap('m').set('y', 2);
    const b = new Y.Doc();
    const gap = refusal(updates[1]!, b);
    expect(gap?.reason).toBe('clock gap');
    expect(gap?.gap).toBe(true);
    expect(refusal(updates[0]!, b)).toBeUndefined();
    Y.applyUpdate(b, updates[0]!);
    expect(refusal(updates[1]!, b)).toBeUndefined();
    // A dependency on another client's missing item is a gap too.
    const c = new Y.Doc();
    Y.applyUpdate(c, updates[0]!);
    const cu: Uint8Array[] = [];
    c.on('update', (u: Uint8Array) => cu.push(u));
    c.getMap('m').set('x', 3); // origin: a's item
    expect(refusal(cu[0]!, new Y.Doc())).toMatchObject({ reason: 'missing dependency', gap: true });
    // So is a deletion of changes the doc does not have (Yjs would hold it pending and delete
    // them whenever they came).
    const ds = encoding.createEncoder();
    for (const n of [0, 1, 1, 1, 0, 1]) encoding.writeVarUint(ds, n);
    expect(refusal(encoding.toUint8Array(ds))).toMatchObject({
      reason: 'deletion of changes not here',
      gap: true
    });
    // On load, gaps are kept (stored state may hold pending structs).
    expect(() =>
      inspectUpdate(updates[1]!, new Y.Doc(), undefined, { allowGaps: true })
    ).not.toThrow();
  });

  it('a Y.Map nested 20,000 deep under receipts or under a message’s `edited`', () => {
    for (const [root, key, field] of [
      ['receipts', 'P', 'read'],
      ['messages', 'm1', 'edited']
    ] as const) {
      const nest = (doc: Y.Doc, depth: number, oneTransaction: boolean): Uint8Array[] => {
        const updates: Uint8Array[] = [];
        doc.on('update', (u: Uint8Array) => updates.push(u));
        const build = (): void => {
          let map = new Y.Map<unknown>();
          doc.getMap(root).set(key, map);
          for (let i = 0; i < depth; i++) {
            const inner = new Y.Map<unknown>();
            map.set(field, inner);
            map = inner;
          }
        };
        if (oneTransaction) doc.transact(build);
        else build();
        return updates;
      };
      const [bomb] = nest(new Y.Doc(), 20_000, true);
      expect(refusal(bomb!)?.reason).toBe('types nested too deep');
      // Built one level per update on top of a doc that has the levels before.
      const levels = nest(new Y.Doc(), 5, false);
      const target = new Y.Doc();
      for (const u of levels.slice(0, 3)) {
        expect(refusal(u, target)).toBeUndefined();
        Y.applyUpdate(target, u);
      }
      expect(refusal(levels[3]!, target)?.reason).toBe('types nested too deep');
    }
  });

  it('plain values nested deep, strings, binaries and content kinds over their limits', () => {
    const deep = anyItem('m', 'k', (e) => {
      for (let i = 0; i < 100_000; i++) {
        encoding.writeUint8(e, 117); // an array of one
        encoding.writeVarUint(e, 1);
      }
      encoding.writeUint8(e, 126);
    });
    expect(refusal(structsUpdate(7, 0, deep))?.reason).toBe('value nested too deep');
    const long = anyItem('m', 'k', (e) => {
      encoding.writeUint8(e, 119);
      encoding.writeVarString(e, 'x'.repeat(DEFAULT_UPDATE_LIMITS.maxStringBytes + 1));
    });
    expect(refusal(structsUpdate(7, 0, long))?.reason).toBe('string too long');
    const key = anyItem('m', 'k'.repeat(DEFAULT_UPDATE_LIMITS.maxStringBytes + 1), (e) =>
      encoding.writeUint8(e, 120)
    );
    expect(refusal(structsUpdate(7, 0, key))?.reason).toBe('string too long');
    const bin = anyItem('m', 'k', (e) => {
      encoding.writeUint8(e, 116);
      encoding.writeVarUint8Array(e, new Uint8Array(DEFAULT_UPDATE_LIMITS.maxBinaryBytes + 1));
    });
    expect(refusal(structsUpdate(7, 0, bin))?.reason).toBe('binary too long');
    const sub = new Y.Doc();
    sub.getMap('m').set('doc', new Y.Doc());
    expect(refusal(Y.encodeStateAsUpdate(sub))?.reason).toBe('content kind 9 not accepted');
    const truncated = Y.encodeStateAsUpdate(sub).slice(0, 5);
    expect(refusal(truncated)?.reason).toBe('malformed update');
  });
});

describe('inspectUpdate accepts what the app writes', () => {
  it('a 1,000-message segment snapshot, edits, reactions, receipts, a group and a member add', () => {
    let t = 1_700_000_000_000;
    const a = memoryConversation({ self: 'alice', now: () => t++ });
    const b = memoryConversation({ self: 'bob', now: () => t++ });
    const heads: Uint8Array[] = [];
    headOf(b).on('update', (u: Uint8Array) => heads.push(u));
    a.init({ kind: 'group', name: 'g', members: ['bob'] });
    exchange(a, b);
    const sent = [];
    for (let i = 0; i < SEGMENT_MESSAGES; i++) sent.push(a.send(`message ${i} `.repeat(20)));
    exchange(a, b);
    b.edit(b.send('mine').id, 'mine, edited');
    b.react(sent[3]!.id, '👍');
    b.remove(b.send('gone').id);
    b.markRead();
    b.addMembers(['carol']);
    b.rename('renamed');
    for (const conv of [a, b]) {
      const head = Y.encodeStateAsUpdate(headOf(conv));
      expect(refusal(head)).toBeUndefined();
      const seg = Y.encodeStateAsUpdate(segmentOf(conv, 0));
      const summary = inspectUpdate(seg, new Y.Doc());
      expect(summary.structs).toBeGreaterThan(SEGMENT_MESSAGES);
    }
    // Live updates of b, each against the doc state before it (a applies them in order).
    const fresh = new Y.Doc();
    for (const u of heads) {
      expect(refusal(u, fresh)).toBeUndefined();
      Y.applyUpdate(fresh, u);
    }
  });
});
