/**
 * Baseline: a plain RTCPeerConnection between the two bench pages, signaled by the runner
 * (complete SDP, no trickle), with `iceServers: []`. Two negotiated, reliable, ordered data
 * channels: `echo` (the answering side echoes every message) and `bulk` (the answering side
 * counts bytes and acknowledges when it has the announced total).
 */
import type { BulkResult, RawApi, RawConnectResult } from './api.ts';
import { OriginalRTCPeerConnection, transportBytesSent } from './count-pc.ts';
import { deadline, randomBytes } from './util.ts';

/** Sender pauses above this many buffered bytes and resumes at the low threshold. */
const BULK_HIGH_WATER = 4 * 1024 * 1024;
const BULK_LOW_WATER = 1024 * 1024;

interface Session {
  pc: RTCPeerConnection;
  echo: RTCDataChannel;
  bulk: RTCDataChannel;
  opened: Promise<void>;
  createdAt: number;
}

let session: Session | undefined;

function openSession(): Session {
  session?.pc.close();
  const pc = new OriginalRTCPeerConnection({ iceServers: [] });
  const echo = pc.createDataChannel('echo', { negotiated: true, id: 0 });
  const bulk = pc.createDataChannel('bulk', { negotiated: true, id: 1 });
  echo.binaryType = 'arraybuffer';
  bulk.binaryType = 'arraybuffer';
  const opened = Promise.all([echo, bulk].map(whenOpen)).then(() => undefined);
  opened.catch(() => {}); // observed by accept()/waitOpen()
  session = { pc, echo, bulk, opened, createdAt: performance.now() };
  return session;
}

function whenOpen(channel: RTCDataChannel): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    channel.addEventListener('open', () => resolve(), { once: true });
    channel.addEventListener('close', () => reject(new Error(`${channel.label} closed`)), {
      once: true
    });
  });
}

async function gatherComplete(pc: RTCPeerConnection): Promise<string> {
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (pc.iceGatheringState === 'complete') {
          pc.removeEventListener('icegatheringstatechange', check);
          resolve();
        }
      };
      pc.addEventListener('icegatheringstatechange', check);
    });
  }
  const desc = pc.localDescription;
  if (desc === null) throw new Error('no local description');
  return JSON.stringify(desc.toJSON());
}

function current(): Session {
  if (session === undefined) throw new Error('raw: no peer connection (call offer/answer first)');
  return session;
}

/** The answering side: echo everything, count bulk bytes. */
function serve(s: Session): void {
  s.echo.onmessage = (e: MessageEvent<ArrayBuffer | string>) => s.echo.send(e.data as ArrayBuffer);
  let expected = -1;
  let received = 0;
  s.bulk.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
    if (typeof e.data === 'string') {
      expected = (JSON.parse(e.data) as { total: number }).total;
      received = 0;
      return;
    }
    received += e.data.byteLength;
    if (expected >= 0 && received >= expected) {
      s.bulk.send(JSON.stringify({ received }));
      expected = -1;
    }
  };
}

async function selectedPair(pc: RTCPeerConnection): Promise<string> {
  const stats = await pc.getStats();
  let pairId: string | undefined;
  stats.forEach((r: { type: string; selectedCandidatePairId?: string }) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
  });
  if (pairId === undefined) return 'unknown';
  const pair = stats.get(pairId) as { localCandidateId: string; remoteCandidateId: string };
  const describe = (id: string): string => {
    const c = stats.get(id) as { candidateType?: string; protocol?: string; address?: string };
    return `${c.candidateType ?? '?'}/${c.protocol ?? '?'}/${c.address ?? '?'}`;
  };
  return `${describe(pair.localCandidateId)} -> ${describe(pair.remoteCandidateId)}`;
}

export const raw: RawApi = {
  async offer() {
    const s = openSession();
    await s.pc.setLocalDescription(await s.pc.createOffer());
    return gatherComplete(s.pc);
  },

  async answer(offer) {
    const s = openSession();
    serve(s);
    await s.pc.setRemoteDescription(JSON.parse(offer) as RTCSessionDescriptionInit);
    await s.pc.setLocalDescription(await s.pc.createAnswer());
    return gatherComplete(s.pc);
  },

  async accept(answer, timeoutMs): Promise<RawConnectResult> {
    const s = current();
    await s.pc.setRemoteDescription(JSON.parse(answer) as RTCSessionDescriptionInit);
    await deadline(s.opened, timeoutMs, 'raw data channels did not open');
    const ms = performance.now() - s.createdAt;
    return { ms, candidatePair: await selectedPair(s.pc) };
  },

  async waitOpen(timeoutMs) {
    await deadline(current().opened, timeoutMs, 'raw data channels did not open');
  },

  async rtt(count, size, timeoutMs) {
    const { echo } = current();
    const payload = randomBytes(size);
    const samples: number[] = [];
    let waiting: ((n: number) => void) | undefined;
    echo.onmessage = (e: MessageEvent<ArrayBuffer>) => waiting?.(e.data.byteLength);
    try {
      for (let i = 0; i < count; i++) {
        const got = new Promise<number>((resolve) => (waiting = resolve));
        const t0 = performance.now();
        echo.send(payload);
        const n = await deadline(got, timeoutMs, `raw echo ${i} timed out`);
        samples.push(performance.now() - t0);
        if (n !== size) throw new Error(`raw echo returned ${n} bytes, expected ${size}`);
      }
    } finally {
      echo.onmessage = null;
    }
    return samples;
  },

  async bulk(totalBytes, chunkSize, timeoutMs): Promise<BulkResult> {
    const { bulk, pc } = current();
    const wireBefore = await transportBytesSent(pc);
    const chunk = randomBytes(chunkSize);
    bulk.bufferedAmountLowThreshold = BULK_LOW_WATER;
    const ack = new Promise<number>((resolve) => {
      bulk.onmessage = (e: MessageEvent<string>) =>
        resolve((JSON.parse(e.data) as { received: number }).received);
    });
    bulk.send(JSON.stringify({ total: totalBytes }));
    const t0 = performance.now();
    const run = async (): Promise<number> => {
      let sent = 0;
      while (sent < totalBytes) {
        if (bulk.bufferedAmount > BULK_HIGH_WATER) {
          await new Promise((resolve) =>
            bulk.addEventListener('bufferedamountlow', resolve, { once: true })
          );
        }
        const n = Math.min(chunkSize, totalBytes - sent);
        bulk.send(n === chunkSize ? chunk : chunk.subarray(0, n));
        sent += n;
      }
      return ack;
    };
    try {
      const received = await deadline(run(), timeoutMs, 'raw bulk transfer timed out');
      const ms = performance.now() - t0;
      const wireBytes = (await transportBytesSent(pc)) - wireBefore;
      return { bytes: totalBytes, ms, received, wireBytes };
    } finally {
      bulk.onmessage = null;
    }
  },

  close() {
    session?.pc.close();
    session = undefined;
  }
};
