/**
 * The side that typed the code: announces itself on the rendezvous topic until paired, and
 * answers the host that dials it on PAIR_PROTOCOL as the CPace responder (see pairing.ts).
 */
import type { Connection, Stream } from '@libp2p/interface';
import { CPACE_SHARE_BYTES, CPACE_TAG_BYTES, cpaceVerifyTag } from '../crypto/cpace.js';
import { toBase64Url } from '../crypto/encoding.js';
import {
  DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS,
  PAIRING_FIRST_ANNOUNCE_MAX_MS,
  PAIRING_SID_BYTES
} from './constants.js';
import type { RefusalReason } from './errors.js';
import { bytesField, encodeProfile, profileField, type FrameChannel } from './frames.js';
import { encodeAnnounce } from './pairing-announce.js';
import { pairingAd, pairingPake } from './pairing-code.js';
import type { PairingContext, SessionState } from './pairing-session.js';

/** Publishes the joiner's announcement soon and then every interval, until the session ends. */
export function startAnnouncing(ctx: PairingContext, session: SessionState): void {
  const interval = ctx.init.announceIntervalMs ?? DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS;
  const nonce = toBase64Url(ctx.random(12));
  const announce = (): void => {
    if (session.done || session.busy) return;
    const me = ctx.deps.host.peerId.toString();
    const data = encodeAnnounce(ctx.deps.addresses(), session.room, me, nonce);
    // No topic peers yet (the relay has not seen our subscription): try again next time.
    ctx.deps.pubsub.publish(session.topic, data).catch(() => {});
  };
  const timer = ctx.clock.setInterval(announce, interval);
  ctx.clock.setTimeout(announce, Math.min(interval, PAIRING_FIRST_ANNOUNCE_MAX_MS));
  void session.result.catch(() => {}).finally(() => ctx.clock.clearInterval(timer));
}

/** A host dialed us: answer it if we are joining, refuse it otherwise. */
export async function answerHost(
  ctx: PairingContext,
  stream: Stream,
  connection: Connection
): Promise<void> {
  const peer = connection.remotePeer.toString();
  const me = ctx.deps.host.peerId.toString();
  const session = ctx.session;
  const { channel, release } = ctx.channel(stream, session);
  let handedOver = false;
  try {
    const refusal = refusalFor(ctx, peer, session);
    if (refusal !== undefined || session === undefined) {
      return await channel.refuse(refusal ?? 'not-pairing');
    }
    handedOver = await answer(ctx, channel, release, session, peer, me);
  } finally {
    if (!handedOver) release();
  }
}

/** Why a host dialing us now is turned away, if it is. */
function refusalFor(
  ctx: PairingContext,
  peer: string,
  session: SessionState | undefined
): RefusalReason | undefined {
  if (ctx.contacts.isBlocked(peer)) return 'blocked';
  if (!ctx.limiter.take(peer)) return 'rate-limited';
  if (session === undefined || session.role !== 'joiner' || session.done) return 'not-pairing';
  if (session.busy) return 'busy';
  return undefined;
}

/** Runs the joiner's side; true when it handed the channel over to the confirmation step. */
async function answer(
  ctx: PairingContext,
  channel: FrameChannel,
  release: () => void,
  session: SessionState,
  peer: string,
  me: string
): Promise<boolean> {
  session.busy = true;
  try {
    // CPace, responder side (draft-irtf-cfrg-cpace §7.2): Yb and our tag Tb for the host's Ya.
    const hello = await channel.receive('hello');
    const sid = bytesField(hello, 'sid', PAIRING_SID_BYTES);
    const hostShare = bytesField(hello, 'share', CPACE_SHARE_BYTES);
    const pake = pairingPake('joiner', session.code, session.room, peer, me, sid, ctx.random);
    let keys;
    try {
      keys = pake.finish('responder', hostShare, pairingAd('host'));
    } catch {
      // Not a group element: no honest host sends that. It is a failed guess.
      channel.abort();
      ctx.failed(session);
      return false;
    }
    await channel.send({
      t: 'share',
      share: toBase64Url(pake.share),
      tag: toBase64Url(keys.ownTag)
    });
    const proof = await channel.receive('proof');
    // Cancelled or timed out while waiting: the user was told, do not pair behind their back.
    if (session.done) {
      channel.abort();
      return false;
    }
    // The tag first: the host's profile is not read until it proved the code.
    if (!cpaceVerifyTag(keys.peerTag, bytesField(proof, 'tag', CPACE_TAG_BYTES))) {
      // Someone answered who does not know the code: only this ends the join early.
      channel.abort();
      ctx.failed(session);
      return false;
    }
    const profile = profileField(proof);
    await channel.send({ t: 'profile', profile: encodeProfile(await ctx.profile()) });
    if (session.done) {
      channel.abort();
      return false;
    }
    // Before idle(): a join timeout waiting for this handshake must see the session resolved.
    ctx.finish(session, peer, profile, channel, release);
    return true;
  } catch (err) {
    // Timeouts, refusals, junk or a closed stream: any peer on the topic can cause them, so
    // they do not count toward the failures (the join timeout ends a join nobody completes).
    channel.abort(err instanceof Error ? err : undefined);
    return false;
  } finally {
    session.idle();
  }
}
