/**
 * Asking a relay to keep a public share, so a public link (`<relay>/ipfs/<cid>`) opens for
 * people without the app. The relay fetches the file from this device with bitswap (the files
 * service must be running and hold the whole file until the answer comes), checks every block,
 * stores it within its quota and answers; it never gets a key, so only public records (no `key`)
 * are sent. Relays keep public shares only when their operator turned it on.
 *
 * Protocol PUBLIC_SHARE_PROTOCOL over the existing (direct, WebSocket) connection to the relay:
 * one length-prefixed JSON request `{ cid, size }`, one answer `{ ok: true }` or
 * `{ ok: false, reason, message }` (relay/src/public-shares.ts is the other side).
 *
 * ```ts
 * const record = await files.add(file, { public: true });
 * const kept = await askRelayToKeep(node.libp2p, relayPeerId, record);
 * if (!kept.ok) show(kept.message); // kept.reason: 'quota', 'too-big', 'disabled', ...
 * ```
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { PUBLIC_SHARE_PROTOCOL } from '../p2p/constants.js';
import { isPublic, type FileRecord } from './record.js';

/** Why a relay did not keep a share ('unavailable' also covers no connection, no answer). */
export type KeepRefusalReason = 'disabled' | 'too-big' | 'quota' | 'bad-request' | 'unavailable';

export interface KeepResult {
  ok: boolean;
  reason?: KeepRefusalReason;
  /** A sentence for people (the relay's own when it refused). */
  message?: string;
}

export interface KeepOptions {
  signal?: AbortSignal;
  /** How long to wait for the answer (the relay gives a fetch up to 10 minutes). */
  timeoutMs?: number;
}

/** Default wait for the relay's answer: a little more than the relay's own fetch limit. */
export const KEEP_TIMEOUT_MS = 11 * 60_000;

/** Largest request or answer frame (the relay refuses bigger requests). */
const MAX_MESSAGE_BYTES = 1024;

const REASONS: readonly KeepRefusalReason[] = [
  'disabled',
  'too-big',
  'quota',
  'bad-request',
  'unavailable'
];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function refused(reason: KeepRefusalReason, message: string): KeepResult {
  return { ok: false, reason, message };
}

/** The relay's answer, checked: anything unexpected is 'unavailable'. */
function parseAnswer(bytes: Uint8Array): KeepResult {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return refused('unavailable', 'The relay sent an answer the app cannot read.');
  }
  const answer = value as { ok?: unknown; reason?: unknown; message?: unknown } | null;
  if (answer?.ok === true) return { ok: true };
  const reason = REASONS.find((r) => r === answer?.reason);
  if (answer?.ok !== false || reason === undefined) {
    return refused('unavailable', 'The relay sent an answer the app cannot read.');
  }
  const message =
    typeof answer.message === 'string' && answer.message.length <= 500
      ? answer.message
      : 'The relay did not keep the file.';
  return refused(reason, message);
}

function directConnection(libp2p: Pick<Libp2p, 'getConnections'>, relay: string) {
  // Bitswap runs only over unlimited connections: the relay fetches over this one.
  return libp2p
    .getConnections()
    .find(
      (c: Connection) =>
        c.remotePeer.toString() === relay && c.status === 'open' && c.limits === undefined
    );
}

/**
 * Asks the relay `relayPeerId` (connected directly) to keep the public file `record`, and
 * resolves with its answer once it has the whole file or refused. Never rejects, except with
 * the reason of `options.signal` when the caller cancels.
 */
export async function askRelayToKeep(
  libp2p: Pick<Libp2p, 'getConnections'>,
  relayPeerId: string,
  record: FileRecord,
  options: KeepOptions = {}
): Promise<KeepResult> {
  if (!isPublic(record)) {
    return refused(
      'bad-request',
      'Only public shares can be kept by a relay: it never gets the key of an encrypted file.'
    );
  }
  const connection = directConnection(libp2p, relayPeerId);
  if (connection === undefined) {
    return refused('unavailable', 'This device is not connected to that relay right now.');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? KEEP_TIMEOUT_MS);
  const signal =
    options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  let stream: Stream;
  try {
    stream = await connection.newStream(PUBLIC_SHARE_PROTOCOL, { signal });
  } catch (err) {
    options.signal?.throwIfAborted();
    if ((err as { name?: string } | null)?.name === 'UnsupportedProtocolError') {
      return refused('disabled', 'This relay does not keep public shares.');
    }
    return refused('unavailable', 'The relay could not be asked right now.');
  }
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_BYTES });
  try {
    await lp.write(encoder.encode(JSON.stringify({ cid: record.cid, size: record.size })), {
      signal
    });
    const answer = parseAnswer((await lp.read({ signal })).subarray());
    await stream.close({ signal }).catch(() => stream.abort(new Error('close failed')));
    return answer;
  } catch {
    stream.abort(new Error('public share request ended'));
    options.signal?.throwIfAborted();
    return timeout.aborted
      ? refused('unavailable', 'The relay did not answer in time.')
      : refused('unavailable', 'The connection to the relay closed before it answered.');
  }
}
