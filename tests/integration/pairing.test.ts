/**
 * Pairing and invites against an attacker, between Node libp2p peers that reach each other only
 * through the real relay process: an observer of the relay and the pairing topics cannot learn
 * the code; a wrong code fails the PAKE; nobody is a contact before both people confirm; a crowd
 * of throwaway peer IDs cannot lock the real invitee out; the invite MAC is checked before the
 * profile is read; private relay addresses in an invite are not dialed from a public page.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '@libp2p/gossipsub';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import {
  DEFAULT_RATE_LIMIT_PER_PEER,
  MAX_FRAME_BYTES,
  PAIRING_TOPIC_PREFIX
} from '../../src/lib/contacts/constants.js';
import { FrameChannel } from '../../src/lib/contacts/frames.js';
import { createInvites, inviteMac, type Invites } from '../../src/lib/contacts/invites.js';
import type { OutstandingInvite } from '../../src/lib/contacts/outstanding.js';
import {
  createPairing,
  pairingTopic,
  type Pairing,
  type PairingInit
} from '../../src/lib/contacts/pairing.js';
import type { Profile } from '../../src/lib/contacts/profile.js';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/encoding.js';
import { peerSafetyNumber } from '../../src/lib/crypto/peer-key.js';
import { INVITE_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import {
  createTestPeer,
  waitFor,
  type TestPeer,
  type TestPeerOptions
} from '../fixtures/node-peer.js';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';

let relay: RelayHandle;
let relayAddr: string;
const cleanups: Array<() => Promise<void>> = [];

/** The origin of a page served by the local relay (private), and of a public deployment. */
const LOCAL_PAGE = 'http://127.0.0.1:8080';
const PUBLIC_PAGE = 'https://p2p4e.example.com';

interface Device {
  peer: TestPeer;
  contacts: Contacts;
  invites: Invites;
  pairing: Pairing;
}

async function device(
  name: string,
  opts: {
    via?: string;
    pageOrigin?: string;
    pairing?: PairingInit;
    libp2p?: TestPeerOptions['libp2p'];
  } = {}
): Promise<Device> {
  const via = opts.via ?? relayAddr;
  const peer = await createTestPeer({
    relay: via,
    webrtc: false,
    ...(opts.libp2p !== undefined ? { libp2p: opts.libp2p } : {})
  });
  const contacts = createContacts({ store: createMemoryRecordStore() });
  await contacts.start();
  const profile = (): Profile => ({ name });
  const invites = createInvites(
    { origin: LOCAL_PAGE, pageOrigin: opts.pageOrigin ?? LOCAL_PAGE },
    {
      host: peer,
      contacts,
      store: createMemoryRecordStore<OutstandingInvite>(),
      profile,
      relays: () => [via]
    }
  );
  const pairing = createPairing(opts.pairing ?? {}, {
    host: peer,
    pubsub: peer.services.pubsub,
    contacts,
    profile,
    addresses: () => peer.getMultiaddrs().map(String)
  });
  await invites.start();
  await pairing.start();
  cleanups.push(async () => {
    await pairing.stop();
    await invites.stop();
    await peer.stop();
  });
  return { peer, contacts, invites, pairing };
}

/** A bare peer connected to the relay (no reservation), for attackers and observers. */
async function stranger(): Promise<TestPeer> {
  const peer = await createTestPeer({ webrtc: false, listen: [], dial: [relayAddr] });
  cleanups.push(async () => {
    await peer.stop();
  });
  return peer;
}

function circuitTo(peer: TestPeer, via = relayAddr) {
  return multiaddr(`${via}/p2p-circuit/p2p/${peer.peerId.toString()}`);
}

beforeAll(async () => {
  relay = await startRelay();
  relayAddr = relay.multiaddrs[0] ?? '';
});

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

afterAll(async () => {
  await relay?.stop();
});

