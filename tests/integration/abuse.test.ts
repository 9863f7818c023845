/**
 * Hostile input against the real relay process. After each attack the relay must still be
 * healthy and a client connected beforehand must still get a ping round trip over the same
 * connection.
 */
import type { Connection } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPeer, pingOver, waitFor, type TestPeer } from '../fixtures/node-peer.js';
import { readMetric, startRelay, type RelayHandle } from '../fixtures/relay.js';

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65_536) {
    crypto.getRandomValues(out.subarray(i, Math.min(i + 65_536, n)));
  }
  return out;
}

/** Resolves when the server closes the socket; rejects if it is still open after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${ms} ms`));
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
    // Read whatever the server answers, or its close would never be seen.
    socket.resume();
  });
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Open a WebSocket; resolves with its close event (or rejects after `ms`). */
function webSocketSession(
  url: string,
  onOpen: (ws: WebSocket) => void,
  ms: number
): Promise<{ opened: boolean; code: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    let opened = false;
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`WebSocket still open after ${ms} ms`));
    }, ms);
    ws.addEventListener('open', () => {
      opened = true;
      onOpen(ws);
    });
    ws.addEventListener('error', () => {});
    ws.addEventListener('close', (evt) => {
      clearTimeout(timer);
      resolve({ opened, code: evt.code });
    });
  });
}

interface Target {
  relay: RelayHandle;
  client: TestPeer;
  connection: Connection;
}

/** A relay with one client connected before any attack. */
async function target(args: string[]): Promise<Target> {
  const relay = await startRelay({ args });
  const client = await createTestPeer({ dial: [relay.multiaddrs[0] ?? ''], webrtc: false });
  const connection = client.getConnections()[0];
  if (connection === undefined) throw new Error('client is not connected');
  return { relay, client, connection };
}

/** The relay is up and the pre-existing connection still carries a ping. */
async function expectStillServing(t: Target): Promise<void> {
  expect(t.relay.process.exitCode, t.relay.logs()).toBeNull();
  expect(t.relay.process.signalCode, t.relay.logs()).toBeNull();
  const health = await fetch(`${t.relay.url}/healthz`);
  expect(health.status).toBe(200);
  expect((await health.json()).status).toBe('ok');
  expect(t.connection.status).toBe('open');
  expect(t.client.getConnections().map((c) => c.id)).toContain(t.connection.id);
  expect(await pingOver(t.connection)).toBeGreaterThanOrEqual(0);
}

