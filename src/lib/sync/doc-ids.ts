/**
 * The names of a conversation's docs and of what changes in them: the part number of the head
 * doc, the wire id of each part (`<conv>` or `<conv>#<n>`) and its parsing, and the ids of the
 * messages a segment transaction touched (and whether a transaction added structs). Free
 * functions that need no DocSet, kept apart from the class in doc-set.ts (which re-exports
 * them).
 */
import type * as Y from 'yjs';
import { MAX_SEGMENT } from './constants.js';
import type { UpdateRange } from './envelope.js';

/** Part number of the head doc (segments are 0, 1, 2, …). */
export const HEAD = -1;

/** The wire id of a part: the conversation id for the head, `${id}#${n}` for segment n. */
export function unitId(conversationId: string, part: number): string {
  return part === HEAD ? conversationId : `${conversationId}#${part}`;
}

/** Parses a wire id (undefined: malformed segment number). */
export function parseUnitId(id: string): { conversationId: string; part: number } | undefined {
  const hash = id.lastIndexOf('#');
  if (hash < 0) return { conversationId: id, part: HEAD };
  const digits = id.slice(hash + 1);
  if (!/^(0|[1-9][0-9]{0,5})$/.test(digits)) return undefined;
  const part = Number(digits);
  if (part > MAX_SEGMENT || hash === 0) return undefined;
  return { conversationId: id.slice(0, hash), part };
}

/** Levels walked up from a changed type to the message that holds it. */
const MAX_WALK = 4;

/** Ids of the messages a transaction on a segment doc added, changed or removed. */
export function changedMessageIds(tr: Y.Transaction, messages: Y.Map<unknown>): string[] {
  const ids = new Set<string>();
  for (const [type, keys] of tr.changed) {
    if ((type as Y.AbstractType<unknown>) === messages) {
      for (const k of keys) if (k !== null) ids.add(k);
      continue;
    }
    // A change inside a message (text, edit, deletion, reaction): the message is its parent.
    // Messages nest one level; a few more steps are walked, never a hostile depth.
    let item = type._item;
    for (let steps = 0; item !== null && steps < MAX_WALK; steps++) {
      if (item.parent === messages) {
        if (typeof item.parentSub === 'string') ids.add(item.parentSub);
        break;
      }
      item = (item.parent as Y.AbstractType<unknown>)._item;
    }
  }
  return [...ids];
}

/**
 * The clocks a local transaction wrote, as its update carries them (Yjs encodes each client's
 * structs from its clock before the transaction): null when it only deleted, undefined when it
 * wrote under several client ids (then read them from the update).
 */
export function transactionRange(tr: Y.Transaction): UpdateRange | null | undefined {
  let range: UpdateRange | null = null;
  for (const [client, to] of tr.afterState) {
    const from = tr.beforeState.get(client) ?? 0;
    if (to === from) continue;
    if (range !== null) return undefined;
    range = { client, from, to };
  }
  return range;
}

/** Whether a transaction added structs (of any kind) to the doc. */
export function stateMoved(tr: Y.Transaction): boolean {
  if (tr.afterState.size !== tr.beforeState.size) return true;
  for (const [client, clock] of tr.afterState) {
    if (tr.beforeState.get(client) !== clock) return true;
  }
  return false;
}
