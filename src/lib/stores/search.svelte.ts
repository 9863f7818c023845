/**
 * Message search for the UI: the query box and its results, over a LiveSearch index of every
 * conversation (src/lib/search). The index is in memory only and built after the chat starts.
 */
import type { Chat } from '$lib/app/chat-types';
import { messageLink } from '$lib/app/links';
import { plainText } from '$lib/app/format';
import {
  createLiveSearch,
  highlight,
  MAX_QUERY_LENGTH,
  QUERY_DEBOUNCE_MS,
  type LiveSearch
} from '$lib/search';
import type { TextPart } from '$lib/search';

export interface SearchResultView {
  key: string;
  href: string;
  /** Name of the conversation. */
  conversation: string;
  /** Group conversations only: who wrote it. */
  author?: string;
  parts: TextPart[];
  at: number;
}

/** What the store needs from the Chat service. */
export type SearchStoreChat = Pick<
  Chat,
  | 'self'
  | 'summaries'
  | 'conversationIds'
  | 'scanMessages'
  | 'message'
  | 'onMessagesChange'
  | 'onChange'
> & {
  contacts: Pick<Chat['contacts'], 'displayName'>;
};

/** A one-shot timer (setTimeout in the app, a manual clock in tests). */
export interface SearchTimer {
  set(run: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface SearchStoreOptions {
  /** Quiet time after typing before the query runs (default QUERY_DEBOUNCE_MS). */
  debounceMs?: number;
}

export interface SearchStoreDeps {
  timer?: SearchTimer;
  /** Defaults to a LiveSearch over `chat`. */
  live?: LiveSearch;
}

const defaultTimer: SearchTimer = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

export class SearchStore {
  readonly #chat: SearchStoreChat;
  readonly #live: LiveSearch;
  readonly #timer: SearchTimer;
  readonly #debounceMs: number;
  #off: (() => void) | undefined;
  /** The query waiting for the typing to pause (undefined: none). */
  #waiting: unknown;

  query = $state('');
  results = $state.raw<SearchResultView[]>([]);
  /** True while the history is still being indexed. */
  building = $state(false);
  /** True while typing: `results` are for an earlier query. */
  pending = $state(false);

  constructor(chat: SearchStoreChat, options: SearchStoreOptions = {}, deps: SearchStoreDeps = {}) {
    this.#chat = chat;
    this.#live = deps.live ?? createLiveSearch({ source: chat });
    this.#timer = deps.timer ?? defaultTimer;
    this.#debounceMs = options.debounceMs ?? QUERY_DEBOUNCE_MS;
  }

  /** Call once the chat service started. */
  start(): void {
    if (this.#off !== undefined) return;
    // While typing, the query runs when the typing pauses (with the index as it is then).
    this.#off = this.#live.onChange(() => {
      if (this.#waiting === undefined) this.#run();
    });
    this.#live.start();
    this.building = this.#live.building;
  }

  stop(): void {
    this.#cancel();
    this.#off?.();
    this.#off = undefined;
    this.#live.stop();
  }

  /** The query box changed: runs the query once typing pauses (an empty box clears at once). */
  input(query: string): void {
    this.query = query.slice(0, MAX_QUERY_LENGTH);
    this.#cancel();
    if (this.query.trim() === '') {
      this.#run();
      return;
    }
    this.pending = true;
    this.#waiting = this.#timer.set(() => {
      this.#waiting = undefined;
      this.#run();
    }, this.#debounceMs);
  }

  clear(): void {
    this.#cancel();
    this.query = '';
    this.results = [];
  }

  #cancel(): void {
    if (this.#waiting !== undefined) this.#timer.clear(this.#waiting);
    this.#waiting = undefined;
    this.pending = false;
  }

  #run(): void {
    this.#cancel();
    this.building = this.#live.building;
    if (this.query.trim() === '') {
      this.results = [];
      return;
    }
    // A lookup for this run only, not state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const summaries = new Map(this.#chat.summaries().map((s) => [s.id, s]));
    const out: SearchResultView[] = [];
    for (const hit of this.#live.query(this.query)) {
      const summary = summaries.get(hit.conversationId);
      if (summary === undefined) continue;
      out.push({
        key: `${hit.conversationId}\n${hit.messageId}`,
        href: messageLink(hit.conversationId, hit.messageId),
        conversation: summary.name,
        ...(summary.kind === 'group' ? { author: this.#authorName(hit.author) } : {}),
        parts: highlight(plainText(hit.text), hit.terms),
        at: hit.at
      });
    }
    this.results = out;
  }

  #authorName(peer: string): string {
    if (peer === this.#chat.self) return 'You';
    return this.#chat.contacts.displayName(peer) ?? `${peer.slice(0, 8)}…${peer.slice(-6)}`;
  }
}
