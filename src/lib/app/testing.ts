/**
 * For tests only: the Sync service behind a Chat, so a test can play a hostile contact that
 * writes raw documents. Not exported from index.ts; the UI sees only the Chat façade.
 */
import type { Sync } from '../sync/index.js';
import { syncs } from './chat.js';
import type { Chat } from './chat-types.js';

export function syncOf(chat: Chat): Sync {
  const sync = syncs.get(chat)?.();
  if (sync === undefined) throw new Error('the chat is not started');
  return sync;
}
