/**
 * The Chat façade's change notifications: listeners, and 'conversation' changes coalesced to
 * one per conversation and task (one incoming frame can change a conversation several times).
 */
import type { ChatChange } from './chat-types.js';

export interface ChatChanges {
  on(listener: (change: ChatChange) => void): () => void;
  emit(change: ChatChange): void;
  /** A conversation changed: one 'conversation' change for it at the end of this task. */
  conversation(id: string): void;
}

export function createChatChanges(): ChatChanges {
  const listeners = new Set<(change: ChatChange) => void>();
  const dirty = new Set<string>();
  let queued = false;
  const emit = (change: ChatChange): void => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // One listener's failure must not stop the others.
      }
    }
  };
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit,
    conversation(id) {
      dirty.add(id);
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        const ids = [...dirty];
        dirty.clear();
        for (const conversationId of ids) emit({ type: 'conversation', conversationId });
      });
    }
  };
}
