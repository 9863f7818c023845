/**
 * Conversations as Yjs documents, synced peer to peer over SYNC_PROTOCOL streams.
 *
 * - A conversation is a small head doc (meta, members, receipts, announcements, segment
 *   numbers) plus message segments of SEGMENT_MESSAGES messages, each its own doc
 *   (`DocSet`, doc-set.ts), stored in a HistoryStore with a message index.
 * - The model (`Conversation`, conversation.ts): messages ordered by hybrid logical clock,
 *   replies, edits, tombstones, reactions, receipts, members. It holds a window in memory (the
 *   newest messages; `loadOlder()`/`reveal()` extend it; `scan()` walks all of history).
 * - `createSync(init, { transport, self, history, legacy, access })`: opens conversations from
 *   the HistoryStore (moving DocStore ones over once), saves every change with its index
 *   entries, and keeps each doc in sync with every connected member device (a state-vector
 *   handshake per doc on each new connection, then live updates; any member brings another up
 *   to date; a segment not in memory answers from storage). A peer that sends anything invalid
 *   is dropped and ignored for a while; a doc an update broke is reloaded from storage. Wire
 *   format: protocol.ts (frame ids: `<conversation>` head, `<conversation>#<n>` segment n).
 *   Every received update passes `inspectUpdate` (update-check.ts: structure, bounds, nesting
 *   depth, clock gaps) before Yjs sees it; stored state is inspected when loaded.
 * - `createLibp2pSyncTransport(host, init)`: the frames' transport, SYNC_PROTOCOL streams over
 *   a libp2p node; `createMemorySyncNetwork()` is its in-memory twin for tests (same contract,
 *   same queueing rules: outbound-queue.ts). The interfaces are in transport.ts.
 *
 * ```ts
 * import { createLibp2pSyncTransport, createMemberAccess, createSync } from '$lib/sync';
 * import { createIdbDocStore, createIdbHistoryStore } from '$lib/storage';
 *
 * let sync: Sync;
 * const access = createMemberAccess((id) => sync.conversation(id)); // members of the doc
 * const transport = createLibp2pSyncTransport(node.libp2p);
 * const history = createIdbHistoryStore();
 * sync = createSync({}, { transport, self: node.peerId, history, legacy: createIdbDocStore(), access });
 * await sync.start();
 * const conv = await sync.open('conv-1'); // head, tail segment, newest 100 messages
 * conv.init({ kind: 'group', name: 'Climbing', members: [bobPeerId, carolPeerId] });
 * const msg = conv.send('hello'); // saved now, sent when a member is reachable
 * sync.onEvent((e) => e.type === 'status' && console.log(sync.messageStatus('conv-1', msg.id)));
 * await conv.loadOlder(200); // scrolling back
 * ```
 */
export {
  createConversation,
  openConversation,
  orderKey,
  type Authenticity,
  type Conversation,
  type ConversationKind,
  type ConversationMeta,
  type ConversationOptions,
  type CreateConversationInit,
  type GroupAnnouncement,
  type Hlc,
  type Message,
  type Receipts,
  type SendOptions
} from './conversation.js';
export {
  createMemberAccess,
  createSync,
  type MessageStatus,
  type Sync,
  type SyncAccess,
  type SyncDeps,
  type SyncEvent,
  type SyncInit
} from './sync.js';
export type {
  FrameSendOptions,
  SyncTransport,
  SyncTransportHandler,
  SyncTransportInit
} from './transport.js';
export { createEnvelopeVerifier, type EnvelopeVerifier } from './envelope.js';
export { createLibp2pSyncTransport, type Libp2pSyncTransportInit } from './transport-libp2p.js';
export {
  createMemorySyncNetwork,
  NetworkNotSettledError,
  type MemoryConnectOptions,
  type MemoryFaults,
  type MemoryFrame,
  type MemorySyncNetwork,
  type MemorySyncNetworkOptions,
  type MemorySyncTransport
} from './transport-memory.js';
export { decodeFrame, encodeFrame, FrameType, SyncErrorCode, type Frame } from './protocol.js';
export * from './constants.js';
export * from './errors.js';
