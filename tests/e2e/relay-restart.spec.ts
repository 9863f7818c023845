import { connectDirect, expect, expectRelayReady, openApp, test } from './fixtures.js';

test('stopping and restarting the relay recovers without a reload', async ({ browser, relay }) => {
  const alice = await openApp(browser, relay);
  const bob = await openApp(browser, relay);
  const status = alice.page.getByRole('status', { name: 'Relay status' });

  await expect(status).toHaveText('Connected via relay');
  await relay.stop();
  // The user is told, in words, that the relay is gone and that the app keeps trying.
  await expect(status).toHaveText(
    new RegExp(
      `^Can't reach the relay at 127\\.0\\.0\\.1:${relay.wsPort} — retrying (in \\d+ s|now…)$`
    ),
    { timeout: 30_000 }
  );

  const restarted = await relay.restart();
  expect(restarted.peerId).toBe(relay.peerId);
  await expectRelayReady(alice.page);
  await expectRelayReady(bob.page);

  // And the recovered reservations work: the two can still reach each other directly.
  await connectDirect(alice, bob);
  await alice.context.close();
  await bob.context.close();
});
