/**
 * The services the Chat façade runs once started, made in one place: groups, conversation sync,
 * the receipt policy, presence, invites and pairing, wired to each other and to the façade
 * through the callbacks of `ChatServicesHost`. chat.ts starts them and keeps the façade.
 */
import type { Contacts, Invites, ProfileStore } from '../contacts/index.js';
import type { Conversation, Sync } from '../sync/index.js';
import type { ChatChanges } from './chat-changes.js';
import { createContactServices } from './chat-contacts.js';
import { createChatPresence, type ChatPresence } from './chat-presence.js';
import { createChatSync, directConversationId } from './chat-sync.js';
import type { ChatConfig, ChatStats } from './chat-types.js';
import { createGroupService, type GroupService } from './group-service.js';
import type { ChatPairing } from './pairing.js';
import { documentVisibility } from './presence.js';
import { createReceiptPolicy, type ReceiptPolicy } from './receipts.js';

export interface ChatServicesHost {
  config: ChatConfig;
  /** This device's peer ID. */
  self: string;
  contacts: Contacts;
  profile: ProfileStore;
  changes: ChatChanges;
  stats: ChatStats;
  /** Opens a stored (or new) conversation and watches it. */
  open(id: string): Promise<Conversation>;
  /** Opens (or creates) the 1:1 conversation with `peer`; resolves with its id. */
  openDirect(peer: string): Promise<string>;
  dial(peer: string): void;
  isDirectWith(conversationId: string, peer: string): boolean;
  /** Sends a presence notice in a conversation (best effort). */
  sendPresence(conversationId: string, state: 'online' | 'away'): void;
}

export interface ChatServices {
  groups: GroupService;
  sync: Sync;
  receipts: ReceiptPolicy;
  presence: ChatPresence;
  invites: Invites;
  pairing: ChatPairing;
}

export function createChatServices(host: ChatServicesHost): ChatServices {
  const { config, contacts, changes } = host;
  const { node } = config;
  // The group service and sync need each other: sync asks groups who may join (announced
  // groups), groups ask sync to open and resync; `late.sync` is set right after.
  const late: { sync?: Sync } = {};
  const groups = createGroupService({
    self: () => host.self,
    contacts,
    open: (id) => host.open(id),
    lookup: (id) => late.sync?.conversation(id),
    openDirect: (peer) => host.openDirect(peer),
    resync: (peer) => late.sync?.resync(peer),
    listChanged: () => changes.emit({ type: 'list' })
  });
  const sync = createChatSync({ node, self: host.self, config, contacts, groups });
  late.sync = sync;
  const visibility = config.visibility ?? documentVisibility();
  const timers = config.presenceTimers === undefined ? {} : { timers: config.presenceTimers };
  const receipts = createReceiptPolicy({
    lookup: (id) => sync.conversation(id),
    visibility,
    ...timers,
    ...(config.receiptIntervalMs === undefined ? {} : { intervalMs: config.receiptIntervalMs }),
    onWrite: () => host.stats.receiptWrites++
  });
  const presence = createChatPresence({
    node,
    contacts,
    self: () => host.self,
    isDirectWith: (id, peer) => host.isDirectWith(id, peer),
    send: (peer, state) => host.sendPresence(directConversationId(host.self, peer), state),
    visibility,
    ...timers,
    onChange: (peer) => changes.emit({ type: 'presence', peer })
  });
  const { invites, pairing } = createContactServices({
    node,
    contacts,
    profile: host.profile,
    storage: config.storage,
    origin: config.origin,
    ...(config.pageOrigin !== undefined ? { pageOrigin: config.pageOrigin } : {}),
    openDirect: async (peer) => {
      const id = directConversationId(host.self, peer);
      const created = sync.conversation(id)?.meta() === undefined;
      return { conversationId: await host.openDirect(peer), created };
    },
    dial: (peer) => host.dial(peer)
  });
  return { groups, sync, receipts, presence, invites, pairing };
}
