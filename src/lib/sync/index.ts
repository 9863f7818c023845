/**
 * Conversations as Yjs documents, synced peer to peer over SYNC_PROTOCOL streams.
 *
 * - `createConversation(doc, { self })`: the conversation model (messages ordered by hybrid
 *   logical clock, replies, edits, tombstones, reactions, receipts, members) over a Y.Doc.
 * - `createSync(init, { transport, self, docs, access })`: loads docs from a DocStore, saves every change,
 *   and keeps them in sync with every connected member device (state-vector handshake on each
 *   new connection, then live updates; any member brings another up to date). Untrusted
 *   updates are tried on a shadow doc first; a peer that sends anything invalid is dropped and
 *   ignored for a while. Wire format: protocol.ts.
 * - `createLibp2pSyncTransport(host, init)`: the frames' transport, SYNC_PROTOCOL streams over
 *   a libp2p node; `createMemorySyncNetwork()` is its in-memory twin for tests (same contract,
 *   same queueing rules: outbound-queue.ts). The interfaces are in transport.ts.
 *
 * ```ts
 * import { createLibp2pSyncTransport, createMemberAccess, createSync } from '$lib/sync';
 * import { createIdbDocStore } from '$lib/storage';
 *
 * let sync: Sync;
 * const access = createMemberAccess((id) => sync.conversation(id)); // members of the doc
 * const transport = createLibp2pSyncTransport(node.libp2p);
 * sync = createSync({}, { transport, self: node.peerId, docs: createIdbDocStore(), access });
 * await sync.start();
 * const conv = await sync.open('conv-1');
 * conv.init({ kind: 'group', name: 'Climbing', members: [bobPeerId, carolPeerId] });
 * const msg = conv.send('hello'); // saved now, sent when a member is reachable
 * sync.onEvent((e) => e.type === 'status' && console.log(sync.messageStatus('conv-1', msg.id)));
 * ```
 */
export {
  createConversation,
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
