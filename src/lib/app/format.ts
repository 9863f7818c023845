/**
 * Light message formatting without HTML: text is split into segments that components render as
 * elements with text content only, so nothing a peer writes is ever parsed as markup.
 *
 * Supported: `code`, **bold**, _italic_, and http(s) links. No nesting (a chat line, not
 * Markdown); an unmatched marker stays as typed.
 */
import { parseFileRecord } from '../files/record.js';

export type Segment =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'bold'; text: string }
  | { type: 'italic'; text: string }
  | { type: 'link'; text: string; href: string };

// Alternatives in priority order: code first so markers inside it stay literal.
const TOKEN =
  /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|((?<![\p{L}\p{N}_])_[^_\n]+_(?![\p{L}\p{N}_]))|(https?:\/\/[^\s<>"'`]+)/gu;

/** Trailing punctuation is not part of a link ("see https://x.org." links to https://x.org). */
function trimLink(url: string): string {
  return url.replace(/[.,;:!?)\]]+$/, '');
}

export function formatMessage(text: string): Segment[] {
  const out: Segment[] = [];
  const push = (segment: Segment): void => {
    const last = out[out.length - 1];
    if (segment.type === 'text' && last?.type === 'text') last.text += segment.text;
    else if (segment.text !== '') out.push(segment);
  };
  let at = 0;
  for (const match of text.matchAll(TOKEN)) {
    const start = match.index;
    let token = match[0];
    if (start > at) push({ type: 'text', text: text.slice(at, start) });
    if (match[1] !== undefined) push({ type: 'code', text: token.slice(1, -1) });
    else if (match[2] !== undefined) push({ type: 'bold', text: token.slice(2, -2) });
    else if (match[3] !== undefined) push({ type: 'italic', text: token.slice(1, -1) });
    else {
      const url = trimLink(token);
      push({ type: 'link', text: url, href: url });
      // Punctuation cut off the link is plain text again.
      if (url.length < token.length) push({ type: 'text', text: token.slice(url.length) });
      token = match[0];
    }
    at = start + token.length;
  }
  if (at < text.length) push({ type: 'text', text: text.slice(at) });
  return out;
}

/** The text as it reads once formatted (markers removed): for previews and search results. */
export function plainText(text: string): string {
  return formatMessage(text)
    .map((segment) => segment.text)
    .join('');
}

/**
 * The formatters of formatTime, made once: `toLocaleTimeString(undefined, options)` builds a new
 * Intl.DateTimeFormat on every call (a fraction of a ms each), and every visible row formats
 * its time on each refresh (measured: most of the time from a message's arrival to its row).
 */
let formatters: { time: Intl.DateTimeFormat; day: Intl.DateTimeFormat } | undefined;

/** `14:05`, or `3 Nov 14:05` when not today. */
export function formatTime(ms: number, now: number = Date.now()): string {
  formatters ??= {
    time: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' }),
    day: new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })
  };
  const date = new Date(ms);
  const time = formatters.time.format(date);
  if (new Date(now).toDateString() === date.toDateString()) return time;
  return `${formatters.day.format(date)} ${time}`;
}

/** One or two letters for an avatar without a picture: "Ada Lovelace" → "AL", "bob" → "B". */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words.at(-1)] : words.slice(0, 1);
  return letters
    .map((w) => [...(w ?? '')][0] ?? '')
    .join('')
    .toLocaleUpperCase();
}

let dayFormat: Intl.DateTimeFormat | undefined;

/** A day separator: "Today", "Yesterday", else the date ("Monday, 3 November 2025"). */
export function dayLabel(ms: number, now: number = Date.now()): string {
  const day = new Date(ms);
  const today = new Date(now);
  if (day.toDateString() === today.toDateString()) return 'Today';
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day.toDateString() === yesterday.toDateString()) return 'Yesterday';
  dayFormat ??= new Intl.DateTimeFormat(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric'
  });
  return dayFormat.format(day);
}

/** The same calendar day (local time). */
export function sameDay(a: number, b: number): boolean {
  return new Date(a).toDateString() === new Date(b).toDateString();
}

/**
 * A message as a one-line preview (the conversation list): its text, or for a file sent without
 * a caption "📎 <file name>" (the name from its record, shown safe; "📎 File" when unreadable).
 */
export function previewText(message: { text: string; file?: string }): string {
  if (message.text.trim() !== '' || message.file === undefined) return plainText(message.text);
  try {
    return `📎 ${parseFileRecord(message.file).name}`;
  } catch {
    return '📎 File';
  }
}