describe('relay under abuse', () => {
  let t: Target;
  let wsUrl: string;

  beforeAll(async () => {
    // Short handshake timeout so idle and stalled connections are dropped quickly. The per-IP
    // connection rate is lifted because every connection here comes from 127.0.0.1 and a
    // refused connection would end before the frame under test is read (the flood test below
    // runs against the default rate limit).
    t = await target([
      '--handshake-timeout',
      '2',
      '--max-topics',
      '10',
      '--max-conn-rate-per-ip',
      '1000'
    ]);
    wsUrl = `ws://127.0.0.1:${t.relay.wsPort}`;
  });

  afterAll(async () => {
    await t?.client.stop();
    await t?.relay.stop();
  });

  it('drops raw TCP garbage', async () => {
    const sessions = Array.from({ length: 20 }, async (_, i) => {
      const socket = await openSocket(t.relay.wsPort);
      const garbage = randomBytes(512 + i * 97);
      // Half start with a printable byte (parsed as HTTP), half with a binary one.
      garbage[0] = i % 2 === 0 ? 0x41 : 0x01;
      socket.write(garbage);
      await closedWithin(socket, 5_000);
    });
    const httpNoUpgrade = (async () => {
      const socket = await openSocket(t.relay.wsPort);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.end();
      await closedWithin(socket, 5_000);
    })();
    await Promise.all([...sessions, httpNoUpgrade]);
    await expectStillServing(t);
  });

  it('closes sockets that never finish the handshake', async () => {
    const idle = await Promise.all(Array.from({ length: 10 }, () => openSocket(t.relay.wsPort)));
    // Half stall in the HTTP upgrade: headers started, never finished.
    idle.slice(5).forEach((s) => s.write('GET / HTTP/1.1\r\nUpgrade: websocket\r\n'));
    const started = Date.now();
    await Promise.all(idle.map((s) => closedWithin(s, 8_000)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await expectStillServing(t);
  });

  it('closes WebSockets that send random binary', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        webSocketSession(
          wsUrl,
          (ws) => {
            for (let k = 0; k < 4; k++) ws.send(randomBytes(1_024 * (i + 1)));
          },
          8_000
        )
      )
    );
    expect(results.every((r) => r.opened)).toBe(true);
    await expectStillServing(t);
  });

  it('survives malformed WebSocket frames (which crash a stock @libp2p/websockets listener)', async () => {
    const frames = [
      Buffer.from([0x82, 0x03, 1, 2, 3]), // unmasked client frame
      Buffer.from([0x83, 0x80, 0, 0, 0, 0]), // reserved opcode 3
      Buffer.from([0xf2, 0x80, 0, 0, 0, 0]), // RSV1-3 set without an extension
      Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xf0]), // close with invalid code 1008+
      Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) // 2^63-1 bytes
    ];
    await Promise.all(
      frames.map(async (frame) => {
        const socket = await openSocket(t.relay.wsPort);
        socket.write(
          'GET / HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'
        );
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no WebSocket handshake reply')), 5_000);
          socket.once('close', () => reject(new Error('closed before the handshake reply')));
          socket.once('data', (d: Buffer) => {
            clearTimeout(timer);
            expect(d.toString()).toMatch(/^HTTP\/1\.1 101/);
            resolve();
          });
        });
        socket.write(frame);
        await closedWithin(socket, 5_000);
      })
    );
    await expectStillServing(t);
  });

  it('refuses oversized WebSocket messages', async () => {
    const result = await webSocketSession(
      wsUrl,
      (ws) => ws.send(randomBytes(2 * 1024 * 1024)),
      8_000
    );
    expect(result.opened).toBe(true);
    expect(result.code).toBe(1009); // "message too big"
    await expectStillServing(t);
  });

  it('rejects unknown protocols, stream floods and malformed relay requests', async () => {
    const relayAddr = multiaddr(t.relay.multiaddrs[0] ?? '');
    await expect(
      t.client.dialProtocol(relayAddr, '/p2p4e/no-such-protocol/1.0.0')
    ).rejects.toThrow();

    const attacker = await createTestPeer({ dial: [t.relay.multiaddrs[0] ?? ''], webrtc: false });
    try {
      const conn = attacker.getConnections()[0] as Connection;
      // 400 concurrent ping exchanges on one connection, past the attacker's own outbound
      // limits: the relay's per-protocol and per-connection stream limits refuse the excess.
      const exchanges = await Promise.allSettled(
        Array.from({ length: 400 }, () =>
          (async () => {
            const stream = await conn.newStream('/ipfs/ping/1.0.0', {
              maxOutboundStreams: 10_000,
              signal: AbortSignal.timeout(5_000)
            });
            try {
              stream.send(randomBytes(32));
              for await (const chunk of stream) {
                if (chunk.byteLength > 0) return;
              }
              throw new Error('stream ended without an echo');
            } finally {
              stream.abort(new Error('done'));
            }
          })()
        )
      );
      const refused = exchanges.filter((r) => r.status === 'rejected').length;
      expect(refused).toBeGreaterThan(0);
      expect(refused).toBeLessThan(400);

      // A malformed HOP request (a length prefix, then bytes that are not a protobuf): the
      // relay answers and ends the stream instead of holding it.
      const hop = await conn.newStream('/libp2p/circuit/relay/0.2.0/hop', {
        signal: AbortSignal.timeout(5_000)
      });
      hop.send(Uint8Array.from([10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
      const ended = (async () => {
        try {
          for await (const _chunk of hop) {
            // the relay's MALFORMED_MESSAGE status
          }
        } catch {
          // reset by the relay: also an end
        }
      })();
      await Promise.race([
        ended,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('relay kept the malformed HOP stream open')), 5_000)
        )
      ]);
    } finally {
      await attacker.stop();
    }
    await expectStillServing(t);
  });

  it('caps the gossipsub topics it joins and leaves them when peers go', async () => {
    const attacker = await createTestPeer({ dial: [t.relay.multiaddrs[0] ?? ''], webrtc: false });
    try {
      for (let i = 0; i < 50; i++) attacker.services.pubsub.subscribe(`flood-${i}`);
      await waitFor(
        async () => (await readMetric(t.relay.url, 'p2p4e_relay_gossipsub_topics')) === 10,
        { message: 'the relay to join 10 topics' }
      );
      expect(t.relay.logs()).toContain('topic limit reached');
    } finally {
      await attacker.stop();
    }
    await waitFor(
      async () => (await readMetric(t.relay.url, 'p2p4e_relay_gossipsub_topics')) === 0,
      { message: 'the relay to leave the topics' }
    );
    await expectStillServing(t);
  });
});

