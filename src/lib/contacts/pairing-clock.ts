/**
 * The clock pairing runs on: code expiry, the joiner's announcements, dial and handshake
 * deadlines (and the app's join timeout, src/lib/app/pairing.ts). Injectable so tests move time
 * forward instead of waiting for it; the shape matches the presence timers of src/lib/app.
 */
export interface PairingClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realPairingClock: PairingClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (handle) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>)
};

/** A deadline on `clock`: `signal` aborts after `ms` unless `clear()` came first. */
export function clockDeadline(
  clock: PairingClock,
  ms: number
): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const handle = clock.setTimeout(
    () => controller.abort(new DOMException('The operation timed out', 'TimeoutError')),
    ms
  );
  return { signal: controller.signal, clear: () => clock.clearTimeout(handle) };
}
