/**
 * Workaround for the WebRTC dial stall (about 1 dial in 10 between two pages on one machine).
 *
 * What happens: the dialer creates a data channel labelled 'init', and after ICE reports
 * "connected" waits for that channel's 'open' event, then closes it and waits for 'close'. The
 * answering side closes the 'init' channel as soon as it arrives. When the answering side is
 * quick, the dialer's channel goes open -> closing -> closed *before* the dialer's own
 * connectionstatechange("connected") is handled; @libp2p/webrtc 6.0.x then sees
 * `readyState === 'closed'`, waits for an 'open' event that already fired, and the dial fails
 * after the dial timeout (6 s). Seen in logs: INIT open at t=106 ms, closing, closed at 108 ms,
 * then "wait for init channel to open" forever.
 *
 * The fix replays 'open'/'close' to listeners that subscribe to an 'init' channel after it has
 * already closed, which is exactly the late subscription libp2p makes. Channels with other
 * labels are untouched. Dial retries with a per-attempt timeout (dial.ts) stay as the safety net.
 */

const PATCHED = Symbol.for('p2p4e.initChannelFix');

type Patched = typeof RTCPeerConnection.prototype & { [PATCHED]?: true };

/**
 * Runs a replayed event after the current task, so a listener added while wiring up a channel
 * fires once that code has finished, as a real event would. Injectable for tests.
 */
export type Defer = (fn: () => void) => void;

const nextTask: Defer = (fn) => void setTimeout(fn, 0);

/** Installs the workaround once per realm; a no-op where there is no RTCPeerConnection. */
export function installInitChannelFix(
  target: { RTCPeerConnection?: typeof RTCPeerConnection } = globalThis,
  defer: Defer = nextTask
): void {
  const proto = target.RTCPeerConnection?.prototype as Patched | undefined;
  if (proto === undefined || proto[PATCHED] === true) return;
  const original = proto.createDataChannel;
  proto.createDataChannel = function (
    this: RTCPeerConnection,
    label: string,
    init?: RTCDataChannelInit
  ): RTCDataChannel {
    const channel = original.call(this, label, init);
    if (label === 'init') replayLateEvents(channel, defer);
    return channel;
  };
  Object.defineProperty(proto, PATCHED, { value: true });
}

/** Makes late 'open'/'close' listeners on an already closing/closed channel still fire. */
export function replayLateEvents(channel: RTCDataChannel, defer: Defer = nextTask): void {
  const add = channel.addEventListener.bind(channel);
  let closed = channel.readyState === 'closed';
  add('close', () => {
    closed = true;
  });
  channel.addEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions
  ) => {
    if (listener !== null) add(type, listener, options);
    if (type !== 'open' && type !== 'close') return;
    if (closed) {
      defer(() => channel.dispatchEvent(new Event(type)));
    } else if (type === 'open' && channel.readyState === 'closing') {
      // Opened and already closing: the real 'open' is gone, so announce it once closed.
      add('close', () => channel.dispatchEvent(new Event('open')), { once: true });
    }
  }) as typeof channel.addEventListener;
}
