/**
 * The invite handshake between two in-memory hosts (stream pairs, no network): success, and
 * every refusal: wrong secret, replayed proof, consumed, expired, blocked, rate-limited,
 * oversized and malformed frames.
 */
import { lpStream } from '@libp2p/utils';
import { describe, expect, it } from 'vitest';
import { createContacts, type Contacts } from '../../src/lib/contacts/contacts.js';
import { FrameChannel } from '../../src/lib/contacts/frames.js';
import { inviteId, inviteLink, parseInvite } from '../../src/lib/contacts/invite-link.js';
import {
  createInvites,
  inviteMac,
  type InviteRefusedEvent,
  type Invites
} from '../../src/lib/contacts/invites.js';
import type { OutstandingInvite } from '../../src/lib/contacts/outstanding.js';
import { toBase64Url, fromBase64Url } from '../../src/lib/crypto/encoding.js';
import { MAX_AVATAR_BYTES } from '../../src/lib/contacts/constants.js';
import { INVITE_PROTOCOL } from '../../src/lib/p2p/constants.js';
import { createMemoryRecordStore } from '../../src/lib/storage/record-store.js';
import { createFakeNetwork, type FakeHost } from '../fixtures/fake-host.js';
import { webpBytes } from '../fixtures/avatar-images.js';

const RELAY =
  '/dns4/relay.example.com/tcp/443/wss/p2p/12D3KooWSRMWDQcU2zqjFpjQQCAbNHxPhu5gUrxKyVtMxV4oZ1Bg';

interface Side {
  host: FakeHost;
  contacts: Contacts;
  invites: Invites;
  refused: InviteRefusedEvent[];
}

async function setup(clock = { now: Date.now() }, limits = {}) {
  const net = createFakeNetwork();
  const make = async (name: string): Promise<Side> => {
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore(), now: () => clock.now });
    await contacts.start();
    const invites = createInvites(
      { origin: 'https://app.example', handshakeTimeoutMs: 2_000, ...limits },
      {
        host,
        contacts,
        store: createMemoryRecordStore<OutstandingInvite>(),
        profile: () => ({ name }),
        relays: () => [RELAY],
        now: () => clock.now
      }
    );
    await invites.start();
    const refused: InviteRefusedEvent[] = [];
    invites.onRefused((e) => refused.push(e));
    return { host, contacts, invites, refused };
  };
  return { alice: await make('Alice'), bob: await make('Bob'), carol: await make('Carol'), net };
}

/** A hand-written invitee, to send what a correct client never would. */
async function rawClient(from: FakeHost, to: FakeHost) {
  const stream = await from.dialProtocol(to.peerId, INVITE_PROTOCOL);
  return new FrameChannel(stream, { maxFrameBytes: 64 * 1024, timeoutMs: 2_000 });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = (await promise.then(
    () => undefined,
    (e: unknown) => e
  )) as { name?: string; reason?: string } | undefined;
  expect(err?.name).toBe('HandshakeRefusedError');
  return err?.reason ?? '';
}

