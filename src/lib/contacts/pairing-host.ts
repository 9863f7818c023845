/**
 * The side showing the code: an announcement arrived on the topic, so dial the announcing peer
 * on PAIR_PROTOCOL and run the handshake (hello → proof → welcome; see pairing.ts).
 */
import type { Message } from '@libp2p/gossipsub';
import type { Stream } from '@libp2p/interface';
import { equalBytes, toBase64Url } from '../crypto/encoding.js';
import { PAIR_PROTOCOL } from '../p2p/constants.js';
import { DEFAULT_HANDSHAKE_DIAL_TIMEOUT_MS, NONCE_BYTES } from './constants.js';
import { bytesField, encodeProfile, profileField } from './frames.js';
import { announceDialTarget } from './pairing-announce.js';
import { clockDeadline } from './pairing-clock.js';
import { pairingMac } from './pairing-code.js';
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
  try {
    const nonce = ctx.random(NONCE_BYTES);
    await channel.send({ t: 'hello', nonce: toBase64Url(nonce) });
    const proof = await channel.receive('proof');
    const mac = bytesField(proof, 'mac', 32);
    const profile = profileField(proof);
    if (!equalBytes(mac, pairingMac(session.key, 'joiner', me, peer, nonce))) {
      await channel.refuse('bad-code');
      ctx.failed(session);
      return;
    }
    if (session.done) return await channel.refuse('not-pairing');
    await channel.send({
      t: 'welcome',
      mac: toBase64Url(pairingMac(session.key, 'host', me, peer, nonce)),
      profile: encodeProfile(await ctx.profile())
    });
    await channel.close();
    // The joiner closes its end once it accepted the welcome, and resets it when its session
    // ended meanwhile (cancelled, timed out): then it has no contact, so neither do we.
    if (!(await channel.remoteClosed())) return channel.abort();
    await ctx.finish(session, peer, profile);
  } catch (err) {
    channel.abort(err instanceof Error ? err : undefined);
    if ((err as { name?: string }).name !== 'HandshakeRefusedError') ctx.failed(session);
  } finally {
    release();
    session.idle();
  }
}
