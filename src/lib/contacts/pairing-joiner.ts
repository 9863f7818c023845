/**
 * The side that typed the code: announces itself on the topic until paired, and answers the
 * host that dials it on PAIR_PROTOCOL (hello → proof → welcome; see pairing.ts).
 */
import type { Connection, Stream } from '@libp2p/interface';
import { equalBytes, toBase64Url } from '../crypto/encoding.js';
import {
  DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS,
  NONCE_BYTES,
  PAIRING_FIRST_ANNOUNCE_MAX_MS
} from './constants.js';
import type { RefusalReason } from './errors.js';
import { bytesField, encodeProfile, profileField, type FrameChannel } from './frames.js';
import { encodeAnnounce } from './pairing-announce.js';
import { pairingMac } from './pairing-code.js';
import type { PairingContext, SessionState } from './pairing-session.js';

/** Publishes the joiner's announcement soon and then every interval, until the session ends. */
export function startAnnouncing(ctx: PairingContext, session: SessionState): void {
  const interval = ctx.init.announceIntervalMs ?? DEFAULT_PAIRING_ANNOUNCE_INTERVAL_MS;
  const announce = (): void => {
    if (session.done || session.busy) return;
    const me = ctx.deps.host.peerId.toString();
    const data = encodeAnnounce(ctx.deps.addresses(), session.room, me);
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
  try {
    const refusal = refusalFor(ctx, peer, session);
    if (refusal !== undefined || session === undefined) {
      return await channel.refuse(refusal ?? 'not-pairing');
    }
    await answer(ctx, channel, session, peer, me);
  } finally {
    release();
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

async function answer(
  ctx: PairingContext,
  channel: FrameChannel,
  session: SessionState,
  peer: string,
  me: string
): Promise<void> {
  session.busy = true;
  try {
    const hello = await channel.receive('hello');
    const nonce = bytesField(hello, 'nonce', NONCE_BYTES);
    await channel.send({
      t: 'proof',
      mac: toBase64Url(pairingMac(session.key, 'joiner', peer, me, nonce)),
      profile: encodeProfile(await ctx.profile())
    });
    const welcome = await channel.receive('welcome');
    // Cancelled or timed out while waiting: the user was told, do not pair behind their back.
    if (session.done) return channel.abort();
    const mac = bytesField(welcome, 'mac', 32);
    const profile = profileField(welcome);
    if (!equalBytes(mac, pairingMac(session.key, 'host', peer, me, nonce))) {
      // Someone answered who does not know the code: only this ends the join early.
      channel.abort();
      ctx.failed(session);
      return;
    }
    await channel.close();
    await ctx.finish(session, peer, profile);
  } catch (err) {
    // Timeouts, refusals, junk or a closed stream: any peer on the topic can cause them, so
    // they do not count toward the failures (the join timeout ends a join nobody completes).
    channel.abort(err instanceof Error ? err : undefined);
  } finally {
    session.idle();
  }
}
