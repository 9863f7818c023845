/**
 * The sync service as the messenger runs it: over the node's libp2p streams (or the transport
 * a test gives), conversations in the HistoryStore (DocStore ones moved over), messages signed
 * with the device key, and who may sync what (members; not blocked contacts; the announced
 * members of a group whose doc has not arrived yet).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { Contacts } from '../contacts/index.js';
import { verifyByPeer } from '../crypto/signing.js';
import type { P2PNode } from '../p2p/types.js';
import { createLibp2pSyncTransport, createSync, type Sync } from '../sync/index.js';
import type { ChatConfig } from './chat-types.js';
import type { GroupService } from './group-service.js';

/** The 1:1 conversation id of two devices: hex SHA-256 of the sorted peer IDs. */
export function directConversationId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  const bytes = sha256(new TextEncoder().encode(`p2p4e/1:1\n${x}\n${y}`));
  return `d-${[...bytes].map((n) => n.toString(16).padStart(2, '0')).join('')}`;
}

export interface ChatSyncDeps {
  node: P2PNode;
  self: string;
  config: Pick<ChatConfig, 'syncTransport' | 'syncInit' | 'history' | 'docs'>;
  contacts: Contacts;
  groups: Pick<GroupService, 'mayJoinFrom'>;
}

export function createChatSync({ node, self, config, contacts, groups }: ChatSyncDeps): Sync {
  const sync = createSync(
    { ...config.syncInit },
    {
      transport:
        config.syncTransport ?? createLibp2pSyncTransport(node.libp2p, { denyList: node.denyList }),
      self,
      history: config.history,
      ...(config.docs !== undefined ? { legacy: config.docs } : {}),
      // Messages are signed with the device key; signatures are checked per shown message.
      sign: (data) => node.sign(data),
      verify: verifyByPeer,
      access: {
        canSync: (peer, id) => {
          if (contacts.isBlocked(peer)) return false;
          const conv = sync.conversation(id);
          if (conv?.meta() !== undefined) return conv.isMember(peer);
          // A group announced to us whose doc has not arrived: its announced members.
          return groups.mayJoinFrom(id, peer);
        }
      }
    }
  );
  return sync;
}

/** Ids of the conversations stored on this device (either store), sorted. */
export async function storedConversationIds(
  config: Pick<ChatConfig, 'history' | 'docs'>
): Promise<string[]> {
  const ids = new Set([...(await config.history.list()), ...((await config.docs?.list()) ?? [])]);
  return [...ids].sort();
}
