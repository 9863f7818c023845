/**
 * For tests of src/lib/sync only: the Y.Doc behind a conversation, so a test can play a hostile
 * member that writes raw Yjs. Not exported from index.ts: nothing above sync may reach a doc.
 */
import type * as Y from 'yjs';
import type { Conversation } from './conversation.js';

export function docOf(conversation: Conversation): Y.Doc {
  const doc = (conversation as Conversation & { doc?: Y.Doc }).doc;
  if (doc === undefined) throw new Error('not a Yjs conversation');
  return doc;
}
