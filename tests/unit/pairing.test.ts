/**
 * Short-code pairing between in-memory hosts with a fake gossipsub bus: both sides find each
 * other by the code, agree on the safety number, and wrong codes, blocked peers and expiry fail.
 * A hand-driven host (`manualHost`) plays the other side frame by frame where timing matters.
 */
import type { Stream } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import { FrameChannel } from '../../src/lib/contacts/frames.js';
import {
  createPairing,
  normalizePairingCode,
  pairingKey,
  pairingMac,
  pairingTopic,
  randomPairingCode,
  type Pairing
} from '../../src/lib/contacts/pairing.js';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/encoding.js';
import { peerSafetyNumber } from '../../src/lib/crypto/peer-key.js';
import { PAIR_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createFakeNetwork, type FakeHost, type FakeNetwork } from '../fixtures/fake-host.js';
import { openPairChannel, startHostHandshake, TEST_ROOM } from '../fixtures/pairing-host.js';

/** The room every side uses: the relay's peer ID, as in the app. */
const RELAY = TEST_ROOM;
const OTHER_RELAY = '12D3KooWLm7wCZ2zR8iMAsUrK7bdECsH7yH1Y4mcJUCPSiZ9Bvt2';

function circuit(peer: string, relay = RELAY, transport = '/ip4/127.0.0.1/tcp/1/ws'): string {
  return `${transport}/p2p/${relay}/p2p-circuit/p2p/${peer}`;
}

interface Side {
  host: FakeHost;
  contacts: Contacts;
  pairing: Pairing;
  pubsub: { published: number };
}

async function setup(init = {}) {
  const net: FakeNetwork = createFakeNetwork();
  const make = async (name: string): Promise<Side> => {
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore() });
    await contacts.start();
    const pubsub = net.pubsub(host);
    const pairing = createPairing(
      { announceIntervalMs: 20, handshakeTimeoutMs: 2_000, ...init },
      {
        host,
        pubsub,
        contacts,
        profile: () => ({ name }),
        addresses: () => [circuit(host.peerId.toString())]
      }
    );
    await pairing.start();
    return { host, contacts, pairing, pubsub };
  };
  return { net, alice: await make('Alice'), bob: await make('Bob'), eve: await make('Eve') };
}

describe('pairing codes', () => {
  it('are 6 digits, normalised from what people type', () => {
    for (let i = 0; i < 50; i++) expect(randomPairingCode()).toMatch(/^\d{6}$/);
    expect(normalizePairingCode(' 123-456 ')).toBe('123456');
    for (const bad of ['12345', '1234567', 'abcdef', '', 42]) {
      expect(() => normalizePairingCode(bad as string)).toThrow(
        expect.objectContaining({ name: 'InvalidPairingCodeError' })
      );
    }
  });

  it('map to a topic salted by the room', () => {
    expect(pairingTopic('r1', '123456')).toMatch(/^\/p2p4e\/pair\/1\/[A-Za-z0-9_-]{22}$/);
    expect(pairingTopic('r1', '123456')).not.toBe(pairingTopic('r2', '123456'));
    expect(pairingTopic('r1', '123456')).not.toContain('123456');
  });
});

