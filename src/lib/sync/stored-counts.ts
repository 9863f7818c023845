/**
 * The counts of a conversation model that reach beyond its window (segment-window.ts): the
 * messages in all of history and the unread counts of members whose read mark is older than
 * the window, read from the stored message index in the background and kept here until they
 * are read again. Separate from the window, which holds what is in memory.
 */
import type { DocSet } from './doc-set.js';

export class StoredCounts {
  /** Messages in all of history, as last counted in the store (the window may know more). */
  total = 0;
  private queued = false;
  /** Unread counts of members whose read mark is older than the window (from the store). */
  private readonly unread = new Map<string, { mark: string | undefined; count: number }>();

  constructor(
    private readonly set: DocSet,
    /** Whether the model is destroyed: nothing is counted or told then. */
    private readonly destroyed: () => boolean,
    /** Told when a count moved. */
    private readonly onMoved: () => void
  ) {}

  /** Counts again soon (once for all the asks of a task). */
  queue(): void {
    if (this.queued || this.destroyed()) return;
    this.queued = true;
    queueMicrotask(() => {
      this.queued = false;
      void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    try {
      const stored = await this.set.history.count(this.set.id);
      let moved = stored !== this.total;
      this.total = stored;
      for (const [member, cached] of this.unread) {
        const count = await this.set.history.countAfter(this.set.id, cached.mark, {
          notAuthor: member
        });
        if (count !== cached.count) moved = true;
        this.unread.set(member, { mark: cached.mark, count });
      }
      if (moved && !this.destroyed()) this.onMoved();
    } catch {
      // The store is closing (or gone): the counts stay as they were.
    }
  }

  /** A member's unread count after `mark` (older than the window), as last counted. */
  unreadAfter(member: string, mark: string | undefined): number {
    const cached = this.unread.get(member);
    if (cached === undefined || cached.mark !== mark) {
      this.unread.set(member, { mark, count: cached?.count ?? 0 });
      this.queue();
    }
    return this.unread.get(member)?.count ?? 0;
  }
}
