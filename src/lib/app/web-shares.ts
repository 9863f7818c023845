/**
 * "Put on the web": asking the relay that served the app to keep a public file, so its link
 * (`<relay>/ipfs/<cid>`, an IPFS trustless gateway) opens for people without the app. Only a
 * relay whose operator turned public shares on says so in its relay-info (`publicShares`);
 * the relay fetches the file from this device over bitswap, checks every block against the
 * CID and stores it within its quota. Only public files (no key) can be asked for.
 *
 * ```ts
 * const gateway = () => webGatewayOf(info, origin);
 * const web = createWebShares({ libp2p: () => node.libp2p, gateway });
 * web.onChange((id) => render(web.view(id))); // 'asking', then 'kept' (url) or 'failed' (error)
 * if (web.gateway() !== undefined) web.put(messageId, record);
 * ```
 */
import type { Libp2p } from '@libp2p/interface';
import { askRelayToKeep } from '../files/pin.js';
import { isPublic, type FileRecord } from '../files/record.js';
import { formatBytes } from './bytes.js';
import type { RelayInfo } from './relay-info.js';

/** A relay that keeps public shares and serves them over HTTP. */
export interface WebGateway {
  /** The relay's peer ID (asked over the app's direct connection to it). */
  peerId: string;
  /** Its HTTP origin: the gateway is at `<origin>/ipfs/<cid>`. */
  origin: string;
  /** Largest file it keeps, in bytes. */
  maxBytes: number;
}

/** Where a file stands with the web gateway, for its card. */
export interface WebShareView {
  state: 'asking' | 'kept' | 'failed';
  /** The web link, once kept. */
  url?: string;
  /** Why not, in words for people (state 'failed'). */
  error?: string;
}

/** The gateway of the relay whose relay-info came from `origin`, when it keeps public shares. */
export function webGatewayOf(info: RelayInfo | undefined, origin: string): WebGateway | undefined {
  if (info?.publicShares === undefined) return undefined;
  return { peerId: info.peerId, origin, maxBytes: info.publicShares.maxBytes };
}

/** `<origin>/ipfs/<cid>?filename=<name>`: opens (downloads) the file in any browser. */
export function webLink(gateway: Pick<WebGateway, 'origin'>, record: FileRecord): string {
  const url = new URL(`/ipfs/${record.cid}`, gateway.origin);
  url.searchParams.set('filename', record.name);
  return url.toString();
}

/** Asks the gateway's relay to keep `record`; reports each step to `onChange`. Never rejects. */
export async function putOnWeb(
  libp2p: Pick<Libp2p, 'getConnections'>,
  gateway: WebGateway,
  record: FileRecord,
  onChange: (view: WebShareView) => void
): Promise<void> {
  if (!isPublic(record)) {
    onChange({ state: 'failed', error: 'Only a public file can be put on the web.' });
    return;
  }
  if (record.size > gateway.maxBytes) {
    onChange({
      state: 'failed',
      error: `The relay keeps public files of at most ${formatBytes(gateway.maxBytes)}.`
    });
    return;
  }
  onChange({ state: 'asking' });
  const answer = await askRelayToKeep(libp2p, gateway.peerId, record);
  onChange(
    answer.ok
      ? { state: 'kept', url: webLink(gateway, record) }
      : { state: 'failed', error: answer.message ?? 'The relay did not keep the file.' }
  );
}

export interface WebSharesConfig {
  /** The app's started libp2p node (the relay fetches the file over its connection to it). */
  libp2p: () => Pick<Libp2p, 'getConnections'>;
  /** The relay that keeps public files, read when asked (relay-info may come late). */
  gateway: () => WebGateway | undefined;
}

/** Public files put on the web, by message id (for this session; asking again is cheap). */
export interface WebShares {
  gateway(): WebGateway | undefined;
  view(id: string): WebShareView | undefined;
  /** Asks the relay to keep the public file `record` of message `id` (once at a time). */
  put(id: string, record: FileRecord): void;
  onChange(listener: (id: string) => void): () => void;
}

export function createWebShares(config: WebSharesConfig): WebShares {
  const views = new Map<string, WebShareView>();
  const listeners = new Set<(id: string) => void>();
  return {
    gateway: () => config.gateway(),
    view: (id) => views.get(id),
    put(id, record) {
      const gateway = config.gateway();
      const now = views.get(id)?.state;
      if (gateway === undefined || now === 'asking' || now === 'kept') return;
      void putOnWeb(config.libp2p(), gateway, record, (view) => {
        views.set(id, view);
        for (const l of listeners) l(id);
      });
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }
  };
}
