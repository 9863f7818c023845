/**
 * What the sync service does for peers as a whole rather than for one frame: a peer coming up
 * (a step1 for every doc it may sync), going away (what was known about it is forgotten), and
 * the repair round over every doc of every open conversation, and a message's status as far
 * as the peers' acks tell it. Free functions over the parts
 * of the service they need (`PeerRoom`), kept apart from sync.ts, which wires those parts
 * together and holds the public API.
 */
import { messageItem } from './conversation.js';
import type { PeerBans } from './peer-bans.js';
import type { Reassembler } from './reassembly.js';
import type { FrameSender } from './sender.js';
import type { MessageStatus, SyncAccess } from './sync-types.js';
import type { SyncTransport } from './transport.js';
import { repairUnit, type ConversationState } from './unit.js';

/** The parts of the sync service (sync.ts) that peers come and go through. */
export interface PeerRoom {
  self: string;
  transport: SyncTransport;
  access: SyncAccess;
  bans: PeerBans;
  parts: Reassembler;
  sender: FrameSender;
  /** The open conversations, by id. */
  convs: ReadonlyMap<string, ConversationState>;
}

/** A peer's channel came up (or it is synced again): a step1 for every doc it may sync. */
export function peerUp(room: PeerRoom, peer: string): void {
  if (peer === room.self) return;
  if (room.bans.has(peer)) {
    room.transport.drop(peer, new Error('peer is ignored for misbehaving'));
    return;
  }
  // Parts in flight stay (the peer's frames keep their order); a new gap may ask again.
  room.parts.forgetPeer(peer, false);
  // `live` is kept: the peer's own step1 may already have arrived on its new stream (both
  // sides open theirs on the same connection event, in any order).
  for (const conv of room.convs.values()) {
    if (!room.access.canSync(peer, conv.id)) continue;
    for (const unit of conv.units.values()) room.sender.step1(unit, peer);
  }
}

/** A peer's channel went away: what was known about it is forgotten. */
export function peerDown(room: PeerRoom, peer: string): void {
  room.parts.forgetPeer(peer, true);
  for (const conv of room.convs.values()) for (const unit of conv.units.values()) unit.forget(peer);
}

/** The repair round `round` (see unit.ts repairUnit) over every doc of every open conversation. */
export function repairAll(room: PeerRoom, round: number): void {
  // Peers with frames still waiting to be written are left alone: what was sent may still
  // arrive, and more would only pile up behind it.
  const connected = new Set(room.transport.peers().filter((p) => room.transport.backlog(p) === 0));
  const arriving = room.parts.round();
  for (const conv of room.convs.values()) {
    for (const unit of conv.units.values()) {
      repairUnit(unit, round, {
        connected,
        arriving,
        canSync: (peer) => room.access.canSync(peer, conv.id),
        step1: (peer) => room.sender.step1(unit, peer),
        step2: (peer, sv) => room.sender.step2(unit, peer, sv)
      });
    }
  }
}

/**
 * Sync.messageStatus: read or delivered as the receipts say, else sent once a member's ack
 * covers it (undefined: no such message in an open conversation).
 */
export function deliveryStatus(
  room: PeerRoom,
  conversationId: string,
  messageId: string
): MessageStatus | undefined {
  const conv = room.convs.get(conversationId);
  if (conv === undefined) return undefined;
  if (conv.conversation.message(messageId) === undefined) return undefined;
  const receipt = conv.conversation.receiptStatus(messageId);
  if (receipt !== undefined) return receipt;
  const item = messageItem(conv.conversation, messageId);
  const unit = item === undefined ? undefined : conv.units.get(item.segment);
  if (item === undefined || unit === undefined) return 'pending';
  for (const [peer, sv] of unit.remote) {
    if (peer === room.self || !room.access.canSync(peer, conversationId)) continue;
    if ((sv.get(item.client) ?? 0) > item.clock) return 'sent';
  }
  return 'pending';
}
