/**
 * Playwright fixtures: one real relay process per test file (serving the built app), and helpers
 * that open the app in fresh browser contexts (separate IndexedDB, separate libp2p nodes).
 */
import {
  test as base,
  expect,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page
} from '@playwright/test';
import { startRelay, type RelayHandle } from '../fixtures/relay.js';

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Full peer ID of the page's node, read from the UI. */
  peerId: string;
}

/**
 * Opens the app in a new context, completes onboarding (first run) and waits until the relay
 * reservation is up.
 */
export async function openApp(
  browser: Browser,
  relay: RelayHandle,
  options: { name?: string; path?: string; context?: BrowserContextOptions } = {}
): Promise<AppPage> {
  const context = await browser.newContext(options.context);
  const page = await context.newPage();
  // E2E_CONSOLE=1: the page's warnings and errors in the test output (debugging a flake).
  if (process.env.E2E_CONSOLE === '1') {
    const who = options.name ?? 'page';
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') console.log(`[${who}] ${m.text()}`);
    });
  }
  await page.goto(`${relay.url}${options.path ?? ''}`);
  await completeOnboarding(page, options.name);
  await expectRelayReady(page);
  const peerId = await readPeerId(page);
  return { context, page, peerId };
}

/** First run: the name, then "Continue" shows the first screen. */
export async function completeOnboarding(page: Page, name = 'Tester'): Promise<void> {
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
}

export async function expectRelayReady(page: Page): Promise<void> {
  await expect(page.getByRole('status', { name: 'Relay status' })).toHaveText(
    'Connected via relay',
    { timeout: 30_000 }
  );
}

/** The Settings screen (header → "Settings"), where the device ID and Network diagnostics live. */
export async function openSettings(page: Page): Promise<void> {
  const heading = page.getByRole('heading', { name: 'Settings', level: 1 });
  if (!(await heading.isVisible())) {
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
  }
  await expect(heading).toBeVisible();
}

/** Back to the conversation list (the home screen). */
export async function goHome(page: Page): Promise<void> {
  await page.evaluate(() => {
    location.hash = '#/';
  });
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toHaveCount(0);
}

/**
 * The device's full peer ID, read in Settings → This device. Comes back to the screen it was
 * on (a conversation stays open; any other screen returns to the list).
 */
export async function readPeerId(page: Page): Promise<string> {
  const before = await page.evaluate(() => location.hash);
  const wasInSettings = before === '#/settings' || before.startsWith('#/settings/');
  await openSettings(page);
  const el = page.getByTestId('peer-id');
  await expect(el).toHaveText(/^12D3Koo\w{40,}$/);
  const peerId = (await el.textContent())?.trim() ?? '';
  if (!wasInSettings) {
    // A one-shot link (#/connect/…, #/invite/…) is not opened a second time.
    const back = /^#\/c\/./.test(before) ? before : '#/';
    await page.evaluate((hash) => {
      location.hash = hash;
    }, back);
    await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toHaveCount(0);
  }
  return peerId;
}

/** Settings → Network → "Connected peers" (open Settings first: openSettings). */
export function peerList(page: Page) {
  return page.getByRole('list', { name: 'Connected peers' });
}

/** The list item for a peer, found by its full peer ID (in the item's title). */
export function peerItem(page: Page, peerId: string) {
  return peerList(page)
    .getByRole('listitem')
    .filter({ has: page.locator(`[title="${peerId}"]`) });
}

/**
 * `from` connects to `to` through Settings → Network; both sides end up showing the other as
 * direct. Both pages are left on Settings (goHome to carry on in the conversations).
 */
export async function connectDirect(from: AppPage, to: AppPage): Promise<void> {
  await openSettings(from.page);
  await openSettings(to.page);
  await from.page.getByRole('textbox', { name: 'Peer ID or link' }).fill(to.peerId);
  await from.page.getByRole('button', { name: 'Connect', exact: true }).click();
  await expect(peerItem(from.page, to.peerId)).toContainText('direct', { timeout: 30_000 });
  await expect(peerItem(to.page, from.peerId)).toContainText('direct', { timeout: 30_000 });
}

export const test = base.extend<object, { relay: RelayHandle; relayArgs: string[] }>({
  // Extra relay flags for a test file: `test.use({ relayArgs: ['--public-shares-quota', '50MB'] })`.
  relayArgs: [[], { scope: 'worker', option: true }],
  relay: [
    async ({ relayArgs }, use) => {
      const relay = await startRelay({ staticDir: 'build', args: relayArgs });
      await use(relay);
      await relay.stop();
    },
    { scope: 'worker' }
  ]
});

export { expect };
