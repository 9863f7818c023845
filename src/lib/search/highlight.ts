/**
 * Splits a message text into parts to show for a search result, marking the words that
 * matched, and cuts long texts to a snippet around the first match.
 */
import { SNIPPET_CONTEXT, SNIPPET_LENGTH } from './constants.js';
import { normalizeTerm, WORD } from './normalize.js';

export interface TextPart {
  text: string;
  /** True for a word that matched the query. */
  match: boolean;
}

/**
 * `text` as parts; a word is a match when its normalized form is one of `terms` (the index
 * terms a result matched, already normalized). Texts longer than `length` are cut around the
 * first match, with "…" where something was left out.
 */
export function highlight(
  text: string,
  terms: readonly string[],
  length: number = SNIPPET_LENGTH
): TextPart[] {
  const wanted = new Set(terms);
  const words: { start: number; end: number; match: boolean }[] = [];
  for (const m of text.matchAll(WORD)) {
    const start = m.index;
    words.push({ start, end: start + m[0].length, match: wanted.has(normalizeTerm(m[0])) });
  }
  let from = 0;
  let to = text.length;
  if (text.length > length) {
    const first = words.find((w) => w.match);
    from = Math.max(0, (first?.start ?? 0) - SNIPPET_CONTEXT);
    // Start at a word boundary.
    if (from > 0) from = words.find((w) => w.start >= from)?.start ?? from;
    to = Math.min(text.length, from + length);
  }
  const parts: TextPart[] = [];
  const push = (part: string, match: boolean): void => {
    if (part === '') return;
    const last = parts[parts.length - 1];
    if (last !== undefined && last.match === match) last.text += part;
    else parts.push({ text: part, match });
  };
  if (from > 0) push('…', false);
  let at = from;
  for (const w of words) {
    if (w.end <= from || w.start >= to) continue;
    const start = Math.max(w.start, from);
    const end = Math.min(w.end, to);
    push(text.slice(at, start), false);
    push(text.slice(start, end), w.match);
    at = end;
  }
  push(text.slice(at, to), false);
  if (to < text.length) push('…', false);
  return parts;
}
