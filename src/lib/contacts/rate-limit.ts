/** Fixed-window attempt counters, per peer and global, for handshake handlers. */

export interface RateLimiterOptions {
  perPeer: number;
  global: number;
  windowMs: number;
  now?: () => number;
}

export class RateLimiter {
  readonly #opts: RateLimiterOptions;
  readonly #now: () => number;
  #windowStart = 0;
  #global = 0;
  #perPeer = new Map<string, number>();

  constructor(opts: RateLimiterOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Counts one attempt by `peer`; false if it is over the limit (the attempt is refused). */
  take(peer: string): boolean {
    const now = this.#now();
    if (now - this.#windowStart >= this.#opts.windowMs) {
      this.#windowStart = now;
      this.#global = 0;
      this.#perPeer.clear();
    }
    const count = this.#perPeer.get(peer) ?? 0;
    if (count >= this.#opts.perPeer || this.#global >= this.#opts.global) return false;
    this.#perPeer.set(peer, count + 1);
    this.#global++;
    return true;
  }
}
