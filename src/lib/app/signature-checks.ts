/**
 * What a message row shows of its signature: the checked result, or (not checked yet)
 * 'unknown' while the check runs right after the render that asked; a row that fails it is
 * reported so its conversation re-renders as Not verified. An Ed25519 check costs a few ms: it
 * stays off the path from a message's arrival (or a conversation's opening) to its rows.
 */
import type { Authenticity, Conversation } from '../sync/index.js';

export interface DeferredSignatureChecksDeps {
  conversation(id: string): Conversation | undefined;
  /** A message of this conversation failed its check (rows must re-render). */
  failed(conversationId: string): void;
}

export interface DeferredSignatureChecks {
  authenticity(conversationId: string, conv: Conversation, messageId: string): Authenticity;
}

export function createDeferredSignatureChecks(
  deps: DeferredSignatureChecksDeps
): DeferredSignatureChecks {
  /** conversation id -> message ids rendered before their signature was checked. */
  const unchecked = new Map<string, Set<string>>();
  let queued = false;

  const run = (): void => {
    queued = false;
    const pending = [...unchecked];
    unchecked.clear();
    for (const [conversationId, ids] of pending) {
      const conv = deps.conversation(conversationId);
      if (conv === undefined) continue;
      let failed = false;
      for (const id of ids) if (conv.authenticity(id) === 'unverified') failed = true;
      if (failed) deps.failed(conversationId);
    }
  };

  return {
    authenticity(conversationId, conv, messageId) {
      const known = conv.checkedAuthenticity(messageId);
      if (known !== undefined) return known;
      let ids = unchecked.get(conversationId);
      if (ids === undefined) unchecked.set(conversationId, (ids = new Set()));
      ids.add(messageId);
      if (!queued) {
        queued = true;
        setTimeout(run, 0);
      }
      return 'unknown';
    }
  };
}
