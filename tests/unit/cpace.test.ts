/**
 * CPace (src/lib/crypto/cpace.ts) against the test vectors of draft-irtf-cfrg-cpace-21,
 * appendix A.1 (string utilities) and B.3 (ristretto255 + SHA-512), plus property tests.
 */
import { describe, expect, it } from 'vitest';
import {
  calculateGenerator,
  confirmationTag,
  cpaceStart,
  CPACE_DSI,
  generatorString,
  intermediateSessionKey,
  lvCat,
  prependLen,
  sampleScalar,
  scalarFromLe,
  scalarMult,
  scalarMultVfy,
  transcriptIr
} from '../../src/lib/crypto/cpace.js';
import { utf8 } from '../../src/lib/crypto/encoding.js';

const hex = (s: string): Uint8Array =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((b) => parseInt(b, 16))
  );
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// B.3.1 inputs
const PRS = utf8('Password');
const CI = hex('0b415f696e69746961746f720b425f726573706f6e646572');
const SID = hex('7e4b4791d6a8ef019b936c79fb7f2c57');
const YA = hex('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08');
const YB = hex('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d');
const ADA = utf8('ADa');
const ADB = utf8('ADb');

describe('CPace string utilities (draft A.1)', () => {
  it('prepend_len', () => {
    expect(toHex(prependLen(new Uint8Array()))).toBe('00');
    expect(toHex(prependLen(utf8('1234')))).toBe('0431323334');
    const r127 = Uint8Array.from({ length: 127 }, (_, i) => i);
    expect(toHex(prependLen(r127)).slice(0, 4)).toBe('7f00');
    const r128 = Uint8Array.from({ length: 128 }, (_, i) => i);
    expect(toHex(prependLen(r128)).slice(0, 6)).toBe('800100');
    expect(prependLen(r128).length).toBe(130);
  });

  it('lv_cat', () => {
    expect(toHex(lvCat(utf8('1234'), utf8('5'), new Uint8Array(), utf8('678')))).toBe(
      '043132333401350003363738'
    );
  });
});

describe('CPace ristretto255 + SHA-512 (draft B.3)', () => {
  it('generator string and generator (B.3.1)', () => {
    const gen = generatorString(CPACE_DSI, PRS, CI, SID);
    expect(gen.length).toBe(170);
    expect(toHex(gen)).toBe(
      '11435061636552697374726574746f3235350850617373776f726464' +
        '00'.repeat(100) +
        '180b415f696e69746961746f720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f2c57'
    );
    expect(toHex(calculateGenerator(PRS, CI, SID).toBytes())).toBe(
      '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56'
    );
  });

  it('shares, K and ISK (B.3.2–B.3.5)', () => {
    const g = calculateGenerator(PRS, CI, SID);
    const ya = scalarFromLe(YA);
    const yb = scalarFromLe(YB);
    const Ya = scalarMult(ya, g);
    const Yb = scalarMult(yb, g);
    expect(toHex(Ya)).toBe('d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157');
    expect(toHex(Yb)).toBe('3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258');
    const K = '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f';
    expect(toHex(scalarMultVfy(ya, Yb)!)).toBe(K);
    expect(toHex(scalarMultVfy(yb, Ya)!)).toBe(K);
    const transcript = transcriptIr(Ya, ADA, Yb, ADB);
    expect(transcript.length).toBe(74);
    expect(toHex(intermediateSessionKey(SID, hex(K), transcript))).toBe(
      'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dc' +
        'ae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c' +
        '3fa2068af7900447'
    );
  });

  it('scalar_mult_vfy with valid and invalid inputs (B.3.10, B.3.11)', () => {
    const s = scalarFromLe(hex('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05'));
    expect(
      toHex(
        scalarMultVfy(s, hex('2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c'))!
      )
    ).toBe('7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e');
    expect(
      scalarMultVfy(s, hex('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c'))
    ).toBeUndefined();
    expect(scalarMultVfy(s, new Uint8Array(32))).toBeUndefined();
  });
});

describe('CPace runs (properties)', () => {
  const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  const run = (prsA: string, prsB: string) => {
    const sid = random(16);
    const a = cpaceStart({ prs: utf8(prsA), ci: CI, sid, ad: ADA, random });
    const b = cpaceStart({ prs: utf8(prsB), ci: CI, sid, ad: ADB, random });
    return {
      a: a.finish('initiator', b.share, ADB),
      b: b.finish('responder', a.share, ADA)
    };
  };

  it('the same code gives the same key and matching tags; every run differs', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const code = String(100000 + i * 4567);
      const { a, b } = run(code, code);
      expect(toHex(a.isk)).toBe(toHex(b.isk));
      expect(toHex(a.ownTag)).toBe(toHex(b.peerTag));
      expect(toHex(b.ownTag)).toBe(toHex(a.peerTag));
      seen.add(toHex(a.isk));
    }
    expect(seen.size).toBe(20);
  });

  it('a code that differs in one digit gives different keys and tags', () => {
    for (let i = 0; i < 20; i++) {
      const code = String(100000 + i * 4567);
      const wrong = code.slice(0, 5) + String((Number(code[5]) + 1) % 10);
      const { a, b } = run(code, wrong);
      expect(toHex(a.isk)).not.toBe(toHex(b.isk));
      expect(toHex(b.ownTag)).not.toBe(toHex(a.peerTag));
    }
  });

  it('refuses an identity or undecodable share', () => {
    const a = cpaceStart({ prs: PRS, ci: CI, sid: SID, ad: ADA, random });
    expect(() => a.finish('initiator', new Uint8Array(32), ADB)).toThrow(
      expect.objectContaining({ name: 'CPaceError' })
    );
    expect(() => a.finish('initiator', new Uint8Array(32).fill(0xff), ADB)).toThrow(
      expect.objectContaining({ name: 'CPaceError' })
    );
    expect(() => a.finish('initiator', new Uint8Array(31), ADB)).toThrow(
      expect.objectContaining({ name: 'CPaceError' })
    );
  });

  it('sample_scalar stays below 2^252 and is never 0', () => {
    expect(sampleScalar(() => new Uint8Array(32).fill(0xff))).toBe((1n << 252n) - 1n);
    let calls = 0;
    const y = sampleScalar((n) => (calls++ === 0 ? new Uint8Array(n) : new Uint8Array(n).fill(1)));
    expect(y).not.toBe(0n);
    expect(calls).toBe(2);
  });

  it('confirmation tags bind the share and the AD', () => {
    const isk = random(64);
    const t = toHex(confirmationTag(isk, SID, hex('aa'), ADA));
    expect(toHex(confirmationTag(isk, SID, hex('ab'), ADA))).not.toBe(t);
    expect(toHex(confirmationTag(isk, SID, hex('aa'), ADB))).not.toBe(t);
  });
});
