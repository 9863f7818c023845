/**
 * Deflated frames (sync 3): big step2s and updates travel compressed between devices that both
 * speak sync 3, uncompressed to a device with the previous version; a deflated frame that lies
 * about its size or does not inflate is refused and its sender dropped, with the doc intact.
 */
import { deflateSync } from 'fflate';
import * as encoding from 'lib0/encoding';
import { describe, expect, it, vi } from 'vitest';
import {
  DEFLATE_MIN_BYTES,
  deflateFrame,
  inflatePayload,
  MAX_INFLATE_RATIO,
  nativeDeflateRaw,
  nativeInflatePayload
} from '../../../src/lib/sync/deflate.js';
import { MalformedFrameError } from '../../../src/lib/sync/errors.js';
import { decodeFrame, encodeFrame, FrameType } from '../../../src/lib/sync/protocol.js';
import type { SyncAccess, SyncEvent, SyncInit, SyncSpan } from '../../../src/lib/sync/sync.js';
import { directPair, SyncNetwork } from '../../fixtures/sync-network.js';

const MAX = 64 * 1024 * 1024;

/** Text-like bytes that compress well (as Yjs updates of messages do). */
function chatty(bytes: number): Uint8Array {
  const text = new TextEncoder().encode(
    Array.from({ length: Math.ceil(bytes / 40) }, (_, i) => `message ${i}: some text here, `).join(
      ''
    )
  );
  return text.subarray(0, bytes);
}

/** A Deflated payload as a peer could craft it. */
function crafted(inner: number, rawLength: number, deflated: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeUint8(e, inner);
  encoding.writeVarUint(e, rawLength);
  encoding.writeUint8Array(e, deflated);
  return encoding.toUint8Array(e);
}

describe('deflateFrame / inflatePayload', () => {
  it('a big step2 goes deflated and comes back byte for byte', () => {
    const payload = chatty(200_000);
    const frame = deflateFrame({ type: FrameType.Step2, conversationId: 'c', payload });
    expect(frame.type).toBe(FrameType.Deflated);
    expect(frame.payload.byteLength).toBeLessThan(payload.byteLength / 4);
    const back = inflatePayload(frame.payload, MAX);
    expect(back.inner).toBe(FrameType.Step2);
    expect(back.payload).toEqual(payload);
  });

  it('small payloads, incompressible ones and other frame types go as they are', () => {
    const small = {
      type: FrameType.Update,
      conversationId: 'c',
      payload: chatty(DEFLATE_MIN_BYTES - 1)
    };
    expect(deflateFrame(small)).toBe(small);
    const random = new Uint8Array(100_000);
    for (let i = 0; i < random.length; i += 65536)
      crypto.getRandomValues(random.subarray(i, i + 65536));
    const noisy = { type: FrameType.Step2, conversationId: 'c', payload: random };
    expect(deflateFrame(noisy)).toBe(noisy);
    const step1 = { type: FrameType.Step1, conversationId: 'c', payload: chatty(10_000) };
    expect(deflateFrame(step1)).toBe(step1);
  });

  it('content that would inflate past MAX_INFLATE_RATIO is not compressed (the receiver would refuse it)', () => {
    const zeros = {
      type: FrameType.Step2,
      conversationId: 'c',
      payload: new Uint8Array(1_000_000)
    };
    expect(deflateSync(zeros.payload, { level: 1 }).byteLength * MAX_INFLATE_RATIO).toBeLessThan(
      1_000_000
    );
    expect(deflateFrame(zeros)).toBe(zeros);
  });

  it('refuses frames that lie or do not inflate, with MalformedFrameError', () => {
    const raw = chatty(10_000);
    const good = deflateSync(raw, { level: 1 });
    const refuse = (payload: Uint8Array, max = MAX): void => {
      expect(() => inflatePayload(payload, max)).toThrow(MalformedFrameError);
    };
    expect(inflatePayload(crafted(FrameType.Update, raw.byteLength, good), MAX).payload).toEqual(
      raw
    );
    refuse(crafted(FrameType.Step1, raw.byteLength, good)); // only step2 and update
    refuse(crafted(FrameType.Deflated, raw.byteLength, good)); // no nesting
    refuse(crafted(FrameType.Step2, raw.byteLength - 1, good)); // inflates to more
    refuse(crafted(FrameType.Step2, raw.byteLength + 1, good)); // inflates to less
    refuse(crafted(FrameType.Step2, 0, good));
    refuse(crafted(FrameType.Step2, raw.byteLength, good), raw.byteLength - 1); // over the limit
    refuse(crafted(FrameType.Step2, good.byteLength * MAX_INFLATE_RATIO + 1, good)); // ratio
    refuse(crafted(FrameType.Step2, raw.byteLength, good.subarray(0, good.byteLength >> 1)));
    refuse(crafted(FrameType.Step2, 100, Uint8Array.of(0xff, 0xff, 0xff, 0xff)));
    refuse(crafted(FrameType.Step2, 100, new Uint8Array(0)));
    refuse(Uint8Array.of(FrameType.Step2)); // no length
  });

  it('a bomb costs the declared length, not what it would inflate to', () => {
    // 1 MiB of zeros deflates to ~1 KiB; declared as 16 KiB it is refused after filling the
    // 16 KiB + 1 byte buffer, never allocating the megabyte.
    const bomb = deflateSync(new Uint8Array(1 << 20), { level: 9 });
    expect(() => inflatePayload(crafted(FrameType.Step2, bomb.byteLength * 16, bomb), MAX)).toThrow(
      /another length/
    );
  });
});

