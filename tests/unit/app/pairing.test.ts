/**
 * The messenger's side of short-code pairing (src/lib/app/pairing.ts): the room is the reserved
 * relay, a pairing opens and dials the 1:1 conversation, and the safety-number answer verifies
 * or removes the contact. Real PAIR_PROTOCOL between in-memory hosts with a fake gossipsub bus;
 * time is a fake clock the tests move forward (fixtures/fake-timers.ts).
 */
import { ChatNotStartedError } from '../../../src/lib/app/errors.js';
import { describe, expect, it, vi } from 'vitest';
import type { Chat } from '../../../src/lib/app/chat-types.js';
import {
  createChatPairing,
  DEFAULT_PAIRING_JOIN_TIMEOUT_MS,
  groupCode,
  pairingErrorMessage,
  pairingRoom,
  PAIRING_CODE_TTL_MS,
  type ChatPairing
} from '../../../src/lib/app/pairing.js';
import { createContacts, type Contacts } from '../../../src/lib/contacts/contacts.js';
import {
  HandshakeRefusedError,
  PairingTimeoutError,
  PairingWrongAnswerError
} from '../../../src/lib/contacts/errors.js';
import { createPairing, type Pairing } from '../../../src/lib/contacts/pairing.js';
import { peerSafetyNumber } from '../../../src/lib/crypto/peer-key.js';
import type { RelayState } from '../../../src/lib/p2p/types.js';
import { createMemoryRecordStore } from '../../../src/lib/storage/record-store.js';
import { PairingStore } from '../../../src/lib/stores/pairing.svelte.js';
import { createFakeNetwork, type FakeHost } from '../../fixtures/fake-host.js';
import { fakeTimers } from '../../fixtures/fake-timers.js';
import { startHostHandshake, TEST_ROOM } from '../../fixtures/pairing-host.js';

const RELAY = TEST_ROOM;
/** Joiners announce every ANNOUNCE_MS of the fake clock. */
const ANNOUNCE_MS = 20;
const OTHER_RELAY = '12D3KooWLm7wCZ2zR8iMAsUrK7bdECsH7yH1Y4mcJUCPSiZ9Bvt2';

function relay(peerId: string, status: RelayState['status']): RelayState {
  return { addr: `/ip4/127.0.0.1/tcp/9090/ws/p2p/${peerId}`, peerId, status };
}

interface Side {
  name: string;
  host: FakeHost;
  contacts: Contacts;
  paired: ChatPairing;
  /** The protocol service under `paired`. */
  pairing: Pairing;
  relays: RelayState[];
  /** Conversations that exist on this side (ids), as the chat would have them. */
  conversations: Set<string>;
  opened: string[];
  dialed: string[];
}

async function setup(init: { joinTimeoutMs?: number; handshakeGraceMs?: number } = {}) {
  const net = createFakeNetwork();
  const clock = fakeTimers(Date.UTC(2026, 10, 25));
  const make = async (name: string): Promise<Side> => {
    const host = await net.host();
    const contacts = createContacts({ store: createMemoryRecordStore() });
    await contacts.start();
    const me = host.peerId.toString();
    const side: Side = {
      name,
      host,
      contacts,
      relays: [relay(RELAY, 'reserved')],
      conversations: new Set(),
      opened: [],
      dialed: [],
      paired: undefined as unknown as ChatPairing,
      pairing: undefined as unknown as Pairing
    };
    const pairing = createPairing(
      { announceIntervalMs: ANNOUNCE_MS, handshakeTimeoutMs: 2_000 },
      {
        host,
        pubsub: net.pubsub(host),
        contacts,
        profile: () => ({ name }),
        addresses: () => [`/ip4/127.0.0.1/tcp/1/ws/p2p/${RELAY}/p2p-circuit/p2p/${me}`],
        clock
      }
    );
    side.pairing = pairing;
    side.paired = createChatPairing(init, {
      pairing,
      contacts,
      relays: () => side.relays,
      openDirect: async (peer) => {
        const conversationId = `d-${[me, peer].sort().join('-')}`;
        const created = !side.conversations.has(conversationId);
        side.conversations.add(conversationId);
        side.opened.push(peer);
        return { conversationId, created };
      },
      dial: (peer) => void side.dialed.push(peer),
      clock
    });
    await side.paired.start();
    return side;
  };
  return { net, clock, alice: await make('Alice'), bob: await make('Bob') };
}

