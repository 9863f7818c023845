/**
 * User Timing marks along the start path (page load -> relay reservation), so DevTools, a
 * PerformanceObserver or the bench (bench/run.ts) can see where the first second goes without any
 * hook into the app. Each mark is set once per page, the first time its step happens; all are
 * read-only and carry nothing secret.
 *
 * ```ts
 * performance.getEntriesByName(START_MARKS.reserved)[0]?.startTime; // ms since navigation
 * ```
 */
import type { KeyStore } from '../storage/key-store.js';
import type { NodeState, P2PNode } from '../p2p/types.js';

export const START_MARKS = {
  /** createNodeApp() ran (the page's node half): its code is loaded and the page's script runs. */
  appCreated: 'p2p4e:app-created',
  /** The device key came out of the key store (IndexedDB). */
  keyLoaded: 'p2p4e:key-loaded',
  /** Relay-info is known (read from the page, or fetched). */
  relayInfo: 'p2p4e:relay-info',
  /** node.start() resolved: libp2p runs. */
  nodeStarted: 'p2p4e:node-started',
  /** The node started dialing a relay. */
  relayDial: 'p2p4e:relay-dial',
  /** A connection to the relay is open (WebSocket + Noise + yamux). */
  relayConnected: 'p2p4e:relay-connected',
  /** Identify with the relay finished. */
  relayIdentified: 'p2p4e:relay-identified',
  /** The first relay reservation is held (NodeState shows a relay 'reserved'). */
  reserved: 'p2p4e:reserved',
  /** The node has a `/webrtc` address through the relay (others can dial it directly). */
  webrtcAddr: 'p2p4e:webrtc-addr'
} as const;

export type StartMark = (typeof START_MARKS)[keyof typeof START_MARKS];

const done = new Set<string>();

/** Sets `name` once per page (later calls do nothing); a no-op without User Timing. */
export function markStart(name: StartMark): void {
  if (done.has(name)) return;
  done.add(name);
  try {
    globalThis.performance?.mark?.(name);
  } catch {
    // Marks are diagnostics only.
  }
}

/** The key store, marking when the key was first loaded. */
export function markingKeyStore(keyStore: KeyStore): KeyStore {
  return {
    load: async () => {
      const key = await keyStore.load();
      markStart(START_MARKS.keyLoaded);
      return key;
    },
    save: (key) => keyStore.save(key)
  };
}

/**
 * Marks the node's steps towards its first reservation, from its state and (once started) its
 * libp2p events. Call before `node.start()`, and `started()` once it resolved.
 */
export function watchStartMarks(node: P2PNode): { started(): void; stop(): void } {
  const relayIds = new Set<string>();
  const onState = (e: CustomEvent<NodeState>): void => {
    const s = e.detail;
    for (const r of s.relays) if (r.peerId !== '') relayIds.add(r.peerId);
    if (s.relays.some((r) => r.status !== 'error' && r.peerId !== '')) {
      markStart(START_MARKS.relayDial);
    }
    if (s.relays.some((r) => r.status === 'reserved')) markStart(START_MARKS.reserved);
    if (s.addresses.some((a) => a.includes('/p2p-circuit/webrtc'))) {
      markStart(START_MARKS.webrtcAddr);
      stop();
    }
  };
  let offLibp2p: (() => void) | undefined;
  const onLibp2p = (e: Event): void => {
    const detail = (e as CustomEvent<{ remotePeer?: unknown; peerId?: unknown }>).detail;
    const peer = String(detail.remotePeer ?? detail.peerId ?? '');
    if (!relayIds.has(peer)) return;
    markStart(
      e.type === 'peer:identify' ? START_MARKS.relayIdentified : START_MARKS.relayConnected
    );
  };
  let watching = false;
  const stop = (): void => {
    if (watching) node.removeEventListener('state', onState);
    watching = false;
    offLibp2p?.();
    offLibp2p = undefined;
  };
  // Marks are diagnostics: a node without events (a test double) just gets none.
  try {
    node.addEventListener('state', onState);
    watching = true;
  } catch {
    watching = false;
  }
  return {
    started(): void {
      markStart(START_MARKS.nodeStarted);
      if (!watching || offLibp2p !== undefined) return;
      // The relay dial that node.start() began needs network I/O: its connection can't have
      // opened before the code after `await node.start()` runs.
      try {
        const libp2p = node.libp2p;
        libp2p.addEventListener('connection:open', onLibp2p);
        libp2p.addEventListener('peer:identify', onLibp2p);
        offLibp2p = () => {
          libp2p.removeEventListener('connection:open', onLibp2p);
          libp2p.removeEventListener('peer:identify', onLibp2p);
        };
      } catch {
        offLibp2p = undefined;
      }
    },
    stop
  };
}
