/**
 * The observation of a conversation's segment docs in memory (for SegmentWindow): each one's
 * messages map, whose changes go to the window (track, with when this device first saw each
 * message) and to the message listeners (the ids that changed), and any change of the doc to
 * the window's change listeners.
 */
import * as Y from 'yjs';
import { LOAD_ORIGIN } from './doc-set.js';

/**
 * An 'afterTransaction' listener that calls `fn` with the origin of transactions that changed
 * something. ('update' listeners would make Yjs encode every change once more, a remote
 * catch-up's whole step2 included.)
 */
export function onChangedTransaction(fn: (origin: unknown) => void): (tr: Y.Transaction) => void {
  return (tr) => {
    if (tr.origin === LOAD_ORIGIN) return;
    if (tr.changed.size > 0 || tr.deleteSet.clients.size > 0) fn(tr.origin);
  };
}

export interface Observed {
  doc: Y.Doc;
  messages: Y.Map<unknown>;
  off: () => void;
}

/** What the window does with what observed segments hold. */
export interface ObservedHooks {
  /** Keeps a message of segment `n` in the window or out of it, as its key says. */
  track(n: number, id: string, value: unknown, tr?: Y.Transaction): void;
  /** Something changed (`origin`: the transaction's). */
  changed(origin: unknown): void;
}

export class SegmentObservers {
  /** Hot segments observed: their messages are readable. */
  readonly observed = new Map<number, Observed>();
  /** When this device first saw each message (its displayed time is never later). */
  readonly firstSeen = new Map<string, number>();
  private readonly messageListeners = new Set<(ids: string[]) => void>();

  constructor(
    private readonly hooks: ObservedHooks,
    private readonly now: () => number
  ) {}

  /**
   * Observes a segment in memory. `track`: what it holds joins the window if it belongs there
   * (a loaded segment); `all`: and message listeners hear about all of it (a reloaded one,
   * whose content may have changed); `none`: nothing yet (the caller rebuilds).
   */
  observe(n: number, doc: Y.Doc, notify: 'none' | 'track' | 'all'): void {
    this.unobserve(n);
    const messages = doc.getMap<unknown>('messages');
    const onMessages = (event: Y.YMapEvent<unknown>): void => {
      const t = this.now();
      for (const [id, change] of event.changes.keys) {
        if (change.action === 'add' && !this.firstSeen.has(id)) this.firstSeen.set(id, t);
        this.hooks.track(n, id, messages.get(id), event.transaction);
      }
    };
    const onDeep = (events: Y.YEvent<Y.AbstractType<unknown>>[]): void => {
      if (this.messageListeners.size === 0) return;
      const ids = new Set<string>();
      for (const event of events) {
        if (event.target === messages) for (const id of event.keys.keys()) ids.add(id);
        else if (typeof event.path[0] === 'string') ids.add(event.path[0]);
      }
      if (ids.size === 0) return;
      const list = [...ids];
      for (const listener of this.messageListeners) listener(list);
    };
    const onUpdate = onChangedTransaction((origin) => this.hooks.changed(origin));
    messages.observe(onMessages);
    messages.observeDeep(onDeep);
    doc.on('afterTransaction', onUpdate);
    this.observed.set(n, {
      doc,
      messages,
      off: () => {
        messages.unobserve(onMessages);
        messages.unobserveDeep(onDeep);
        doc.off('afterTransaction', onUpdate);
      }
    });
    if (notify === 'none') return;
    const ids: string[] = [];
    for (const [id, value] of messages.entries()) {
      this.hooks.track(n, id, value);
      ids.push(id);
    }
    if (notify === 'all' && ids.length > 0) {
      for (const listener of this.messageListeners) listener(ids);
    }
    this.hooks.changed(LOAD_ORIGIN);
  }

  /** Stops observing segment `n`: whether it was observed. */
  unobserve(n: number): boolean {
    const o = this.observed.get(n);
    if (o === undefined) return false;
    o.off();
    this.observed.delete(n);
    return true;
  }

  onMessagesChange(listener: (ids: string[]) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }
}
