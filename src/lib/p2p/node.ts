import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { Connection, PrivateKey } from '@libp2p/interface';
import { createLibp2p } from 'libp2p';
import {
  DEFAULT_DIAL_ATTEMPTS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_MAX_RELAYS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PING_TIMEOUT_MS,
  DEFAULT_RELAYED_CLOSE_DELAY_MS,
  DEFAULT_RESERVATION_TIMEOUT_MS,
  DIAL_RETRY_BACKOFF,
  RELAY_RETRY_BACKOFF
} from './constants.js';
import { ed25519Signer, type Signer } from '../crypto/signing.js';
import { createDenyList } from './deny-list.js';
import { dialPeer } from './dial.js';
import { NodeNotStartedError } from './errors.js';
import { libp2pOptions } from './libp2p-options.js';
import { createPeerLinks, type PeerLinks } from './peer-links.js';
import { createRelayKeeper, reservedRelayAddrs, type RelayKeeper } from './relays.js';
import { parseTarget } from './target.js';
import {
  deriveState,
  INITIAL_MODEL,
  reduce,
  statesEqual,
  type ConnectionInfo,
  type NodeEvent,
  type NodeModel
} from './state.js';
import type {
  ConnectOptions,
  DialAttemptReport,
  NodeDeps,
  NodeInit,
  NodeServices,
  NodeState,
  P2PLibp2p,
  P2PNode,
  P2PNodeEvents,
  PeerState,
  PingOptions
} from './types.js';

interface Settings {
  reservationTimeoutMs: number;
  dialTimeoutMs: number;
  dialAttempts: number;
  maxRelays: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  relayedCloseDelayMs: number;
}

/** Creates the browser node. Does no I/O: the key is loaded and libp2p started in start(). */
export function createNode(init: NodeInit, deps: NodeDeps): P2PNode {
  return new BrowserNode(init, deps);
}

type NetworkEvents = Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;

class BrowserNode implements P2PNode {
  readonly #events = new EventTarget();
  readonly #deps: NodeDeps;
  readonly #settings: Settings;
  readonly #now: () => number;
  readonly #random: () => number;
  #relays: string[];
  #iceServers: RTCIceServer[];
  #libp2p: P2PLibp2p | undefined;
  readonly denyList = createDenyList();
  /** Signs with the device key (the private key itself stays in this closure). */
  #sign: Signer | undefined;
  #peerId: string | undefined;
  #model: NodeModel = INITIAL_MODEL;
  #state: NodeState = deriveState(INITIAL_MODEL);
  #keeper: RelayKeeper | undefined;
  readonly #links: PeerLinks;
  #dials = new Map<string, Promise<PeerState>>();
  #starting: Promise<void> | undefined;
  #running = false;
  #unsubscribe: (() => void)[] = [];