function idOf(side: Side): string {
  return side.host.peerId.toString();
}

describe('pairing in the chat', () => {
  it('pairs through the reserved relay; once both confirm, opens and dials the 1:1 conversation', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.paired.host();
    expect(hosting.code).toMatch(/^\d{6}$/);
    expect(hosting.expiresAt).toBe(clock.now() + PAIRING_CODE_TTL_MS);
    const joining = bob.paired.join(`${hosting.code.slice(0, 3)}-${hosting.code.slice(3)}`);
    expect(joining.expiresAt).toBe(clock.now() + DEFAULT_PAIRING_JOIN_TIMEOUT_MS);
    clock.advance(ANNOUNCE_MS);
    const [a, b] = await Promise.all([hosting.result, joining.result]);

    expect(a.role).toBe('host');
    expect(b.role).toBe('joiner');
    expect(a).toMatchObject({ peerId: idOf(bob), name: 'Bob' });
    expect(b).toMatchObject({ peerId: idOf(alice), name: 'Alice' });
    expect(a.safetyNumber).toBe(b.safetyNumber);
    expect(a.safetyNumber).toBe(peerSafetyNumber(idOf(alice), idOf(bob)));
    // Nothing yet: no contact, no conversation, no dial.
    expect(alice.contacts.list()).toEqual([]);
    expect(alice.opened).toEqual([]);
    expect(bob.dialed).toEqual([]);

    alice.paired.confirm(idOf(bob));
    bob.paired.confirm(idOf(alice));
    const [ra, rb] = await Promise.all([a.outcome, b.outcome]);
    expect(ra.contact).toMatchObject({ peerId: idOf(bob), name: 'Bob', verified: true });
    expect(rb.contact).toMatchObject({ peerId: idOf(alice), name: 'Alice', verified: true });
    expect(ra.conversationId).toBe(rb.conversationId);
    expect(alice.opened).toEqual([idOf(bob)]);
    expect(bob.opened).toEqual([idOf(alice)]);
    expect(alice.dialed).toEqual([idOf(bob)]);
    expect(bob.dialed).toEqual([idOf(alice)]);
  });

  it('"Numbers don\'t match" on one side adds nobody on either side', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.paired.host();
    const joining = bob.paired.join(hosting.code);
    clock.advance(ANNOUNCE_MS);
    const [a, b] = await Promise.all([hosting.result, joining.result]);
    bob.paired.confirm(idOf(alice));
    alice.paired.reject(idOf(bob));
    await expect(a.outcome).rejects.toMatchObject({ name: 'AbortError' });
    const err = await b.outcome.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'HandshakeRefusedError', reason: 'declined' });
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
    expect(alice.opened).toEqual([]);
    expect(bob.opened).toEqual([]);
  });

  it('needs a relay reservation: the room is the first reserved relay', async () => {
    const { alice } = await setup();
    alice.relays = [relay(RELAY, 'connecting'), relay(OTHER_RELAY, 'error')];
    for (const start of [() => alice.paired.host(), () => alice.paired.join('123456')]) {
      let err: unknown;
      try {
        start();
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ name: 'NoPairingRelayError' });
      expect(pairingErrorMessage(err)).toBe(
        'You need to be connected to a relay to pair with a code.'
      );
    }
    expect(
      pairingRoom([relay(RELAY, 'retrying'), { ...relay('', 'reserved'), peerId: '' }])
    ).toBeUndefined();
    expect(pairingRoom([relay(RELAY, 'connecting'), relay(OTHER_RELAY, 'reserved')])).toBe(
      OTHER_RELAY
    );
  });

  it('does not pair people on different relays', async () => {
    const { clock, alice, bob } = await setup();
    bob.relays = [relay(OTHER_RELAY, 'reserved')];
    const hosting = alice.paired.host();
    const joining = bob.paired.join(hosting.code);
    clock.advance(DEFAULT_PAIRING_JOIN_TIMEOUT_MS - 1);
    expect(alice.host.dialed).toEqual([]);
    clock.advance(1);
    await expect(joining.result).rejects.toMatchObject({ name: 'PairingNotFoundError' });
    hosting.cancel();
    await expect(hosting.result).rejects.toMatchObject({ name: 'AbortError' });
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('a wrong code finds nobody in time, adds nothing, and the shown code still works', async () => {
    const { clock, alice, bob } = await setup();
    const hosting = alice.paired.host();
    // The same first digit: the two meet on one topic and the PAKE fails (once: one guess).
    const last = hosting.code.slice(1) === '00000' ? '00001' : '00000';
    const wrong = hosting.code[0] + last;
    const joining = bob.paired.join(wrong);
    clock.advance(DEFAULT_PAIRING_JOIN_TIMEOUT_MS);
    const err = await joining.result.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PairingNotFoundError' });
    expect(pairingErrorMessage(err)).toMatch(/^Nobody was found with this code/);
    expect(bob.contacts.list()).toEqual([]);
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.opened).toEqual([]);

    const retry = bob.paired.join(hosting.code);
    clock.advance(ANNOUNCE_MS);
    const [a, b] = await Promise.all([hosting.result, retry.result]);
    expect(a.safetyNumber).toBe(b.safetyNumber);
  });

  it('rejects a code that is not 6 digits before anything starts', async () => {
    const { bob } = await setup();
    let err: unknown;
    try {
      bob.paired.join('12 34');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'InvalidPairingCodeError' });
    expect(pairingErrorMessage(err)).toBe(
      'Enter the 6 digits of the code shown on the other device.'
    );
  });

  it('cancel() and stop() end the session in progress', async () => {
    const { alice, bob } = await setup();
    const hosting = alice.paired.host();
    alice.paired.cancel();
    await expect(hosting.result).rejects.toMatchObject({ name: 'AbortError' });
    const joining = bob.paired.join('123456');
    await bob.paired.stop();
    const err = await joining.result.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(pairingErrorMessage(err)).toBeUndefined();
  });
});

