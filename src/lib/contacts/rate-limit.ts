/**
 * Fixed-window attempt counters for handshake handlers: a budget per peer, and per-key failure
 * counts (FailureBudget). There is deliberately no budget shared by all peers: 12 throwaway peer
 * IDs × 5 attempts used to spend a global 60 and lock the real invitee out.
 */

export interface RateLimiterOptions {
  perPeer: number;
  windowMs: number;
  now?: () => number;
}

export class RateLimiter {
  readonly #opts: RateLimiterOptions;
  readonly #now: () => number;
  #windowStart = 0;
  #perPeer = new Map<string, number>();

  constructor(opts: RateLimiterOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Counts one attempt by `peer`; false if the peer is over its budget (the attempt is refused). */
  take(peer: string): boolean {
    this.#roll();
    const count = this.#perPeer.get(peer) ?? 0;
    if (count >= this.#opts.perPeer) return false;
    this.#perPeer.set(peer, count + 1);
    return true;
  }

  #roll(): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#opts.windowMs) {
      this.#windowStart = now;
      this.#perPeer.clear();
    }
  }
}

/**
 * Distinct peers that failed a proof for one key (an invite), per fixed window. Once `max` peers
 * failed, `exhausted(key)` is true until the window ends. Only peers that named the key and then
 * failed its proof count, so peers that do not know the key cannot spend this budget.
 */
export class FailureBudget {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  /** Most keys tracked; the oldest are forgotten first (a stranger's keys cost bounded memory). */
  readonly #maxKeys: number;
  readonly #failed = new Map<string, { start: number; peers: Set<string> }>();

  constructor(opts: { max: number; windowMs: number; now?: () => number; maxKeys?: number }) {
    this.#max = opts.max;
    this.#windowMs = opts.windowMs;
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = opts.maxKeys ?? 256;
  }

  /** True when `max` distinct peers failed `key` in this window. */
  exhausted(key: string): boolean {
    const entry = this.#entry(key);
    return entry !== undefined && entry.peers.size >= this.#max;
  }

  /** Records that `peer` failed the proof for `key`. */
  fail(key: string, peer: string): void {
    let entry = this.#entry(key);
    if (entry === undefined) {
      entry = { start: this.#now(), peers: new Set() };
      this.#failed.set(key, entry);
      if (this.#failed.size > this.#maxKeys) {
        const oldest = this.#failed.keys().next().value;
        if (oldest !== undefined) this.#failed.delete(oldest);
      }
    }
    if (entry.peers.size < this.#max) entry.peers.add(peer);
  }

  #entry(key: string): { start: number; peers: Set<string> } | undefined {
    const entry = this.#failed.get(key);
    if (entry !== undefined && this.#now() - entry.start >= this.#windowMs) {
      this.#failed.delete(key);
      return undefined;
    }
    return entry;
  }
}
