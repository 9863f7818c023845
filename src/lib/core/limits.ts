/**
 * The limits a person meets, in one place: the models enforce them, the composer and forms use
 * them as `maxlength`, and error messages quote them. Counted in characters (code points)
 * unless the name says otherwise; `*_UNITS` are UTF-16 code units, what `maxlength` and
 * `String.length` count (a character is one or two of them).
 */

/** Longest message text, in UTF-16 code units (the composer's maxlength counts the same). */
export const MAX_MESSAGE_UNITS = 16_000;

/** Longest group name, in characters. */
export const MAX_GROUP_NAME_LENGTH = 64;

/** Longest display name (profile) and nickname, in characters. */
export const MAX_DISPLAY_NAME_LENGTH = 64;

/** A field limited to `chars` characters lets this many UTF-16 units be typed (then says why). */
export function inputUnits(chars: number): number {
  return chars * 2;
}
