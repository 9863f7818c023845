/**
 * Presence for the Chat façade: tells connected contacts whether this device is online or away
 * (an ephemeral notice on the 1:1 conversation) and tracks what they tell it. Wires the tracker
 * and announcer of presence.ts to the node and the contact book.
 */
import type { Contacts } from '../contacts/index.js';
import type { P2PNode } from '../p2p/types.js';
import {
  createPresenceAnnouncer,
  createPresenceTracker,
  type Presence,
  type PresenceTimers,
  type VisibilitySource
} from './presence.js';

export interface ChatPresenceDeps {
  node: Pick<P2PNode, 'state' | 'addEventListener' | 'removeEventListener'>;
  contacts: Pick<Contacts, 'list' | 'get' | 'isBlocked'>;
  self: () => string;
  /** Is `conversationId` the 1:1 conversation with `peer`? */
  isDirectWith: (conversationId: string, peer: string) => boolean;
  /** Sends this device's state to `peer` (best effort). */
  send: (peer: string, state: 'online' | 'away') => void;
  visibility: VisibilitySource;
  timers?: PresenceTimers;
  /** A contact's presence (or this device's, `peer` = self) changed. */
  onChange: (peer: string) => void;
}

export interface ChatPresence {
  start(): void;
  stop(): void;
  get(peer: string): Presence;
  /** A presence notice arrived on a conversation. */
  heard(conversationId: string, peer: string, state: 'online' | 'away'): void;
  /** The conversation with `peer` just went live: tell it we're here. */
  synced(conversationId: string, peer: string): void;
  /** The contact book changed: a blocked or removed contact's last notice no longer counts. */
  contactsChanged(): void;
}

export function createChatPresence(deps: ChatPresenceDeps): ChatPresence {
  const timers = deps.timers === undefined ? {} : { timers: deps.timers };
  const tracker = createPresenceTracker(timers);
  const announcer = createPresenceAnnouncer({
    send: deps.send,
    peers: () => deps.contacts.list().flatMap((c) => (c.blocked ? [] : [c.peerId])),
    ...timers,
    visibility: deps.visibility,
    onOwnChange: () => deps.onChange(deps.self())
  });
  let off: (() => void) | undefined;

  /** A contact whose connection closed is offline at once. */
  const onState = (): void => {
    const connected = new Set(deps.node.state.peers.map((p) => p.peerId));
    for (const contact of deps.contacts.list()) {
      if (!connected.has(contact.peerId)) tracker.disconnected(contact.peerId);
    }
  };

  return {
    start() {
      off = tracker.onChange((peer) => deps.onChange(peer));
      announcer.start();
      deps.node.addEventListener('state', onState);
    },
    stop() {
      deps.node.removeEventListener('state', onState);
      announcer.stop();
      off?.();
      tracker.clear();
    },
    get(peer) {
      if (peer === deps.self()) return announcer.state();
      return tracker.get(peer);
    },
    heard(conversationId, peer, state) {
      if (deps.isDirectWith(conversationId, peer) && !deps.contacts.isBlocked(peer)) {
        tracker.heard(peer, state);
      }
    },
    synced(conversationId, peer) {
      if (deps.isDirectWith(conversationId, peer)) announcer.announceTo(peer);
    },
    contactsChanged() {
      for (const peer of tracker.peers()) {
        const contact = deps.contacts.get(peer);
        if (contact === undefined || contact.blocked) tracker.disconnected(peer);
      }
    }
  };
}
