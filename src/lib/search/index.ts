/**
 * Local full-text search over message texts (minisearch). The index is kept in memory only —
 * never stored, never sent — and rebuilt in the background on each start.
 *
 * ```ts
 * const live = createLiveSearch({ source: chat }); // chat: the started Chat service
 * live.start();
 * live.onChange(() => render(live.query(box.value)));
 * for (const hit of live.query('recipe')) highlight(hit.text, hit.terms); // parts with matches
 * ```
 */
export * from './constants.js';
export { highlight, type TextPart } from './highlight.js';
export {
  createLiveSearch,
  toSearchDoc,
  type LiveSearch,
  type LiveSearchInit,
  type SearchSource
} from './live.js';
export { normalizeTerm } from './normalize.js';
export {
  createSearch,
  queryTerms,
  type Scheduler,
  type Search,
  type SearchDeps,
  type SearchDoc,
  type SearchHit,
  type SearchOptions
} from './search.js';
