/**
 * The WebRTC 'init' channel workaround (src/lib/p2p/init-channel-fix.ts): late 'open'/'close'
 * listeners still hear the events. Replays are deferred through an injected queue that the tests
 * run by hand, so nothing waits for a timer.
 */
import { describe, expect, it, vi } from 'vitest';
import { installInitChannelFix, replayLateEvents } from '../../src/lib/p2p/init-channel-fix.js';

/** Just enough of an RTCDataChannel: an EventTarget with a readyState. */
class FakeChannel extends EventTarget {
  readyState: RTCDataChannelState = 'connecting';
  set(state: RTCDataChannelState, event?: string) {
    this.readyState = state;
    if (event) this.dispatchEvent(new Event(event));
  }
}

/** A stand-in for "after the current task": `run()` runs what was deferred so far. */
function taskQueue() {
  const queue: Array<() => void> = [];
  return {
    defer: (fn: () => void) => void queue.push(fn),
    get size() {
      return queue.length;
    },
    run() {
      for (const fn of queue.splice(0)) fn();
    }
  };
}

describe('init channel fix', () => {
  it('replays open and close to listeners that subscribe after the channel closed', () => {
    const tasks = taskQueue();
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel, tasks.defer);
    // The race: open, closing, closed all happen before libp2p looks.
    ch.set('open', 'open');
    ch.set('closing', 'closing');
    ch.set('closed', 'close');
    const open = vi.fn();
    ch.addEventListener('open', open);
    // Not from inside addEventListener: after the code that subscribed has finished.
    expect(open).not.toHaveBeenCalled();
    tasks.run();
    expect(open).toHaveBeenCalledOnce();
    const close = vi.fn();
    ch.addEventListener('close', close);
    expect(close).not.toHaveBeenCalled();
    tasks.run();
    expect(close).toHaveBeenCalledOnce();
    expect(open).toHaveBeenCalledOnce();
  });

  it('announces open once a closing channel has closed', () => {
    const tasks = taskQueue();
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel, tasks.defer);
    ch.set('open', 'open');
    ch.set('closing', 'closing');
    const open = vi.fn();
    ch.addEventListener('open', open);
    tasks.run();
    expect(open).not.toHaveBeenCalled();
    ch.set('closed', 'close');
    expect(open).toHaveBeenCalledOnce();
  });

  it('changes nothing in the normal order of events', () => {
    const tasks = taskQueue();
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel, tasks.defer);
    const open = vi.fn();
    const close = vi.fn();
    ch.addEventListener('open', open);
    ch.set('open', 'open');
    ch.addEventListener('close', close);
    ch.set('closing', 'closing');
    ch.set('closed', 'close');
    expect(tasks.size).toBe(0);
    tasks.run();
    expect(open).toHaveBeenCalledOnce();
    expect(close).toHaveBeenCalledOnce();
  });

  it('patches createDataChannel once, only for the "init" label', () => {
    const tasks = taskQueue();
    const made: FakeChannel[] = [];
    class FakePC {
      createDataChannel(_label: string): RTCDataChannel {
        const ch = new FakeChannel();
        made.push(ch);
        return ch as unknown as RTCDataChannel;
      }
    }
    const target = { RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection };
    installInitChannelFix(target, tasks.defer);
    const patched = FakePC.prototype.createDataChannel;
    installInitChannelFix(target, tasks.defer);
    expect(FakePC.prototype.createDataChannel).toBe(patched);
    const pc = new FakePC();
    const init = pc.createDataChannel('init') as unknown as FakeChannel;
    const other = pc.createDataChannel('') as unknown as FakeChannel;
    for (const ch of [init, other]) {
      ch.set('open', 'open');
      ch.set('closing', 'closing');
      ch.set('closed', 'close');
    }
    const heard: string[] = [];
    init.addEventListener('open', () => heard.push('init'));
    other.addEventListener('open', () => heard.push('other'));
    tasks.run();
    // Only the 'init' channel replays the open it missed.
    expect(heard).toEqual(['init']);
    expect(made).toEqual([init, other]);
    expect(() => installInitChannelFix({})).not.toThrow(); // no RTCPeerConnection (Node): no-op
  });
});
