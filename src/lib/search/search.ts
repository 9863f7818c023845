/**
 * A local full-text index of message texts across conversations (minisearch). It lives in
 * memory only: nothing is stored and nothing leaves the device; it is rebuilt from the
 * conversations on each start.
 */
import MiniSearch from 'minisearch';
import {
  BUILD_CHUNK_SIZE,
  COMMON_MIN_MESSAGES,
  COMMON_TERM_FRACTION,
  DEFAULT_RESULT_LIMIT,
  FUZZY_MAX_DISTANCE,
  FUZZY_MIN_TERM_LENGTH,
  MAX_QUERY_LENGTH,
  MAX_QUERY_TERMS,
  PREFIX_MIN_TERM_LENGTH
} from './constants.js';
import { normalizeTerm, WORD } from './normalize.js';

/** One message as the index sees it. */
export interface SearchDoc {
  conversationId: string;
  messageId: string;
  /** Author peer ID. */
  author: string;
  /** Time shown for the message (ms since epoch). */
  at: number;
  text: string;
}

export interface SearchHit extends SearchDoc {
  /** Index terms of the message that matched (normalized), for highlighting. */
  terms: string[];
  score: number;
}

/** Runs `task` later (setTimeout 0 / an idle callback in the app, a queue in tests). */
export type Scheduler = (task: () => void) => void;

export interface SearchDeps {
  /** Where building yields between chunks (default: setTimeout 0). */
  schedule?: Scheduler;
}

export interface SearchOptions {
  /** Messages indexed per scheduler turn while building (default BUILD_CHUNK_SIZE). */
  chunkSize?: number;
}

export interface Search {
  /** Adds a message, or replaces it (edited text). Deleted or empty texts are removed. */
  put(doc: SearchDoc): void;
  remove(conversationId: string, messageId: string): void;
  /** Forgets every message of a conversation (left, removed). */
  removeConversation(conversationId: string): void;
  /**
   * Indexes `docs` in chunks, yielding to the scheduler between them, so a large history
   * doesn't freeze the page. Resolves when done, or early once `signal` aborts. `skip` is
   * asked right before each doc is put (a doc updated meanwhile is left out).
   */
  build(
    docs: Iterable<SearchDoc>,
    options?: { signal?: AbortSignal; skip?: (doc: SearchDoc) => boolean }
  ): Promise<void>;
  /**
   * Messages matching every word of `query` (the last word also as a prefix, one typo allowed
   * in words of 5+ characters; accents and case ignored), best first. Empty query: none.
   */
  query(query: string, options?: { limit?: number }): SearchHit[];
  has(conversationId: string, messageId: string): boolean;
  /** Number of indexed messages. */
  size(): number;
  clear(): void;
}

export function createSearch(options: SearchOptions = {}, deps: SearchDeps = {}): Search {
  return new MiniSearchIndex(options, deps);
}

/** The query terms looked at: normalized words, at most MAX_QUERY_TERMS. */
export function queryTerms(query: string): string[] {
  return termsOf(query.slice(0, MAX_QUERY_LENGTH)).slice(0, MAX_QUERY_TERMS);
}

/** Normalized words of a text, in order, repeats kept. */
function termsOf(text: string): string[] {
  const out: string[] = [];
  for (const word of text.match(WORD) ?? []) {
    const term = normalizeTerm(word);
    if (term !== '') out.push(term);
  }
  return out;
}

const docId = (conversationId: string, messageId: string): string =>
  `${conversationId}\n${messageId}`;

// A fraction of 1 with maxFuzzy 1: one edit, only for words long enough to stay distinctive,
// and never for numbers (12345 is not a typo of 12346).
const fuzzy = (term: string): number | false =>
  term.length >= FUZZY_MIN_TERM_LENGTH && !/\p{N}/u.test(term) ? 1 : false;

// Only the last term is a prefix (it is the one being typed): a prefix per term multiplies
// the terms looked up, and with AND the earlier ones are complete words anyway.
const prefix = (term: string, i: number, terms: string[]): boolean =>
  i === terms.length - 1 && term.length >= PREFIX_MIN_TERM_LENGTH;

const defaultSchedule: Scheduler = (task) => void setTimeout(task, 0);

class MiniSearchIndex implements Search {
  readonly #index: MiniSearch<SearchDoc & { id: string }>;
  /** conversation id -> message ids in the index. */
  readonly #byConversation = new Map<string, Set<string>>();
  /** term -> number of indexed messages containing it. */
  readonly #docFreq = new Map<string, number>();
  /** Terms of the message being added (tokenized once, here, not again by minisearch). */
  #adding: string[] = [];
  readonly #chunkSize: number;
  readonly #schedule: Scheduler;

