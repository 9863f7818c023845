/**
 * File names come from other people: shown in the conversation and used for downloads, they
 * must not carry path separators, control characters or bidirectional overrides (a name such as
 * "invoice\u202Efdp.exe" shows as "invoiceexe.pdf"), nor be a name the OS treats specially.
 */

/** At most this many UTF-16 units are kept (most file systems allow 255 bytes). */
export const MAX_FILE_NAME_UNITS = 120;
const FALLBACK = 'file';

// C0/C1 controls, DEL, and the Unicode format characters that reorder or hide text:
// bidi embeddings/overrides/isolates, marks, zero-width characters, BOM, soft hyphen.
const UNSAFE =
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;
// Separators and characters Windows refuses in names.
const RESERVED = /[/\\:*?"<>|]/gu;
// Names Windows keeps for devices, with or without an extension.
const DEVICE = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/iu;

/**
 * A name that is safe to show and to save under: unsafe characters removed, separators made
 * "_", no leading dots or trailing dots and spaces, bounded (the extension kept when it is
 * short), never empty.
 */
export function safeFileName(name: unknown): string {
  if (typeof name !== 'string') return FALLBACK;
  let clean = name
    .slice(0, MAX_FILE_NAME_UNITS * 4)
    .normalize('NFC')
    .replace(/[\t\n\v\f\r]+/gu, ' ')
    .replace(UNSAFE, '')
    .replace(RESERVED, '_')
    .replace(/\s+/gu, ' ')
    .trim()
    .replace(/^\.+/u, '')
    .replace(/[. ]+$/u, '');
  if (DEVICE.test(clean)) clean = `_${clean}`;
  if (clean.length > MAX_FILE_NAME_UNITS) clean = shorten(clean);
  return clean === '' ? FALLBACK : clean;
}

/** Cuts the stem, keeps a short extension; never splits a surrogate pair. */
function shorten(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 12 ? name.slice(dot) : '';
  const stem = [...name.slice(0, name.length - ext.length)];
  const out: string[] = [];
  let units = 0;
  for (const ch of stem) {
    if (units + ch.length > MAX_FILE_NAME_UNITS - ext.length) break;
    out.push(ch);
    units += ch.length;
  }
  return out.join('') + ext;
}