describe('connection flood', () => {
  let t: Target;

  beforeAll(async () => {
    // Default limits (10 new connections per second per IP, 128 pending) except the
    // handshake timeout, so the connections that get in are dropped quickly.
    t = await target(['--handshake-timeout', '2']);
  });

  afterAll(async () => {
    await t?.client.stop();
    await t?.relay.stop();
  });

  it('survives a flood of 250 connections and accepts new clients afterwards', async () => {
    const results = await Promise.all(
      Array.from({ length: 250 }, () =>
        webSocketSession(
          `ws://127.0.0.1:${t.relay.wsPort}`,
          () => {
            // Say nothing: refused at once by the rate/pending limits or dropped at the
            // handshake timeout.
          },
          15_000
        ).catch((err: unknown) => ({ opened: false, code: -1, err }))
      )
    );
    expect(results.filter((r) => r.code === -1)).toEqual([]);
    await expectStillServing(t);
    // A new client gets in once the flood is over.
    const fresh = await createTestPeer({ dial: [t.relay.multiaddrs[0] ?? ''], webrtc: false });
    try {
      const conn = fresh.getConnections()[0];
      expect(conn).toBeDefined();
      expect(await pingOver(conn as Connection)).toBeGreaterThanOrEqual(0);
    } finally {
      await fresh.stop();
    }
  });
});

describe('reservation flood', () => {
  let t: Target;
  const MAX = 20;

  beforeAll(async () => {
    // All test peers share 127.0.0.1: lift the per-IP connection rate for this one.
    t = await target(['--max-reservations', String(MAX), '--max-conn-rate-per-ip', '1000']);
  });

  afterAll(async () => {
    await t?.client.stop();
    await t?.relay.stop();
  });

  it('grants at most --max-reservations, refuses the rest, and frees slots on disconnect', async () => {
    const relayAddr = t.relay.multiaddrs[0] ?? '';
    const attempts = await Promise.allSettled(
      Array.from({ length: 30 }, () => createTestPeer({ relay: relayAddr, webrtc: false }))
    );
    const granted = attempts.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      expect(granted.length).toBe(MAX);
      expect(await readMetric(t.relay.url, 'p2p4e_relay_reservations')).toBe(MAX);
      await expectStillServing(t);
    } finally {
      await Promise.all(granted.map((p) => p.stop()));
    }
    // Reservations are released when their peers disconnect, not after the TTL.
    await waitFor(async () => (await readMetric(t.relay.url, 'p2p4e_relay_reservations')) === 0, {
      message: 'reservations to be released'
    });
    const late = await createTestPeer({ relay: relayAddr, webrtc: false });
    try {
      expect(late.getMultiaddrs().some((ma) => ma.toString().includes('/p2p-circuit'))).toBe(true);
    } finally {
      await late.stop();
    }
    await expectStillServing(t);
  });
});
