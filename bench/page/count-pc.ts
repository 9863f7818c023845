/**
 * Counts (and keeps track of) the RTCPeerConnections created in this page.
 *
 * - The node's connect() retries stalled WebRTC upgrades; every attempt on the dialing side
 *   creates one RTCPeerConnection, which cross-checks the attempts the node reports.
 * - Summing the bytes sent by the live ones shows that a libp2p transfer really went over
 *   WebRTC (and not through the relay's WebSocket).
 *
 * Must be evaluated before @libp2p/webrtc, which captures `globalThis.RTCPeerConnection` when
 * its module loads: main.ts imports this module first.
 */
const Original = globalThis.RTCPeerConnection;
let created = 0;
const live = new Set<RTCPeerConnection>();
/** Bytes each connection had sent when last read, and the total of those no longer live. */
const lastRead = new WeakMap<RTCPeerConnection, number>();
let gone = 0;

/** Stops tracking `pc`; what it had sent when last read stays in the total. */
function forget(pc: RTCPeerConnection): void {
  if (live.delete(pc)) gone += lastRead.get(pc) ?? 0;
}

/** The untouched constructor, for the raw baseline. */
export const OriginalRTCPeerConnection = Original;

export const peerConnectionsCreated = (): number => created;

class CountingRTCPeerConnection extends Original {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    created++;
    live.add(this);
    this.addEventListener('connectionstatechange', () => {
      if (this.connectionState === 'closed' || this.connectionState === 'failed') {
        forget(this);
      }
    });
  }

  override close(): void {
    forget(this);
    super.close();
  }
}

globalThis.RTCPeerConnection = CountingRTCPeerConnection;

/** Bytes sent on the transport (DTLS/ICE, so payload plus all overhead) of one connection. */
export async function transportBytesSent(pc: RTCPeerConnection): Promise<number> {
  let sum = 0;
  (await pc.getStats()).forEach((r: { type: string; bytesSent?: number }) => {
    if (r.type === 'transport') sum += r.bytesSent ?? 0;
  });
  return sum;
}

/**
 * Transport bytes sent by the connections created through the wrapper (libp2p's): the live
 * ones now, plus the closed ones as of the last call (a connection closing between two calls
 * must not make the count go down).
 */
export async function trackedBytesSent(): Promise<number> {
  const all = await Promise.all(
    [...live].map(async (pc) => {
      const bytes = await transportBytesSent(pc);
      lastRead.set(pc, bytes);
      return bytes;
    })
  );
  return all.reduce((a, b) => a + b, gone);
}
