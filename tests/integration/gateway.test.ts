/**
 * Public shares on a real relay process: a Node peer running the app's files service adds a
 * public file and asks the relay to keep it (src/lib/files/pin.ts); the relay fetches it with
 * bitswap and serves it at /ipfs/<cid> as a trustless gateway (raw block, CAR) and as the plain
 * file. Quota, size and malformed-request refusals leave nothing stored; a relay without
 * --public-shares-quota refuses everything; shares survive a restart.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unixfs } from '@helia/unixfs';
import { CarReader } from '@ipld/car';
import type { Connection, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { MemoryBlockstore } from 'blockstore-core';
import { CID } from 'multiformats/cid';
import { createFiles, type Files } from '../../src/lib/files/files.js';
import { askRelayToKeep } from '../../src/lib/files/pin.js';
import type { FileRecord } from '../../src/lib/files/record.js';
import { PUBLIC_SHARE_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { source } from '../fixtures/files-peers.js';
import { createTestPeer, waitFor, type TestPeer } from '../fixtures/node-peer.js';
import { readMetric, startRelay, type RelayHandle } from '../fixtures/relay.js';

const MiB = 1024 * 1024;
const RAW = 'application/vnd.ipld.raw';
const CAR = 'application/vnd.ipld.car';

let relay: RelayHandle;
let peer: TestPeer;
let files: Files;
/** The 3 MiB share every test after the first relies on. */
let shared: FileRecord & { sha256: string };

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

async function get(
  cid: string,
  accept?: string,
  init: { query?: string; headers?: Record<string, string>; url?: string } = {}
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (accept !== undefined) headers.accept = accept;
  return fetch(`${init.url ?? relay.url}/ipfs/${cid}${init.query ?? ''}`, { headers });
}

/** Block files in the relay's public-shares store (what is on disk, kept or not). */
async function storedBlockFiles(handle: RelayHandle = relay): Promise<number> {
  const dir = path.join(handle.dataDir, 'public-shares', 'blocks');
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.data')).length;
}

function relayConnection(node: TestPeer, relayPeerId: string): Connection {
  const conn = node
    .getConnections()
    .find((c) => c.remotePeer.toString() === relayPeerId && c.status === 'open');
  if (conn === undefined) throw new Error('not connected to the relay');
  return conn;
}

/** Sends raw bytes as one length-prefixed request frame; resolves with the decoded answer. */
async function rawRequest(
  node: TestPeer,
  frame: Uint8Array
): Promise<{ ok: boolean; reason?: string; message?: string }> {
  const stream: Stream = await relayConnection(node, relay.peerId).newStream(
    PUBLIC_SHARE_PROTOCOL,
    { signal: AbortSignal.timeout(10_000) }
  );
  const lp = lpStream(stream, { maxDataLength: 4096 });
  const signal = AbortSignal.timeout(10_000);
  await lp.write(frame, { signal });
  const answer = JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray()));
  await stream.close().catch(() => {});
  return answer;
}

beforeAll(async () => {
  relay = await startRelay({ args: ['--public-shares-quota', '50MB'] });
  peer = await createTestPeer({ relay: relay.multiaddrs[0], webrtc: false });
  files = await createFiles({ libp2p: peer, blockstore: new MemoryBlockstore() });
});

afterAll(async () => {
  await files?.stop();
  await peer?.stop();
  await relay?.stop();
});

