/**
 * Text normalization shared by the index and queries: compatibility decomposition (NFKD, so
 * "ﬁ" is "fi" and "①" is "1"), combining marks removed ("é" is "e"), lower case.
 */

const MARKS = /\p{M}+/gu;

/** The form a term is indexed and searched in. */
export function normalizeTerm(term: string): string {
  return term.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** Words of a text: runs of letters, digits and marks (what minisearch's tokenizer keeps). */
export const WORD = /[\p{L}\p{N}\p{M}\p{Pc}]+/gu;
