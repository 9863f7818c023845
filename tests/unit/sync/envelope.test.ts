import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ed25519Signer } from '../../../src/lib/crypto/signing.js';
import {
  createEnvelopeVerifier,
  MalformedEnvelopeError,
  openEnvelope,
  sealEnvelope
} from '../../../src/lib/sync/envelope.js';

async function device(): Promise<{ id: string; sign: (b: Uint8Array) => Uint8Array }> {
  const key = await generateKeyPair('Ed25519');
  return { id: peerIdFromPrivateKey(key).toString(), sign: ed25519Signer(key.raw) };
}

function update(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getMap('messages').set('m', text);
  return Y.encodeStateAsUpdate(doc);
}

describe('envelopes', () => {
  it('seal, open and verify (WebCrypto and the noble fallback agree)', async () => {
    const a = await device();
    const u = update('hello');
    const bytes = sealEnvelope({ author: a.id, wire: 'conv#3', update: u }, a.sign);
    const env = openEnvelope(bytes);
    expect(env).toMatchObject({ author: a.id, wire: 'conv#3' });
    expect(env.update).toEqual(u);
    for (const verifier of [createEnvelopeVerifier(), createEnvelopeVerifier(undefined)]) {
      expect(await verifier.verifyAll([env])).toEqual([true]);
    }
  });

  it('a changed update, doc, author or signature does not verify', async () => {
    const a = await device();
    const b = await device();
    const env = openEnvelope(
      sealEnvelope({ author: a.id, wire: 'conv', update: update('x') }, a.sign)
    );
    const tampered = env.update.slice();
    tampered[tampered.length - 2]! ^= 1;
    const sig = env.sig.slice();
    sig[0]! ^= 1;
    const cases = [
      { ...env, update: tampered },
      { ...env, wire: 'conv#0' },
      { ...env, author: b.id },
      { ...env, sig },
      { ...env, author: 'not a peer id' },
      { ...env, sig: env.sig.subarray(0, 63) }
    ];
    for (const verifier of [createEnvelopeVerifier(), createEnvelopeVerifier(undefined)]) {
      expect(await verifier.verifyAll(cases)).toEqual(cases.map(() => false));
    }
  });

  it('malformed bytes get MalformedEnvelopeError and nothing else', async () => {
    const a = await device();
    // One update for both uses: each update() is a new doc with a random client id, whose
    // varint length varies, so a second one could be a byte shorter than this.
    const u = update('y');
    const good = sealEnvelope({ author: a.id, wire: 'c', update: u }, a.sign);
    const bad = [
      new Uint8Array(),
      Uint8Array.of(2, ...good.subarray(1)),
      good.subarray(0, 10),
      good.subarray(0, good.length - u.length), // no update
      Uint8Array.of(1, 0x80, 0x80, 0x80, 0x01), // overlong length
      Uint8Array.of(1, 0xff, 0x7f) // a length past the limit
    ];
    for (const b of bad) expect(() => openEnvelope(b)).toThrow(MalformedEnvelopeError);
    let seed = 7;
    const rand = (): number => (seed = (seed * 16807) % 2147483647) % 256;
    for (let i = 0; i < 3000; i++) {
      const mutated = good.slice(0, 1 + (rand() % good.length));
      for (let j = 0; j < 4; j++) mutated[rand() % mutated.length] = rand();
      try {
        openEnvelope(mutated);
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedEnvelopeError);
      }
    }
  });
});
