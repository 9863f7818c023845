/**
 * Message signatures in the browser: a history synced earlier holds a message signed by its
 * author and messages another member wrote in that author's name (or changed). The app checks
 * the signatures of the rows it shows and marks the ones that don't match "Not verified".
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import * as Y from 'yjs';
import { ed25519Signer } from '../../src/lib/crypto/signing.js';
import { legacyDocOf, memoryConversation } from '../../src/lib/sync/testing.js';
import { article, send } from './chat-helpers.js';
import { expect, expectRelayReady, openApp, test } from './fixtures.js';
import { seedConversation } from './seed.js';

test('messages in someone else’s name, or changed by someone else, show "Not verified"', async ({
  browser,
  relay
}) => {
  const alice = await openApp(browser, relay, { name: 'Alice' });
  const key = await generateKeyPair('Ed25519');
  const bob = peerIdFromPrivateKey(key).toString();
  const id = 'g-00000000-0000-4000-8000-00000000000a';

  const conv = memoryConversation({ self: bob, id, sign: ed25519Signer(key.raw) });
  conv.init({ kind: 'group', name: 'Signed', members: [alice.peerId] });
  conv.send('genuine words from bob');
  const changed = conv.send('original words from bob');
  const doc = legacyDocOf(conv);
  // Another member (no key of Bob's) writes as Bob, and changes Bob's second message.
  const messages = doc.getMap('messages');
  const forged = new Y.Map<unknown>();
  const header = (messages.get(changed.id) as Y.Map<unknown>).get('h') as Record<string, unknown>;
  forged.set('h', { ...header, c: Number(header.c) + 1, w: Number(header.w) + 1 });
  forged.set('text', 'forged words in bob’s name');
  messages.set('forged-message', forged);
  (messages.get(changed.id) as Y.Map<unknown>).set('text', 'words bob never wrote');

  await seedConversation(alice.page, id, doc);
  await alice.page.reload();
  await expectRelayReady(alice.page);
  await alice.page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: 'Signed' })
    .click();

  await expect(article(alice.page, 'genuine words from bob')).toBeVisible();
  await expect(article(alice.page, 'genuine words from bob')).not.toContainText('Not verified');
  await expect(article(alice.page, 'forged words')).toContainText('Not verified');
  await expect(article(alice.page, 'words bob never wrote')).toContainText('Not verified');

  // What this device sends itself is signed with its own key.
  await send(alice.page, 'signed by alice', 'signed by alice');
  await expect(article(alice.page, 'signed by alice')).not.toContainText('Not verified');
});
