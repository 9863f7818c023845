/** Pure helpers behind the contact details panel of a 1:1 conversation. */
import { peerSafetyNumber } from '../crypto/index.js';

/** The other member of a 1:1 conversation (undefined when there is none, e.g. a note to self). */
export function directPeer(members: readonly string[], self: string): string | undefined {
  return members.find((m) => m !== self);
}

/** The safety number of two devices ('' when either peer ID embeds no key). */
export function safetyNumberOf(self: string, peer: string): string {
  try {
    return peerSafetyNumber(self, peer);
  } catch {
    return '';
  }
}

/** A nickname as typed: trimmed; undefined when empty (nothing to rename to). */
export function cleanNickname(draft: string): string | undefined {
  const name = draft.trim().replace(/\s+/g, ' ');
  return name === '' ? undefined : name;
}
