/**
 * 100,000 messages in one conversation: the log renders only what is visible and stays usable.
 * The history is built in Node with the conversation model and written into the page's
 * IndexedDB in the DocStore's format (y-indexeddb layout), as if it had been synced earlier.
 * It is not signed (100,000 signatures would cost the test ~20 s): rows say "Not verified".
 */
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { legacyDocOf, memoryConversation } from '../../src/lib/sync/testing.js';
import { expect, expectRelayReady, openApp, test } from './fixtures.js';
import { seedConversation } from './seed.js';

const COUNT = 100_000;

test('a conversation of 100,000 messages opens, scrolls to the newest and takes new ones', async ({
  browser,
  relay
}) => {
  test.setTimeout(360_000);
  const alice = await openApp(browser, relay, { name: 'Alice' });
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

  let t = Date.now() - COUNT * 1000;
  const conv = memoryConversation({ self: other, now: () => t });
  conv.init({ kind: 'group', name: 'Archive', members: [alice.peerId] });
  for (let i = 1; i <= COUNT; i++) {
    t += 1000;
    conv.send(`message number ${i}`);
  }
  // Stored the way devices stored conversations before segments: opening it migrates it.
  const doc = legacyDocOf(conv);
  const id = 'g-00000000-0000-4000-8000-000000000001';
  await seedConversation(alice.page, id, doc);

  await alice.page.reload();
  await expectRelayReady(alice.page);
  const link = alice.page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: 'Archive' });
  await expect(link).toBeVisible({ timeout: 60_000 });
  const started = Date.now();
  await link.click();
  const log = alice.page.getByRole('log', { name: 'Messages' });
  await expect(
    log.getByRole('article').filter({ hasText: `message number ${COUNT}` })
  ).toBeVisible();
  const openMs = Date.now() - started;
  // Only what is visible (plus a small buffer) is in the DOM.
  expect(await log.getByRole('article').count()).toBeLessThan(60);

  const sendStarted = Date.now();
  await alice.page.getByRole('textbox', { name: 'Message', exact: true }).fill('still fast');
  await alice.page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(log.getByRole('article').filter({ hasText: 'still fast' })).toBeVisible();
  const sendMs = Date.now() - sendStarted;
  console.log(`100k messages: open ${openMs} ms, send to visible ${sendMs} ms`);
  expect(sendMs).toBeLessThan(2_000);

  // Scrolling to the top again and again reaches the first message: each time at the top,
  // older messages load in front (the window is the newest messages at first).
  const scrollStarted = Date.now();
  await expect(async () => {
    await log.evaluate((el) => el.scrollTo(0, 0));
    await expect(log.getByText('message number 1', { exact: true })).toBeVisible({
      timeout: 250
    });
  }).toPass({ timeout: 150_000, intervals: [50] });
  console.log(`100k messages: scrolled back to the first in ${Date.now() - scrollStarted} ms`);

  // The search index was built in the background meanwhile: a message deep in the history is
  // found and opens in view.
  const searchStarted = Date.now();
  await alice.page.getByRole('searchbox', { name: 'Search messages' }).fill('54321');
  const hit = alice.page
    .getByRole('list', { name: 'Search results' })
    .getByRole('link', { name: /^Archive: .*message number 54321 / });
  await expect(hit).toBeVisible({ timeout: 60_000 });
  console.log(`100k messages: search result after ${Date.now() - searchStarted} ms`);
  await hit.click();
  await expect(log.getByText('message number 54321', { exact: true })).toBeInViewport();
  await alice.context.close();
});