describe('invite handshake', () => {
  it('adds both sides as contacts, dialing through the relay in the link, and consumes the invite', async () => {
    const { alice, bob } = await setup();
    const accepted: string[] = [];
    alice.invites.onAccepted((e) => accepted.push(e.contact.peerId));
    const { link, id } = await alice.invites.create({ label: 'for Bob' });
    expect((await alice.invites.list()).map((i) => [i.id, i.label])).toEqual([[id, 'for Bob']]);

    const contact = await bob.invites.accept(link);
    expect(contact).toMatchObject({
      peerId: alice.host.peerId.toString(),
      name: 'Alice',
      source: 'invite',
      relays: [RELAY]
    });
    expect(bob.host.dialed).toEqual([`${RELAY}/p2p-circuit/p2p/${alice.host.peerId.toString()}`]);
    expect(alice.contacts.get(bob.host.peerId.toString())?.name).toBe('Bob');
    expect(accepted).toEqual([bob.host.peerId.toString()]);
    expect(await alice.invites.list()).toEqual([]);
  });

  it('carries the largest allowed avatars both ways', async () => {
    const { alice, bob } = await setup();
    const avatar = {
      type: 'image/webp' as const,
      // A real WebP header (checked on receipt) padded with random bytes to the limit.
      bytes: webpBytes(128, 128, 'VP8 ', MAX_AVATAR_BYTES, true)
    };
    const withAvatar = createInvites(
      { origin: 'https://app.example' },
      {
        host: bob.host,
        contacts: bob.contacts,
        store: createMemoryRecordStore<OutstandingInvite>(),
        profile: () => ({ name: 'Bob', avatar }),
        relays: () => []
      }
    );
    await bob.invites.stop();
    await withAvatar.start();
    const { link } = await alice.invites.create();
    await withAvatar.accept(link);
    expect(alice.contacts.get(bob.host.peerId.toString())?.avatar?.bytes).toEqual(avatar.bytes);
  });

  it('is one-time: a second use is refused and adds nobody', async () => {
    const { alice, bob, carol } = await setup();
    const { link } = await alice.invites.create();
    await bob.invites.accept(link);
    expect(await refusal(carol.invites.accept(link))).toBe('unknown-invite');
    expect(await refusal(bob.invites.accept(link))).toBe('unknown-invite');
    expect(alice.contacts.list().map((c) => c.name)).toEqual(['Bob']);
    expect(carol.contacts.list()).toEqual([]);
  });

  it('lets only one of two racing invitees use an invite', async () => {
    const { alice, bob, carol } = await setup();
    const { link } = await alice.invites.create();
    const results = await Promise.allSettled([
      bob.invites.accept(link),
      carol.invites.accept(link)
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'unknown-invite'
    });
    expect(alice.contacts.list()).toHaveLength(1);
  });

  it('refuses a wrong secret (same invite ID) with no contact added', async () => {
    const { alice, bob } = await setup();
    const { invite } = await alice.invites.create();
    const channel = await rawClient(bob.host, alice.host);
    await channel.send({ t: 'hello', invite: inviteId(invite.secret) });
    const challenge = await channel.receive('challenge');
    const nonce = fromBase64Url(challenge.nonce as string) as Uint8Array;
    const wrong = new Uint8Array(32).fill(7);
    await channel.send({
      t: 'proof',
      mac: toBase64Url(
        inviteMac(wrong, 'invitee', alice.host.peerId.toString(), bob.host.peerId.toString(), nonce)
      ),
      profile: { name: 'Mallory' }
    });
    expect(await refusal(channel.receive('welcome'))).toBe('bad-secret');
    expect(alice.contacts.list()).toEqual([]);
    expect(alice.refused.map((r) => r.reason)).toEqual(['bad-secret']);
    // The invite is still there for the real invitee.
    expect(await alice.invites.list()).toHaveLength(1);
  });

  it('refuses a proof replayed by another peer or against another nonce', async () => {
    const { alice, bob, carol } = await setup();
    const { invite } = await alice.invites.create();
    const me = alice.host.peerId.toString();
    // A proof made for Bob (what a relay might have seen) replayed from Carol's connection.
    const first = await rawClient(carol.host, alice.host);
    await first.send({ t: 'hello', invite: inviteId(invite.secret) });
    const nonce = fromBase64Url((await first.receive('challenge')).nonce as string) as Uint8Array;
    const forBob = inviteMac(invite.secret, 'invitee', me, bob.host.peerId.toString(), nonce);
    await first.send({ t: 'proof', mac: toBase64Url(forBob), profile: { name: 'Carol' } });
    expect(await refusal(first.receive('welcome'))).toBe('bad-secret');
    // Bob's proof for an old nonce, replayed on a new attempt (fresh nonce).
    const second = await rawClient(bob.host, alice.host);
    await second.send({ t: 'hello', invite: inviteId(invite.secret) });
    await second.receive('challenge');
    await second.send({ t: 'proof', mac: toBase64Url(forBob), profile: { name: 'Bob' } });
    expect(await refusal(second.receive('welcome'))).toBe('bad-secret');
    expect(alice.contacts.list()).toEqual([]);
  });

  it('refuses an expired invite on both sides', async () => {
    const clock = { now: Date.now() };
    const { alice, bob } = await setup(clock);
    const { link } = await alice.invites.create({ ttlMs: 60_000 });
    const invite = parseInvite(link, { now: clock.now });
    clock.now += 61_000;
    await expect(bob.invites.accept(link)).rejects.toMatchObject({
      name: 'InvalidInviteError',
      reason: 'expired'
    });
    // An invitee whose clock is behind still gets refused by the inviter.
    const channel = await rawClient(bob.host, alice.host);
    await channel.send({ t: 'hello', invite: inviteId(invite.secret) });
    expect(await refusal(channel.receive('challenge'))).toMatch(/expired|unknown-invite/);
    expect(alice.contacts.list()).toEqual([]);
  });

  it('refuses blocked peers, both ways', async () => {
    const { alice, bob } = await setup();
    await alice.contacts.block(bob.host.peerId.toString());
    const { link } = await alice.invites.create();
    expect(await refusal(bob.invites.accept(link))).toBe('blocked');
    expect(alice.contacts.get(bob.host.peerId.toString())?.name).not.toBe('Bob');
    expect(alice.refused.map((r) => r.reason)).toEqual(['blocked']);

    await bob.contacts.block(alice.host.peerId.toString());
    await alice.contacts.unblock(bob.host.peerId.toString());
    const err = await bob.invites.accept(link).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'HandshakeRefusedError', reason: 'blocked', remote: false });
  });

  it('rate-limits attempts per peer', async () => {
    const { alice, bob } = await setup(undefined, { rateLimitPerPeer: 3 });
    const { link } = await alice.invites.create();
    // The link with its third character changed (to 'B' where it was 'A': a random link had
    // an 'A' there once in 64 runs, and the "bogus" link was the real one).
    const payload = link.split('#/invite/')[1]!;
    const bogus =
      link.replace(/#\/invite\/.*/, '') +
      '#/invite/' +
      payload.slice(0, 2) +
      (payload[2] === 'A' ? 'B' : 'A') +
      payload.slice(3);
    const reasons: string[] = [];
    for (let i = 0; i < 4; i++) {
      const err = (await bob.invites.accept(bogus).catch((e: unknown) => e)) as { reason?: string };
      reasons.push(err.reason ?? String(err));
    }
    expect(reasons.slice(0, 3)).toEqual(['unknown-invite', 'unknown-invite', 'unknown-invite']);
    expect(reasons[3]).toBe('rate-limited');
    // Even the right link is refused until the window passes.
    expect(await refusal(bob.invites.accept(link))).toBe('rate-limited');
  });

  it('drops oversized and malformed frames without adding anyone', async () => {
    const { alice, bob } = await setup();
    await alice.invites.create();
    const big = await bob.host.dialProtocol(alice.host.peerId, INVITE_PROTOCOL);
    await lpStream(big).write(new Uint8Array(100 * 1024));
    const wrongVersion = await rawClient(bob.host, alice.host);
    await wrongVersion.send({ t: 'hello', invite: 'x', v: 2 } as never);
    const notJson = await bob.host.dialProtocol(alice.host.peerId, INVITE_PROTOCOL);
    await lpStream(notJson).write(new TextEncoder().encode('{nope'));
    const wrongType = await rawClient(bob.host, alice.host);
    await wrongType.send({ t: 'hello', invite: 42 });
    await expect.poll(() => alice.refused.length).toBe(4);
    expect(alice.refused.every((r) => r.reason === 'protocol')).toBe(true);
    expect(alice.contacts.list()).toEqual([]);
  });

  it('times out a silent invitee', async () => {
    const { alice, bob } = await setup(undefined, { handshakeTimeoutMs: 200 });
    await bob.host.dialProtocol(alice.host.peerId, INVITE_PROTOCOL);
    await expect.poll(() => alice.refused.map((r) => r.reason)).toEqual(['timeout']);
  });

  it('stops taking newcomers for an invite only after peers that named it failed its MAC', async () => {
    const { alice, bob, net } = await setup(undefined, { maxProofFailures: 2 });
    const { invite, link } = await alice.invites.create();
    const me = alice.host.peerId.toString();
    const failProof = async (from: FakeHost): Promise<string> => {
      const channel = await rawClient(from, alice.host);
      await channel.send({ t: 'hello', invite: inviteId(invite.secret) });
      const nonce = fromBase64Url((await channel.receive('challenge')).nonce as string)!;
      const mac = inviteMac(new Uint8Array(32), 'invitee', me, from.peerId.toString(), nonce);
      await channel.send({ t: 'proof', mac: toBase64Url(mac), profile: { name: 'X' } });
      return refusal(channel.receive('welcome'));
    };
    // Strangers that do not know the invite spend nothing of it.
    for (let i = 0; i < 5; i++) {
      const stranger = await net.host();
      const channel = await rawClient(stranger, alice.host);
      await channel.send({ t: 'hello', invite: 'AAAAAAAAAAAAAAAAAAAAAA' });
      expect(await refusal(channel.receive('challenge'))).toBe('unknown-invite');
    }
    expect(await failProof(await net.host())).toBe('bad-secret');
    expect(await failProof(await net.host())).toBe('bad-secret');
    const late = await rawClient(await net.host(), alice.host);
    await late.send({ t: 'hello', invite: inviteId(invite.secret) });
    expect(await refusal(late.receive('challenge'))).toBe('rate-limited');
    expect(await refusal(bob.invites.accept(link))).toBe('rate-limited');
  });

  it('the invitee checks the welcome MAC before it reads the profile', async () => {
    const { bob, net } = await setup();
    const fake = await net.host();
    const secret = new Uint8Array(32).fill(3);
    const link = inviteLink('https://app.example', {
      version: 1,
      inviter: fake.peerId.toString(),
      relays: [],
      secret,
      expiresAt: Date.now() + 60_000
    });
    await fake.handle(INVITE_PROTOCOL, async (stream) => {
      const channel = new FrameChannel(stream, { maxFrameBytes: 64 * 1024, timeoutMs: 2_000 });
      await channel.receive('hello');
      await channel.send({ t: 'challenge', nonce: toBase64Url(new Uint8Array(32)) });
      await channel.receive('proof');
      await channel.send({ t: 'welcome', mac: toBase64Url(new Uint8Array(32)), profile: 7 });
    });
    await expect(bob.invites.accept(link)).rejects.toMatchObject({
      name: 'HandshakeRefusedError',
      reason: 'bad-secret'
    });
  });

  it('does not dial private relay addresses from a public page', async () => {
    const { alice, net } = await setup();
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore() });
    await contacts.start();
    const invitee = createInvites(
      { pageOrigin: 'https://app.example' },
      {
        host,
        contacts,
        store: createMemoryRecordStore<OutstandingInvite>(),
        profile: () => ({ name: 'Dan' }),
        relays: () => []
      }
    );
    await invitee.start();
    const { invite } = await alice.invites.create();
    const relayId = RELAY.slice(RELAY.indexOf('/p2p/'));
    const local = { ...invite, relays: [`/ip4/192.168.1.1/tcp/443/wss${relayId}`] };
    await expect(invitee.accept(local)).rejects.toMatchObject({ name: 'HandshakeDialError' });
    expect(host.dialed).toEqual([]);
  });
});
