/**
 * The last step of pairing: both devices proved the code, both screens show the safety number,
 * and each person confirms it (`{ t:"confirm" }`) or declines (`refuse "declined"`) on the same
 * stream. A side adds the contact only once it sent its own confirm and read the other's; a
 * decline, a timeout or a broken stream adds nothing on either side.
 */
import type { Contact } from './contacts.js';
import { DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS } from './constants.js';
import { HandshakeTimeoutError } from './errors.js';
import type { FrameChannel } from './frames.js';
import { clockDeadline } from './pairing-clock.js';
import { PairingAbortError, type PairingContext } from './pairing-session.js';
import type { PairingResult } from './pairing-types.js';
import type { Profile } from './profile.js';
import { peerSafetyNumber } from '../crypto/peer-key.js';

export interface ConfirmInit {
  ctx: PairingContext;
  channel: FrameChannel;
  /** Called once the stream is no longer needed (clears the handshake deadline). */
  release(): void;
  peer: string;
  profile: Profile;
  role: 'host' | 'joiner';
}

/** Starts the confirmation phase on a channel whose handshake just succeeded. */
export function awaitConfirmation(o: ConfirmInit): PairingResult {
  const { ctx, channel, peer, profile } = o;
  const me = ctx.deps.host.peerId.toString();
  const controller = new AbortController();
  const deadline = clockDeadline(
    ctx.clock,
    ctx.init.confirmTimeoutMs ?? DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS
  );
  // The handshake's own deadline and session signal no longer apply: people take their time.
  channel.rebind(deadline.signal, controller.signal);
  o.release();

  let resolve!: (c: Contact) => void;
  let reject!: (e: Error) => void;
  const outcome = new Promise<Contact>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  void outcome.catch(() => {});
  let ended = false;
  /** Both confirms crossed: the stream may end now without undoing anything. */
  let agreed = false;
  let confirmed: Promise<void> | undefined;
  const end = (err?: Error): void => {
    if (ended) return;
    ended = true;
    deadline.clear();
    if (err !== undefined) {
      channel.end();
      reject(err);
    }
  };
  const fail = (err: unknown): void => {
    if (!agreed) end(err instanceof Error ? err : new PairingAbortError('The pairing ended'));
  };
  // The deadline ends the step whatever is pending (maybe nothing: the other side confirmed
  // and this person has not answered yet).
  deadline.signal.addEventListener(
    'abort',
    () => fail(new HandshakeTimeoutError('The numbers were not confirmed in time')),
    { once: true }
  );
  // Read the other side's answer at once, so a decline or a drop is seen while we wait; after
  // its confirm, keep reading: nothing more may come, and a drop still ends the step.
  const remote = channel.receive('confirm').then(
    () => {
      void channel
        .receive('nothing')
        .then(() => fail(new PairingAbortError('The other device sent more than it should')), fail);
    },
    (err: unknown) => {
      fail(err);
      throw err;
    }
  );
  void remote.catch(() => {});

  const complete = async (): Promise<void> => {
    await Promise.all([confirmed, remote]);
    if (ended) return;
    agreed = true;
    if (ctx.contacts.isBlocked(peer)) {
      end(new PairingAbortError('This device is blocked'));
      return;
    }
    const contact = await ctx.contacts.add({
      peerId: peer,
      name: profile.name,
      ...(profile.avatar !== undefined ? { avatar: profile.avatar } : {}),
      source: 'pair'
    });
    const verified = await ctx.contacts.setVerified(peer, true);
    end();
    void channel.close();
    resolve(verified ?? contact);
  };

  return {
    peerId: peer,
    profile,
    safetyNumber: peerSafetyNumber(me, peer),
    role: o.role,
    outcome,
    confirm() {
      if (ended) return outcome;
      if (confirmed === undefined) {
        confirmed = channel.send({ t: 'confirm' });
        void complete().catch((err: unknown) =>
          end(err instanceof Error ? err : new PairingAbortError('The pairing ended'))
        );
      }
      return outcome;
    },
    decline() {
      if (ended) return;
      ended = true;
      deadline.clear();
      reject(new PairingAbortError('Pairing was declined'));
      void channel.refuse('declined').finally(() => controller.abort());
    }
  };
}