describe('pairing with a code, watched by an observer', () => {
  it('an observer of the relay and of every pairing topic cannot narrow the code below 10^5', async () => {
    const eve = await stranger();
    // Eve learns every topic the relay announces, and reads every message on every bucket.
    const topics = new Set<string>();
    eve.services.pubsub.addEventListener('subscription-change', (evt) => {
      for (const s of evt.detail.subscriptions) topics.add(s.topic);
    });
    const seen: Message[] = [];
    eve.services.pubsub.addEventListener('message', (evt) => void seen.push(evt.detail));
    for (let d = 0; d < 10; d++) eve.services.pubsub.subscribe(pairingTopic(relay.peerId, `${d}`));

    const alice = await device('Alice');
    const bob = await device('Bob');
    const hosting = alice.pairing.host({ room: relay.peerId });
    const joining = bob.pairing.join(hosting.code, { room: relay.peerId });
    await waitFor(() => seen.length > 0, { message: "Eve to read Bob's announcement" });
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    expect(a.safetyNumber).toBe(b.safetyNumber);
    a.decline();
    await expect(b.outcome).rejects.toMatchObject({ reason: 'declined' });

    // Offline now (the search blocks this process, and with it every node's pings).
    const pairingTopics = [...topics].filter((t) => t.startsWith(PAIRING_TOPIC_PREFIX));
    expect(pairingTopics).toContain(hosting.topic);
    // Offline search: every code whose topic matches what Eve saw stays possible. Checked on
    // 10,000 codes that share the real code's first digit (all of them, the whole 10^5, would
    // match: the topic depends on that digit only); a topic made from the whole code matches
    // exactly one, the real one.
    const observed = new Set([...pairingTopics, ...seen.map((m) => m.topic)]);
    let candidates = 0;
    for (let n = 0; n < 100_000; n += 10) {
      const code = hosting.code[0] + String(n).padStart(5, '0');
      if (observed.has(pairingTopic(relay.peerId, code))) candidates++;
    }
    expect(candidates).toBe(10_000);
    // Nor is the code in anything published.
    for (const m of seen) expect(new TextDecoder().decode(m.data)).not.toContain(hosting.code);
  });

  it('a wrong code fails the PAKE: the host gives up after its failures, nobody learns a profile', async () => {
    const alice = await device('Alice', { pairing: { maxFailures: 1 } });
    const bob = await device('Bob');
    // Same first digit: same rendezvous topic, so the two really run CPace with each other.
    const hosting = alice.pairing.host({ room: relay.peerId, code: '512345' });
    const joining = bob.pairing.join('554321', { room: relay.peerId });
    await expect(hosting.result).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'bad-code'
    });
    joining.cancel();
    await expect(joining.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });
});

describe('both people confirm before anyone is a contact', () => {
  async function paired(pairing: PairingInit = {}, bobPairing: PairingInit = pairing) {
    const alice = await device('Alice', { pairing });
    const bob = await device('Bob', { pairing: bobPairing });
    const hosting = alice.pairing.host({ room: relay.peerId });
    const joining = bob.pairing.join(hosting.code, { room: relay.peerId });
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    return { alice, bob, a, b };
  }

  it('the codes matched: nobody is a contact yet; both confirm, both are verified contacts', async () => {
    const { alice, bob, a, b } = await paired();
    expect(a.peerId).toBe(bob.peer.peerId.toString());
    expect(b.profile.name).toBe('Alice');
    expect(a.safetyNumber).toBe(
      peerSafetyNumber(alice.peer.peerId.toString(), bob.peer.peerId.toString())
    );
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
    const [ca, cb] = await Promise.all([a.confirm(), b.confirm()]);
    expect(ca).toMatchObject({ peerId: bob.peer.peerId.toString(), name: 'Bob', verified: true });
    expect(cb).toMatchObject({
      peerId: alice.peer.peerId.toString(),
      name: 'Alice',
      verified: true
    });
    expect(alice.contacts.get(bob.peer.peerId.toString())?.source).toBe('pair');
  });

  it('one confirms, the other declines: nobody is added on either side', async () => {
    const { alice, bob, a, b } = await paired();
    const confirmed = a.confirm();
    b.decline();
    await expect(confirmed).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'declined'
    });
    await expect(b.outcome).rejects.toMatchObject({ name: 'AbortError' });
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('nobody answers in time: nobody is added', async () => {
    // Alice's deadline comes first; Bob then sees the stream end.
    const { alice, bob, a, b } = await paired({ confirmTimeoutMs: 300 }, {});
    const confirmed = a.confirm();
    await expect(confirmed).rejects.toMatchObject({ name: 'HandshakeTimeoutError' });
    await expect(b.outcome).rejects.toBeDefined();
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });
});

