/**
 * Keeps this device connected to its contacts: dials every contact that is not connected when
 * the node comes online and then every CONTACT_REDIAL_MS, one attempt per contact at a time, and
 * never a blocked one. A contact already connected directly is left alone.
 *
 * ```ts
 * const dialer = createContactDialer({ node, contacts });
 * dialer.start(); // background redialing
 * dialer.dial(peer); // now, in the background (e.g. after an invite was accepted)
 * ```
 */
import type { Contacts } from '../contacts/index.js';
import type { P2PNode } from '../p2p/types.js';

/** Pause between attempts to reach contacts that are not connected. */
export const CONTACT_REDIAL_MS = 15_000;

export interface ContactDialerDeps {
  node: Pick<P2PNode, 'state' | 'connect' | 'addEventListener' | 'removeEventListener'>;
  contacts: Pick<Contacts, 'list'>;
  /** Dial in the background (default true); false: only dial() when asked. */
  background?: boolean;
  redialMs?: number;
}

export interface ContactDialer {
  start(): void;
  stop(): void;
  /** Connects to `peer` in the background (no-op while an attempt runs or it is direct). */
  dial(peer: string): void;
}

export function createContactDialer(deps: ContactDialerDeps): ContactDialer {
  const { node } = deps;
  const dialing = new Set<string>();
  let running = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const dial = (peer: string): void => {
    if (dialing.has(peer) || !running) return;
    if (node.state.peers.some((p) => p.peerId === peer && p.connection === 'direct')) return;
    dialing.add(peer);
    void node
      .connect(peer)
      .catch(() => undefined)
      .finally(() => dialing.delete(peer));
  };

  const dialAll = (): void => {
    if (!running || node.state.status !== 'online') return;
    const connected = new Set(node.state.peers.map((p) => p.peerId));
    for (const contact of deps.contacts.list()) {
      if (contact.blocked || connected.has(contact.peerId)) continue;
      dial(contact.peerId);
    }
  };

  const onState = (): void => {
    if (node.state.status === 'online') dialAll();
  };

  return {
    start() {
      if (running) return;
      running = true;
      if (deps.background === false) return;
      node.addEventListener('state', onState);
      timer = setInterval(dialAll, deps.redialMs ?? CONTACT_REDIAL_MS);
      dialAll();
    },
    stop() {
      running = false;
      clearInterval(timer);
      timer = undefined;
      node.removeEventListener('state', onState);
    },
    dial
  };
}
