/**
 * The app through its UI for the app benchmarks (bench/app.ts, bench/shell.ts): a page that
 * onboarded and holds a relay reservation, and two pages that became contacts by invite.
 * Accessible names only, as a person (or the browser tests) would drive it.
 */
import type { Browser, BrowserContextOptions, Locator, Page } from '@playwright/test';
import type { RelayHandle } from '../../tests/fixtures/relay.js';

export const TIMEOUT_MS = 30_000;

/** A fresh context on the built app (`?debug` installs window.p2p4eDebug), onboarded as `name`. */
export async function openAppPage(
  browser: Browser,
  relay: RelayHandle,
  name: string,
  context: BrowserContextOptions = {}
): Promise<Page> {
  const page = await (await browser.newContext(context)).newPage();
  await page.goto(`${relay.url}/?debug`);
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page
    .getByRole('status', { name: 'Relay status' })
    .filter({ hasText: 'Connected via relay' })
    .waitFor({ timeout: TIMEOUT_MS });
  return page;
}

/** The link to a conversation in the list, by its title. */
export const conversationLink = (page: Page, title: string): Locator =>
  page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: title });

/** `a` makes an invite, `b` accepts it; resolves once each lists the other's conversation. */
export async function befriendPages(
  a: Page,
  b: Page,
  relay: RelayHandle,
  names: { a: string; b: string }
): Promise<void> {
  await a.getByRole('button', { name: 'New invite' }).click();
  const field = a.getByRole('textbox', { name: 'Invite link', exact: true });
  let invite = '';
  for (const until = Date.now() + TIMEOUT_MS; !invite.includes('#/invite/');) {
    if (Date.now() > until) throw new Error('no invite link appeared');
    invite = await field.inputValue().catch(() => '');
    if (!invite.includes('#/invite/')) await a.waitForTimeout(50);
  }
  await b.goto(`${relay.url}/?debug${invite.slice(invite.indexOf('#'))}`);
  await b.getByRole('button', { name: 'Accept invite' }).click();
  await conversationLink(b, names.a).waitFor({ timeout: TIMEOUT_MS });
  await conversationLink(a, names.b).waitFor({ timeout: TIMEOUT_MS });
}
