/**
 * The write rules on real Yjs docs: what honest members do passes; each attack the outside
 * fuzzer found (issue 8) is refused, not applied, and the doc stays as it was.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { authorOfClient, claimClientId, clientIdOf } from '../../../src/lib/sync/authorship.js';
import { checkWrites, type DocKind, type Verdict } from '../../../src/lib/sync/write-rules.js';

const A = 'peerA';
const B = 'peerB';
const C = 'peerC';
const HEAD = 'conv';
const SEG = 'conv#0';

const REMOTE = Symbol('remote');

/** One author's replica of a doc: its own changes come out as updates (as envelopes carry). */
class Replica {
  readonly doc = new Y.Doc();
  private out: Uint8Array[] = [];
  private readonly all: Uint8Array[] = [];
  /** The claim of this replica's client id: sent with every change (each stands alone). */
  private readonly claim: Uint8Array;
  constructor(
    readonly author: string,
    readonly wire: string,
    seed: number
  ) {
    this.doc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === REMOTE) return;
      this.out.push(u);
      this.all.push(u);
    });
    let x = seed;
    claimClientId(this.doc, author, wire, () => (x = (x * 16807) % 2147483647) / 2147483647);
    this.claim = Y.mergeUpdates(this.out);
  }
  receive(update: Uint8Array): void {
    Y.applyUpdate(this.doc, update, REMOTE);
  }
  /** Runs `change` and returns this author's changes since the last call (the claim first). */
  change(change: (doc: Y.Doc) => void): Uint8Array {
    change(this.doc);
    const u = Y.mergeUpdates([this.claim, ...this.out]);
    this.out = [];
    return u;
  }
  /** Everything this author wrote. */
  everything(): Uint8Array {
    return Y.mergeUpdates(this.all);
  }
}

/** The receiver: applies what passes the rules. */
class Receiver {
  readonly doc = new Y.Doc();
  constructor(
    readonly kind: DocKind,
    readonly wire: string
  ) {}
  isMember = (peer: string): boolean => {
    const head = this.kind === 'head' ? this.doc : this.head;
    const v = head?.getMap('members').get(peer);
    return typeof v === 'number' && v > 0;
  };
  head: Y.Doc | undefined;
  offer(author: string, update: Uint8Array): Verdict {
    const verdict = checkWrites(update, {
      doc: this.doc,
      kind: this.kind,
      wire: this.wire,
      author,
      isMember: this.isMember
    });
    if (verdict.ok) Y.applyUpdate(this.doc, update);
    return verdict;
  }
}

function group(): { a: Replica; b: Replica; head: Receiver } {
  const a = new Replica(A, HEAD, 1);
  const b = new Replica(B, HEAD, 2);
  const head = new Receiver('head', HEAD);
  a.change((d) => {
    d.getMap('meta').set('kind', 'group');
    d.getMap('meta').set('name', 'Friends');
    d.getMap('meta').set('createdAt', 1);
    for (const m of [A, B, C]) d.getMap('members').set(m, 1);
    d.getMap('segments').set('0', 1);
  });
  expect(head.offer(A, a.everything())).toEqual({ ok: true });
  b.receive(a.everything());
  return { a, b, head };
}

function segment(header: Record<string, unknown> = {}): {
  a: Replica;
  b: Replica;
  seg: Receiver;
  id: string;
} {
  const { head } = group();
  const a = new Replica(A, SEG, 3);
  const b = new Replica(B, SEG, 4);
  const seg = new Receiver('segment', SEG);
  seg.head = head.doc;
  const id = 'msg1';
  a.change((d) => {
    const m = new Y.Map<unknown>();
    d.getMap('messages').set(id, m);
    m.set('h', { a: A, c: 1, w: 1, n: 0, ...header });
    m.set('text', 'hello');
    m.set('s', 'sig');
  });
  expect(seg.offer(A, a.everything())).toEqual({ ok: true });
  b.receive(a.everything());
  return { a, b, seg, id };
}

