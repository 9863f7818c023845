/**
 * Peers the sync service ignores for a while after they misbehaved (a malformed frame, a
 * refused update): their channels are dropped and reopening them is refused until the ban ends.
 */
export class PeerBans {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly ms: number
  ) {}

  ban(peer: string): void {
    this.until.set(peer, this.now() + this.ms);
  }

  has(peer: string): boolean {
    const until = this.until.get(peer);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.until.delete(peer);
    return false;
  }

  /** The peers banned now. */
  list(): string[] {
    const now = this.now();
    return [...this.until].filter(([, until]) => until > now).map(([peer]) => peer);
  }
}