describe("nativeInflatePayload (the platform's INFLATE)", () => {
  const inflate = nativeInflatePayload!;

  it('exists here and gives back what fflate does, byte for byte', async () => {
    expect(nativeInflatePayload).toBeDefined();
    const payload = chatty(300_000);
    const frame = deflateFrame({ type: FrameType.Update, conversationId: 'c', payload });
    const back = await inflate(frame.payload, MAX);
    expect(back.inner).toBe(FrameType.Update);
    expect(back.payload).toEqual(payload);
    expect(back.payload).toEqual(inflatePayload(frame.payload, MAX).payload);
  });

  it('refuses the same lies as inflatePayload, with MalformedFrameError', async () => {
    const raw = chatty(10_000);
    const good = deflateSync(raw, { level: 1 });
    const refuse = async (payload: Uint8Array, max = MAX): Promise<void> => {
      await expect(inflate(payload, max)).rejects.toThrow(MalformedFrameError);
    };
    await refuse(crafted(FrameType.Step1, raw.byteLength, good));
    await refuse(crafted(FrameType.Step2, raw.byteLength - 1, good)); // inflates to more
    await refuse(crafted(FrameType.Step2, raw.byteLength + 1, good)); // inflates to less
    await refuse(crafted(FrameType.Step2, raw.byteLength, good), raw.byteLength - 1);
    await refuse(crafted(FrameType.Step2, good.byteLength * MAX_INFLATE_RATIO + 1, good));
    await refuse(crafted(FrameType.Step2, raw.byteLength, good.subarray(0, good.byteLength >> 1)));
    await refuse(crafted(FrameType.Step2, 100, Uint8Array.of(0xff, 0xff, 0xff, 0xff)));
  });

  it('a bomb is refused after one step of input, not inflated to its end', async () => {
    // 64 MiB of zeros deflate to ~64 KiB; declared as 16x that, it is refused once the output
    // passes the declared length: the platform's stream never gets the rest of the input.
    const bomb = deflateSync(new Uint8Array(64 << 20), { level: 9 });
    const heap0 = process.memoryUsage().arrayBuffers;
    let peak = heap0;
    const sampler = setInterval(
      () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)),
      1
    );
    await expect(
      inflate(crafted(FrameType.Step2, bomb.byteLength * MAX_INFLATE_RATIO, bomb), MAX)
    ).rejects.toThrow(/another length/);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    expect(peak - heap0).toBeLessThan(16 << 20);
  });
});

const access: SyncAccess = { canSync: (peer) => ['a', 'b', 'm'].includes(peer) };

function spans(): { trace: (span: SyncSpan) => void; count: (span: SyncSpan) => number } {
  const seen: SyncSpan[] = [];
  return {
    trace: (span) => void seen.push(span),
    count: (span) => seen.filter((s) => s === span).length
  };
}

async function catchUp(legacyB: boolean) {
  const ta = spans();
  const tb = spans();
  const { net, conv } = await directPair(
    access,
    { trace: ta.trace, repairIntervalMs: 0 },
    { trace: tb.trace, repairIntervalMs: 0 },
    { legacy: legacyB }
  );
  for (let i = 0; i < 300; i++) conv.send(`offline ${i}: a message of ordinary length`);
  net.connect('a', 'b');
  await net.settle();
  return { net, ta, tb };
}

