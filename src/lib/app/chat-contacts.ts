/**
 * The ways contacts are made, wired for the Chat façade: one-time invites (INVITE_PROTOCOL) and
 * short-code pairing (PAIR_PROTOCOL in the room of the relay this device is reserved on). Both
 * end in the 1:1 conversation with the new contact.
 */
import {
  createInvites,
  createPairing,
  type Contacts,
  type ContactsStorage,
  type Invites,
  type ProfileStore
} from '../contacts/index.js';
import type { P2PNode } from '../p2p/types.js';
import { createChatPairing, type ChatPairing } from './pairing.js';

export interface ContactServicesDeps {
  node: P2PNode;
  contacts: Contacts;
  profile: ProfileStore;
  storage: ContactsStorage;
  /** Base of invite links. */
  origin: string;
  /** Where the page was loaded from (private relay addresses in invites, see invites.ts). */
  pageOrigin?: string;
  /** Opens (or creates) the 1:1 conversation with `peer`; `created` when it did not exist. */
  openDirect: (peer: string) => Promise<{ conversationId: string; created: boolean }>;
  dial: (peer: string) => void;
}

export function createContactServices(deps: ContactServicesDeps): {
  invites: Invites;
  pairing: ChatPairing;
} {
  const { node, contacts } = deps;
  const host = node.libp2p;
  const invites = createInvites(
    {
      origin: deps.origin,
      ...(deps.pageOrigin !== undefined ? { pageOrigin: deps.pageOrigin } : {})
    },
    {
      host,
      contacts,
      store: deps.storage.invites,
      denyList: node.denyList,
      profile: () => deps.profile.load(),
      relays: () =>
        node.state.relays
          .filter((r) => r.status === 'reserved' && r.peerId !== '')
          .map((r) => r.addr)
    }
  );
  const pairing = createChatPairing(
    {},
    {
      pairing: createPairing(
        {},
        {
          host,
          pubsub: host.services.pubsub,
          contacts,
          profile: () => deps.profile.load(),
          addresses: () => node.state.addresses
        }
      ),
      contacts,
      relays: () => node.state.relays,
      openDirect: deps.openDirect,
      dial: deps.dial
    }
  );
  return { invites, pairing };
}