describe('public shares on the relay', () => {
  it('keeps a 3 MiB public share and serves it raw, as a CAR and as the file', async () => {
    const file = source(3 * MiB);
    const record = await files.add(file, { public: true });
    expect(record.key).toBeUndefined();
    shared = { ...record, sha256: file.sha256 };

    expect(await askRelayToKeep(peer, relay.peerId, record)).toEqual({ ok: true });
    const cid = CID.parse(record.cid);

    // One raw block: its hash is the CID's.
    for (const [accept, query] of [
      [RAW, ''],
      [undefined, '?format=raw']
    ] as const) {
      const res = await get(record.cid, accept, { query });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(RAW);
      expect(res.headers.get('cache-control')).toBe('public, max-age=29030400, immutable');
      expect(res.headers.get('etag')).toBe(`"${record.cid}.raw"`);
      expect(res.headers.get('x-ipfs-path')).toBe(`/ipfs/${record.cid}`);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const block = new Uint8Array(await res.arrayBuffer());
      expect(sha256(block).equals(Buffer.from(cid.multihash.digest))).toBe(true);
    }

    // A CAR of the whole DAG: root first, every block verifies, and it reads back as the file.
    const carRes = await get(record.cid, CAR);
    expect(carRes.status).toBe(200);
    expect(carRes.headers.get('content-type')).toMatch(/^application\/vnd\.ipld\.car; version=1/);
    expect(carRes.headers.get('etag')).toMatch(new RegExp(`^"${record.cid}\\.car`));
    expect(carRes.headers.get('content-disposition')).toMatch(/^attachment/);
    const reader = await CarReader.fromBytes(new Uint8Array(await carRes.arrayBuffer()));
    const roots = await reader.getRoots();
    expect(roots.map((r) => r.toString())).toEqual([record.cid]);
    const copy = new MemoryBlockstore();
    let blocks = 0;
    for await (const block of reader.blocks()) {
      expect(sha256(block.bytes).equals(Buffer.from(block.cid.multihash.digest))).toBe(true);
      await copy.put(block.cid, block.bytes);
      blocks++;
    }
    expect(blocks).toBe(4); // the root and three 1 MiB leaves
    const rootOnly = await get(record.cid, undefined, { query: '?format=car&dag-scope=block' });
    let rootBlocks = 0;
    for await (const b of (
      await CarReader.fromBytes(new Uint8Array(await rootOnly.arrayBuffer()))
    ).blocks()) {
      expect(b.cid.toString()).toBe(record.cid);
      rootBlocks++;
    }
    expect(rootBlocks).toBe(1);
    const hash = createHash('sha256');
    for await (const part of unixfs({ blockstore: copy }).cat(cid, { offline: true })) {
      hash.update(part);
    }
    expect(hash.digest('hex')).toBe(file.sha256);

    // The plain file for a browser: exact bytes, downloaded, never rendered.
    const plain = await get(record.cid, 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/octet-stream');
    expect(plain.headers.get('x-content-type-options')).toBe('nosniff');
    expect(plain.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(plain.headers.get('content-length')).toBe(String(3 * MiB));
    expect(sha256(new Uint8Array(await plain.arrayBuffer())).toString('hex')).toBe(file.sha256);

    // A byte range (resumed downloads).
    const part = await get(record.cid, undefined, { headers: { range: 'bytes=1048570-1048589' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1048570-1048589/${3 * MiB}`);
    expect((await part.arrayBuffer()).byteLength).toBe(20);

    // Revalidation, and CIDs the relay does not store.
    const again = await get(record.cid, RAW, {
      headers: { 'if-none-match': `"${record.cid}.raw"` }
    });
    expect(again.status).toBe(304);
    const unknown = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
    expect((await get(unknown, RAW)).status).toBe(404);
    expect((await get(unknown)).status).toBe(404);
    expect((await get('not-a-cid', RAW)).status).toBe(400);

    expect(await readMetric(relay.url, 'p2p4e_relay_public_shares')).toBe(1);
    expect(await readMetric(relay.url, 'p2p4e_relay_public_share_bytes')).toBeGreaterThan(3 * MiB);
    expect(await readMetric(relay.url, 'p2p4e_relay_public_shares_kept_total')).toBe(1);
    expect(await storedBlockFiles()).toBe(4);
  });

  it('says in its relay-info that it keeps public shares (the page has the same inline)', async () => {
    const info = (await (await fetch(`${relay.url}/api/relay-info`)).json()) as {
      publicShares?: { maxBytes?: number };
    };
    expect(info.publicShares?.maxBytes).toBeGreaterThan(0);
  });

  it('answers the trustless gateway probe (the empty identity CID)', async () => {
    const raw = await get('bafkqaaa', RAW);
    expect(raw.status).toBe(200);
    expect((await raw.arrayBuffer()).byteLength).toBe(0);
    const car = await get('bafkqaaa', CAR);
    expect(car.status).toBe(200);
    const reader = await CarReader.fromBytes(new Uint8Array(await car.arrayBuffer()));
    expect((await reader.getRoots()).map(String)).toEqual(['bafkqaaa']);
  });

  it('refuses a share past the remaining quota and stores nothing of it', async () => {
    // 47 MB fits the 50 MB quota alone, not next to the 3 MiB share.
    const file = source(47_000_000, 2);
    const record = await files.add(file, { public: true });
    const answer = await askRelayToKeep(peer, relay.peerId, record);
    expect(answer).toMatchObject({ ok: false, reason: 'quota' });
    expect(answer.message).toBeTruthy();
    expect((await get(record.cid, RAW)).status).toBe(404);
    expect(await storedBlockFiles()).toBe(4);
    expect(await readMetric(relay.url, 'p2p4e_relay_public_shares')).toBe(1);
    expect(
      await readMetric(relay.url, 'p2p4e_relay_public_share_refusals_total', { reason: 'quota' })
    ).toBe(1);
    await files.remove(record);
  });

  it('refuses a DAG other than declared, deleting what it fetched', async () => {
    const file = source(2 * MiB + 5, 3);
    const record = await files.add(file, { public: true });
    // The root says 2 MiB + 5 bytes: too big for a declared 1 MiB (found once the root is in).
    const smaller = await askRelayToKeep(peer, relay.peerId, { ...record, size: MiB });
    expect(smaller).toMatchObject({ ok: false, reason: 'too-big' });
    // Bigger than it is: the sizes do not add up.
    const bigger = await askRelayToKeep(peer, relay.peerId, { ...record, size: 3 * MiB });
    expect(bigger).toMatchObject({ ok: false, reason: 'bad-request' });
    // Over --public-share-max (100 MB by default): refused before anything is fetched.
    const huge = await askRelayToKeep(peer, relay.peerId, { ...record, size: 200_000_000 });
    expect(huge).toMatchObject({ ok: false, reason: 'too-big' });
    expect((await get(record.cid, RAW)).status).toBe(404);
    expect(await storedBlockFiles()).toBe(4);
    // An encrypted file is never sent.
    const sealed = await files.add(source(1000, 4));
    expect(await askRelayToKeep(peer, relay.peerId, sealed)).toMatchObject({
      ok: false,
      reason: 'bad-request'
    });
  });

  it('answers malformed requests with bad-request and keeps running', async () => {
    const enc = new TextEncoder();
    for (const frame of [
      enc.encode('not json'),
      enc.encode('[1,2,3]'),
      enc.encode(JSON.stringify({ cid: 'nope', size: 1 })),
      enc.encode(JSON.stringify({ cid: shared.cid, size: -1 })),
      // CIDv0 and a dag-cbor CID: not what public shares are.
      enc.encode(
        JSON.stringify({ cid: 'QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n', size: 1 })
      ),
      enc.encode(
        JSON.stringify({
          cid: 'bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae',
          size: 1
        })
      ),
      // Over the 1 KiB request limit.
      enc.encode(JSON.stringify({ cid: shared.cid, size: 1, pad: 'x'.repeat(2000) }))
    ]) {
      expect(await rawRequest(peer, frame)).toMatchObject({ ok: false, reason: 'bad-request' });
    }
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    // Still connected, still served: asking again for a kept share is answered at once.
    expect(await askRelayToKeep(peer, relay.peerId, shared)).toEqual({ ok: true });
    expect(
      await readMetric(relay.url, 'p2p4e_relay_public_share_refusals_total', {
        reason: 'bad-request'
      })
    ).toBeGreaterThanOrEqual(7);
  });

  it('takes one request at a time per peer, and undoes a fetch whose peer goes away', async () => {
    // A peer that speaks bitswap but never answers: the relay's fetch waits on it.
    const silent = await createTestPeer({ dial: [relay.multiaddrs[0]!], webrtc: false });
    const held: Stream[] = [];
    for (const protocol of ['/ipfs/bitswap/1.2.0', '/ipfs/bitswap/1.1.0', '/ipfs/bitswap/1.0.0']) {
      await silent.handle(protocol, (stream) => void held.push(stream));
    }
    try {
      const record = await files.add(source(MiB, 5), { public: true });
      const other = await files.add(source(1000, 6), { public: true });
      const first = askRelayToKeep(silent, relay.peerId, record);
      await waitFor(() => held.length > 0, { message: 'the relay asking the silent peer' });
      const second = await askRelayToKeep(silent, relay.peerId, other);
      expect(second).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(second.message).toMatch(/one at a time/);
      await silent.hangUp(multiaddr(relay.multiaddrs[0]!));
      expect(await first).toMatchObject({ ok: false, reason: 'unavailable' });
      expect(await storedBlockFiles()).toBe(4);
    } finally {
      await silent.stop();
    }
  });

  it('says disabled, and /ipfs/ is 404, on a relay without --public-shares-quota', async () => {
    const plain = await startRelay();
    const other = await createTestPeer({ relay: plain.multiaddrs[0], webrtc: false });
    try {
      expect(await askRelayToKeep(other, plain.peerId, shared)).toMatchObject({
        ok: false,
        reason: 'disabled'
      });
      const info = (await (await fetch(`${plain.url}/api/relay-info`)).json()) as object;
      expect(info).not.toHaveProperty('publicShares');
      const res = await get(shared.cid, RAW, { url: plain.url });
      expect(res.status).toBe(404);
      expect(await res.text()).toMatch(/does not keep public shares/);
      expect(
        await readMetric(plain.url, 'p2p4e_relay_public_share_refusals_total', {
          reason: 'disabled'
        })
      ).toBe(1);
      expect(await storedBlockFiles(plain)).toBe(0);
    } finally {
      await other.stop();
      await plain.stop();
    }
  });

  it('still serves its shares after a restart', async () => {
    relay = await relay.restart();
    const raw = await get(shared.cid, RAW);
    expect(raw.status).toBe(200);
    expect(
      sha256(new Uint8Array(await raw.arrayBuffer())).equals(
        Buffer.from(CID.parse(shared.cid).multihash.digest)
      )
    ).toBe(true);
    const plain = await get(shared.cid);
    expect(plain.status).toBe(200);
    expect(sha256(new Uint8Array(await plain.arrayBuffer())).toString('hex')).toBe(shared.sha256);
    expect(await readMetric(relay.url, 'p2p4e_relay_public_shares')).toBe(1);
    expect(await storedBlockFiles()).toBe(4);
  });
});
