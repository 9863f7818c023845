/**
 * Short-code pairing between in-memory hosts with a fake gossipsub bus: both sides find each
 * other by the code, agree on the safety number, and wrong codes, blocked peers and expiry fail.
 */
import { describe, expect, it } from 'vitest';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import {
  createPairing,
  normalizePairingCode,
  pairingTopic,
  randomPairingCode,
  type Pairing
} from '../../src/lib/contacts/pairing.js';
import { peerSafetyNumber } from '../../src/lib/crypto/peer-key.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createFakeNetwork, type FakeHost } from '../fixtures/fake-host.js';

interface Side {
  host: FakeHost;
  contacts: Contacts;
  pairing: Pairing;
  pubsub: { published: number };
}

async function setup(init = {}) {
  const net = createFakeNetwork();
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
        addresses: () => [
          `/ip4/127.0.0.1/tcp/1/ws/p2p/12D3KooWSRMWDQcU2zqjFpjQQCAbNHxPhu5gUrxKyVtMxV4oZ1Bg/p2p-circuit/p2p/${host.peerId.toString()}`
        ]
      }
    );
    await pairing.start();
    return { host, contacts, pairing, pubsub };
  };
  return { alice: await make('Alice'), bob: await make('Bob'), eve: await make('Eve') };
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
    const hosting = alice.pairing.host({ room: 'relay' });
    expect(alice.pairing.active).toBe(hosting);
    const joining = bob.pairing.join(hosting.code.replace(/(\d{3})/, '$1 '), { room: 'relay' });
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
    const hosting = alice.pairing.host({ code: '111111', room: 'r' });
    const joining = bob.pairing.join('111112', { room: 'r' });
    await expect(hosting.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingTimeoutError' });
    expect(alice.contacts.list()).toEqual([]);
  });

  it('refuses a joiner that found the topic but has the wrong key, and gives up after maxFailures', async () => {
    const { alice, eve } = await setup({ maxFailures: 2 });
    const hosting = alice.pairing.host({ code: '222222', room: 'r' });
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
      addrs: [`/ip4/127.0.0.1/tcp/1/ws/p2p-circuit/p2p/${me}`]
    })
  );
  const timer = setInterval(() => void pubsub.publish(topic, data), 20);
  return { stop: () => clearInterval(timer) };
}
