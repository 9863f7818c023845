import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { ed25519Signer } from '../../../src/lib/crypto/signing.js';
import {
  createEnvelopeVerifier,
  envelopeSignedBytes,
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
    // The header declares what the update writes.
    const { from, to } = Y.parseUpdateMeta(u);
    const [client] = [...from.keys()];
    expect(env.range).toEqual({ client, from: from.get(client!), to: to.get(client!) });
    for (const verifier of [createEnvelopeVerifier(), createEnvelopeVerifier(null)]) {
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
      { ...env, sig: env.sig.subarray(0, 63) },
      { ...env, range: { ...env.range!, to: env.range!.to + 1 } }, // a changed range
      { ...env, range: null },
      { ...env, range: undefined } // read as version 1
    ];
    for (const verifier of [createEnvelopeVerifier(), createEnvelopeVerifier(null)]) {
      expect(await verifier.verifyAll(cases)).toEqual(cases.map(() => false));
    }
  });

  it('version 1 envelopes (sync 4.0.0, no declared range) still open and verify', async () => {
    const a = await device();
    const u = update('from before');
    const v1 = { author: a.id, wire: 'c#0', update: u, range: undefined };
    const sig = a.sign(envelopeSignedBytes(v1));
    const name = (s: string): number[] => [s.length, ...new TextEncoder().encode(s)];
    const bytes = Uint8Array.of(1, ...name(a.id), ...name('c#0'), ...sig, ...u);
    const env = openEnvelope(bytes);
    expect(env).toMatchObject({ author: a.id, wire: 'c#0', range: undefined });
    expect(env.update).toEqual(u);
    expect(await createEnvelopeVerifier().verifyAll([env])).toEqual([true]);
  });

  it('deletions only declare no range; several client ids cannot be sealed', async () => {
    const a = await device();
    const doc = new Y.Doc();
    doc.getMap('m').set('k', 1);
    const sv = Y.encodeStateVector(doc);
    doc.getMap('m').delete('k');
    const deletions = Y.diffUpdate(Y.encodeStateAsUpdate(doc), sv);
    const env = openEnvelope(sealEnvelope({ author: a.id, wire: 'c', update: deletions }, a.sign));
    expect(env.range).toBeNull();
    const other = new Y.Doc();
    other.getMap('m').set('j', 2);
    const two = Y.mergeUpdates([Y.encodeStateAsUpdate(doc), Y.encodeStateAsUpdate(other)]);
    expect(() => sealEnvelope({ author: a.id, wire: 'c', update: two }, a.sign)).toThrow(
      MalformedEnvelopeError
    );
  });

  it('malformed bytes get MalformedEnvelopeError and nothing else', async () => {
    const a = await device();
    // One update for both uses: each update() is a new doc with a random client id, whose
    // varint length varies, so a second one could be a byte shorter than this.
    const u = update('y');
    const good = sealEnvelope({ author: a.id, wire: 'c', update: u }, a.sign);
    const bad = [
      new Uint8Array(),
      Uint8Array.of(3, ...good.subarray(1)), // an unknown version
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
