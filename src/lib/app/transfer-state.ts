/**
 * What the UI shows of one file transfer, and the bookkeeping behind its numbers: bytes, speed
 * over the last seconds, time left. Plain data and pure functions.
 */

export type TransferState =
  /** Encrypting and storing a file being sent (before its message exists). */
  | 'preparing'
  /** Waiting for a free slot (a few transfers run at once). */
  | 'queued'
  | 'downloading'
  | 'paused'
  /** Nobody who has it is reachable directly: resumes when one is. */
  | 'waiting'
  /** Stored here whole. */
  | 'done'
  | 'failed'
  /** Stopped by the user: a receiving one can be started again. */
  | 'cancelled'
  /** Not stored here and not fetched automatically (too big): starts when asked. */
  | 'available';

export interface TransferView {
  /** The message id (or a local id while preparing). */
  id: string;
  conversationId: string;
  name: string;
  size: number;
  type: string;
  direction: 'send' | 'receive';
  state: TransferState;
  /** Plaintext bytes done. */
  bytes: number;
  /** Bytes per second over the last few seconds (0 when not moving). */
  speed: number;
  /** Seconds left at that speed (undefined when unknown). */
  eta?: number;
  /** What went wrong, in words for people (state 'failed' or 'waiting'). */
  error?: string;
  /** This device sending the stored file to others right now (serving-view.ts). */
  serving?: { bytes: number; total: number; speed: number; eta?: number };
}

const WINDOW_MS = 3_000;

/** Speed over a sliding window of (time, bytes) samples. */
export class Meter {
  private samples: [number, number][] = [];

  constructor(private readonly now: () => number) {}

  /** Records `bytes` done now; returns the speed in bytes/s. */
  sample(bytes: number): number {
    const t = this.now();
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && t - this.samples[0]![0] > WINDOW_MS) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    return t > t0 ? Math.max(0, ((bytes - b0) * 1000) / (t - t0)) : 0;
  }

  reset(): void {
    this.samples = [];
  }
}

/** Seconds left, or undefined when there is no speed to go by. */
export function etaOf(bytes: number, size: number, speed: number): number | undefined {
  if (speed <= 0 || bytes >= size) return undefined;
  return Math.ceil((size - bytes) / speed);
}

/** Plaintext bytes for a count of stored bytes (the ciphertext adds a tag per segment). */
export function plainBytes(stored: number, storedTotal: number, size: number): number {
  if (storedTotal <= 0) return 0;
  return Math.min(size, Math.round((stored / storedTotal) * size));
}

/** An error in words for people (typed errors of the files layer carry their own). */
export function describeFileError(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  const known = [
    'FileDecryptError',
    'InvalidFileRecordError',
    'FileDamagedError',
    'FileUnavailableError',
    'StorageFullError'
  ];
  if (typeof e?.name === 'string' && known.includes(e.name) && typeof e.message === 'string')
    return e.message;
  if (e?.name === 'AbortError') return 'Stopped.';
  return 'Something went wrong with this file. Try again.';
}
