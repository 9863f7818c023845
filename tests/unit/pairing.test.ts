/**
 * Short-code pairing between in-memory hosts with a fake gossipsub bus: both sides find each
 * other by the code, agree on the safety number, and wrong codes, blocked peers and expiry fail.
 * A hand-played host (fixtures/pairing-host.ts) plays the other side frame by frame where timing
 * matters. Time is a fake clock (fixtures/fake-timers.ts) that the tests move forward.
 */
import type { AbortOptions, Stream } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import {
  DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS,
  DEFAULT_PAIRING_TTL_MS
} from '../../src/lib/contacts/constants.js';
import { FrameChannel } from '../../src/lib/contacts/frames.js';
import {
  createPairing,
  normalizePairingCode,
  pairingAd,
  pairingPake,
  pairingTopic,
  randomPairingCode,
  type Pairing
} from '../../src/lib/contacts/pairing.js';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/encoding.js';
import { peerSafetyNumber } from '../../src/lib/crypto/peer-key.js';
import { PAIR_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createFakeNetwork, type FakeHost, type FakeNetwork } from '../fixtures/fake-host.js';
import { fakeTimers } from '../fixtures/fake-timers.js';
import { openPairChannel, startHostHandshake, TEST_ROOM } from '../fixtures/pairing-host.js';

/** The room every side uses: the relay's peer ID, as in the app. */
const RELAY = TEST_ROOM;
const OTHER_RELAY = '12D3KooWLm7wCZ2zR8iMAsUrK7bdECsH7yH1Y4mcJUCPSiZ9Bvt2';

function circuit(peer: string, relay = RELAY, transport = '/ip4/127.0.0.1/tcp/1/ws'): string {
  return `${transport}/p2p/${relay}/p2p-circuit/p2p/${peer}`;
}

/** Joiners announce every ANNOUNCE_MS of the fake clock (the first one after ANNOUNCE_MS too). */
const ANNOUNCE_MS = 20;

interface Side {
  host: FakeHost;
  contacts: Contacts;
  pairing: Pairing;
  pubsub: ReturnType<FakeNetwork['pubsub']>;
}

async function setup(init = {}) {
  const net: FakeNetwork = createFakeNetwork();
  const clock = fakeTimers();
  const make = async (name: string): Promise<Side> => {
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore() });
    await contacts.start();
    const pubsub = net.pubsub(host);
    const pairing = createPairing(
      { announceIntervalMs: ANNOUNCE_MS, handshakeTimeoutMs: 2_000, ...init },
      {
        host,
        pubsub,
        contacts,
        profile: () => ({ name }),
        addresses: () => [circuit(host.peerId.toString())],
        clock
      }
    );
    await pairing.start();
    return { host, contacts, pairing, pubsub };
  };
  return {
    net,
    clock,
    alice: await make('Alice'),
    bob: await make('Bob'),
    eve: await make('Eve')
  };
}

/** Publishes `side`'s announcement (a circuit address through RELAY) on `topic` once. */
async function announceAs(side: Side, topic: string): Promise<void> {
  const me = side.host.peerId.toString();
  const data = new TextEncoder().encode(
    JSON.stringify({ v: 1, t: 'announce', addrs: [circuit(me)] })
  );
  await side.pubsub.publish(topic, data);
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

  it('map to a rendezvous topic salted by the room that tells only the first digit', () => {
    expect(pairingTopic('r1', '123456')).toMatch(/^\/p2p4e\/pair\/2\/[A-Za-z0-9_-]{22}$/);
    expect(pairingTopic('r1', '123456')).not.toBe(pairingTopic('r2', '123456'));
    expect(pairingTopic('r1', '123456')).toBe(pairingTopic('r1', '199999'));
    expect(pairingTopic('r1', '123456')).not.toBe(pairingTopic('r1', '223456'));
  });
});