  constructor(options: SearchOptions, deps: SearchDeps) {
    this.#chunkSize = Math.max(1, options.chunkSize ?? BUILD_CHUNK_SIZE);
    this.#schedule = deps.schedule ?? defaultSchedule;
    this.#index = new MiniSearch({
      fields: ['text'],
      storeFields: ['conversationId', 'messageId', 'author', 'at', 'text'],
      // Indexing: the terms put() already made. Queries: tokenized and normalized the same way.
      tokenize: () => this.#adding,
      processTerm: (term) => term,
      searchOptions: {
        tokenize: (text) => text.match(WORD) ?? [],
        processTerm: (term) => normalizeTerm(term) || null,
        prefix,
        fuzzy,
        maxFuzzy: FUZZY_MAX_DISTANCE,
        combineWith: 'AND'
      },
      // Removed entries are cleaned up in the background (minisearch's own batches).
      autoVacuum: { batchSize: 1000, batchWait: 10, minDirtCount: 1000, minDirtFactor: 0.1 }
    });
  }

  put(doc: SearchDoc): void {
    const id = docId(doc.conversationId, doc.messageId);
    if (doc.text.trim() === '') {
      this.remove(doc.conversationId, doc.messageId);
      return;
    }
    if (this.#index.has(id)) {
      const stored = this.#index.getStoredFields(id);
      if (stored?.text === doc.text && stored.at === doc.at) return;
      this.#discard(id);
    }
    const terms = termsOf(doc.text);
    for (const term of new Set(terms)) this.#docFreq.set(term, (this.#docFreq.get(term) ?? 0) + 1);
    this.#adding = terms;
    try {
      this.#index.add({ ...doc, id });
    } finally {
      this.#adding = [];
    }
    let ids = this.#byConversation.get(doc.conversationId);
    if (ids === undefined) this.#byConversation.set(doc.conversationId, (ids = new Set()));
    ids.add(doc.messageId);
  }

  remove(conversationId: string, messageId: string): void {
    const id = docId(conversationId, messageId);
    if (!this.#index.has(id)) return;
    this.#discard(id);
    const ids = this.#byConversation.get(conversationId);
    ids?.delete(messageId);
    if (ids?.size === 0) this.#byConversation.delete(conversationId);
  }

  removeConversation(conversationId: string): void {
    const ids = this.#byConversation.get(conversationId);
    if (ids === undefined) return;
    for (const m of ids) this.#discard(docId(conversationId, m));
    this.#byConversation.delete(conversationId);
  }

  /** Drops a message from the index and its terms from the counts. */
  #discard(id: string): void {
    const text = this.#index.getStoredFields(id)?.text;
    if (typeof text === 'string') {
      for (const term of new Set(termsOf(text))) {
        const n = (this.#docFreq.get(term) ?? 1) - 1;
        if (n <= 0) this.#docFreq.delete(term);
        else this.#docFreq.set(term, n);
      }
    }
    this.#index.discard(id);
  }

  build(
    docs: Iterable<SearchDoc>,
    options: { signal?: AbortSignal; skip?: (doc: SearchDoc) => boolean } = {}
  ): Promise<void> {
    const iterator = docs[Symbol.iterator]();
    // An array's end is known: its build resolves in the turn of its last chunk rather than
    // one turn later (a turn is >= 4 ms in a browser; LiveSearch builds batch by batch).
    let left = Array.isArray(docs) ? docs.length : Infinity;
    return new Promise((resolve, reject) => {
      const step = (): void => {
        try {
          for (let n = 0; n < this.#chunkSize; n++) {
            if (options.signal?.aborted === true) return resolve();
            const next = iterator.next();
            if (next.done === true) return resolve();
            left--;
            if (options.skip?.(next.value) !== true) this.put(next.value);
          }
          if (left === 0) return resolve();
          this.#schedule(step);
        } catch (err) {
          reject(err);
        }
      };
      this.#schedule(step);
    });
  }

  query(query: string, options: { limit?: number } = {}): SearchHit[] {
    const terms = queryTerms(query);
    if (terms.length === 0) return [];
    const limit = options.limit ?? DEFAULT_RESULT_LIMIT;
    // Common words (never the last one, which may still be a prefix) only filter what the
    // rarer words found, when there are rarer words.
    const last = terms.length - 1;
    const threshold = Math.max(COMMON_MIN_MESSAGES, this.size() * COMMON_TERM_FRACTION);
    const common = terms.filter((t, i) => i < last && (this.#docFreq.get(t) ?? 0) > threshold);
    const lookUp = terms.filter((t, i) => i === last || !common.includes(t));
    const results = this.#index.search(lookUp.join(' '));
    const hits: SearchHit[] = [];
    for (const r of results) {
      if (hits.length >= limit) break;
      if (common.length > 0) {
        const words = new Set(termsOf(r.text as string));
        if (!common.every((t) => words.has(t))) continue;
      }
      hits.push({
        conversationId: r.conversationId as string,
        messageId: r.messageId as string,
        author: r.author as string,
        at: r.at as number,
        text: r.text as string,
        terms: common.length === 0 ? r.terms : [...r.terms, ...common],
        score: r.score
      });
    }
    return hits;
  }

  has(conversationId: string, messageId: string): boolean {
    return this.#index.has(docId(conversationId, messageId));
  }

  size(): number {
    return this.#index.documentCount;
  }

  clear(): void {
    this.#index.removeAll();
    this.#byConversation.clear();
    this.#docFreq.clear();
  }
}