describe('pairing timeouts on the joining side', () => {
  it('a handshake running when the join time is up may still pair: no "nobody found"', async () => {
    const { net, clock, bob } = await setup({ joinTimeoutMs: 150 });
    const alice = await net.host();
    const joining = bob.paired.join('123456');
    const hs = await startHostHandshake(alice, bob.host, '123456', { name: 'Alice' });
    // The join timeout passes while the host is still answering.
    const session = bob.pairing.active;
    expect(session?.handshaking).toBe(true);
    clock.advance(150);
    expect(bob.pairing.active).toBe(session);
    await hs.welcome();
    await hs.channel.receive('profile');
    const paired = await joining.result;
    expect(paired).toMatchObject({ peerId: alice.peerId.toString(), name: 'Alice' });
  });

  it('a handshake that stalls past the join time ends within the grace and adds nobody', async () => {
    const { net, clock, bob } = await setup({ joinTimeoutMs: 100, handshakeGraceMs: 100 });
    const alice = await net.host();
    const joining = bob.paired.join('123456');
    const hs = await startHostHandshake(alice, bob.host, '123456', { name: 'Alice' });
    const session = bob.pairing.active;
    expect(session?.handshaking).toBe(true);
    clock.advance(100);
    // In the grace now: the handshake may still end the join.
    expect(bob.pairing.active).toBe(session);
    clock.advance(100);
    expect(bob.pairing.active).toBeUndefined();
    const err = await joining.result.catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'PairingNotFoundError' });
    // The welcome comes too late: the joiner dropped the handshake with the session.
    await hs.welcome().catch(() => {});
    await hs.channel.receive('end').catch(() => {});
    await net.settled();
    expect(bob.contacts.list()).toEqual([]);
    expect(bob.opened).toEqual([]);
  });
});