const refused = (v: Verdict): void => {
  expect(v.ok).toBe(false);
  expect(v.ok === false && v.pending).toBe(false);
};
const msg = (d: Y.Doc, id: string): Y.Map<unknown> =>
  d.getMap('messages').get(id) as Y.Map<unknown>;

describe('client ids bound to keys', () => {
  it('derives 53-bit ids, checks claims, and finds the author of a client', () => {
    const id = clientIdOf(A, HEAD, 7);
    expect(Number.isSafeInteger(id)).toBe(true);
    expect(id).not.toBe(clientIdOf(A, HEAD, 8));
    expect(id).not.toBe(clientIdOf(B, HEAD, 7));
    expect(id).not.toBe(clientIdOf(A, SEG, 7));
    const r = new Replica(A, HEAD, 9);
    r.change((d) => d.getMap('meta').set('kind', 'group'));
    const copy = new Y.Doc();
    Y.applyUpdate(copy, r.everything()); // big client ids survive encoding
    expect(authorOfClient(copy, HEAD, r.doc.clientID)).toBe(A);
    expect(authorOfClient(copy, SEG, r.doc.clientID)).toBeUndefined();
  });
});

describe('write rules: honest changes pass', () => {
  it('create, rename, add, receipts, leave (head)', () => {
    const { b, head } = group();
    expect(
      head.offer(
        B,
        b.change((d) => d.getMap('meta').set('name', 'Pals'))
      )
    ).toEqual({
      ok: true
    });
    expect(
      head.offer(
        B,
        b.change((d) => d.getMap('members').set('peerD', 2))
      )
    ).toEqual({
      ok: true
    });
    const receipts = b.change((d) => {
      const r = new Y.Map<unknown>();
      d.getMap('receipts').set(B, r);
      r.set('read', 'key1');
    });
    expect(head.offer(B, receipts)).toEqual({ ok: true });
    expect(
      head.offer(
        B,
        b.change((d) => (d.getMap('receipts').get(B) as Y.Map<unknown>).set('read', 'key2'))
      )
    ).toEqual({ ok: true });
    expect(
      head.offer(
        B,
        b.change((d) => d.getMap('segments').set('1', 1))
      )
    ).toEqual({ ok: true });
    expect(
      head.offer(
        B,
        b.change((d) => d.getMap('members').set(B, 0))
      )
    ).toEqual({ ok: true });
    expect(head.doc.getMap('members').get(B)).toBe(0);
    expect(head.doc.getMap('meta').get('name')).toBe('Pals');
  });

  it('send, react, unreact, edit, delete (segment)', () => {
    const { a, b, seg, id } = segment();
    const key = `r:👍\n${B}`;
    expect(
      seg.offer(
        B,
        b.change((d) => msg(d, id).set(key, true))
      )
    ).toEqual({ ok: true });
    expect(
      seg.offer(
        B,
        b.change((d) => msg(d, id).delete(key))
      )
    ).toEqual({ ok: true });
    expect(
      seg.offer(
        A,
        a.change((d) => msg(d, id).set('text', 'hello!'))
      )
    ).toEqual({ ok: true });
    const tombstone = a.change((d) => {
      msg(d, id).set('text', '');
      msg(d, id).set('deleted', true);
    });
    expect(seg.offer(A, tombstone)).toEqual({ ok: true });
    expect(msg(seg.doc, id).get('deleted')).toBe(true);
  });
});

