import { describe, expect, it } from 'vitest';
import {
  createPresenceAnnouncer,
  createPresenceTracker,
  PRESENCE_EXPIRY_MS,
  PRESENCE_INTERVAL_MS
} from '../../../src/lib/app/presence.js';
import type { PresenceState } from '../../../src/lib/sync/ephemeral.js';
import { fakeTimers, fakeVisibility } from '../../fixtures/chat-network.js';

describe('presence tracker', () => {
  it('is offline until heard, then online until the notice expires', () => {
    const timers = fakeTimers();
    const tracker = createPresenceTracker({ timers });
    const changes: string[] = [];
    tracker.onChange((peer) => changes.push(`${peer}:${tracker.get(peer)}`));
    expect(tracker.get('b')).toBe('offline');
    tracker.heard('b', 'online');
    expect(tracker.get('b')).toBe('online');
    timers.advance(PRESENCE_EXPIRY_MS - 1);
    expect(tracker.get('b')).toBe('online');
    timers.advance(1);
    expect(tracker.get('b')).toBe('offline');
    expect(changes).toEqual(['b:online', 'b:offline']);
  });

  it('each notice restarts the expiry; repeats of the same state emit nothing', () => {
    const timers = fakeTimers();
    const tracker = createPresenceTracker({ timers });
    let changes = 0;
    tracker.onChange(() => changes++);
    tracker.heard('b', 'online');
    for (let i = 0; i < 5; i++) {
      timers.advance(PRESENCE_INTERVAL_MS);
      tracker.heard('b', 'online');
    }
    expect(tracker.get('b')).toBe('online');
    expect(changes).toBe(1);
    expect(timers.pending()).toBe(1);
  });

  it('away, then online again, then offline on disconnect', () => {
    const timers = fakeTimers();
    const tracker = createPresenceTracker({ timers });
    tracker.heard('b', 'online');
    tracker.heard('c', 'online');
    tracker.heard('b', 'away');
    expect(tracker.get('b')).toBe('away');
    tracker.heard('b', 'online');
    expect(tracker.get('b')).toBe('online');
    tracker.disconnected('b');
    expect(tracker.get('b')).toBe('offline');
    expect(tracker.get('c')).toBe('online');
    // The cancelled expiry of b does not touch a later notice.
    tracker.heard('b', 'away');
    timers.advance(PRESENCE_EXPIRY_MS - 1);
    expect(tracker.get('b')).toBe('away');
    tracker.clear();
    expect(tracker.get('c')).toBe('offline');
    expect(timers.pending()).toBe(0);
  });
});

describe('presence announcer', () => {
  it('announces at start, every interval, on request and at once on visibility changes', () => {
    const timers = fakeTimers();
    const visibility = fakeVisibility();
    const sent: string[] = [];
    const own: PresenceState[] = [];
    let peers = ['b', 'c'];
    const announcer = createPresenceAnnouncer({
      send: (peer, s) => sent.push(`${peer}:${s}`),
      peers: () => peers,
      timers,
      visibility,
      onOwnChange: (s) => own.push(s)
    });
    announcer.announceTo('b');
    expect(sent).toEqual([]); // not started
    announcer.start();
    expect(sent.splice(0)).toEqual(['b:online', 'c:online']);
    timers.advance(PRESENCE_INTERVAL_MS - 1);
    expect(sent).toEqual([]);
    timers.advance(1);
    expect(sent.splice(0)).toEqual(['b:online', 'c:online']);
    visibility.set(true);
    expect(announcer.state()).toBe('away');
    expect(sent.splice(0)).toEqual(['b:away', 'c:away']);
    peers = ['c'];
    announcer.announceTo('d');
    timers.advance(PRESENCE_INTERVAL_MS);
    expect(sent.splice(0)).toEqual(['d:away', 'c:away']);
    visibility.set(false);
    expect(sent.splice(0)).toEqual(['c:online']);
    expect(own).toEqual(['away', 'online']);
    announcer.stop();
    visibility.set(true);
    timers.advance(10 * PRESENCE_INTERVAL_MS);
    expect(sent).toEqual([]);
    expect(timers.pending()).toBe(0);
  });
});
