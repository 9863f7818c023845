/**
 * "Ours": the app's own browser node (`createNode` from src/lib/p2p, default options except an
 * explicit `iceServers: []`), with the bench echo and sink protocols registered on its libp2p.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { createNode, type DialAttemptReport, type NodeState, type P2PNode } from '$lib/p2p';
import { createMemoryKeyStore } from '$lib/storage';
import type { DialResult, OursApi, ReservationTiming } from './api.ts';
import { peerConnectionsCreated } from './count-pc.ts';
import { echoRtt, isDirect, registerBenchProtocols, sinkBulk } from './protocols.ts';
import { deadline, errorMessage, sleep } from './util.ts';

/** performance.now() when this module was evaluated: the bundle has loaded and parsed. */
const scriptStartMs = performance.now();

let node: P2PNode | undefined;
let createdAt = Number.NaN;
let resolveReserved: (at: number) => void = () => {};
const reservedAt = new Promise<number>((resolve) => (resolveReserved = resolve));
let resolveCircuit: (at: number) => void = () => {};
const circuitAt = new Promise<number>((resolve) => (resolveCircuit = resolve));

/** Polls libp2p's own addresses for a circuit (relay) address, independent of NodeState. */
async function watchCircuitAddr(n: P2PNode): Promise<void> {
  while (node === n) {
    if (n.libp2p.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'))) {
      resolveCircuit(performance.now());
      return;
    }
    await sleep(5);
  }
}

const isReserved = (state: NodeState): boolean => state.relays.some((r) => r.status === 'reserved');

function started(): P2PNode {
  if (node === undefined) throw new Error('ours: node not started');
  return node;
}

/** The started node's libp2p (for the conversation benchmarks in chat.ts). */
export function startedLibp2p(): P2PNode['libp2p'] {
  return started().libp2p;
}

/** Signs with the started node's device key, as the app signs its messages. */
export function startedSigner(): (data: Uint8Array) => Uint8Array {
  const n = started();
  return (data) => n.sign(data);
}

function connectionsTo(peerId: string): { total: number; direct: number } {
  const conns = started()
    .libp2p.getConnections()
    .filter((c) => c.remotePeer.toString() === peerId);
  return { total: conns.length, direct: conns.filter(isDirect).length };
}

export const ours: OursApi = {
  async start(relays) {
    if (node !== undefined) throw new Error('ours: already started');
    createdAt = performance.now();
    const n = await createNode({ relays, iceServers: [] }, { keyStore: createMemoryKeyStore() });
    node = n;
    const onState = (e: CustomEvent<NodeState>): void => {
      if (isReserved(e.detail)) {
        resolveReserved(performance.now());
        n.removeEventListener('state', onState);
      }
    };
    n.addEventListener('state', onState);
    await n.start();
    void watchCircuitAddr(n);
    if (isReserved(n.state)) resolveReserved(performance.now());
    await registerBenchProtocols(n.libp2p);
    return n.peerId;
  },

  async whenReserved(timeoutMs): Promise<ReservationTiming> {
    const [at, circuit] = await deadline(
      Promise.all([reservedAt, circuitAt]),
      timeoutMs,
      'no relay reservation'
    );
    return {
      loadToReservedMs: at,
      createToReservedMs: at - createdAt,
      loadToCircuitAddrMs: circuit,
      scriptStartMs
    };
  },

  peerId: () => started().peerId,

  async dial(peerId, timeoutMs): Promise<DialResult> {
    const n = started();
    const outcomes: string[] = [];
    const attemptErrors: string[] = [];
    const onDial = (e: CustomEvent<DialAttemptReport>): void => {
      if (e.detail.peerId !== peerId) return;
      outcomes.push(e.detail.outcome);
      if (e.detail.error !== undefined) attemptErrors.push(e.detail.error);
    };
    n.addEventListener('dial', onDial);
    const pcsBefore = peerConnectionsCreated();
    const t0 = performance.now();
    const counts = (): Pick<
      DialResult,
      'attempts' | 'outcomes' | 'attemptErrors' | 'peerConnections'
    > => ({
      attempts: outcomes.length,
      outcomes,
      attemptErrors,
      peerConnections: peerConnectionsCreated() - pcsBefore
    });
    try {
      const peer = await n.connect(peerId, { signal: AbortSignal.timeout(timeoutMs) });
      const ms = performance.now() - t0;
      return {
        ok: true,
        ms,
        connection: peer.connection,
        direct: connectionsTo(peerId).direct > 0,
        ...counts(),
        ...(peer.rttMs !== undefined ? { rttMs: peer.rttMs } : {}),
        remoteAddr: peer.remoteAddr
      };
    } catch (err) {
      const ms = performance.now() - t0;
      return { ok: false, ms, direct: false, ...counts(), error: errorMessage(err) };
    } finally {
      n.removeEventListener('dial', onDial);
    }
  },

  async hangUp(peerId) {
    await started().libp2p.hangUp(peerIdFromString(peerId));
  },

  async waitDisconnected(peerId, timeoutMs) {
    const until = performance.now() + timeoutMs;
    while (connectionsTo(peerId).total > 0) {
      if (performance.now() > until) return false;
      await sleep(20);
    }
    return true;
  },

  connections: (peerId) => connectionsTo(peerId),

  rtt: (peerId, count, size, timeoutMs) =>
    echoRtt(started().libp2p, peerId, count, size, timeoutMs),

  bulk: (peerId, totalBytes, chunkSize, timeoutMs) =>
    sinkBulk(started().libp2p, peerId, totalBytes, chunkSize, timeoutMs),

  async stop() {
    await node?.stop();
  }
};
