import { describe, expect, it } from 'vitest';
import {
  decodeEphemeral,
  encodeEphemeral,
  MAX_EPHEMERAL_NOTICE_BYTES,
  type EphemeralNotice
} from '../../../src/lib/sync/ephemeral.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('ephemeral notices', () => {
  it('round-trips typing and presence', () => {
    const notices: EphemeralNotice[] = [
      { v: 1, t: 'typing' },
      { v: 1, t: 'presence', s: 'online' },
      { v: 1, t: 'presence', s: 'away' }
    ];
    for (const notice of notices) {
      const encoded = encodeEphemeral(notice);
      expect(encoded.byteLength).toBeLessThan(MAX_EPHEMERAL_NOTICE_BYTES);
      expect(decodeEphemeral(encoded)).toEqual(notice);
    }
    expect(new TextDecoder().decode(encodeEphemeral({ v: 1, t: 'presence', s: 'away' }))).toBe(
      '{"v":1,"t":"presence","s":"away"}'
    );
  });

  it('still reads the bare "typing" bytes of earlier versions', () => {
    expect(decodeEphemeral(bytes('typing'))).toEqual({ v: 1, t: 'typing' });
  });

  it('rejects malformed notices without throwing', () => {
    const bad = [
      '',
      'typing!',
      'null',
      '[]',
      '"typing"',
      '{',
      '{"v":2,"t":"typing"}',
      '{"v":"1","t":"typing"}',
      '{"t":"typing"}',
      '{"v":1}',
      '{"v":1,"t":"shout"}',
      '{"v":1,"t":"typing","x":1}',
      '{"v":1,"t":"presence"}',
      '{"v":1,"t":"presence","s":"busy"}',
      '{"v":1,"t":"presence","s":"online","extra":true}',
      '{"v":1,"t":"presence","s":["online"]}',
      '{"__proto__":{"v":1},"t":"typing"}'
    ];
    for (const text of bad) expect(decodeEphemeral(bytes(text)), text).toBeUndefined();
    expect(decodeEphemeral(new Uint8Array([0xff, 0xfe, 0x00]))).toBeUndefined();
    expect(decodeEphemeral('typing' as unknown as Uint8Array)).toBeUndefined();
  });

  it('rejects oversized notices, even valid JSON', () => {
    const padded = `{"v":1,"t":"typing"}${' '.repeat(MAX_EPHEMERAL_NOTICE_BYTES)}`;
    expect(decodeEphemeral(bytes(padded))).toBeUndefined();
    expect(decodeEphemeral(new Uint8Array(1024 * 1024))).toBeUndefined();
  });

  it('refuses to encode an invalid notice', () => {
    expect(() =>
      encodeEphemeral({ v: 1, t: 'presence', s: 'busy' } as unknown as EphemeralNotice)
    ).toThrow(expect.objectContaining({ name: 'InvalidInputError' }));
  });
});