describe('write rules: the fuzzer’s attacks are refused', () => {
  it("deleting someone else's message", () => {
    const { b, seg, id } = segment();
    refused(
      seg.offer(
        B,
        b.change((d) => d.getMap('messages').delete(id))
      )
    );
    expect(msg(seg.doc, id).get('text')).toBe('hello');
  });

  it('rewriting authorship or text of a message', () => {
    const { b, seg, id } = segment();
    refused(
      seg.offer(
        B,
        b.change((d) => msg(d, id).set('h', { a: B, c: 1, w: 1, n: 0 }))
      )
    );
    refused(
      seg.offer(
        B,
        b.change((d) => msg(d, id).set('text', 'forged'))
      )
    );
    refused(
      seg.offer(
        B,
        b.change((d) => d.getMap('messages').set(id, new Y.Map()))
      )
    );
    expect((msg(seg.doc, id).get('h') as { a: string }).a).toBe(A);
  });

  it('undoing a deletion', () => {
    const { a, seg, id } = segment();
    const b = new Replica(B, SEG, 5);
    seg.offer(
      A,
      a.change((d) => {
        msg(d, id).set('text', '');
        msg(d, id).set('deleted', true);
      })
    );
    Y.applyUpdate(
      b.doc,
      seg.doc.getMap('clients').doc === null ? new Uint8Array() : Y.encodeStateAsUpdate(seg.doc)
    );
    refused(
      seg.offer(
        B,
        b.change((d) => {
          msg(d, id).set('text', 'hello');
          msg(d, id).set('deleted', false);
        })
      )
    );
    expect(msg(seg.doc, id).get('deleted')).toBe(true);
  });

  it('removing another member, or wiping meta', () => {
    const { b, head } = group();
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('members').delete(C))
      )
    );
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('members').set(C, 0))
      )
    );
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('meta').delete('kind'))
      )
    );
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('meta').set('kind', '1:1'))
      )
    );
    expect(head.isMember(C)).toBe(true);
    expect(head.doc.getMap('meta').get('kind')).toBe('group');
  });

  it("writing under another device's client id", () => {
    const { a, head } = group();
    const b = new Replica(B, HEAD, 6);
    b.receive(a.everything());
    b.doc.clientID = a.doc.clientID; // a 16-byte GC claim works the same way: the client decides
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('meta').set('name', 'mine'))
      )
    );
  });

  it('a claim of a client id that is not derived from the author', () => {
    const { head } = group();
    const b = new Replica(B, HEAD, 7);
    const fake = clientIdOf(A, HEAD, 42);
    const update = b.change((d) => d.getMap('clients').set(String(fake), { a: B, k: 42 }));
    refused(head.offer(B, update));
  });

  it('nesting maps where the app keeps plain values', () => {
    const { b, head } = group();
    refused(
      head.offer(
        B,
        b.change((d) => {
          const r = new Y.Map<unknown>();
          d.getMap('receipts').set(B, r);
          r.set('read', new Y.Map());
        })
      )
    );
    const s = segment();
    refused(
      s.seg.offer(
        A,
        s.a.change((d) => msg(d, s.id).set('edited', new Y.Map()))
      )
    );
  });

  it('reactions and receipts in someone else’s name', () => {
    const { b, seg, id } = segment();
    refused(
      seg.offer(
        B,
        b.change((d) => msg(d, id).set(`r:👍\n${A}`, true))
      )
    );
    const g = group();
    refused(
      g.head.offer(
        B,
        g.b.change((d) => {
          const r = new Y.Map<unknown>();
          d.getMap('receipts').set(A, r);
        })
      )
    );
  });

  it('a segment announced far ahead waits for the ones before it; in order it passes', () => {
    const { b, head } = group();
    const ahead = b.change((d) => d.getMap('segments').set('99999', 1));
    expect(head.offer(B, ahead)).toMatchObject({ ok: false, pending: true });
    expect(head.doc.getMap('segments').has('99999')).toBe(false);
    const { b: b2, head: head2 } = group();
    // Several in one change, in order: fine.
    const inOrder = b2.change((d) => {
      for (const n of ['1', '2', '3']) d.getMap('segments').set(n, 1);
    });
    expect(head2.offer(B, inOrder)).toEqual({ ok: true });
    refused(
      head2.offer(
        B,
        b2.change((d) => d.getMap('segments').set('100001', 1))
      )
    );
  });

  it('writes outside the schema', () => {
    const { b, head } = group();
    refused(
      head.offer(
        B,
        b.change((d) => d.getMap('other').set('x', 1))
      )
    );
    refused(
      head.offer(
        B,
        b.change((d) => d.getArray('list').insert(0, [1]))
      )
    );
  });
});

