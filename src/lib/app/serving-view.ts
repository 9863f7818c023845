/**
 * What the UI shows of a stored file being sent to others (this device serves its blocks):
 * bytes sent in the current run, out of the file's size times the fetches that asked for it
 * (a fetch starts at the file's root), speed and time left. A run ends after `idleMs` with
 * nothing sent.
 */
import type { Files } from '../files/files.js';
import { storedSize } from '../files/files.js';
import type { FileRecord } from '../files/record.js';
import { etaOf, Meter, plainBytes, type TransferView } from './transfer-state.js';

export interface ServingView {
  /** Plaintext bytes sent in this run. */
  bytes: number;
  /** The file's size times the fetches in this run. */
  total: number;
  speed: number;
  eta?: number;
}

/** A run ends after this long with no block sent. */
export const SERVING_IDLE_MS = 5_000;

export interface FollowServing {
  files: Files;
  record: FileRecord;
  now: () => number;
  /** The run's view after each block, undefined when the run ended. */
  onChange: (view: ServingView | undefined) => void;
  idleMs?: number;
}

/** Follows the sending of `record` until the returned `off` is called. */
export function followServing(init: FollowServing): () => void {
  const { record, onChange } = init;
  const stored = storedSize(record);
  const meter = new Meter(init.now);
  let run: { bytes: number; passes: number } | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const off = init.files.watchServing(record, ({ bytes, pass }) => {
    run ??= { bytes: 0, passes: 0 };
    if (pass || run.passes === 0) run.passes++;
    run.bytes += bytes;
    const total = run.passes * record.size;
    const plain = Math.min(total, plainBytes(run.bytes, stored, record.size));
    const speed = meter.sample(plain);
    clearTimeout(idle);
    idle = setTimeout(() => {
      run = undefined;
      meter.reset();
      onChange(undefined);
    }, init.idleMs ?? SERVING_IDLE_MS);
    onChange({ bytes: plain, total, speed, eta: etaOf(plain, total, speed) });
  });
  return () => {
    off();
    clearTimeout(idle);
  };
}

/**
 * Follows the sending of a transfer's file while it is stored here whole ('done'), and stops
 * (clearing `view.serving`) when it no longer is.
 */
export function syncServing(
  job: { view: TransferView; record?: FileRecord; unserve?: () => void },
  files: Files | undefined,
  options: Pick<FollowServing, 'now' | 'idleMs' | 'onChange'>
): void {
  const done = job.view.state === 'done' && job.record !== undefined && files !== undefined;
  if (done === (job.unserve !== undefined)) return;
  job.unserve?.();
  job.unserve = done
    ? followServing({ ...options, files: files!, record: job.record! })
    : undefined;
  if (!done) job.view = { ...job.view, serving: undefined };
}
