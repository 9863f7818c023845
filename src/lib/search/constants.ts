/** Longest query looked at (characters); the rest is ignored. */
export const MAX_QUERY_LENGTH = 200;
/** Most query terms looked at; the rest are ignored. */
export const MAX_QUERY_TERMS = 8;
/** Terms at least this long match with one typo (edit distance 1 in 5, 2 from 10 characters). */
export const FUZZY_MIN_TERM_LENGTH = 5;
/** Fraction of a term's length allowed as edit distance for fuzzy matching. */
export const FUZZY_FRACTION = 0.2;
/** Largest fuzzy edit distance. */
export const FUZZY_MAX_DISTANCE = 2;
/** Default number of results. */
export const DEFAULT_RESULT_LIMIT = 50;
/** Messages indexed per scheduler turn while building (one turn stays well under 50 ms). */
export const BUILD_CHUNK_SIZE = 500;
/** Characters of context kept around the first match in a snippet. */
export const SNIPPET_CONTEXT = 40;
/** Longest snippet (characters). */
export const SNIPPET_LENGTH = 160;