describe('pairing', () => {
  it('pairs host and joiner, and both see the same safety number', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.pairing.host({ room: RELAY });
    expect(alice.pairing.active).toBe(hosting);
    const joining = bob.pairing.join(hosting.code.replace(/(\d{3})/, '$1 '), { room: RELAY });
    clock.advance(ANNOUNCE_MS);
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    expect(a.role).toBe('host');
    expect(b.role).toBe('joiner');
    expect(a).toMatchObject({ peerId: bob.host.peerId.toString(), profile: { name: 'Bob' } });
    expect(b).toMatchObject({ peerId: alice.host.peerId.toString(), profile: { name: 'Alice' } });
    expect(a.safetyNumber).toBe(b.safetyNumber);
    expect(a.safetyNumber).toBe(
      peerSafetyNumber(bob.host.peerId.toString(), alice.host.peerId.toString())
    );
    expect(alice.pairing.active).toBeUndefined();
    // Nobody is a contact until both confirm.
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
    const [ca, cb] = await Promise.all([a.confirm(), b.confirm()]);
    expect(ca).toMatchObject({ name: 'Bob', source: 'pair', verified: true });
    expect(cb).toMatchObject({ name: 'Alice', source: 'pair', verified: true });
  });

  it('a decline on either side, or no answer in time, adds nobody', async () => {
    const { clock, alice, bob } = await setup({ confirmTimeoutMs: 5_000 });
    const run = async () => {
      const hosting = alice.pairing.host({ room: RELAY });
      const joining = bob.pairing.join(hosting.code, { room: RELAY });
      clock.advance(ANNOUNCE_MS);
      return Promise.all([hosting.result, joining.result]);
    };
    const [a1, b1] = await run();
    const confirmed = b1.confirm();
    a1.decline();
    await expect(confirmed).rejects.toMatchObject({ reason: 'declined' });
    const [a2, b2] = await run();
    const waiting = a2.confirm();
    clock.advance(5_000);
    await expect(waiting).rejects.toMatchObject({ name: 'HandshakeTimeoutError' });
    await expect(b2.outcome).rejects.toBeDefined();
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('does not pair different codes or rooms', async () => {
    const { clock, alice, bob, eve } = await setup({ ttlMs: 300 });
    const hosting = alice.pairing.host({ code: '111111', room: RELAY });
    // Another first digit: another rendezvous topic (same first digit: see the PAKE tests).
    const otherCode = bob.pairing.join('211111', { room: RELAY });
    const otherRoom = eve.pairing.join('111111', { room: OTHER_RELAY });
    clock.advance(5 * ANNOUNCE_MS);
    expect(bob.pubsub.published).toBeGreaterThan(0);
    expect(eve.pubsub.published).toBeGreaterThan(0);
    // Nobody announced on the host's topic: the host never dialed anyone.
    expect(alice.host.dialed).toEqual([]);
    clock.advance(300);
    for (const session of [hosting, otherCode, otherRoom]) {
      await expect(session.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    }
    expect(alice.contacts.list()).toEqual([]);
  });

  it('a code is valid for DEFAULT_PAIRING_TTL_MS, then both sides give up', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.pairing.host({ code: '101010', room: RELAY });
    const joining = bob.pairing.join('201011', { room: RELAY });
    clock.advance(DEFAULT_PAIRING_TTL_MS - 1);
    expect(alice.pairing.active).toBe(hosting);
    expect(bob.pairing.active).toBe(joining);
    clock.advance(1);
    await expect(hosting.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    expect(alice.pairing.active).toBeUndefined();
    expect(bob.pairing.active).toBeUndefined();
  });

  it('a joiner with another code on the same topic fails the PAKE; the host gives up after maxFailures', async () => {
    const { alice, bob, eve } = await setup({ maxFailures: 2 });
    const hosting = alice.pairing.host({ code: '222222', room: RELAY });
    // Bob typed another code with the same first digit: same topic, the PAKE fails.
    const wrong = bob.pairing.join('298765', { room: RELAY });
    await announceAs(bob, hosting.topic);
    await hosting.whenIdle();
    expect(alice.pairing.active).toBe(hosting);
    wrong.cancel();
    await wrong.result.catch(() => {});
    // Eve announces on the right topic with the right code but another room: her PAKE fails.
    const eveSide = eve.pairing.join('222222', { room: 'other' });
    expect(alice.pairing.active).toBe(hosting);
    await announceAs(eve, hosting.topic);
    expect(hosting.handshaking).toBe(true);
    await hosting.whenIdle();
    await expect(hosting.result).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'bad-code'
    });
    eveSide.cancel();
    expect(alice.host.dialed).toHaveLength(2);
    expect(bob.contacts.list()).toEqual([]);
    expect(alice.contacts.list()).toEqual([]);
    expect(eve.contacts.list()).toEqual([]);
  });

  it('one guess per join session: a wrong code is tried once, a new join with the right code pairs', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.pairing.host({ code: '512345', room: RELAY });
    const wrong = bob.pairing.join('598765', { room: RELAY });
    clock.advance(ANNOUNCE_MS);
    await hosting.whenIdle();
    // Bob keeps announcing; Alice does not run the PAKE with that join session again.
    for (let i = 0; i < 10; i++) {
      clock.advance(ANNOUNCE_MS);
      await hosting.whenIdle();
    }
    expect(alice.host.dialed).toHaveLength(1);
    expect(alice.pairing.active).toBe(hosting);
    wrong.cancel();
    await wrong.result.catch(() => {});
    const right = bob.pairing.join('512345', { room: RELAY });
    clock.advance(ANNOUNCE_MS);
    const [a, b] = await Promise.all([hosting.result, right.result]);
    expect(a.safetyNumber).toBe(b.safetyNumber);
    expect(alice.host.dialed).toHaveLength(2);
  });

  it('ignores blocked peers and can be cancelled', async () => {
    const { clock, alice, bob } = await setup();
    await alice.contacts.block(bob.host.peerId.toString());
    const hosting = alice.pairing.host({ code: '333333' });
    const joining = bob.pairing.join('333333');
    clock.advance(4 * ANNOUNCE_MS);
    expect(bob.pubsub.published).toBeGreaterThanOrEqual(4);
    // Bob announced on Alice's topic four times; she never dialed him.
    expect(alice.host.dialed).toEqual([]);
    expect(hosting.handshaking).toBe(false);
    hosting.cancel();
    joining.cancel();
    await expect(hosting.result).rejects.toMatchObject({ name: 'AbortError' });
    await expect(joining.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(bob.contacts.list()).toEqual([]);
  });

  it('a joiner refuses a host it has blocked, and the host keeps waiting', async () => {
    const { clock, alice, bob } = await setup();
    await bob.contacts.block(alice.host.peerId.toString());
    const joining = bob.pairing.join('555555');
    // Alice dials Bob on PAIR_PROTOCOL and says hello: he answers with a refusal, not a proof.
    await expect(startHostHandshake(alice.host, bob.host, '555555')).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'blocked'
    });
    // The same through Alice's pairing: she dials him, is refused, and goes on hosting.
    const hosting = alice.pairing.host({ code: '555555' });
    const dialed = alice.host.dialed.length;
    clock.advance(ANNOUNCE_MS);
    expect(hosting.handshaking).toBe(true);
    await hosting.whenIdle();
    expect(alice.host.dialed).toHaveLength(dialed + 1);
    expect(alice.pairing.active).toBe(hosting);
    expect(bob.pairing.active).toBe(joining);
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list().map((c) => c.blocked)).toEqual([true]);
    hosting.cancel();
    joining.cancel();
    await Promise.allSettled([hosting.result, joining.result]);
  });

  it('a joiner refuses hosts when it is not pairing', async () => {
    const { net, alice, bob } = await setup();
    await expect(startHostHandshake(await net.host(), bob.host, '444444')).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'not-pairing'
    });
    const hosting = alice.pairing.host({ code: '444444' });
    // Bob announces on the topic without a join session (e.g. stale or forged announcement).
    await announceAs(bob, hosting.topic);
    expect(hosting.handshaking).toBe(true);
    await hosting.whenIdle();
    expect(alice.host.dialed).toHaveLength(1);
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
    // A correct proof after the cancel must not pair (the stream is already aborted).
    await hs.welcome().catch(() => {});
    await hs.channel.receive('end').catch(() => {});
    await net.settled();
    expect(joining.handshaking).toBe(false);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('a host that stops answering is dropped at the handshake deadline; the join goes on', async () => {
    // A deadline far beyond the test's own timeout: only the fake clock can reach it.
    const { net, clock, bob } = await setup({ handshakeTimeoutMs: 60_000 });
    const mallory = await net.host();
    const joining = bob.pairing.join('123456', { room: RELAY });
    const hs = await startHandshake(mallory, bob.host, '123456');
    expect(joining.handshaking).toBe(true);
    clock.advance(60_000);
    await joining.whenIdle();
    await expect(hs.channel.receive('end')).rejects.toMatchObject({
      name: 'ProtocolViolationError'
    });
    expect(bob.pairing.active).toBe(joining);
    // The next host that knows the code still pairs.
    const again = await startHandshake(mallory, bob.host, '123456');
    await again.welcome();
    await expect(joining.result).resolves.toMatchObject({ role: 'joiner' });
  });

  it('a dial that hangs is given up at the dial deadline, and the host keeps waiting', async () => {
    const { clock, alice, bob } = await setup();
    const dials: AbortSignal[] = [];
    alice.host.dialProtocol = ((_target: unknown, _protocol: string, options?: AbortOptions) => {
      const signal = options?.signal ?? new AbortController().signal;
      dials.push(signal);
      return new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason))
      );
    }) as typeof alice.host.dialProtocol;
    const hosting = alice.pairing.host({ code: '121212', room: RELAY });
    await announceAs(bob, hosting.topic);
    expect(dials).toHaveLength(1);
    expect(hosting.handshaking).toBe(true);
    clock.advance(DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS - 1);
    expect(dials[0]!.aborted).toBe(false);
    clock.advance(1);
    expect(dials[0]!.aborted).toBe(true);
    await hosting.whenIdle();
    expect(alice.pairing.active).toBe(hosting);
    // The next announcement is dialed again.
    await announceAs(bob, hosting.topic);
    expect(dials).toHaveLength(2);
    hosting.cancel();
    await hosting.result.catch(() => {});
  });

  it('a joiner counts only answers that do not prove the code, not junk from any peer', async () => {
    const { net, bob } = await setup({ maxFailures: 2, rateLimitPerPeer: 50 });
    const mallory = await net.host();
    const joining = bob.pairing.join('123456', { room: RELAY });
    // Junk, refusals and closed streams: anyone on the topic can send them; the join goes on.
    const junk: Array<(c: FrameChannel) => Promise<void>> = [
      (c) => c.send({ t: 'proof', tag: 'x', profile: { name: 'M' } }),
      (c) => c.refuse('bad-code'),
      (c) => c.send({ t: 'hello', sid: 'short', share: 'x' }),
      async (c) => c.abort()
    ];
    for (const send of junk) {
      const channel = await openPairChannel(mallory, bob.host);
      await send(channel).catch(() => {});
      await channel.receive('share').catch(() => {});
      await net.settled();
    }
    expect(bob.pairing.active).toBe(joining);
    // A host that got the share but answers with a proof made from another code, twice.
    for (let i = 0; i < 2; i++) {
      const hs = await startHandshake(mallory, bob.host, '654321');
      await hs.welcome();
      await hs.channel.receive('end').catch(() => {});
      await net.settled();
    }
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingWrongAnswerError' });
    expect(bob.contacts.list()).toEqual([]);
  });

  it('the host adds nobody when the joiner drops out after the proof (its session ended)', async () => {
    const { net, alice } = await setup();
    const joiner = await net.host();
    const j = joiner.peerId.toString();
    const hosting = alice.pairing.host({ code: '888888', room: RELAY });
    let dropped!: () => void;
    const done = new Promise<void>((r) => (dropped = r));
    await joiner.handle(PAIR_PROTOCOL, async (stream: Stream) => {
      const channel = new FrameChannel(stream, { maxFrameBytes: 32 * 1024, timeoutMs: 5_000 });
      const hello = await channel.receive('hello');
      const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
      const sid = fromBase64Url(hello.sid as string)!;
      const pake = pairingPake(
        'joiner',
        '888888',
        RELAY,
        alice.host.peerId.toString(),
        j,
        sid,
        random
      );
      const keys = pake.finish(
        'responder',
        fromBase64Url(hello.share as string)!,
        pairingAd('host')
      );
      await channel.send({
        t: 'share',
        share: toBase64Url(pake.share),
        tag: toBase64Url(keys.ownTag)
      });
      await channel.receive('proof');
      channel.abort(); // e.g. the person pressed Cancel while the proof was on its way
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

/**
 * `from` plays the host showing `code` (room RELAY) by hand: dials the joiner, runs the CPace
 * initiator and reads the joiner's share; `welcome()` then sends the proof for `code`.
 */
async function startHandshake(from: FakeHost, joiner: FakeHost, code: string) {
  const hs = await startHostHandshake(from, joiner, code, { name: 'M' });
  // The joiner (who typed 123456) proves that code, and only that one.
  expect(hs.sameCode).toBe(code === '123456');
  return hs;
}