describe('the pairing panel', () => {
  function deferred() {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    return { promise, release };
  }

  it('a Cancel or a close while the app is starting begins nothing later', async () => {
    const ready = deferred();
    const host = vi.fn();
    const join = vi.fn();
    const chat = { pairing: { host, join } } as unknown as Chat;
    const store = new PairingStore(chat, () => ready.promise);
    store.open = true;
    const shown = store.showCode();
    expect(store.starting).toBe(true);
    expect(store.status).toBe('Starting…');
    store.cancel();
    expect(store.starting).toBe(false);
    expect(store.status).toBeUndefined();

    store.codeDraft = '123456';
    const paired = store.pair();
    store.toggle(); // the panel is closed
    expect(store.open).toBe(false);

    ready.release();
    await Promise.all([shown, paired]);
    expect(host).not.toHaveBeenCalled();
    expect(join).not.toHaveBeenCalled();
    expect(store.phase).toBe('idle');
    expect(store.starting).toBe(false);
    expect(store.error).toBeUndefined();
  });

  it('"Numbers match" waits for the other person; their "don\'t match" ends it on both, adding nobody', async () => {
    const { clock, alice, bob } = await setup();
    const storeOf = (side: typeof alice) =>
      new PairingStore(
        { pairing: side.paired, contacts: { displayName: () => undefined } } as unknown as Chat,
        () => Promise.resolve()
      );
    const a = storeOf(alice);
    const b = storeOf(bob);
    a.open = true;
    b.open = true;
    const shown = a.showCode();
    await vi.waitFor(() => expect(a.code).toMatch(/^\d{6}$/));
    b.codeDraft = a.code;
    const joined = b.pair();
    await vi.waitFor(() => expect(b.phase).toBe('joining'));
    clock.advance(ANNOUNCE_MS);
    await Promise.all([shown, joined]);
    expect(a.paired?.name).toBe('Bob');
    expect(b.paired?.safetyNumber).toBe(a.paired?.safetyNumber);

    a.confirmMatch();
    expect(a.confirming).toBe(true);
    expect(a.waiting).toBe('Waiting for Bob to confirm…');
    b.confirmMismatch();
    expect(b.paired).toBeUndefined();
    expect(b.notice).toMatch(/^The numbers didn't match, so Alice was not added to your contacts/);
    await vi.waitFor(() => expect(a.paired).toBeUndefined());
    expect(a.notice).toMatch(/^Bob said the numbers don't match, so nobody was added/);
    expect(a.waiting).toBeUndefined();
    expect(alice.contacts.list()).toEqual([]);
    expect(bob.contacts.list()).toEqual([]);
  });

  it('says so when the app could not start', async () => {
    for (const err of [
      Object.assign(new Error('chat not started'), { name: 'ChatNotStartedError' }),
      new ChatNotStartedError('The app has not started yet.')
    ]) {
      const chat = {
        get pairing() {
          throw err;
        }
      } as unknown as Chat;
      const store = new PairingStore(chat, () => Promise.resolve());
      store.open = true;
      await store.showCode();
      expect(store.error).toBe(
        "The app couldn't start, so pairing isn't available. Reload the page to try again."
      );
      expect(store.starting).toBe(false);
      expect(store.status).toBeUndefined();
    }
  });
});

describe('pairing words', () => {
  it('groups a code 3+3 and explains each failure', () => {
    expect(groupCode('123456')).toBe('123 456');
    expect(groupCode('12345')).toBe('12345');
    expect(pairingErrorMessage(new PairingTimeoutError('x'))).toMatch(/expired/);
    expect(pairingErrorMessage(new HandshakeRefusedError('x', 'bad-code', true))).toBe(
      "The code didn't match. Check it and try again."
    );
    expect(pairingErrorMessage(new HandshakeRefusedError('x', 'bad-code', false))).toMatch(
      /no longer works/
    );
    expect(pairingErrorMessage(new HandshakeRefusedError('x', 'busy', true))).toMatch(/busy/);
    // The joiner never showed a code: its own words when others answer it.
    expect(pairingErrorMessage(new PairingWrongAnswerError('x'))).toBe(
      'Someone else answered this code. Ask for a new code and try again.'
    );
  });
});
