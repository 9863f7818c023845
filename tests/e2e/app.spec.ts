import AxeBuilder from '@axe-core/playwright';
import {
  completeOnboarding,
  expect,
  expectRelayReady,
  openApp,
  openSettings,
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

  // Settings → Network shows each connected peer and how it is reached.
  await openSettings(bobPage);
  await openSettings(alice.page);
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
  await openSettings(page);

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
  await openSettings(page);
  await expect(page.getByRole('textbox', { name: 'Relays' })).toHaveValue(extra);
  await expect(page.getByRole('textbox', { name: 'ICE servers' })).toHaveValue(
    'stun:127.0.0.1:3478'
  );
  await context.close();
});

test('the first screen has no serious accessibility problems', async ({ browser, relay }) => {
  const { context, page } = await openApp(browser, relay);
  await openSettings(page);
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical'
  );
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  await context.close();
});

test('Settings: the profile changes, the theme is remembered, and it fits a phone', async ({
  browser,
  relay
}) => {
  const { context, page } = await openApp(browser, relay, { name: 'Alice' });
  await openSettings(page);
  const settings = page.getByRole('heading', { name: 'Settings', level: 1 });

  // Profile: today's name (and avatar) to start from; saved in place.
  const name = page.getByRole('textbox', { name: 'Display name' });
  await expect(name).toHaveValue('Alice');
  await name.fill('Alice Cooper');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByText('Profile saved.')).toBeVisible();

  // Appearance: System until chosen; Dark pins the page's theme and survives a reload.
  const theme = page.getByRole('radiogroup', { name: 'Theme' });
  await expect(theme.getByRole('radio', { name: 'System' })).toBeChecked();
  await theme.getByRole('radio', { name: 'Dark' }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical'
  );
  expect(
    serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  ).toEqual([]);

  await page.reload();
  await expect(settings).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(theme.getByRole('radio', { name: 'Dark' })).toBeChecked();
  await expect(name).toHaveValue('Alice Cooper');
  await expect(page.getByText(/^p2p4everything \d+\.\d+\.\d+/)).toBeVisible();
  await theme.getByRole('radio', { name: 'System' }).check();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);

  await page.getByRole('button', { name: 'Back' }).click();
  await expect(settings).toHaveCount(0);

  // On a phone, long peer IDs and addresses wrap: nothing is wider than the screen.
  await page.setViewportSize({ width: 360, height: 740 });
  await openSettings(page);
  await page.getByText(/^Addresses \(\d+\)$/).click();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
  await context.close();
});
