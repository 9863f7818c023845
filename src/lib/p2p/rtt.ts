/**
 * Round-trip time over libp2p's ping protocol on one given connection. Unlike the ping
 * service's ping(peer), this never dials: it measures exactly the connection passed in (also a
 * relayed, limited one), which is what the peer list shows.
 */
import type { Connection } from '@libp2p/interface';
import { byteStream } from '@libp2p/utils';
import { PING_PAYLOAD_BYTES, PING_PROTOCOL } from './constants.js';

export interface MeasureRttOptions {
  signal?: AbortSignal;
}

/**
 * Sends two pings on one stream and returns the second round trip in ms (the first one also
 * pays for protocol negotiation). Sub-millisecond precision where the clock allows.
 */
export async function measureRtt(
  connection: Connection,
  options: MeasureRttOptions = {}
): Promise<number> {
  const stream = await connection.newStream(PING_PROTOCOL, {
    signal: options.signal,
    runOnLimitedConnection: true
  });
  try {
    const bytes = byteStream(stream);
    let rtt = 0;
    for (let i = 0; i < 2; i++) {
      const payload = crypto.getRandomValues(new Uint8Array(PING_PAYLOAD_BYTES));
      const started = performance.now();
      const [, echoed] = await Promise.all([
        bytes.write(payload, { signal: options.signal }),
        bytes.read({ bytes: PING_PAYLOAD_BYTES, signal: options.signal })
      ]);
      rtt = performance.now() - started;
      const echo = echoed.subarray();
      if (echo.length !== payload.length || echo.some((b, j) => b !== payload[j])) {
        throw new Error('Ping answer did not match');
      }
    }
    await stream.close({ signal: options.signal });
    return rtt;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}