describe('deflated frames between devices', () => {
  it('a catch-up between two sync 3 devices travels deflated', async () => {
    const { net, ta, tb } = await catchUp(false);
    expect(net.texts('b', 'c')).toHaveLength(300);
    expect(ta.count('deflate')).toBeGreaterThan(0);
    expect(tb.count('inflate')).toBeGreaterThan(0);
  });

  it("compressing asynchronously (the platform's DEFLATE) keeps a peer's frames in send order", async () => {
    expect(nativeDeflateRaw).toBeDefined();
    const { net, conv } = await directPair(
      access,
      { repairIntervalMs: 0, deflate: nativeDeflateRaw },
      { repairIntervalMs: 0 }
    );
    net.connect('a', 'b');
    await net.settle();
    const long = new TextDecoder().decode(chatty(9_000));
    conv.send(long); // an update of ~9 KB: compressed, asynchronously
    conv.send('sent right after'); // ~300 bytes: goes as it is, but not before the long one
    const inFlight = (): number[] => {
      const types: number[] = [];
      net.discard(({ bytes }) => (types.unshift(decodeFrame(bytes, MAX).type), false));
      return types;
    };
    await vi.waitFor(() => expect(inFlight()).toContain(FrameType.Deflated));
    // (The long message's send may write a small update first, e.g. the segment's head.)
    expect(inFlight().slice(-2)).toEqual([FrameType.Deflated, FrameType.Update]);
    await net.settle();
    expect(net.texts('b', 'c')).toEqual([long, 'sent right after']);
  });

  it("inflating asynchronously (the platform's INFLATE) keeps a doc's frames in order", async () => {
    const tb = spans();
    const { net, conv, b } = await directPair(
      access,
      { repairIntervalMs: 0, deflate: nativeDeflateRaw },
      {
        repairIntervalMs: 0,
        trace: tb.trace,
        inflate: nativeInflatePayload,
        envelopeChecks: 'async'
      }
    );
    net.connect('a', 'b');
    await net.settle();
    // What B sends from now on: an update applied before the one it builds on would be
    // pending, and B would ask A for what it lacks (a step1).
    const sentByB: FrameType[] = [];
    const send = b.transport.send.bind(b.transport);
    b.transport.send = (peer, frame, options) => {
      sentByB.push(decodeFrame(frame, MAX).type);
      send(peer, frame, options);
    };
    const long = new TextDecoder().decode(chatty(9_000));
    conv.send(long); // deflated, inflated asynchronously by B
    conv.send('sent right after'); // as it is: applied only after the long one
    // A compresses asynchronously too: its frames are in flight a little later.
    await vi.waitFor(async () => {
      await net.settle();
      expect(net.texts('b', 'c')).toHaveLength(2);
    });
    expect(net.texts('b', 'c')).toEqual([long, 'sent right after']);
    expect(sentByB).not.toContain(FrameType.Step1);
    expect(tb.count('inflate-native')).toBeGreaterThan(0);
    expect(tb.count('inflate')).toBe(0);
  });

  it('a device that speaks only sync 2 gets the same catch-up uncompressed', async () => {
    const { net, tb } = await catchUp(true);
    expect(net.texts('b', 'c')).toHaveLength(300);
    expect(tb.count('inflate')).toBe(0);
  });

  /**
   * `a` (with `init`) and member `m` in group `c` holding 'before'; then a Deflated update in
   * m's name that inflates to 10 bytes more than it declares reaches `a`. Returns a's events.
   */
  async function lyingDeflatedFrame(
    init: SyncInit
  ): Promise<{ net: SyncNetwork; events: SyncEvent[] }> {
    const net = new SyncNetwork();
    const a = await net.peer('a', access, init);
    const m = await net.peer('m', access, { repairIntervalMs: 0 });
    await a.sync.open('c');
    await m.sync.open('c');
    const conv = a.sync.conversation('c')!;
    conv.init({ kind: 'group', name: 'g', members: ['m'] });
    conv.send('before');
    net.connect('a', 'm');
    await net.settle();
    const events: SyncEvent[] = [];
    a.sync.onEvent((e) => events.push(e));
    const raw = chatty(10_000);
    const payload = crafted(FrameType.Update, raw.byteLength - 10, deflateSync(raw));
    a.transport.handler!.frame(
      'm',
      encodeFrame({ type: FrameType.Deflated, conversationId: 'c', payload })
    );
    return { net, events };
  }

  it('a member whose deflated frame lies about its length is dropped; the doc keeps what it had', async () => {
    const { net, events } = await lyingDeflatedFrame({ repairIntervalMs: 0 });
    expect(events).toContainEqual(expect.objectContaining({ type: 'peer-dropped', peer: 'm' }));
    expect(net.texts('a', 'c')).toEqual(['before']);
  });

  it('the same, inflated asynchronously: dropped once the inflating fails, nothing applied', async () => {
    const { net, events } = await lyingDeflatedFrame({
      repairIntervalMs: 0,
      envelopeChecks: 'async',
      inflate: nativeInflatePayload
    });
    await vi.waitFor(() =>
      expect(events).toContainEqual(expect.objectContaining({ type: 'peer-dropped', peer: 'm' }))
    );
    expect(net.texts('a', 'c')).toEqual(['before']);
  });
});