  constructor(init: NodeInit, deps: NodeDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#relays = [...init.relays];
    this.#iceServers = [...(init.iceServers ?? [])];
    this.#settings = {
      reservationTimeoutMs: init.reservationTimeoutMs ?? DEFAULT_RESERVATION_TIMEOUT_MS,
      dialTimeoutMs: init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
      dialAttempts: Math.max(1, init.dialAttempts ?? DEFAULT_DIAL_ATTEMPTS),
      maxRelays: Math.max(1, init.maxRelays ?? DEFAULT_MAX_RELAYS, countRelayPeers(init.relays)),
      pingIntervalMs: init.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      pingTimeoutMs: init.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS,
      relayedCloseDelayMs: init.relayedCloseDelayMs ?? DEFAULT_RELAYED_CLOSE_DELAY_MS
    };
    this.#links = createPeerLinks({
      libp2p: () => this.#libp2p,
      running: () => this.#running,
      peers: () => this.#state.peers,
      dispatch: (e) => this.#dispatch(e),
      pingIntervalMs: this.#settings.pingIntervalMs,
      pingTimeoutMs: this.#settings.pingTimeoutMs,
      relayedCloseDelayMs: this.#settings.relayedCloseDelayMs
    });
  }

  addEventListener<K extends keyof P2PNodeEvents>(
    type: K,
    listener: (e: P2PNodeEvents[K]) => void,
    options?: boolean | AddEventListenerOptions
  ): void {
    this.#events.addEventListener(type, listener as EventListener, options);
  }

  removeEventListener<K extends keyof P2PNodeEvents>(
    type: K,
    listener: (e: P2PNodeEvents[K]) => void,
    options?: boolean | EventListenerOptions
  ): void {
    this.#events.removeEventListener(type, listener as EventListener, options);
  }

  get peerId(): string {
    if (this.#peerId === undefined) throw new NodeNotStartedError('The node has not started');
    return this.#peerId;
  }

  get libp2p(): P2PLibp2p {
    if (this.#libp2p === undefined) throw new NodeNotStartedError('The node has not started');
    return this.#libp2p;
  }

  sign(data: Uint8Array): Uint8Array {
    if (this.#sign === undefined) throw new NodeNotStartedError('The node has not started');
    return this.#sign(data);
  }

  get state(): NodeState {
    return this.#state;
  }

  start(): Promise<void> {
    if (this.#running) return Promise.resolve();
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const libp2p = this.#libp2p ?? (await this.#create());
    this.#libp2p = libp2p;
    this.denyList.attach(libp2p);
    this.#peerId = libp2p.peerId.toString();
    this.#subscribe(libp2p);
    await libp2p.start();
    this.#running = true;
    this.#dispatch({ type: 'node:started' });
    this.#syncAddresses();
    this.#dispatch({
      type: 'connections:reset',
      connections: libp2p.getConnections().map(connectionInfo)
    });

    const keeper = createRelayKeeper({
      libp2p,
      dispatch: (e) => this.#dispatch(e),
      reservationTimeoutMs: this.#settings.reservationTimeoutMs,
      maxRelays: this.#settings.maxRelays,
      backoff: RELAY_RETRY_BACKOFF,
      now: this.#now,
      random: this.#random
    });
    this.#keeper = keeper;
    keeper.setRelays(this.#relays);
    keeper.addressesChanged(this.#model.addresses);
    keeper.start();

    this.#links.start();
  }

  async #create(): Promise<P2PLibp2p> {
    const privateKey = await this.#loadOrCreateKey();
    if (privateKey.type === 'Ed25519') this.#sign = ed25519Signer(privateKey.raw);
    return createLibp2p<NodeServices>(
      libp2pOptions({
        privateKey,
        // One "find a relay" listener per relay slot, plus WebRTC, which advertises
        // <circuit address>/webrtc for every reservation.
        listen: [
          ...Array.from({ length: this.#settings.maxRelays }, () => '/p2p-circuit'),
          '/webrtc'
        ],
        iceServers: () => this.#iceServers,
        reservationTimeoutMs: this.#settings.reservationTimeoutMs,
        denyList: this.denyList
      })
    );
  }

  async #loadOrCreateKey(): Promise<PrivateKey> {
    const stored = await this.#deps.keyStore.load();
    if (stored !== undefined) return privateKeyFromProtobuf(stored);
    const key = await generateKeyPair('Ed25519');
    await this.#deps.keyStore.save(privateKeyToProtobuf(key));
    return key;
  }

  #subscribe(libp2p: P2PLibp2p): void {
    const on = <
      K extends
        | 'connection:open'
        | 'connection:close'
        | 'self:peer:update'
        | 'transport:listening'
        | 'transport:close'
    >(
      type: K,
      fn: (e: Event) => void
    ): void => {
      libp2p.addEventListener(type, fn);
      this.#unsubscribe.push(() => libp2p.removeEventListener(type, fn));
    };
    on('connection:open', (e) => {
      const conn = (e as CustomEvent<Connection>).detail;
      this.#dispatch({ type: 'connection:open', connection: connectionInfo(conn) });
      this.#links.connectionOpened(conn);
    });
    on('connection:close', (e) => {
      const conn = (e as CustomEvent<Connection>).detail;
      this.#dispatch({ type: 'connection:close', id: conn.id });
      this.#keeper?.connectionClosed(conn.remotePeer.toString());
    });
    // self:peer:update comes from a 1 s debounce in libp2p's address manager; the transport
    // events come as soon as a reservation adds (or a lost one removes) a circuit address.
    on('self:peer:update', () => this.#syncAddresses());
    on('transport:listening', () => this.#syncAddresses());
    on('transport:close', () => this.#syncAddresses());

    const network = this.#network();
    if (network !== undefined) {
      const onOnline = (): void => this.#keeper?.retryNow();
      network.addEventListener('online', onOnline);
      this.#unsubscribe.push(() => network.removeEventListener('online', onOnline));
    }
  }

  #network(): NetworkEvents | undefined {
    if (this.#deps.network !== undefined) return this.#deps.network;
    const g = globalThis as Partial<NetworkEvents>;
    return typeof g.addEventListener === 'function' ? (globalThis as NetworkEvents) : undefined;
  }

  #syncAddresses(): void {
    const addresses = this.#libp2p?.getMultiaddrs().map((ma) => ma.toString()) ?? [];
    this.#dispatch({ type: 'addresses', addresses });
    this.#keeper?.addressesChanged(addresses);
  }

  #dispatch(event: NodeEvent): void {
    this.#model = reduce(this.#model, event);
    const next = deriveState(this.#model);
    if (statesEqual(next, this.#state)) return;
    this.#state = next;
    this.#events.dispatchEvent(new CustomEvent('state', { detail: next }));
  }

  async stop(): Promise<void> {
    await this.#starting?.catch(() => {});
    if (!this.#running) return;
    this.#running = false;
    this.#links.stop();
    this.#keeper?.stop();
    this.#keeper = undefined;
    for (const off of this.#unsubscribe.splice(0)) off();
    await this.#libp2p?.stop();
    this.#dispatch({ type: 'node:stopped' });
  }

  setRelays(relays: string[]): void {
    this.#relays = [...relays];
    this.#keeper?.setRelays(this.#relays);
  }

  setIceServers(iceServers: RTCIceServer[]): void {
    this.#iceServers = [...iceServers];
  }

  connect(target: string, options: ConnectOptions = {}): Promise<PeerState> {
    if (!this.#running || this.#libp2p === undefined || this.#peerId === undefined) {
      return Promise.reject(new NodeNotStartedError('The node has not started'));
    }
    const libp2p = this.#libp2p;
    let key: string;
    try {
      // One dial per peer, however the target was written.
      key = parseTarget(target).peerId;
    } catch (err) {
      return Promise.reject(err);
    }
    const pending = this.#dials.get(key);
    if (pending !== undefined) return pending;
    const dial = dialPeer(
      {
        libp2p,
        selfPeerId: this.#peerId,
        relayAddrs: () => reservedRelayAddrs(this.#model.addresses),
        dialTimeoutMs: this.#settings.dialTimeoutMs,
        attempts: this.#settings.dialAttempts,
        backoff: DIAL_RETRY_BACKOFF,
        random: this.#random,
        onAttempt: (report) =>
          this.#events.dispatchEvent(new CustomEvent<DialAttemptReport>('dial', { detail: report }))
      },
      target,
      options
    )
      .then(({ peerId, connection }) => {
        // Make sure the state has seen the connection (RTT follows from the ping on open).
        this.#dispatch({ type: 'connection:open', connection: connectionInfo(connection) });
        return (
          this.#state.peers.find((p) => p.peerId === peerId) ?? {
            peerId,
            connection: 'direct' as const,
            remoteAddr: connection.remoteAddr.toString()
          }
        );
      })
      .finally(() => this.#dials.delete(key));
    this.#dials.set(key, dial);
    return dial;
  }

  ping(peerId: string, options: PingOptions = {}): Promise<number> {
    return this.#links.ping(peerId, options);
  }
}

function connectionInfo(conn: Connection): ConnectionInfo {
  return {
    id: conn.id,
    peerId: conn.remotePeer.toString(),
    remoteAddr: conn.remoteAddr.toString(),
    limited: conn.limits != null
  };
}

function countRelayPeers(relays: readonly string[]): number {
  const ids = new Set<string>();
  for (const r of relays) {
    const m = /\/p2p\/([^/]+)\/?$/.exec(r.trim());
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  return ids.size;
}
