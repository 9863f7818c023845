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

const wait = () => new Promise((r) => setTimeout(r, 5));

describe('init channel fix', () => {
  it('replays open and close to listeners that subscribe after the channel closed', async () => {
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel);
    // The race: open, closing, closed all happen before libp2p looks.
    ch.set('open', 'open');
    ch.set('closing', 'closing');
    ch.set('closed', 'close');
    const open = vi.fn();
    ch.addEventListener('open', open);
    await wait();
    expect(open).toHaveBeenCalledOnce();
    const close = vi.fn();
    ch.addEventListener('close', close);
    await wait();
    expect(close).toHaveBeenCalledOnce();
  });

  it('announces open once a closing channel has closed', async () => {
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel);
    ch.set('open', 'open');
    ch.set('closing', 'closing');
    const open = vi.fn();
    ch.addEventListener('open', open);
    await wait();
    expect(open).not.toHaveBeenCalled();
    ch.set('closed', 'close');
    expect(open).toHaveBeenCalledOnce();
  });

  it('changes nothing in the normal order of events', async () => {
    const ch = new FakeChannel();
    replayLateEvents(ch as unknown as RTCDataChannel);
    const open = vi.fn();
    const close = vi.fn();
    ch.addEventListener('open', open);
    ch.set('open', 'open');
    ch.addEventListener('close', close);
    ch.set('closing', 'closing');
    ch.set('closed', 'close');
    await wait();
    expect(open).toHaveBeenCalledOnce();
    expect(close).toHaveBeenCalledOnce();
  });

  it('patches createDataChannel once, only for the "init" label', () => {
    const made: FakeChannel[] = [];
    class FakePC {
      createDataChannel(_label: string): RTCDataChannel {
        const ch = new FakeChannel();
        made.push(ch);
        return ch as unknown as RTCDataChannel;
      }
    }
    const target = { RTCPeerConnection: FakePC as unknown as typeof RTCPeerConnection };
    installInitChannelFix(target);
    const patched = FakePC.prototype.createDataChannel;
    installInitChannelFix(target);
    expect(FakePC.prototype.createDataChannel).toBe(patched);
    const pc = new FakePC();
    pc.createDataChannel('init');
    pc.createDataChannel('');
    expect(Object.hasOwn(made[0]!, 'addEventListener')).toBe(true);
    expect(Object.hasOwn(made[1]!, 'addEventListener')).toBe(false);
    installInitChannelFix({}); // no RTCPeerConnection (Node): no-op
  });
});
