/**
 * Hash routes for conversations: `#/c/<conversation id>` opens one, `#/c/<id>/m/<message id>`
 * opens it and brings that message into view (search results link there).
 */
export const CONVERSATION_HASH = '#/c/';
const MESSAGE_PART = '/m/';

export function messageLink(conversationId: string, messageId: string): string {
  return `${CONVERSATION_HASH}${encodeURIComponent(conversationId)}${MESSAGE_PART}${encodeURIComponent(messageId)}`;
}

/** The conversation (and message) a hash points at, or undefined for other hashes. */
export function parseConversationHash(
  hash: string
): { conversationId: string; messageId?: string } | undefined {
  if (!hash.startsWith(CONVERSATION_HASH)) return undefined;
  const rest = hash.slice(CONVERSATION_HASH.length);
  const at = rest.indexOf(MESSAGE_PART);
  try {
    if (at < 0) return { conversationId: decodeURIComponent(rest) };
    const conversationId = decodeURIComponent(rest.slice(0, at));
    const messageId = decodeURIComponent(rest.slice(at + MESSAGE_PART.length));
    return messageId === '' ? { conversationId } : { conversationId, messageId };
  } catch {
    // A malformed escape: not a link we made.
    return undefined;
  }
}
