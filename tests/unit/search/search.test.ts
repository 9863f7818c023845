import { describe, expect, it } from 'vitest';
import {
  createSearch,
  highlight,
  MAX_QUERY_LENGTH,
  normalizeTerm,
  queryTerms,
  type Scheduler,
  type SearchDoc
} from '../../../src/lib/search/index.js';

const doc = (conversationId: string, messageId: string, text: string, at = 1): SearchDoc => ({
  conversationId,
  messageId,
  author: 'alice',
  at,
  text
});

/** A scheduler that runs nothing until the test says so. */
function manualScheduler(): { schedule: Scheduler; turns: () => number; runOne: () => boolean } {
  const queue: (() => void)[] = [];
  let turns = 0;
  return {
    schedule: (task) => void queue.push(task),
    turns: () => turns,
    runOne: () => {
      const task = queue.shift();
      if (task === undefined) return false;
      turns++;
      task();
      return true;
    }
  };
}

const ids = (hits: { conversationId: string; messageId: string }[]): string[] =>
  hits.map((h) => `${h.conversationId}/${h.messageId}`).sort();

describe('search index', () => {
  it('finds messages across conversations by word and by prefix, with what results show', () => {
    const s = createSearch();
    s.put(doc('c1', 'm1', 'Let us meet at the harbour tomorrow', 42));
    s.put(doc('c2', 'm2', 'The harbor is closed'));
    s.put(doc('c2', 'm3', 'nothing to see'));
    expect(ids(s.query('tomorrow'))).toEqual(['c1/m1']);
    expect(ids(s.query('harb'))).toEqual(['c1/m1', 'c2/m2']);
    expect(ids(s.query('har'))).toEqual(['c1/m1', 'c2/m2']);
    // Two letters are too short a prefix (they match most of a large history): exact words only.
    expect(ids(s.query('ha'))).toEqual([]);
    expect(ids(s.query('se'))).toEqual([]);
    expect(ids(s.query('to'))).toEqual(['c2/m3']); // the word itself
    // The exact word ranks before the one a typo away.
    expect(s.query('harbour').map((h) => h.messageId)).toEqual(['m1', 'm2']);
    const [hit] = s.query('tomorrow');
    expect(hit).toMatchObject({
      conversationId: 'c1',
      messageId: 'm1',
      author: 'alice',
      at: 42,
      text: 'Let us meet at the harbour tomorrow',
      terms: ['tomorrow']
    });
    expect(s.size()).toBe(3);
  });

  it('needs every word of the query', () => {
    const s = createSearch();
    s.put(doc('c', '1', 'red apples'));
    s.put(doc('c', '2', 'green apples'));
    expect(ids(s.query('apples'))).toHaveLength(2);
    expect(ids(s.query('green apples'))).toEqual(['c/2']);
  });

  it('ignores case, accents and compatibility forms', () => {
    const s = createSearch();
    s.put(doc('c', '1', 'Crème brûlée au CAFÉ'));
    s.put(doc('c', '2', 'ﬁnally Ｆｕｌｌｗｉｄｔｈ'));
    expect(ids(s.query('creme brulee'))).toEqual(['c/1']);
    expect(ids(s.query('CAFE'))).toEqual(['c/1']);
    expect(ids(s.query('café'))).toEqual(['c/1']);
    expect(ids(s.query('finally fullwidth'))).toEqual(['c/2']);
    expect(normalizeTerm('Ångström')).toBe('angstrom');
  });

  it('allows a typo in longer words only', () => {
    const s = createSearch();
    s.put(doc('c', '1', 'a strong coffee downtown'));
    s.put(doc('c', '2', 'a cat sat'));
    expect(ids(s.query('caffee'))).toEqual(['c/1']); // one edit in six letters
    expect(ids(s.query('caffea'))).toEqual([]); // two edits: too many
    expect(ids(s.query('cot'))).toEqual([]); // short words match exactly (or as a prefix)
    s.put(doc('c', '3', 'order 54321'));
    expect(ids(s.query('14321'))).toEqual([]); // numbers match exactly (or as a prefix)
  });

  it('empty and blank queries find nothing; long queries are cut', () => {
    const s = createSearch();
    s.put(doc('c', '1', 'anything'));
    expect(s.query('')).toEqual([]);
    expect(s.query('   ')).toEqual([]);
    expect(s.query('!!! ...')).toEqual([]);
    expect(queryTerms(`anything ${'x'.repeat(MAX_QUERY_LENGTH)}`)).toEqual([
      'anything',
      'x'.repeat(MAX_QUERY_LENGTH - 'anything '.length)
    ]);
    expect(queryTerms('a b c d e f g h i j k')).toHaveLength(8);
  });

  it('an edit replaces the text, a deletion and a removed conversation drop it', () => {
    const s = createSearch();
    s.put(doc('c1', 'm1', 'pancakes for breakfast'));
    s.put(doc('c1', 'm2', 'more pancakes'));
    s.put(doc('c2', 'm1', 'pancakes elsewhere'));
    s.put(doc('c1', 'm1', 'waffles for breakfast'));
    expect(ids(s.query('pancakes'))).toEqual(['c1/m2', 'c2/m1']);
    expect(ids(s.query('waffles'))).toEqual(['c1/m1']);
    s.put(doc('c1', 'm2', '')); // deleted: empty text
    expect(ids(s.query('pancakes'))).toEqual(['c2/m1']);
    s.remove('c2', 'm1');
    expect(s.query('pancakes')).toEqual([]);
    s.removeConversation('c1');
    expect(s.query('waffles')).toEqual([]);
    expect(s.size()).toBe(0);
    s.remove('c1', 'nope'); // unknown: no-op
    s.removeConversation('nope');
  });

  it("a very common word filters the rarer words' hits and is still required and marked", () => {
    const s = createSearch();
    for (let i = 0; i < 700; i++) s.put(doc('c', `f${i}`, `the filler ${i}`));
    s.put(doc('c', 'z1', 'the zebra crossing'));
    s.put(doc('c', 'z2', 'a zebra without the article... no wait'));
    s.put(doc('c', 'z3', 'zebra alone'));
    const hits = s.query('the zebra');
    expect(hits.map((h) => h.messageId).sort()).toEqual(['z1', 'z2']);
    expect(hits[0]?.terms).toContain('the');
    expect(s.query('the')).toHaveLength(50); // default limit
    expect(s.query('the', { limit: 5 })).toHaveLength(5);
    expect(
      s
        .query('zebra the')
        .map((h) => h.messageId)
        .sort()
    ).toEqual(['z1', 'z2']);
  });

  it('the same message id in two conversations is two entries', () => {
    const s = createSearch();
    s.put(doc('c1', 'm', 'shared word'));
    s.put(doc('c2', 'm', 'shared word'));
    s.removeConversation('c1');
    expect(ids(s.query('shared'))).toEqual(['c2/m']);
  });

  it('builds in chunks, one scheduler turn per chunk, without indexing in the caller', async () => {
    const sched = manualScheduler();
    const s = createSearch({ chunkSize: 100 }, { schedule: sched.schedule });
    const docs = Array.from({ length: 1_050 }, (_, i) => doc('c', `m${i}`, `message number ${i}`));
    let done = false;
    const built = s.build(docs).then(() => (done = true));
    expect(s.size()).toBe(0); // nothing happens synchronously
    sched.runOne();
    expect(s.size()).toBe(100);
    while (sched.runOne()) {
      expect(s.size()).toBeLessThanOrEqual(sched.turns() * 100);
    }
    await built;
    expect(done).toBe(true);
    expect(sched.turns()).toBe(11);
    expect(s.size()).toBe(1_050);
    expect(ids(s.query('1049'))).toEqual(['c/m1049']);
  });

  it('a build of an array ends in the turn of its last chunk; skip is asked as each doc is put', async () => {
    const sched = manualScheduler();
    const s = createSearch({ chunkSize: 100 }, { schedule: sched.schedule });
    const docs = Array.from({ length: 300 }, (_, i) => doc('c', `m${i}`, `message number ${i}`));
    const skipped = new Set<string>();
    const built = s.build(docs, { skip: (d) => skipped.has(d.messageId) });
    sched.runOne();
    skipped.add('m150'); // updated after the first chunk: left out when its turn comes
    while (sched.runOne());
    await built;
    expect(sched.turns()).toBe(3);
    expect(s.size()).toBe(299);
    expect(s.has('c', 'm150')).toBe(false);
  });

  it('a build stops when its signal aborts', async () => {
    const sched = manualScheduler();
    const s = createSearch({ chunkSize: 10 }, { schedule: sched.schedule });
    const abort = new AbortController();
    const built = s.build(
      Array.from({ length: 100 }, (_, i) => doc('c', `${i}`, 'word')),
      { signal: abort.signal }
    );
    sched.runOne();
    abort.abort();
    while (sched.runOne());
    await built;
    expect(s.size()).toBe(10);
  });
});

describe('highlight', () => {
  it('marks the matched words, keeping the original text', () => {
    expect(highlight('Meet at the Café, OK?', ['cafe'])).toEqual([
      { text: 'Meet at the ', match: false },
      { text: 'Café', match: true },
      { text: ', OK?', match: false }
    ]);
  });

  it('cuts long texts around the first match', () => {
    const text = `${'lorem '.repeat(40)}needle ${'ipsum '.repeat(40)}`;
    const parts = highlight(text, ['needle'], 80);
    const joined = parts.map((p) => p.text).join('');
    expect(parts[0]?.text.startsWith('…lorem')).toBe(true);
    expect(joined.endsWith('…')).toBe(true);
    expect(joined.length).toBeLessThanOrEqual(82);
    expect(parts.find((p) => p.match)?.text).toBe('needle');
  });
});
