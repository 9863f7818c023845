/**
 * Devices whose app speaks no sync version this one does (the sync service's 'incompatible'
 * event), until they sync again. Any peer can be reported (a relay, a stranger), so it keeps
 * at most `max`: the oldest report goes first.
 */
export class IncompatiblePeers {
  readonly #peers = new Set<string>();

  constructor(private readonly max = 256) {}

  has(peer: string): boolean {
    return this.#peers.has(peer);
  }

  /** Whether `peer` is new here. */
  add(peer: string): boolean {
    if (this.#peers.has(peer)) return false;
    if (this.#peers.size >= this.max) {
      this.#peers.delete(this.#peers.values().next().value as string);
    }
    this.#peers.add(peer);
    return true;
  }

  /** Whether `peer` was here. */
  delete(peer: string): boolean {
    return this.#peers.delete(peer);
  }
}
