/**
 * The UI's view of the node: NodeState mirrored into $state fields, plus the actions the
 * screens offer (connect, copy link, save settings). Components read and call only this.
 *
 * ```svelte
 * <script lang="ts">
 *   import { onMount } from 'svelte';
 *   import { createBrowserStores } from '$lib/stores/chat.svelte';
 *   const { node: store } = createBrowserStores();
 *   onMount(() => { void store.start(); return () => void store.stop(); });
 * </script>
 * <p role="status" aria-label="Relay status">{store.relayStatus}</p>
 * ```
 */
import {
  invalidIceUrls,
  needsTick,
  splitLines,
  splitList,
  statusLine,
  type App,
  type AppSnapshot,
  type RelayInfoState
} from '$lib/app';
import {
  describeAddr,
  parseRelayList,
  parseTarget,
  RELAY_STATUS_TEXT,
  relayProblemText,
  type DialAttemptReport,
  type NodeState,
  type NodeStatus,
  type PeerState,
  type RelayState
} from '$lib/p2p';
import { extractFromLink } from '$lib/p2p/target';
import { peerFingerprint } from '$lib/crypto';
import { describeError } from '$lib/app/error-text';
import type { Settings } from '$lib/storage';

/** The fingerprint of a peer ID, '' when it has none (not started, or no embedded key). */
export function fingerprintOf(peerId: string): string {
  if (peerId === '') return '';
  try {
    return peerFingerprint(peerId);
  } catch {
    return '';
  }
}

/** `12D3KooWAbc…xyz789`: enough to tell devices apart at a glance. */
export function shortPeerId(peerId: string): string {
  if (peerId.length <= 16) return peerId;
  return `${peerId.slice(0, 8)}…${peerId.slice(-6)}`;
}

