/** Longest query looked at (characters); the rest is ignored. */
export const MAX_QUERY_LENGTH = 200;
/** Most query terms looked at; the rest are ignored. */
export const MAX_QUERY_TERMS = 8;
/** Terms at least this long also match words one typo away (edit distance 1). */
export const FUZZY_MIN_TERM_LENGTH = 5;
/** Largest fuzzy edit distance. */
export const FUZZY_MAX_DISTANCE = 1;
/**
 * The last query term (still being typed) matches as a prefix from this length: a 2-letter
 * prefix matches (and scores) most of a large history.
 */
export const PREFIX_MIN_TERM_LENGTH = 3;
/** Quiet time after a keystroke before the query runs (ms). */
export const QUERY_DEBOUNCE_MS = 120;
/**
 * A query word found in more than this share of messages (and at least COMMON_MIN_MESSAGES)
 * is checked on the other words' results instead of being looked up: scoring every message
 * with "the" in it costs far more than the rare words' few hits.
 */
export const COMMON_TERM_FRACTION = 0.02;
export const COMMON_MIN_MESSAGES = 500;
/** Default number of results. */
export const DEFAULT_RESULT_LIMIT = 50;
/** Messages indexed per scheduler turn while building (~10 ms a turn for 100,000 messages). */
export const BUILD_CHUNK_SIZE = 200;
/** Characters of context kept around the first match in a snippet. */
export const SNIPPET_CONTEXT = 40;
/** Longest snippet (characters). */
export const SNIPPET_LENGTH = 160;
