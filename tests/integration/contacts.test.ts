/**
 * Invites and pairing between Node libp2p peers that only reach each other through the real
 * relay process (limited, relayed connections; no WebRTC), as two browsers would at first.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import { FrameChannel } from '../../src/lib/contacts/frames.js';
import { createInvites, inviteMac, type Invites } from '../../src/lib/contacts/invites.js';
import type { OutstandingInvite } from '../../src/lib/contacts/outstanding.js';
import { createPairing, type Pairing } from '../../src/lib/contacts/pairing.js';
import type { Profile } from '../../src/lib/contacts/profile.js';
import { MAX_AVATAR_BYTES, MAX_FRAME_BYTES } from '../../src/lib/contacts/constants.js';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/encoding.js';
import { peerSafetyNumber } from '../../src/lib/crypto/peer-key.js';
import { INVITE_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createTestPeer, waitFor, type TestPeer } from '../fixtures/node-peer.js';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';
import { jpegBytes } from '../fixtures/avatar-images.js';

let relay: RelayHandle;
let relayAddr: string;
const cleanups: Array<() => Promise<void>> = [];

interface Device {
  peer: TestPeer;
  contacts: Contacts;
  invites: Invites;
  pairing: Pairing;
}

async function device(
  name: string,
  avatar?: Profile['avatar'],
  via: string = relayAddr
): Promise<Device> {
  const peer = await createTestPeer({ relay: via, webrtc: false });
  const contacts = createContacts({ store: createMemoryRecordStore() });
  await contacts.start();
  const profile = (): Profile => (avatar === undefined ? { name } : { name, avatar });
  const invites = createInvites(
    // A page served from this machine, like the relays here: their 127.0.0.1 addresses count.
    { origin: 'http://127.0.0.1:5173', pageOrigin: 'http://127.0.0.1:5173' },
    {
      host: peer,
      contacts,
      store: createMemoryRecordStore<OutstandingInvite>(),
      profile,
      relays: () => [via]
    }
  );
  const pairing = createPairing(
    {},
    {
      host: peer,
      pubsub: peer.services.pubsub,
      contacts,
      profile,
      addresses: () => peer.getMultiaddrs().map(String)
    }
  );
  await invites.start();
  await pairing.start();
  cleanups.push(async () => {
    await pairing.stop();
    await invites.stop();
    await peer.stop();
  });
  return { peer, contacts, invites, pairing };
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

describe('contacts through the relay', () => {
  it('an invite link makes both devices contacts over a relayed connection', async () => {
    const alice = await device('Alice');
    const bob = await device('Bob');
    const { link } = await alice.invites.create();
    expect(link).toContain('/#/invite/');

    const contact = await bob.invites.accept(link);
    expect(contact).toMatchObject({
      peerId: alice.peer.peerId.toString(),
      name: 'Alice',
      source: 'invite'
    });
    await waitFor(() => alice.contacts.get(bob.peer.peerId.toString()), {
      message: 'Alice to add Bob'
    });
    expect(alice.contacts.get(bob.peer.peerId.toString())?.name).toBe('Bob');
    // The handshake ran on the limited relayed connection (no direct transport here).
    const conns = bob.peer.getConnections(alice.peer.peerId);
    expect(conns.some((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true);
    // One-time: the same link no longer works.
    await expect(bob.invites.accept(link)).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'unknown-invite'
    });
  });

  it('the largest avatars both ways fit within the libp2p default 128 KiB relayed-connection limit', async () => {
    // A relay with libp2p's default data limit (this project's relay defaults to 1 MiB).
    const strict = await startRelay({ args: ['--relay-data-limit', String(128 * 1024)] });
    cleanups.push(() => strict.stop());
    const via = strict.multiaddrs[0] ?? '';
    const picture = (): Profile['avatar'] => ({
      type: 'image/jpeg',
      // A real JPEG header (checked on receipt) padded with random bytes to the limit.
      bytes: jpegBytes(128, 128, MAX_AVATAR_BYTES, true)
    });
    const alice = await device('Alice', picture(), via);
    const bob = await device('Bob', picture(), via);
    const { link } = await alice.invites.create();
    const contact = await bob.invites.accept(link);
    const relayed = bob.peer.getConnections(alice.peer.peerId);
    // Still open, and the handshake used well under half of the 128 KiB budget.
    const left = relayed.find((c) => c.status === 'open' && c.limits?.bytes !== undefined);
    expect(Number(left?.limits?.bytes)).toBeGreaterThan(64 * 1024);
    expect(contact.avatar?.bytes.byteLength).toBe(MAX_AVATAR_BYTES);
    await waitFor(() => alice.contacts.get(bob.peer.peerId.toString())?.avatar, {
      message: "Alice to store Bob's avatar"
    });
  });

  it('a wrong secret is refused and nobody is added', async () => {
    const alice = await device('Alice');
    const mallory = await device('Mallory');
    const { id } = await alice.invites.create();
    const stream = await mallory.peer.dialProtocol(
      multiaddr(`${relayAddr}/p2p-circuit/p2p/${alice.peer.peerId.toString()}`),
      INVITE_PROTOCOL,
      { runOnLimitedConnection: true, signal: AbortSignal.timeout(10_000) }
    );
    const channel = new FrameChannel(stream, { maxFrameBytes: MAX_FRAME_BYTES, timeoutMs: 10_000 });
    await channel.send({ t: 'hello', invite: id });
    const nonce = fromBase64Url((await channel.receive('challenge')).nonce as string) as Uint8Array;
    const guess = crypto.getRandomValues(new Uint8Array(32));
    const mac = inviteMac(
      guess,
      'invitee',
      alice.peer.peerId.toString(),
      mallory.peer.peerId.toString(),
      nonce
    );
    await channel.send({ t: 'proof', mac: toBase64Url(mac), profile: { name: 'Mallory' } });
    await expect(channel.receive('welcome')).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'bad-secret'
    });
    expect(alice.contacts.list()).toEqual([]);
    expect(mallory.contacts.list()).toEqual([]);
    expect(await alice.invites.list()).toHaveLength(1);
  });

  it('short-code pairing finds the other device through the relay; both get the same safety number', async () => {
    const alice = await device('Alice');
    const bob = await device('Bob');
    const hosting = alice.pairing.host({ room: relay.peerId });
    const joining = bob.pairing.join(hosting.code, { room: relay.peerId });
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    expect(a.peerId).toBe(bob.peer.peerId.toString());
    expect(a.profile.name).toBe('Bob');
    expect(b.peerId).toBe(alice.peer.peerId.toString());
    expect(b.profile.name).toBe('Alice');
    expect(a.safetyNumber).toBe(b.safetyNumber);
    expect(a.safetyNumber).toBe(
      peerSafetyNumber(alice.peer.peerId.toString(), bob.peer.peerId.toString())
    );
    expect(a.safetyNumber).toMatch(/^\d{5}( \d{5}){11}$/);
    // After the people compare the numbers and both confirm: verified contacts on both sides.
    const [ca, cb] = await Promise.all([a.confirm(), b.confirm()]);
    expect(ca).toMatchObject({ peerId: bob.peer.peerId.toString(), name: 'Bob', verified: true });
    expect(cb).toMatchObject({
      peerId: alice.peer.peerId.toString(),
      name: 'Alice',
      verified: true
    });
  });
});