/** `0.8 ms`, `12 ms`. */
export function formatRtt(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  return ms < 10 ? `${(Math.round(ms * 10) / 10).toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export class NodeStore {
  readonly #app: App;

  // Mirrors of NodeState.
  status = $state<NodeStatus>('offline');
  relays = $state.raw<RelayState[]>([]);
  addresses = $state.raw<string[]>([]);
  peers = $state.raw<PeerState[]>([]);

  /** Full peer ID of this device ('' until the node started). */
  peerId = $state('');
  relayInfo = $state.raw<RelayInfoState>({ status: 'loading', url: '' });
  settings = $state.raw<Settings>({ relays: [], iceServers: [] });
  starting = $state(false);
  startError = $state<string | undefined>(undefined);

  /** The "Peer ID or link" field. */
  target = $state('');
  connecting = $state(false);
  connectError = $state<string | undefined>(undefined);
  connectNotice = $state<string | undefined>(undefined);
  copyNotice = $state<string | undefined>(undefined);

  /** Settings form drafts. */
  relaysDraft = $state('');
  iceDraft = $state('');
  settingsNotice = $state<string | undefined>(undefined);
  settingsError = $state<string | undefined>(undefined);

  /** Clock for countdowns; ticks only while one is shown. */
  now = $state(Date.now());

  readonly shortId = $derived(shortPeerId(this.peerId));
  /** This device's fingerprint (8 groups of 5 digits), to compare with a contact's view of it. */
  readonly fingerprint = $derived(fingerprintOf(this.peerId));
  readonly relayStatus = $derived(
    statusLine({
      node: this.#nodeState(),
      relayInfo: this.relayInfo,
      starting: this.starting,
      now: this.now
    })
  );
  /** The status line reports a problem (not one of the three plain states). */
  readonly relayProblem = $derived(
    !(Object.values(RELAY_STATUS_TEXT) as string[]).includes(this.relayStatus)
  );
  /** Peers connected directly. */
  readonly directPeers = $derived(this.peers.filter((p) => p.connection === 'direct').length);
  /** Each relay in use, in words (Settings). */
  readonly relayLines = $derived(
    this.relays.map((r) => ({
      addr: describeAddr(r.addr),
      ok: r.status === 'reserved',
      text:
        r.status === 'reserved'
          ? 'connected'
          : (relayProblemText(r, this.now) ??
            (r.status === 'retrying' ? 'retrying…' : 'connecting…'))
    }))
  );
  /** The page's own relay, shown next to the Relays field. */
  readonly defaultRelays = $derived(this.relayInfo.info?.multiaddrs ?? []);

  /** Connect attempts seen (for the ?debug hook only; not reactive). */
  readonly #dials: DialAttemptReport[] = [];
  #ticker: ReturnType<typeof setInterval> | undefined;
  #autoConnect = false;
  #started: Promise<void> | undefined;

  constructor(app: App) {
    this.#app = app;
    this.#applySnapshot(app.snapshot);
  }

  /** The link that opens the app and connects to this device ('' until started). */
  get link(): string {
    return this.peerId === '' ? '' : this.#app.linkFor(this.peerId);
  }

  /** Starts the app; safe to call more than once. */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    this.#app.node.addEventListener('state', this.#onState);
    this.#app.node.addEventListener('dial', this.#onDial);
    this.#app.addEventListener('change', this.#onChange);
    this.starting = true;
    this.startError = undefined;
    try {
      await this.#app.start();
      this.peerId = this.#app.node.peerId;
      this.#onState(new CustomEvent('state', { detail: this.#app.node.state }));
    } catch (err) {
      this.startError = describeError(err, 'start');
    } finally {
      this.starting = false;
    }
  }

  async stop(): Promise<void> {
    this.#app.node.removeEventListener('state', this.#onState);
    this.#app.node.removeEventListener('dial', this.#onDial);
    this.#app.removeEventListener('change', this.#onChange);
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#started = undefined;
    await this.#app.stop();
  }

  /**
   * Takes a peer from an app link (the page's own URL, `#/connect/<peer>` or `?peer=`): fills
   * the connect field and connects as soon as the relay is up. Returns whether there was one.
   */
  openLink(href: string): boolean {
    const value = extractFromLink(href);
    if (value === undefined || value === '') return false;
    this.target = value;
    this.#autoConnect = true;
    this.#maybeAutoConnect();
    return true;
  }

  async connect(target: string = this.target): Promise<PeerState | undefined> {
    if (this.connecting) return undefined;
    this.connectError = undefined;
    this.connectNotice = undefined;
    try {
      parseTarget(target);
    } catch (err) {
      this.connectError = describeError(err, 'connect');
      return undefined;
    }
    this.connecting = true;
    try {
      await this.start();
      const peer = await this.#app.node.connect(target);
      this.connectNotice = `Connected to ${shortPeerId(peer.peerId)} (${
        peer.connection === 'direct' ? 'direct' : 'via relay'
      }).`;
      this.target = '';
      return peer;
    } catch (err) {
      this.connectError = describeError(err, 'connect');
      return undefined;
    } finally {
      this.connecting = false;
    }
  }

  async copyLink(): Promise<boolean> {
    if (this.link === '') return false;
    try {
      await navigator.clipboard.writeText(this.link);
      this.copyNotice = 'Link copied.';
      return true;
    } catch {
      this.copyNotice = `Couldn't copy automatically. Copy this link: ${this.link}`;
      return false;
    }
  }

  /** Fills the Settings form from the saved settings (call when the Settings screen opens). */
  editSettings(): void {
    this.relaysDraft = this.settings.relays.join('\n');
    this.iceDraft = this.settings.iceServers.join(', ');
    this.settingsNotice = undefined;
    this.settingsError = undefined;
  }

  /** Saves the user's extra relays (keeps the ICE servers). */
  async saveRelays(list: string[]): Promise<boolean> {
    return this.#save({ relays: list, iceServers: [...this.settings.iceServers] });
  }

  /** Saves the Settings form drafts. */
  async saveSettings(): Promise<boolean> {
    return this.#save({
      relays: splitLines(this.relaysDraft),
      iceServers: splitList(this.iceDraft)
    });
  }

  async #save(next: Settings): Promise<boolean> {
    this.settingsNotice = undefined;
    this.settingsError = undefined;
    const badRelays = next.relays.filter((r) => parseRelayList([r], 1).groups.length === 0);
    if (badRelays.length > 0) {
      this.settingsError = `This relay address isn't a multiaddr ending in /p2p/<relay ID>: ${badRelays[0]}`;
      return false;
    }
    const badIce = invalidIceUrls(next.iceServers);
    if (badIce.length > 0) {
      this.settingsError = `ICE server URLs start with stun: or turn: — this one doesn't: ${badIce[0]}`;
      return false;
    }
    try {
      await this.#app.saveSettings(next);
      this.relaysDraft = next.relays.join('\n');
      this.iceDraft = next.iceServers.join(', ');
      this.settingsNotice = 'Settings saved.';
      return true;
    } catch (err) {
      this.settingsError = describeError(err, 'settings');
      return false;
    }
  }

  #nodeState(): NodeState {
    return {
      status: this.status,
      relays: this.relays,
      addresses: this.addresses,
      peers: this.peers
    };
  }

  #onState = (e: CustomEvent<NodeState>): void => {
    const s = e.detail;
    this.status = s.status;
    this.relays = s.relays;
    this.addresses = s.addresses;
    this.peers = s.peers;
    this.#updateTicker();
    this.#maybeAutoConnect();
  };

  #onDial = (e: CustomEvent<DialAttemptReport>): void => {
    this.#dials.push(e.detail);
    if (this.#dials.length > 500) this.#dials.shift();
  };

  /**
   * Read-only diagnostics on `window.p2p4eDebug`, for `?debug` only: state, peer ID, the
   * connect attempts (with stall retries), the messenger's work counters and a ping to a
   * connected peer (benchmarks). Nothing secret and no handle on libp2p. One writer, for
   * benchmarks: `sendMany` (seeds a conversation through the chat service).
   */
  installDebugHook(target: object): void {
    const dials = this.#dials;
    const app = this.#app;
    Object.defineProperty(target, 'p2p4eDebug', {
      configurable: true,
      value: Object.freeze({
        get state(): NodeState {
          return structuredClone(app.node.state);
        },
        get peerId(): string {
          try {
            return app.node.peerId;
          } catch {
            return '';
          }
        },
        get dials(): DialAttemptReport[] {
          return dials.map((d) => ({ ...d }));
        },
        /** Work counters of the messenger (receipt writes...). */
        chatStats: () => app.chat.stats(),
        /** One libp2p ping round trip to a connected peer, in ms (benchmark baseline). */
        ping: async (peer: string): Promise<number> => {
          const connection = app.node.libp2p
            .getConnections()
            .find((c) => c.remotePeer.toString() === peer && c.limits === undefined);
          if (connection === undefined) throw new Error('no direct connection to that peer');
          // Bounded: a ping lost on the way would otherwise never settle.
          return app.node.libp2p.services.ping.ping(connection.remotePeer, {
            signal: AbortSignal.timeout(2_000)
          });
        },
        /**
         * Benchmarks only: sends `count` messages (`<prefix> 0001`...) to a conversation through
         * the chat service, as the composer does, in batches between macrotasks, then stores them.
         */
        sendMany: async (conversationId: string, count: number, prefix: string): Promise<void> => {
          const digits = String(count).length;
          for (let i = 1; i <= count; i++) {
            app.chat.send(conversationId, `${prefix} ${String(i).padStart(digits, '0')}`);
            if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
          }
          await app.chat.flush();
        }
      })
    });
  }

  #onChange = (e: CustomEvent<AppSnapshot>): void => {
    this.#applySnapshot(e.detail);
    this.#updateTicker();
  };

  #applySnapshot(snapshot: AppSnapshot): void {
    this.relayInfo = snapshot.relayInfo;
    // Settings read after the form was filled (Settings opened on page load) replace drafts the
    // user has not touched yet.
    const untouched =
      this.relaysDraft === this.settings.relays.join('\n') &&
      this.iceDraft === this.settings.iceServers.join(', ');
    this.settings = snapshot.settings;
    if (untouched) {
      this.relaysDraft = this.settings.relays.join('\n');
      this.iceDraft = this.settings.iceServers.join(', ');
    }
  }

  #maybeAutoConnect(): void {
    if (!this.#autoConnect || this.status !== 'online' || this.connecting) return;
    this.#autoConnect = false;
    void this.connect();
  }

  #updateTicker(): void {
    const needed = needsTick(this.#nodeState(), this.relayInfo);
    if (needed && this.#ticker === undefined) {
      this.now = Date.now();
      this.#ticker = setInterval(() => {
        this.now = Date.now();
      }, 1_000);
    } else if (!needed && this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }
}