describe('invites against strangers', () => {
  /** One invite handshake attempt naming `invite` (an ID); resolves with the refusal reason. */
  async function attempt(from: TestPeer, to: TestPeer, invite: string): Promise<string> {
    const stream = await from.dialProtocol(circuitTo(to), INVITE_PROTOCOL, {
      runOnLimitedConnection: true,
      signal: AbortSignal.timeout(10_000)
    });
    const channel = new FrameChannel(stream, { maxFrameBytes: MAX_FRAME_BYTES, timeoutMs: 10_000 });
    await channel.send({ t: 'hello', invite });
    try {
      await channel.receive('challenge');
      channel.abort();
      return 'challenged';
    } catch (err) {
      return String((err as { reason?: unknown }).reason ?? (err as Error).name);
    } finally {
      // Our end too, or the stream counts toward the inviter's 4 inbound invite streams.
      channel.abort();
    }
  }

  it('12 throwaway peers × 5 attempts do not lock the real invitee out', async () => {
    // libp2p's own per-address cap on new inbound connections (5 a second; every relayed one
    // comes from the relay's address) would refuse some strangers' connections for a second:
    // lifted here, the app's own attempt limits are under test.
    const alice = await device('Alice', {
      libp2p: { connectionManager: { inboundConnectionThreshold: 1_000 } }
    });
    const bob = await device('Bob');
    const { link } = await alice.invites.create();
    const reasons: string[][] = [];
    for (let p = 0; p < 12; p++) {
      const peer = await stranger();
      const out: string[] = [];
      for (let i = 0; i <= DEFAULT_RATE_LIMIT_PER_PEER; i++) {
        const id = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
        out.push(await attempt(peer, alice.peer, id));
      }
      reasons.push(out);
    }
    for (const r of reasons) {
      // Each stranger spends its own budget, and only its own.
      expect(r.slice(0, DEFAULT_RATE_LIMIT_PER_PEER)).toEqual(
        Array(DEFAULT_RATE_LIMIT_PER_PEER).fill('unknown-invite')
      );
      expect(r[DEFAULT_RATE_LIMIT_PER_PEER]).toBe('rate-limited');
    }
    const contact = await bob.invites.accept(link);
    expect(contact.peerId).toBe(alice.peer.peerId.toString());
  });

  it('a bad MAC with a malformed profile gets the MAC error (the MAC is checked first)', async () => {
    const alice = await device('Alice');
    const mallory = await stranger();
    const { id } = await alice.invites.create();
    const stream = await mallory.dialProtocol(circuitTo(alice.peer), INVITE_PROTOCOL, {
      runOnLimitedConnection: true,
      signal: AbortSignal.timeout(10_000)
    });
    const channel = new FrameChannel(stream, { maxFrameBytes: MAX_FRAME_BYTES, timeoutMs: 10_000 });
    await channel.send({ t: 'hello', invite: id });
    const nonce = fromBase64Url((await channel.receive('challenge')).nonce as string)!;
    const mac = inviteMac(
      crypto.getRandomValues(new Uint8Array(32)),
      'invitee',
      alice.peer.peerId.toString(),
      mallory.peerId.toString(),
      nonce
    );
    await channel.send({
      t: 'proof',
      mac: toBase64Url(mac),
      profile: { name: 42, avatar: { type: 'image/gif', data: '!!' } }
    });
    await expect(channel.receive('welcome')).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'bad-secret'
    });
    expect(alice.contacts.list()).toEqual([]);
  });

  it('a private relay address in an invite is not dialed from a public page', async () => {
    // Alice is reachable only through a second relay, on 127.0.0.1.
    const other = await startRelay();
    cleanups.push(() => other.stop());
    const via = other.multiaddrs[0] ?? '';
    const alice = await device('Alice', { via });
    const { link } = await alice.invites.create();

    const fromPublic = await device('Bob', { pageOrigin: PUBLIC_PAGE });
    await expect(fromPublic.invites.accept(link)).rejects.toMatchObject({
      name: 'HandshakeDialError'
    });
    expect(fromPublic.peer.getConnections(peerIdFromString(other.peerId))).toEqual([]);
    expect(fromPublic.contacts.list()).toEqual([]);

    const fromLocal = await device('Carol', { pageOrigin: LOCAL_PAGE });
    const contact = await fromLocal.invites.accept(link);
    expect(contact.peerId).toBe(alice.peer.peerId.toString());
    expect(fromLocal.peer.getConnections(peerIdFromString(other.peerId)).length).toBeGreaterThan(0);
  });
});
