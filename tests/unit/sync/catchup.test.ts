/**
 * The catch-up path (a step2 of many messages) does only the work its data needs; measured by
 * the optional SyncInit.trace spans.
 */
import { describe, expect, it } from 'vitest';
import type { SyncAccess, SyncEvent, SyncSpan } from '../../../src/lib/sync/sync.js';
import { directPair, SyncNetwork } from '../../fixtures/sync-network.js';

const access: SyncAccess = { canSync: (peer) => peer === 'a' || peer === 'b' };

/** Every span a peer reported, in order, with its bytes. */
function recorder(): {
  spans: { span: SyncSpan; bytes: number | undefined }[];
  trace: (span: SyncSpan, ms: number, bytes?: number) => void;
  count: (span: SyncSpan) => number;
} {
  const spans: { span: SyncSpan; bytes: number | undefined }[] = [];
  return {
    spans,
    trace: (span, ms, bytes) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      spans.push({ span, bytes });
    },
    count: (span) => spans.filter((s) => s.span === span).length
  };
}

async function offlineWrites(count: number, init: { maxFrameBytes?: number } = {}) {
  const ta = recorder();
  const tb = recorder();
  const { net, a, b, conv } = await directPair(
    access,
    { ...init, trace: ta.trace, repairIntervalMs: 0 },
    { ...init, trace: tb.trace, repairIntervalMs: 0 }
  );
  for (let i = 0; i < count; i++) conv.send(`offline ${i}`);
  const events: SyncEvent[] = [];
  a.sync.onEvent((e) => events.push(e));
  return { net, a, b, ta, tb, events };
}

describe('catch-up work', () => {
  it('a step2 with nobody else to send it to is applied, stored, and not framed again', async () => {
    const { net, b, tb } = await offlineWrites(200, { maxFrameBytes: 2048 });
    net.connect('a', 'b');
    await net.settle();
    expect(net.texts('b', 'c')).toHaveLength(200);
    expect(tb.count('reassemble')).toBeGreaterThan(1); // it came in Parts
    // One step2 per doc: the head and the segment of the messages.
    expect(tb.count('apply')).toBe(2);
    expect(tb.count('store')).toBe(2);
    expect(tb.count('forward')).toBe(0);
    // b still forwards its own messages to a
    b.sync.conversation('c')!.send('from b');
    await net.settle();
    expect(tb.count('forward')).toBe(1);
    expect(net.texts('a', 'c')).toContain('from b');
  });

  it('an empty step2 (the peer has nothing new) is not applied', async () => {
    const { net, ta, events } = await offlineWrites(50);
    net.connect('a', 'b');
    await net.settle();
    // b had nothing: its answer to a's step1 is the empty update.
    expect(events).toContainEqual({ type: 'synced', conversationId: 'c', peer: 'b' });
    expect(ta.count('apply')).toBe(0);
    expect(ta.count('diff')).toBe(2); // b's step1s: the head's and the segment's
  });

  it('a local update over the message limit is refused even with nobody to send it to', async () => {
    const net = new SyncNetwork();
    const a = await net.peer('a', access, { maxFrameBytes: 1024, maxMessageBytes: 2048 });
    await a.sync.open('c');
    const conv = a.sync.conversation('c')!;
    conv.init({ kind: '1:1', members: ['b'] });
    expect(() => conv.send('x'.repeat(4000))).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' })
    );
  });

  it('an update over the message limit is refused, not sent deflated, to a sync 3 member', async () => {
    const limits = { maxFrameBytes: 1024, maxMessageBytes: 5000 };
    const { net, a, b, conv } = await directPair(access, limits, limits);
    net.connect('a', 'b');
    await net.settle();
    expect(a.transport.deflates('b')).toBe(true);
    // ~6.4 KB that deflates to well under the limit (and under 16x): b would refuse to inflate
    // it and drop a.
    const text = Array.from({ length: 800 }, (_, i) => `word${i} `).join('');
    expect(() => conv.send(text)).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
    await net.settle();
    expect(b.sync.misbehaving()).toEqual([]);
  });
});
