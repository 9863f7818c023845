/**
 * The app shell (issue 9) in Chromium, driven through accessible names only: the two-pane
 * layout on wide screens, list → conversation → Back on a phone, the composer's keys and drafts,
 * "Jump to latest", keyboard shortcuts, and axe-core on every main screen in both themes.
 * Screenshots of the main screens at both sizes and in both themes go to screenshots/
 * (linked from the README; not committed).
 */
import AxeBuilder from '@axe-core/playwright';
import { devices, type Page } from '@playwright/test';
import { article, befriend, conversations, messages, send } from './chat-helpers.js';
import { expect, goHome, openApp, openSettings, test, type AppPage } from './fixtures.js';

const SCREENS = 'screenshots';

async function expectNoSeriousA11yProblems(page: Page, where: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${where}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`
    );
  expect(serious).toEqual([]);
}

/** The document is never wider than the viewport (no horizontal scrolling). */
async function expectNoHorizontalScroll(page: Page): Promise<void> {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth
  }));
  expect(scroll).toBeLessThanOrEqual(client);
}

async function setTheme(page: Page, theme: 'Light' | 'Dark'): Promise<void> {
  await openSettings(page);
  await page.getByRole('radiogroup', { name: 'Theme' }).getByRole('radio', { name: theme }).check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme.toLowerCase());
}

async function pairOfFriends(
  browser: Parameters<typeof openApp>[0],
  relay: Parameters<typeof openApp>[1],
  options: Parameters<typeof openApp>[2] = {}
): Promise<[AppPage, AppPage]> {
  const alice = await openApp(browser, relay, { ...options, name: 'Alice' });
  const bob = await openApp(browser, relay, { name: 'Bob' });
  await befriend(alice, bob, ['Alice', 'Bob']);
  return [alice, bob];
}

test('wide screens show the list and the conversation together; every screen passes axe in both themes', async ({
  browser,
  relay
}) => {
  const [alice, bob] = await pairOfFriends(browser, relay);
  const page = alice.page;
  await page.setViewportSize({ width: 1280, height: 800 });
  await goHome(page);
  // Nothing open: an empty pane that says what to do next, beside the list.
  await expect(
    page.getByRole('heading', { name: /conversation/i, level: 2 }).first()
  ).toBeVisible();

  await conversations(page).getByRole('link', { name: 'Bob' }).click();
  await bob.page.getByRole('link', { name: 'Alice' }).click();
  await send(
    page,
    'Hello Bob, this is a message with a rather long word: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen',
    'Hello Bob'
  );
  await send(bob.page, 'Hi Alice! https://example.org is a link', 'Hi Alice');
  await expect(article(page, 'Hi Alice')).toBeVisible();
  await expect(
    article(page, 'Hi Alice').getByRole('link', { name: 'https://example.org' })
  ).toBeVisible();
  // Both panes at once: the list's link and the open conversation's log.
  await expect(conversations(page).getByRole('link', { name: 'Bob' })).toBeVisible();
  await expect(messages(page)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Back' })).toBeHidden();
  await expect(page.getByRole('separator', { name: 'Today' })).toBeVisible();
  await expect(article(page, 'Hello Bob').getByRole('status')).toHaveAccessibleName(
    /Sent|Delivered|Read/
  );
  await expectNoHorizontalScroll(page);

  for (const theme of ['Light', 'Dark'] as const) {
    await setTheme(page, theme);
    await expectNoSeriousA11yProblems(page, `Settings (${theme})`);
    await page.screenshot({ path: `${SCREENS}/wide-${theme.toLowerCase()}-settings.png` });
    await goHome(page);
    await conversations(page).getByRole('link', { name: 'Bob' }).click();
    await expect(article(page, 'Hi Alice')).toBeVisible();
    await expectNoSeriousA11yProblems(page, `conversation (${theme})`);
    await page.screenshot({ path: `${SCREENS}/wide-${theme.toLowerCase()}-conversation.png` });

    await page.getByRole('button', { name: 'Contact details' }).click();
    await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();
    await expectNoSeriousA11yProblems(page, `contact details (${theme})`);
    await page.screenshot({ path: `${SCREENS}/wide-${theme.toLowerCase()}-contact-details.png` });
    await page.getByRole('button', { name: 'Contact details' }).click();

    await page.getByRole('button', { name: 'New invite' }).click();
    await expect(page.getByRole('img', { name: 'Invite QR code' })).toBeVisible();
    await expectNoSeriousA11yProblems(page, `new invite (${theme})`);
    await page.getByRole('button', { name: 'New group' }).click();
    await expect(page.getByRole('textbox', { name: 'Group name' })).toBeVisible();
    await expectNoSeriousA11yProblems(page, `new group (${theme})`);
    await page.getByRole('button', { name: 'Pair with code' }).click();
    await expectNoSeriousA11yProblems(page, `pair with code (${theme})`);
    await page.screenshot({ path: `${SCREENS}/wide-${theme.toLowerCase()}-dialogs.png` });
  }
  await alice.context.close();
  await bob.context.close();
});

test('the theme is remembered across a reload', async ({ browser, relay }) => {
  const { context, page } = await openApp(browser, relay, { name: 'Alice' });
  await setTheme(page, 'Dark');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await openSettings(page);
  const theme = page.getByRole('radiogroup', { name: 'Theme' });
  await expect(theme.getByRole('radio', { name: 'Dark' })).toBeChecked();
  await theme.getByRole('radio', { name: 'System' }).check();
  await page.reload();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme', /./);
  await context.close();
});

test('on a phone the list is home, a conversation is full screen, and Back returns', async ({
  browser,
  relay
}) => {
  const phone = devices['Pixel 7'];
  const [alice, bob] = await pairOfFriends(browser, relay, {
    context: {
      viewport: { width: 390, height: 844 },
      userAgent: phone.userAgent,
      deviceScaleFactor: phone.deviceScaleFactor,
      isMobile: true,
      hasTouch: true
    }
  });
  const page = alice.page;
  await goHome(page);
  await expect(conversations(page)).toBeVisible();
  await expect(messages(page)).toHaveCount(0);
  await expectNoHorizontalScroll(page);
  await page.screenshot({ path: `${SCREENS}/narrow-light-list.png` });

  await conversations(page).getByRole('link', { name: 'Bob' }).tap();
  await expect(messages(page)).toBeVisible();
  await expect(conversations(page)).toBeHidden();
  await send(page, 'from a phone', 'from a phone');
  // The connection state stays in sight (the list's header is off screen).
  await expect(page.getByRole('status', { name: 'Relay status' })).toHaveText(
    'Connected via relay'
  );
  await expect(page.getByRole('button', { name: /^(Direct|Via relay)$/ })).toBeVisible();
  await expectNoHorizontalScroll(page);
  await expectNoSeriousA11yProblems(page, 'phone conversation');
  await page.screenshot({ path: `${SCREENS}/narrow-light-conversation.png` });

  await page.getByRole('button', { name: 'Back' }).tap();
  await expect(conversations(page)).toBeVisible();
  await expect(messages(page)).toHaveCount(0);

  // The browser's own Back does the same.
  await conversations(page).getByRole('link', { name: 'Bob' }).tap();
  await expect(messages(page)).toBeVisible();
  await page.goBack();
  await expect(conversations(page)).toBeVisible();
  await expect(messages(page)).toHaveCount(0);

  // Settings is a screen of its own, and fits too; in dark as well.
  await setTheme(page, 'Dark');
  await expectNoHorizontalScroll(page);
  await page.screenshot({ path: `${SCREENS}/narrow-dark-settings.png` });
  await page.getByRole('button', { name: 'Back' }).tap();
  await expect(conversations(page)).toBeVisible();
  await page.screenshot({ path: `${SCREENS}/narrow-dark-list.png` });
  await conversations(page).getByRole('link', { name: 'Bob' }).tap();
  await expect(article(page, 'from a phone')).toBeVisible();
  await page.screenshot({ path: `${SCREENS}/narrow-dark-conversation.png` });

  // The smallest phones.
  await page.setViewportSize({ width: 360, height: 740 });
  await expectNoHorizontalScroll(page);
  await page.getByRole('button', { name: 'Back' }).tap();
  await expectNoHorizontalScroll(page);
  await alice.context.close();
  await bob.context.close();
});

test('composer: Enter sends, Shift+Enter adds a line, drafts survive switching and reload; Jump to latest; shortcuts', async ({
  browser,
  relay
}) => {
  const [alice, bob] = await pairOfFriends(browser, relay);
  const carol = await openApp(browser, relay, { name: 'Carol' });
  await befriend(alice, carol, ['Alice', 'Carol']);
  const page = alice.page;
  await goHome(page);
  await page.setViewportSize({ width: 1280, height: 800 });
  const box = page.getByRole('textbox', { name: 'Message', exact: true });

  await conversations(page).getByRole('link', { name: 'Bob' }).click();
  await box.fill('first line');
  await box.press('Shift+Enter');
  await box.pressSequentially('second line');
  await expect(box).toHaveValue('first line\nsecond line');
  await box.press('Enter');
  await expect(box).toHaveValue('');
  await expect(article(page, 'first line')).toContainText('second line');

  // Up in the empty composer edits the last own message; Escape cancels.
  await box.press('ArrowUp');
  await expect(box).toHaveValue('first line\nsecond line');
  await box.press('Escape');
  await expect(box).toHaveValue('');

  // A draft per conversation, across switching and a reload.
  await box.fill('draft for Bob');
  await conversations(page).getByRole('link', { name: 'Carol' }).click();
  await expect(page.getByRole('heading', { name: 'Carol' })).toBeVisible();
  await expect(box).toHaveValue('');
  await box.fill('draft for Carol');
  await conversations(page).getByRole('link', { name: 'Bob' }).click();
  await expect(box).toHaveValue('draft for Bob');
  await page.reload();
  await expect(box).toHaveValue('draft for Bob');
  await conversations(page).getByRole('link', { name: 'Carol' }).click();
  await expect(box).toHaveValue('draft for Carol');

  // Alt+Up / Alt+Down move between conversations; Ctrl+K focuses search.
  const current = () => conversations(page).locator('[aria-current="page"]');
  const links = conversations(page).getByRole('link');
  const names = await links.allTextContents();
  const before = (await current().textContent()) ?? '';
  // Towards the other end of the list first, then back.
  const [away, back] =
    names.indexOf(before) === 0
      ? ['Alt+ArrowDown', 'Alt+ArrowUp']
      : ['Alt+ArrowUp', 'Alt+ArrowDown'];
  await box.press(away);
  await expect(current()).not.toHaveText(before);
  await page.keyboard.press(back);
  await expect(current()).toHaveText(before);
  await page.keyboard.press('Control+k');
  await expect(page.getByRole('searchbox', { name: 'Search messages' })).toBeFocused();

  // Jump to latest: scrolled up, a message arrives, the button shows the count.
  await conversations(page).getByRole('link', { name: 'Bob' }).click();
  await bob.page.getByRole('link', { name: 'Alice' }).click();
  for (let i = 1; i <= 40; i++) await send(bob.page, `filler ${i}`);
  await expect(article(page, 'filler 40')).toBeVisible();
  await messages(page).evaluate((log) => log.scrollTo({ top: 0 }));
  await send(bob.page, 'arrived while scrolled up');
  const jump = page.getByRole('button', { name: 'Jump to latest' });
  await expect(jump).toBeVisible();
  await expect(jump).toHaveAccessibleDescription('1 new message');
  await jump.click();
  await expect(article(page, 'arrived while scrolled up')).toBeInViewport();

  // Opening a conversation with unread messages shows the divider above the first of them.
  await conversations(page).getByRole('link', { name: 'Carol' }).click();
  await send(bob.page, 'unread one');
  await send(bob.page, 'unread two');
  await expect(conversations(page).getByRole('link', { name: 'Bob' })).toBeVisible();
  await expect(conversations(page).getByRole('listitem').filter({ hasText: 'Bob' })).toContainText(
    '2 unread'
  );
  await conversations(page).getByRole('link', { name: 'Bob' }).click();
  await expect(page.getByRole('separator', { name: 'Unread messages' })).toBeVisible();

  for (const p of [alice, bob, carol]) await p.context.close();
});
