/**
 * Conversations stored before segments (one Yjs doc each, in the DocStore) become a head plus
 * segments of SEGMENT_MESSAGES messages in order, with their message index: DocSet.open moves
 * such a conversation into the HistoryStore the first time it is opened.
 */
import * as Y from 'yjs';
import type { HistoryEntry, HistorySnapshot } from '../storage/history-store.js';
import { SEGMENT_MESSAGES } from './constants.js';
import { indexEntryOf, SEGMENTS_KEY } from './message-format.js';

/** Copies a Y.Map's entries into another (nested maps become new nested maps). */
export function copyMap(from: Y.Map<unknown>, to: Y.Map<unknown>): void {
  for (const [k, v] of from.entries()) {
    if (v instanceof Y.Map) {
      const inner = new Y.Map<unknown>();
      to.set(k, inner);
      copyMap(v, inner);
    } else if (!(v instanceof Y.AbstractType)) {
      to.set(k, v);
    }
  }
}

/**
 * Splits a conversation stored as one doc (before segments) into head and segments of
 * SEGMENT_MESSAGES messages in order, with their index: what DocSet.open migrates.
 */
export function splitLegacy(update: Uint8Array): HistorySnapshot {
  const old = new Y.Doc();
  Y.applyUpdate(old, update);
  const head = new Y.Doc();
  for (const name of ['meta', 'members', 'receipts', 'groups']) {
    copyMap(old.getMap(name), head.getMap(name));
  }
  const entries: { entry: HistoryEntry; value: Y.Map<unknown> }[] = [];
  for (const [id, value] of old.getMap('messages').entries()) {
    const entry = indexEntryOf(id, value, 0);
    if (entry !== undefined) entries.push({ entry, value: value as Y.Map<unknown> });
  }
  entries.sort((a, b) => (a.entry.key < b.entry.key ? -1 : a.entry.key > b.entry.key ? 1 : 0));
  const segments = new Map<number, Uint8Array>();
  const index: HistoryEntry[] = [];
  for (let start = 0, n = 0; start < entries.length; start += SEGMENT_MESSAGES, n++) {
    const doc = new Y.Doc();
    const messages = doc.getMap('messages');
    doc.transact(() => {
      for (const { entry, value } of entries.slice(start, start + SEGMENT_MESSAGES)) {
        const copy = new Y.Map<unknown>();
        messages.set(entry.id, copy);
        copyMap(value, copy);
        index.push({ ...entry, segment: n });
      }
    });
    segments.set(n, Y.encodeStateAsUpdate(doc));
    head.getMap(SEGMENTS_KEY).set(String(n), 1);
  }
  return { head: Y.encodeStateAsUpdate(head), segments, index };
}
