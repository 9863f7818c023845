import type { Conversation } from './conversation.js';
import type { SyncAccess } from './sync-types.js';

/**
 * SyncAccess from the members map of each open conversation doc: a device may sync a
 * conversation it is listed in. `lookup` is usually `(id) => sync.conversation(id)`.
 */
export function createMemberAccess(
  lookup: (conversationId: string) => Conversation | undefined
): SyncAccess {
  return {
    canSync(peer, conversationId) {
      return lookup(conversationId)?.isMember(peer) ?? false;
    }
  };
}
