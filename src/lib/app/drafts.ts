/**
 * Unsent drafts, one per conversation, kept on this device across switching and reloads.
 * Stored in the page's Web Storage (key `p2p4e.draft.<conversation id>`); an empty draft
 * removes its key. Storage that is blocked or full loses the draft quietly, never the page.
 */
import { MAX_MESSAGE_UNITS } from '$lib/core/limits';

export interface DraftStore {
  get(conversationId: string): string;
  set(conversationId: string, text: string): void;
}

const PREFIX = 'p2p4e.draft.';

export function createDraftStore(
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | undefined
): DraftStore {
  return {
    get(conversationId) {
      try {
        const text = storage?.getItem(PREFIX + conversationId) ?? '';
        // Whatever another tab or an older version left there, bounded like a message.
        return text.length > MAX_MESSAGE_UNITS * 2 ? '' : text;
      } catch {
        return '';
      }
    },
    set(conversationId, text) {
      try {
        if (text.trim() === '') storage?.removeItem(PREFIX + conversationId);
        else storage?.setItem(PREFIX + conversationId, text);
      } catch {
        // Quota or policy: the draft lives only as long as the page.
      }
    }
  };
}

/** Drafts in memory only (tests, or a page without storage). */
export function createMemoryDraftStore(): DraftStore {
  const drafts = new Map<string, string>();
  return {
    get: (id) => drafts.get(id) ?? '',
    set: (id, text) => {
      if (text.trim() === '') drafts.delete(id);
      else drafts.set(id, text);
    }
  };
}

/** The page's localStorage, or undefined where there is none or it is blocked. */
export function pageStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}