describe('pairing', () => {
  it('pairs host and joiner, and both see the same safety number', async () => {
    const { alice, bob } = await setup();
    const hosting = alice.pairing.host({ room: RELAY });
    expect(alice.pairing.active).toBe(hosting);
    const joining = bob.pairing.join(hosting.code.replace(/(\d{3})/, '$1 '), { room: RELAY });
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    expect(a.role).toBe('host');
    expect(b.role).toBe('joiner');
    expect(a.contact).toMatchObject({
      peerId: bob.host.peerId.toString(),
      name: 'Bob',
      source: 'pair',
      verified: false
    });
    expect(b.contact).toMatchObject({
      peerId: alice.host.peerId.toString(),
      name: 'Alice',
      verified: false
    });
    expect(a.safetyNumber).toBe(b.safetyNumber);
    expect(a.safetyNumber).toBe(
      peerSafetyNumber(bob.host.peerId.toString(), alice.host.peerId.toString())
    );
    expect(alice.pairing.active).toBeUndefined();
  });

  it('does not pair different codes or rooms', async () => {
    const { alice, bob } = await setup({ ttlMs: 300 });
    const hosting = alice.pairing.host({ code: '111111', room: RELAY });
    const joining = bob.pairing.join('111112', { room: RELAY });
    await expect(hosting.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    expect(alice.contacts.list()).toEqual([]);
  });

  it('refuses a joiner that found the topic but has the wrong key, and gives up after maxFailures', async () => {
    const { alice, eve } = await setup({ maxFailures: 2 });
    const hosting = alice.pairing.host({ code: '222222', room: RELAY });
    // Eve listens on the right topic but derives her MAC key from another room: her proofs fail.
    const eveSide = eve.pairing.join('222222', { room: 'other' });
    (eve as unknown as { pubsub: { subscribe(t: string): void } }).pubsub.subscribe(hosting.topic);
    const evil = createPairingTopicPublisher(eve, hosting.topic);
    const err = await hosting.result.catch((e: unknown) => e);
    evil.stop();
    eveSide.cancel();
    expect(err).toMatchObject({ name: 'HandshakeRefusedError', reason: 'bad-code' });
    expect(alice.contacts.list()).toEqual([]);
    expect(eve.contacts.list()).toEqual([]);
  });

  it('ignores blocked peers and can be cancelled', async () => {
    const { alice, bob } = await setup();
    await alice.contacts.block(bob.host.peerId.toString());
    const hosting = alice.pairing.host({ code: '333333' });
    const joining = bob.pairing.join('333333');
    await expect.poll(() => bob.pubsub.published).toBeGreaterThan(3);
    hosting.cancel();
    joining.cancel();
    await expect(hosting.result).rejects.toMatchObject({ name: 'AbortError' });
    await expect(joining.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(bob.contacts.list()).toEqual([]);
  });

  it('a joiner refuses a host it has blocked, and the host keeps waiting', async () => {
    const { alice, bob } = await setup({ ttlMs: 2_000 });
    await bob.contacts.block(alice.host.peerId.toString());
    const hosting = alice.pairing.host({ code: '555555' });
    const joining = bob.pairing.join('555555');
    await expect.poll(() => bob.pubsub.published).toBeGreaterThan(3);
    expect(alice.pairing.active).toBe(hosting);
    expect(bob.pairing.active).toBe(joining);
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list().map((c) => c.blocked)).toEqual([true]);
    hosting.cancel();
    joining.cancel();
    await Promise.allSettled([hosting.result, joining.result]);
  });

  it('a joiner refuses hosts when it is not pairing', async () => {
    const { alice, bob } = await setup({ ttlMs: 2_000 });
    const hosting = alice.pairing.host({ code: '444444' });
    // Bob announces on the topic without a join session (e.g. stale or forged announcement).
    const stray = createPairingTopicPublisher(bob, hosting.topic);
    await new Promise((r) => setTimeout(r, 200));
    stray.stop();
    expect(alice.pairing.active).toBe(hosting);
    expect(alice.contacts.list()).toEqual([]);
    hosting.cancel();
    await hosting.result.catch(() => {});
  });

  it('cancelling a join stops a handshake in progress: no contact is added', async () => {
    const { net, bob } = await setup();
    const mallory = await net.host();
    const joining = bob.pairing.join('123456', { room: RELAY });
    const hs = await startHandshake(mallory, bob.host, '123456');
    expect(joining.handshaking).toBe(true);
    joining.cancel();
    await expect(joining.result).rejects.toMatchObject({ name: 'AbortError' });
    // A correct welcome after the cancel must not pair (the stream is already aborted).
    await hs.welcome().catch(() => {});
    await hs.channel.receive('end').catch(() => {});
    await joining.whenIdle();
    expect(joining.handshaking).toBe(false);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('a joiner counts only answers that do not prove the code, not junk from any peer', async () => {
    const { net, bob } = await setup({ maxFailures: 2, rateLimitPerPeer: 50 });
    const mallory = await net.host();
    const joining = bob.pairing.join('123456', { room: RELAY });
    // Junk, refusals and closed streams: anyone on the topic can send them; the join goes on.
    const junk: Array<(c: FrameChannel) => Promise<void>> = [
      (c) => c.send({ t: 'welcome', mac: 'x', profile: { name: 'M' } }),
      (c) => c.refuse('bad-code'),
      (c) => c.send({ t: 'hello', nonce: 'short' }),
      async (c) => c.abort()
    ];
    for (const send of junk) {
      const channel = await openPairChannel(mallory, bob.host);
      await send(channel).catch(() => {});
      await channel.receive('proof').catch(() => {});
      await joining.whenIdle();
    }
    expect(bob.pairing.active).toBe(joining);
    // A host that got the proof but answers with a welcome made from another code, twice.
    for (let i = 0; i < 2; i++) {
      const hs = await startHandshake(mallory, bob.host, '654321');
      await hs.welcome();
      await hs.channel.receive('end').catch(() => {});
      await joining.whenIdle();
    }
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingWrongAnswerError' });
    expect(bob.contacts.list()).toEqual([]);
  });

  it('the host adds nobody when the joiner drops the welcome (its session ended meanwhile)', async () => {
    const { net, alice } = await setup();
    const joiner = await net.host();
    const j = joiner.peerId.toString();
    const hosting = alice.pairing.host({ code: '888888', room: RELAY });
    let dropped!: () => void;
    const done = new Promise<void>((r) => (dropped = r));
    await joiner.handle(PAIR_PROTOCOL, async (stream: Stream) => {
      const channel = new FrameChannel(stream, { maxFrameBytes: 32 * 1024, timeoutMs: 5_000 });
      const hello = await channel.receive('hello');
      const nonce = fromBase64Url(hello.nonce as string)!;
      const key = pairingKey(RELAY, '888888');
      const mac = pairingMac(key, 'joiner', alice.host.peerId.toString(), j, nonce);
      await channel.send({ t: 'proof', mac: toBase64Url(mac), profile: { name: 'J' } });
      await channel.receive('welcome');
      channel.abort(); // e.g. the person pressed Cancel while the welcome was on its way
      dropped();
    });
    await net
      .pubsub(joiner)
      .publish(
        hosting.topic,
        new TextEncoder().encode(JSON.stringify({ v: 1, t: 'announce', addrs: [circuit(j)] }))
      );
    await done;
    await hosting.whenIdle();
    expect(alice.contacts.list()).toEqual([]);
    expect(alice.pairing.active).toBe(hosting);
    hosting.cancel();
    await hosting.result.catch(() => {});
  });

  it('the host dials an announcing peer only through its own address of the room relay', async () => {
    const { net, alice } = await setup();
    const stranger = await net.host();
    const pubsub = net.pubsub(stranger);
    const s = stranger.peerId.toString();
    const hosting = alice.pairing.host({ code: '777777', room: RELAY });
    const announce = (addrs: string[]) =>
      pubsub.publish(
        hosting.topic,
        new TextEncoder().encode(JSON.stringify({ v: 1, t: 'announce', addrs }))
      );
    await announce([`/dns4/evil.example/tcp/443/wss/p2p/${s}`, `/ip4/10.0.0.1/tcp/22/ws/p2p/${s}`]);
    await announce([circuit(s, OTHER_RELAY)]);
    await announce([`/ip4/10.0.0.1/tcp/22/ws/p2p/${RELAY}/p2p-circuit/p2p/${OTHER_RELAY}`]);
    await announce([`/ip4/10.0.0.1/tcp/22/ws/p2p/${s}/p2p/${RELAY}/p2p-circuit/p2p/${s}`]);
    expect(alice.host.dialed).toEqual([]);
    // Through the room relay, but at an address the stranger picked: dialed via alice's own.
    await announce([circuit(s, RELAY, '/dns4/evil.example/tcp/443/wss')]);
    await expect.poll(() => alice.host.dialed.length).toBeGreaterThan(0);
    expect(alice.host.dialed).toEqual([circuit(s)]);
    hosting.cancel();
    await hosting.result.catch(() => {});
  });

  it('throws NotStartedError before start()', async () => {
    const net = createFakeNetwork();
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore() });
    const pairing = createPairing(
      {},
      { host, pubsub: net.pubsub(host), contacts, profile: () => undefined, addresses: () => [] }
    );
    expect(() => pairing.host()).toThrow(expect.objectContaining({ name: 'NotStartedError' }));
  });
});

/** Publishes announcements for `side` on `topic` every 20 ms (a peer on the topic). */
function createPairingTopicPublisher(side: Side, topic: string): { stop(): void } {
  const pubsub = side.pubsub as unknown as { publish(t: string, d: Uint8Array): Promise<unknown> };
  const me = side.host.peerId.toString();
  const data = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      t: 'announce',
      addrs: [circuit(me)]
    })
  );
  const timer = setInterval(() => void pubsub.publish(topic, data), 20);
  return { stop: () => clearInterval(timer) };
}

/**
 * `from` plays the host showing `code` (room RELAY) by hand: dials the joiner, sends hello and
 * reads the proof; `welcome()` then answers as a host that knows `code`.
 */
async function startHandshake(from: FakeHost, joiner: FakeHost, code: string) {
  const hs = await startHostHandshake(from, joiner, code, { name: 'M' });
  // The joiner (who typed 123456) proves that code.
  expect(fromBase64Url(hs.proof.mac as string)).toEqual(
    pairingMac(
      pairingKey(RELAY, '123456'),
      'joiner',
      from.peerId.toString(),
      joiner.peerId.toString(),
      hs.nonce
    )
  );
  return hs;
}
