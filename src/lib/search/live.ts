/**
 * Keeps a Search index in step with the chat: indexes every conversation this device is a
 * member of (in the background, batch by batch from `scanMessages`, chunk by chunk within a
 * batch: a conversation's history is never held whole), then follows each one's message changes —
 * new messages are added, edits replace, deletions (tombstones) are removed — and forgets a
 * conversation when it is left or goes away.
 */
import type { Message } from '../sync/index.js';
import {
  createSearch,
  type Search,
  type SearchDeps,
  type SearchDoc,
  type SearchHit
} from './search.js';

/** What LiveSearch needs from the Chat façade (src/lib/app/chat.ts). */
export interface SearchSource {
  /** Ids of the conversations this device belongs to. */
  conversationIds(): string[];
  /**
   * Visits every message of a conversation, oldest first, batch by batch; stops early once
   * `signal` aborts.
   */
  scanMessages(
    conversationId: string,
    visit: (batch: Message[]) => void | Promise<void>,
    options?: { signal?: AbortSignal }
  ): Promise<void>;
  message(conversationId: string, messageId: string): Message | undefined;
  onMessagesChange(conversationId: string, listener: (ids: string[]) => void): () => void;
  onChange(listener: (change: { type: string; conversationId?: string }) => void): () => void;
}

export interface LiveSearch {
  readonly index: Search;
  /** Subscribes to the chat and indexes the open conversations in the background. */
  start(): void;
  stop(): void;
  query(query: string, options?: { limit?: number }): SearchHit[];
  /** True until every conversation known at start was indexed. */
  readonly building: boolean;
  /** Called (coalesced) after the index changed. */
  onChange(listener: () => void): () => void;
}

export interface LiveSearchInit {
  source: SearchSource;
  /** Defaults to createSearch({}, deps). */
  index?: Search;
}

export function createLiveSearch(init: LiveSearchInit, deps: SearchDeps = {}): LiveSearch {
  return new Live(init.source, init.index ?? createSearch({}, deps));
}

interface Watched {
  off: () => void;
  abort: AbortController;
  /** Messages updated live while the initial build runs: the build skips them. */
  touched: Set<string> | undefined;
}

export function toSearchDoc(conversationId: string, m: Message): SearchDoc {
  return { conversationId, messageId: m.id, author: m.author, at: m.displayAt, text: m.text };
}

class Live implements LiveSearch {
  readonly index: Search;
  readonly #source: SearchSource;
  readonly #watched = new Map<string, Watched>();
  readonly #listeners = new Set<() => void>();
  #off: (() => void) | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pendingBuilds = 0;
  #notifyQueued = false;
  #syncQueued = false;

  constructor(source: SearchSource, index: Search) {
    this.#source = source;
    this.index = index;
  }

  get building(): boolean {
    return this.#pendingBuilds > 0;
  }

  start(): void {
    if (this.#off !== undefined) return;
    this.#off = this.#source.onChange((change) => {
      if (change.type === 'typing') return;
      if (change.type === 'conversation' && change.conversationId !== undefined) {
        const id = change.conversationId;
        if (this.#watched.has(id) === this.#isMine(id)) return;
      }
      this.#scheduleSync();
    });
    this.#sync();
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
    for (const id of [...this.#watched.keys()]) this.#detach(id);
    this.index.clear();
  }

  query(query: string, options?: { limit?: number }): SearchHit[] {
    return this.index.query(query, options);
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #isMine(id: string): boolean {
    return this.#source.conversationIds().includes(id);
  }

  #scheduleSync(): void {
    if (this.#syncQueued) return;
    this.#syncQueued = true;
    queueMicrotask(() => {
      this.#syncQueued = false;
      if (this.#off !== undefined) this.#sync();
    });
  }

  /** Watches exactly the conversations listed for this device. */
  #sync(): void {
    const ids = new Set(this.#source.conversationIds());
    for (const id of [...this.#watched.keys()]) {
      if (!ids.has(id)) {
        this.#detach(id);
        this.index.removeConversation(id);
        this.#notify();
      }
    }
    for (const id of ids) if (!this.#watched.has(id)) this.#attach(id);
  }

  #attach(id: string): void {
    const source = this.#source;
    const watched: Watched = {
      off: source.onMessagesChange(id, (ids) => this.#update(id, ids, watched)),
      abort: new AbortController(),
      touched: new Set()
    };
    this.#watched.set(id, watched);
    this.#pendingBuilds++;
    // One conversation at a time, so chunks of several builds don't pile up in one turn.
    this.#queue = this.#queue
      .then(async () => {
        const { signal } = watched.abort;
        if (signal.aborted) return;
        await source.scanMessages(
          id,
          async (batch) => {
            if (signal.aborted) return;
            const docs = batch.filter((m) => !m.deleted).map((m) => toSearchDoc(id, m));
            // Asked per doc, as it is put: an edit that lands while this batch is indexed counts.
            const skip = (doc: SearchDoc): boolean => watched.touched?.has(doc.messageId) === true;
            await this.index.build(docs, { signal, skip });
          },
          { signal }
        );
      })
      .catch(() => undefined)
      .finally(() => {
        watched.touched = undefined;
        this.#pendingBuilds--;
        this.#notify();
      });
  }

  #detach(id: string): void {
    const watched = this.#watched.get(id);
    if (watched === undefined) return;
    watched.abort.abort();
    watched.off();
    this.#watched.delete(id);
  }

  #update(conversationId: string, ids: string[], watched: Watched): void {
    for (const messageId of ids) {
      watched.touched?.add(messageId);
      const m = this.#source.message(conversationId, messageId);
      if (m === undefined || m.deleted) this.index.remove(conversationId, messageId);
      else this.index.put(toSearchDoc(conversationId, m));
    }
    this.#notify();
  }

  #notify(): void {
    if (this.#notifyQueued) return;
    this.#notifyQueued = true;
    queueMicrotask(() => {
      this.#notifyQueued = false;
      for (const listener of this.#listeners) listener();
    });
  }
}
