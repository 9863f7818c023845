import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { cleanNickname, directPeer, safetyNumberOf } from '../../src/lib/app/contact-view.js';

async function newPeer(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
}

describe('contact view helpers', () => {
  it('directPeer is the member that is not self', () => {
    expect(directPeer(['me', 'you'], 'me')).toBe('you');
    expect(directPeer(['you', 'me'], 'me')).toBe('you');
    expect(directPeer(['me'], 'me')).toBeUndefined();
    expect(directPeer([], 'me')).toBeUndefined();
  });

  it('safetyNumberOf is 12 groups of 5 digits, the same from both sides', async () => {
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()]);
    const ab = safetyNumberOf(a, b);
    expect(ab).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(safetyNumberOf(b, a)).toBe(ab);
    expect(safetyNumberOf(a, c)).not.toBe(ab);
  });

  it('safetyNumberOf is empty for peer IDs without a key', async () => {
    expect(safetyNumberOf(await newPeer(), 'not a peer id')).toBe('');
  });

  it('cleanNickname trims, collapses spaces and refuses blanks', () => {
    expect(cleanNickname('  Bobby   Climber ')).toBe('Bobby Climber');
    expect(cleanNickname('   ')).toBeUndefined();
    expect(cleanNickname('')).toBeUndefined();
  });
});
