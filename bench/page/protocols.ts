/**
 * The two bench protocols, registered on the app node's libp2p instance:
 *
 * - `/p2p4e/bench-echo/1.0.0`: the responder writes back every chunk it reads.
 * - `/p2p4e/bench-sink/1.0.0`: the initiator sends an 8-byte big-endian length, then that many
 *   bytes; the responder counts them and answers with the 8-byte count.
 *
 * Both refuse limited (relayed) connections: the benchmark is about the direct WebRTC one.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import type { Uint8ArrayList } from 'uint8arraylist';
import type { BulkResult } from './api.ts';
import { trackedBytesSent } from './count-pc.ts';
import { deadline, randomBytes } from './util.ts';

export const ECHO_PROTOCOL = '/p2p4e/bench-echo/1.0.0';
export const SINK_PROTOCOL = '/p2p4e/bench-sink/1.0.0';

export class NoDirectConnectionError extends Error {
  override name = 'NoDirectConnectionError';
}

/** Direct = no relay limits and a WebRTC remote address (not `/p2p-circuit` alone). */
export function isDirect(connection: Connection): boolean {
  const addr = connection.remoteAddr.toString();
  return (
    connection.status === 'open' &&
    connection.limits === undefined &&
    addr.includes('/webrtc') &&
    !addr.endsWith('/p2p-circuit')
  );
}

export function directConnection(libp2p: Libp2p, peerId: string): Connection {
  const found = libp2p
    .getConnections()
    .find((c) => c.remotePeer.toString() === peerId && isDirect(c));
  if (found === undefined) {
    const seen = libp2p
      .getConnections()
      .filter((c) => c.remotePeer.toString() === peerId)
      .map((c) => `${c.remoteAddr.toString()} limits=${JSON.stringify(c.limits)}`);
    throw new NoDirectConnectionError(
      `no direct WebRTC connection to ${peerId} (have: ${seen.join(', ') || 'none'})`
    );
  }
  return found;
}

const bytesOf = (chunk: Uint8Array | Uint8ArrayList): Uint8Array =>
  chunk instanceof Uint8Array ? chunk : chunk.subarray();

async function send(stream: Stream, data: Uint8Array): Promise<void> {
  if (!stream.send(data)) await stream.onDrain();
}

function encodeLength(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function decodeLength(buf: Uint8Array): number {
  return Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0));
}

export async function registerBenchProtocols(libp2p: Libp2p): Promise<void> {
  await libp2p.handle(
    ECHO_PROTOCOL,
    async (stream, connection) => {
      if (!isDirect(connection)) {
        stream.abort(new NoDirectConnectionError('bench echo runs on direct connections only'));
        return;
      }
      for await (const chunk of stream) await send(stream, bytesOf(chunk));
      await stream.close();
    },
    { maxInboundStreams: 4 }
  );

  await libp2p.handle(
    SINK_PROTOCOL,
    async (stream, connection) => {
      if (!isDirect(connection)) {
        stream.abort(new NoDirectConnectionError('bench sink runs on direct connections only'));
        return;
      }
      let header = new Uint8Array(0);
      let expected = -1;
      let received = 0;
      for await (const chunk of stream) {
        let buf = bytesOf(chunk);
        if (expected < 0) {
          const joined = new Uint8Array(header.length + buf.length);
          joined.set(header);
          joined.set(buf, header.length);
          if (joined.length < 8) {
            header = joined;
            continue;
          }
          expected = decodeLength(joined);
          buf = joined.subarray(8);
        }
        received += buf.length;
        if (received >= expected) break;
      }
      await send(stream, encodeLength(received));
      await stream.close();
    },
    { maxInboundStreams: 4 }
  );
}

/** Sequential echo round trips over one stream on the direct connection. */
export async function echoRtt(
  libp2p: Libp2p,
  peerId: string,
  count: number,
  size: number,
  timeoutMs: number
): Promise<number[]> {
  const stream = await directConnection(libp2p, peerId).newStream(ECHO_PROTOCOL);
  const reader = stream[Symbol.asyncIterator]();
  const payload = randomBytes(size);
  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await send(stream, payload);
      let got = 0;
      while (got < size) {
        const next = await deadline(reader.next(), timeoutMs, `libp2p echo ${i} timed out`);
        if (next.done === true) throw new Error('echo stream ended early');
        got += next.value.byteLength;
      }
      samples.push(performance.now() - t0);
      if (got !== size) throw new Error(`libp2p echo returned ${got} bytes, expected ${size}`);
    }
    await stream.close();
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  return samples;
}

/** One stream on the direct connection; sender respects send() === false -> onDrain(). */
export async function sinkBulk(
  libp2p: Libp2p,
  peerId: string,
  totalBytes: number,
  chunkSize: number,
  timeoutMs: number
): Promise<BulkResult & { openMs: number }> {
  const tOpen = performance.now();
  const stream = await directConnection(libp2p, peerId).newStream(SINK_PROTOCOL);
  const openMs = performance.now() - tOpen;
  const chunk = randomBytes(chunkSize);
  const reader = stream[Symbol.asyncIterator]();
  const wireBefore = await trackedBytesSent();
  const t0 = performance.now();
  const run = async (): Promise<number> => {
    await send(stream, encodeLength(totalBytes));
    let sent = 0;
    while (sent < totalBytes) {
      const n = Math.min(chunkSize, totalBytes - sent);
      await send(stream, n === chunkSize ? chunk : chunk.subarray(0, n));
      sent += n;
    }
    let ack = new Uint8Array(0);
    while (ack.length < 8) {
      const next = await reader.next();
      if (next.done === true) throw new Error('sink stream ended before the acknowledgement');
      const buf = bytesOf(next.value);
      const joined = new Uint8Array(ack.length + buf.length);
      joined.set(ack);
      joined.set(buf, ack.length);
      ack = joined;
    }
    return decodeLength(ack);
  };
  try {
    const received = await deadline(run(), timeoutMs, 'libp2p bulk transfer timed out');
    const ms = performance.now() - t0;
    const wireBytes = (await trackedBytesSent()) - wireBefore;
    await stream.close();
    return { bytes: totalBytes, ms, received, wireBytes, openMs };
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