describe('write rules: what depends on what has not arrived waits', () => {
  it('a reaction to a message the receiver does not have yet is pending, then passes', () => {
    const { a, b, id } = segment();
    const late = new Receiver('segment', SEG);
    late.head = group().head.doc;
    const reaction = b.change((d) => msg(d, id).set(`r:❤️\n${B}`, true));
    const verdict = late.offer(B, reaction);
    expect(verdict.ok === false && verdict.pending).toBe(true);
    expect(late.offer(A, a.everything())).toEqual({ ok: true });
    expect(late.offer(B, b.everything())).toEqual({ ok: true });
    expect(msg(late.doc, id).get(`r:❤️\n${B}`)).toBe(true);
  });
});

describe('write rules: headers and their file records', () => {
  const RECORD = '{"v":1}';
  const refusedFor = (v: Verdict, reason: string): void => {
    expect(v).toEqual({ ok: false, pending: false, reason });
  };

  it('a message with a file record passes; a caption may be edited away', () => {
    const { a, seg, id } = segment({ f: RECORD });
    expect((msg(seg.doc, id).get('h') as { f: string }).f).toBe(RECORD);
    expect(
      seg.offer(
        A,
        a.change((d) => msg(d, id).set('text', ''))
      )
    ).toEqual({ ok: true });
    const tombstone = a.change((d) => {
      msg(d, id).set('text', '');
      msg(d, id).set('deleted', true);
    });
    expect(seg.offer(A, tombstone)).toEqual({ ok: true });
  });

  it('a header with a file record in someone else’s name', () => {
    const { b, seg } = segment();
    const forged = b.change((d) => {
      const m = new Y.Map<unknown>();
      d.getMap('messages').set('forged', m);
      m.set('h', { a: A, c: 2, w: 2, n: 0, f: RECORD });
      m.set('text', '');
    });
    refusedFor(seg.offer(B, forged), 'a header in someone else’s name');
    expect(seg.doc.getMap('messages').has('forged')).toBe(false);
  });

  it('another member replacing or adding the file record of a message', () => {
    const { b, seg, id } = segment({ f: RECORD });
    const h = msg(b.doc, id).get('h') as Record<string, unknown>;
    refusedFor(
      seg.offer(
        B,
        b.change((d) => msg(d, id).set('h', { ...h, f: '{"v":2}' }))
      ),
      'changes someone else’s message'
    );
    const plain = segment();
    const p = msg(plain.b.doc, plain.id).get('h') as Record<string, unknown>;
    refusedFor(
      plain.seg.offer(
        B,
        plain.b.change((d) => msg(d, plain.id).set('h', { ...p, f: RECORD }))
      ),
      'changes someone else’s message'
    );
    expect((msg(seg.doc, id).get('h') as { f: string }).f).toBe(RECORD);
    expect('f' in (msg(plain.seg.doc, plain.id).get('h') as object)).toBe(false);
  });

  it('the author replacing or deleting a header: it is written once', () => {
    const { a, seg, id } = segment({ f: RECORD });
    const h = msg(a.doc, id).get('h') as Record<string, unknown>;
    refusedFor(
      seg.offer(
        A,
        a.change((d) => msg(d, id).set('h', { ...h, f: '{"v":2}' }))
      ),
      'a header is written once'
    );
    const s2 = segment({ f: RECORD });
    refusedFor(
      s2.seg.offer(
        A,
        s2.a.change((d) => msg(d, s2.id).delete('h'))
      ),
      'a header stays'
    );
    // Twice in the update that creates the message.
    const s3 = segment();
    const twice = s3.a.change((d) => {
      const m = new Y.Map<unknown>();
      d.getMap('messages').set('m2', m);
      m.set('h', { a: A, c: 2, w: 2, n: 0, f: RECORD });
      m.set('h', { a: A, c: 2, w: 2, n: 0, f: '{"v":2}' });
      m.set('text', '');
    });
    refusedFor(s3.seg.offer(A, twice), 'a header is written once');
    expect(s3.seg.doc.getMap('messages').has('m2')).toBe(false);
    expect((msg(seg.doc, id).get('h') as { f: string }).f).toBe(RECORD);
    expect(msg(s2.seg.doc, s2.id).get('h')).toBeDefined();
  });
});
