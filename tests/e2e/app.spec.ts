import AxeBuilder from '@axe-core/playwright';
import {
  completeOnboarding,
  expect,
  expectRelayReady,
  openApp,
  peerItem,
  readPeerId,
  test
} from './fixtures.js';

test('opening a device link connects to that device directly', async ({ browser, relay }) => {
  const alice = await openApp(browser, relay);

  const bobContext = await browser.newContext();
  const bobPage = await bobContext.newPage();
  await bobPage.goto(`${relay.url}/#/connect/${alice.peerId}`);
  await completeOnboarding(bobPage, 'Bob');
  await expectRelayReady(bobPage);
  const bobId = await readPeerId(bobPage);

  await expect(peerItem(bobPage, alice.peerId)).toContainText('direct', { timeout: 30_000 });
  await expect(peerItem(alice.page, bobId)).toContainText('direct', { timeout: 30_000 });
  await alice.context.close();
  await bobContext.close();
});

test('settings reject a bad relay address in words and keep good ones', async ({
  browser,
  relay
}) => {
  const { context, page } = await openApp(browser, relay);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();

  const relays = page.getByRole('textbox', { name: 'Relays' });
  await relays.fill('definitely not a multiaddr');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText(/isn't a multiaddr/)).toBeVisible();

  // A second relay (the same one, by its other spelling) and an ICE server are saved and kept.
  const extra = relay.multiaddrs[0]!;
  await relays.fill(extra);
  await page.getByRole('textbox', { name: 'ICE servers' }).fill('stun:127.0.0.1:3478');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Settings saved.')).toBeVisible();

  await page.reload();
  await expectRelayReady(page);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(page.getByRole('textbox', { name: 'Relays' })).toHaveValue(extra);
  await expect(page.getByRole('textbox', { name: 'ICE servers' })).toHaveValue(
    'stun:127.0.0.1:3478'
  );
  await context.close();
});

test('the first screen has no serious accessibility problems', async ({ browser, relay }) => {
  const { context, page } = await openApp(browser, relay);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical'
  );
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await context.close();
});
