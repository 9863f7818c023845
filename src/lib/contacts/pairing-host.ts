/**
 * The side showing the code: an announcement arrived on the rendezvous topic, so dial the
 * announcing peer on PAIR_PROTOCOL and run the CPace handshake as its initiator (see pairing.ts).
 */
import type { Message } from '@libp2p/gossipsub';
import type { Stream } from '@libp2p/interface';
import { CPACE_SHARE_BYTES, CPACE_TAG_BYTES, cpaceVerifyTag } from '../crypto/cpace.js';
import { toBase64Url } from '../crypto/encoding.js';
import { PAIR_PROTOCOL } from '../p2p/constants.js';
import { DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS, PAIRING_SID_BYTES } from './constants.js';
import { bytesField, encodeProfile, profileField } from './frames.js';
import { announceDialTarget, announceSession } from './pairing-announce.js';
import { clockDeadline } from './pairing-clock.js';
import { pairingAd, pairingPake } from './pairing-code.js';
import { PairingAbortError, type PairingContext, type SessionState } from './pairing-session.js';

/** Handles one announcement for a hosting `session` (at most one handshake at a time). */
export async function onAnnounce(
  ctx: PairingContext,
  session: SessionState,
  msg: Message
): Promise<void> {
  if (session.done || session.busy || msg.type !== 'signed') return;
  const me = ctx.deps.host.peerId.toString();
  const peer = msg.from.toString();
  if (peer === me || ctx.contacts.isBlocked(peer)) return;
  // One PAKE run, one guess, per join session: its later announcements are ignored.
  const joinSession = announceSession(msg.data, peer);
  if (joinSession === undefined || session.failed.has(joinSession)) return;
  const target = announceDialTarget(msg.data, peer, session.room, me, ctx.deps.addresses);
  if (target === undefined) return;
  session.busy = true;
  let stream: Stream | undefined;
  const deadline = clockDeadline(
    ctx.clock,
    ctx.init.dialTimeoutMs ?? DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS
  );
  try {
    stream = await ctx.deps.host.dialProtocol(target, PAIR_PROTOCOL, {
      runOnLimitedConnection: true,
      signal: AbortSignal.any([deadline.signal, session.controller.signal])
    });
  } catch {
    session.idle();
    return; // Unreachable: the joiner announces again, we try again.
  } finally {
    deadline.clear();
  }
  if (session.done) {
    stream.abort(new PairingAbortError('The pairing session ended'));
    session.idle();
    return;
  }
  const { channel, release } = ctx.channel(stream, session);
  let handedOver = false;
  try {
    // CPace, initiator side: hello carries sid and Ya; the joiner answers Yb and its tag Tb.
    const sid = ctx.random(PAIRING_SID_BYTES);
    const pake = pairingPake('host', session.code, session.room, me, peer, sid, ctx.random);
    await channel.send({ t: 'hello', sid: toBase64Url(sid), share: toBase64Url(pake.share) });
    const answer = await channel.receive('share');
    const keys = pake.finish(
      'initiator',
      bytesField(answer, 'share', CPACE_SHARE_BYTES),
      pairingAd('joiner')
    );
    // The tag first: nothing else the joiner sent is read until it proved the code.
    if (!cpaceVerifyTag(keys.peerTag, bytesField(answer, 'tag', CPACE_TAG_BYTES))) {
      session.failed.add(joinSession);
      await channel.refuse('bad-code');
      ctx.failed(session);
      return;
    }
    if (session.done) return await channel.refuse('not-pairing');
    await channel.send({
      t: 'proof',
      tag: toBase64Url(keys.ownTag),
      profile: encodeProfile(await ctx.profile())
    });
    const profile = profileField(await channel.receive('profile'));
    if (session.done) return await channel.refuse('not-pairing');
    handedOver = true;
    ctx.finish(session, peer, profile, channel, release);
  } catch (err) {
    channel.abort(err instanceof Error ? err : undefined);
    // A share that is not a group element is a failed guess too (draft §7.2: abort).
    const name = (err as { name?: string }).name;
    if (name === 'CPaceError') session.failed.add(joinSession);
    if (name !== 'HandshakeRefusedError' && name !== 'AbortError') ctx.failed(session);
  } finally {
    if (!handedOver) release();
    session.idle();
  }
}
