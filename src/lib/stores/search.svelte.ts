/**
 * Message search for the UI: the query box and its results, over a LiveSearch index of every
 * conversation (src/lib/search). The index is in memory only and built after the chat starts.
 */
import type { Chat } from '$lib/app/chat';
import { messageLink } from '$lib/app/links';
import { plainText } from '$lib/app/format';
import { createLiveSearch, highlight, MAX_QUERY_LENGTH, type LiveSearch } from '$lib/search';
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

export class SearchStore {
  readonly #chat: Chat;
  readonly #live: LiveSearch;
  #off: (() => void) | undefined;

  query = $state('');
  results = $state.raw<SearchResultView[]>([]);
  /** True while the history is still being indexed. */
  building = $state(false);

  constructor(chat: Chat) {
    this.#chat = chat;
    this.#live = createLiveSearch({ source: chat });
  }

  /** Call once the chat service started. */
  start(): void {
    if (this.#off !== undefined) return;
    this.#off = this.#live.onChange(() => this.#run());
    this.#live.start();
    this.building = this.#live.building;
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#live.stop();
  }

  input(query: string): void {
    this.query = query.slice(0, MAX_QUERY_LENGTH);
    this.#run();
  }

  clear(): void {
    this.query = '';
    this.results = [];
  }

  #run(): void {
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
