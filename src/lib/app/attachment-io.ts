/**
 * What the attachments service asks of the world around it: direct connections coming up (to
 * resume transfers waiting for a member), the storage the browser grants, and the messages:
 * their file records and who may have their files.
 */
import type { Libp2p } from '@libp2p/interface';
import { parseFileRecord } from '../files/record.js';
import type { AttachmentOf } from './attachments-types.js';
import type { Chat } from './chat-types.js';
import { describeFileError } from './transfer-state.js';
import { StorageFullError } from '../files/errors.js';
import { formatBytes } from './bytes.js';

/**
 * Calls `onDirect(peer)` when a direct (unlimited) connection opens, and every `recheckMs` for
 * each one open (one that opened while a fetch was giving up is not missed for long). Returns
 * the function that stops it.
 */
export function watchDirect(
  libp2p: Libp2p,
  recheckMs: number,
  onDirect: (peer: string) => void
): () => void {
  const onOpen = (e: CustomEvent<{ limits?: unknown; remotePeer: { toString(): string } }>) => {
    if (e.detail.limits === undefined) onDirect(e.detail.remotePeer.toString());
  };
  libp2p.addEventListener('connection:open', onOpen as never);
  const recheck = setInterval(() => {
    for (const c of libp2p.getConnections()) {
      if (c.limits === undefined) onDirect(c.remotePeer.toString());
    }
  }, recheckMs);
  return () => {
    clearInterval(recheck);
    libp2p.removeEventListener('connection:open', onOpen as never);
  };
}

/** Refuses a file of `bytes` that would not fit in the space the browser grants this app. */
export async function checkRoom(
  estimate: (() => Promise<{ usage?: number; quota?: number }>) | undefined,
  name: string,
  bytes: number
): Promise<void> {
  const e = await estimate?.().catch(() => undefined);
  if (e?.quota === undefined || e.usage === undefined) return;
  // Blocks carry a little framing; IndexedDB a little more.
  if (e.usage + bytes * 1.05 > e.quota) {
    const free = formatBytes(Math.max(0, e.quota - e.usage));
    throw new StorageFullError(
      `There is not enough storage space on this device for “${name}” ` +
        `(${formatBytes(bytes)} needed, ${free} free). ` +
        'Delete files in Settings → Storage and try again.'
    );
  }
}

/** Who may have the file of a message: its author first, then the other members. */
export function providersOf(chat: Chat, conversationId: string, messageId: string): string[] {
  const author = chat.message(conversationId, messageId)?.author;
  const members = chat.info(conversationId)?.members ?? [];
  return [...new Set([...(author !== undefined ? [author] : []), ...members])].filter(
    (p) => p !== chat.self
  );
}

/** Reads a message's file record, parsed once per text (a bad one: why, in words). */
export function recordReader(chat: Chat) {
  const records = new Map<string, AttachmentOf>();
  return (conversationId: string, messageId: string): AttachmentOf | undefined => {
    const raw = chat.message(conversationId, messageId)?.file;
    if (raw === undefined) return undefined;
    const key = `${messageId}\n${raw.length}`;
    let parsed = records.get(key);
    if (parsed === undefined) {
      try {
        parsed = { record: parseFileRecord(raw) };
      } catch (err) {
        parsed = { error: describeFileError(err) };
      }
      records.set(key, parsed);
    }
    return parsed;
  };
}
