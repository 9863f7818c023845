/**
 * The one receipt policy: when this device marks messages delivered or read.
 *
 * - Everything that reaches this device is delivered.
 * - What arrives in the conversation on screen, while the page is visible, is read (a read
 *   mark covers delivered too: one write, not two).
 * - Marks are coalesced: a conversation that changes many times within `intervalMs` gets at most
 *   one write when the interval ends, so a burst of 100 messages costs one receipt update (and
 *   one frame to each member), not 200.
 *
 * ```ts
 * const receipts = createReceiptPolicy({ lookup: (id) => sync.conversation(id), visibility });
 * conv.onChange(({ local }) => local || receipts.changed(id));
 * receipts.show(openId); // the conversation on screen
 * ```
 */
import type { Conversation } from '../sync/index.js';
import { realTimers, type PresenceTimers, type VisibilitySource } from './presence.js';

/** Longest a receipt waits, so that several changes share one write. */
export const RECEIPT_INTERVAL_MS = 100;

export interface ReceiptPolicyDeps {
  lookup: (conversationId: string) => Conversation | undefined;
  visibility: VisibilitySource;
  timers?: Pick<PresenceTimers, 'setTimeout' | 'clearTimeout'>;
  intervalMs?: number;
  /** Called after each receipt write (counting, tests). */
  onWrite?: (conversationId: string, kind: 'delivered' | 'read') => void;
}

export interface ReceiptPolicy {
  /** Something arrived in the conversation: its mark is due (coalesced). */
  changed(conversationId: string): void;
  /** The conversation on screen (undefined: none). Marks it read now if the page is visible. */
  show(conversationId: string | undefined): void;
  /** Marks everything in the conversation read, now. */
  markRead(conversationId: string): void;
  stop(): void;
}

export function createReceiptPolicy(deps: ReceiptPolicyDeps): ReceiptPolicy {
  const timers = deps.timers ?? realTimers;
  const intervalMs = deps.intervalMs ?? RECEIPT_INTERVAL_MS;
  const due = new Set<string>();
  let shown: string | undefined;
  let timer: unknown;

  /** Writes the mark this conversation needs, if any (at most one document update). */
  const mark = (id: string, read: boolean): void => {
    const conv = deps.lookup(id);
    if (conv === undefined || !conv.isMember(conv.self)) return;
    const newest = conv.messages({ limit: 1 })[0];
    if (newest === undefined || newest.author === conv.self) return;
    const mine = conv.receipts(conv.self);
    if (read) {
      if (mine.read !== undefined && mine.read >= newest.key) return;
      conv.markRead();
      deps.onWrite?.(id, 'read');
    } else {
      if (mine.delivered !== undefined && mine.delivered >= newest.key) return;
      conv.markDelivered();
      deps.onWrite?.(id, 'delivered');
    }
  };

  const reading = (id: string): boolean => id === shown && !deps.visibility.hidden();

  const flush = (): void => {
    timer = undefined;
    const ids = [...due];
    due.clear();
    for (const id of ids) {
      try {
        mark(id, reading(id));
      } catch {
        // A conversation that can't be marked (left meanwhile) is skipped.
      }
    }
  };

  const offVisibility = deps.visibility.onChange(() => {
    if (shown !== undefined && !deps.visibility.hidden()) policy.markRead(shown);
  });

  const policy: ReceiptPolicy = {
    changed(id) {
      due.add(id);
      timer ??= timers.setTimeout(flush, intervalMs);
    },
    show(id) {
      shown = id;
      if (id !== undefined && !deps.visibility.hidden()) policy.markRead(id);
    },
    markRead(id) {
      due.delete(id);
      try {
        mark(id, true);
      } catch {
        // As above.
      }
    },
    stop() {
      offVisibility();
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      due.clear();
      shown = undefined;
    }
  };
  return policy;
}
