/**
 * Pairing with a short code through the UI's accessible names only: two Chromium contexts (own
 * IndexedDB, own libp2p node) on one real relay; the code is read from one page and typed into
 * the other, and both compare the same safety number. Nobody is a contact until both pressed
 * "Numbers match"; "Numbers don't match" on one side ends the comparison on both.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures.js';
import { article, conversations, send } from './chat-helpers.js';

const SAFETY_NUMBER = /^\d{5}( \d{5}){11}$/;

function compare(page: Page) {
  return page.getByRole('region', { name: 'Compare safety number' });
}

/** "Pair with code" → "Show a code"; returns the 6 digits shown. */
async function showCode(page: Page): Promise<string> {
  const toggle = page.getByRole('button', { name: 'Pair with code' });
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  await page.getByRole('button', { name: 'Show a code' }).click();
  const code = page.getByRole('status', { name: 'Your pairing code' });
  await expect(code).toHaveText(/^\d{3} \d{3}$/);
  await expect(page.getByText('Waiting for the other person…')).toBeVisible();
  await expect(page.getByText(/valid for 2 minutes/)).toBeVisible();
  return ((await code.textContent()) ?? '').match(/\d/g)?.join('') ?? '';
}

/** "Pair with code" → types `code` into "Pairing code" → "Pair". */
async function typeCode(page: Page, code: string, open = true): Promise<void> {
  if (open) await page.getByRole('button', { name: 'Pair with code' }).click();
  await page.getByRole('textbox', { name: 'Pairing code' }).fill(code);
  await page.getByRole('button', { name: 'Pair', exact: true }).click();
}

/** Both pages show the comparison with the same number; returns it. */
async function expectSameNumber(a: Page, b: Page, names: [string, string]): Promise<string> {
  await expect(compare(a)).toContainText(names[1], { timeout: 45_000 });
  await expect(compare(b)).toContainText(names[0], { timeout: 45_000 });
  const number = compare(a).getByRole('note', { name: 'Safety number' });
  await expect(number).toHaveText(SAFETY_NUMBER);
  const text = ((await number.textContent()) ?? '').trim();
  await expect(compare(b).getByRole('note', { name: 'Safety number' })).toHaveText(text);
  return text;
}

test.describe('pairing with a code', () => {
  test('show a code, type it on the other device, compare, confirm, chat', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });

    const code = await showCode(alice.page);
    expect(code).toMatch(/^\d{6}$/);
    // Typed as people read it out: spaces or dashes are fine.
    await typeCode(bob.page, `${code.slice(0, 3)}-${code.slice(3)}`);
    await expectSameNumber(alice.page, bob.page, ['Alice', 'Bob']);

    // Alice confirms first: she waits for Bob, and nobody is a contact yet.
    await compare(alice.page).getByRole('button', { name: 'Numbers match' }).click();
    await expect(compare(alice.page).getByRole('status')).toHaveText('Waiting for Bob to confirm…');
    await expect(conversations(alice.page).getByRole('link')).toHaveCount(0);
    await compare(bob.page).getByRole('button', { name: 'Numbers match' }).click();
    for (const [page, other] of [
      [alice.page, 'Bob'],
      [bob.page, 'Alice']
    ] as const) {
      await expect(compare(page)).toHaveCount(0);
      await expect(page.getByText(`${other} is now a verified contact.`)).toBeVisible();
      const link = conversations(page).getByRole('link', { name: other });
      await expect(link).toBeVisible();
      await link.click();
      await expect(page.getByRole('heading', { name: other, level: 2 })).toBeVisible();
      await page.getByRole('button', { name: 'Contact details' }).click();
      await expect(
        page.getByRole('region', { name: 'Contact details' }).getByText('Verified', { exact: true })
      ).toBeVisible();
    }

    await send(bob.page, 'Paired by code', 'Paired by code');
    await expect(article(alice.page, 'Paired by code')).toBeVisible({ timeout: 30_000 });
    await send(alice.page, 'Hello Bob', 'Hello Bob');
    await expect(article(bob.page, 'Hello Bob')).toBeVisible({ timeout: 30_000 });
  });

  test('the code also works in "Add contact" → "Invite link or code"', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    const code = await showCode(alice.page);
    await bob.page.getByRole('button', { name: 'Add contact' }).click();
    await bob.page.getByRole('textbox', { name: 'Invite link or code' }).fill(code);
    await bob.page.getByRole('button', { name: 'Add', exact: true }).click();
    await expectSameNumber(alice.page, bob.page, ['Alice', 'Bob']);
    for (const page of [alice.page, bob.page]) {
      await compare(page).getByRole('button', { name: 'Numbers match' }).click();
    }
    await expect(conversations(bob.page).getByRole('link', { name: 'Alice' })).toBeVisible();
    await expect(conversations(alice.page).getByRole('link', { name: 'Bob' })).toBeVisible();
  });

  test('a wrong code says so and adds nobody; the shown code still works', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });

    await typeCode(bob.page, '12345');
    await expect(bob.page.getByRole('alert')).toHaveText(
      'Enter the 6 digits of the code shown on the other device.'
    );

    const code = await showCode(alice.page);
    const wrong = code === '000000' ? '000001' : '000000';
    await typeCode(bob.page, wrong, false);
    await expect(bob.page.getByText(/^Looking for the device showing/)).toBeVisible();
    await expect(bob.page.getByRole('alert')).toHaveText(/^Nobody was found with this code/, {
      timeout: 45_000
    });
    await expect(compare(bob.page)).toHaveCount(0);
    await expect(compare(alice.page)).toHaveCount(0);
    await expect(conversations(bob.page).getByRole('link')).toHaveCount(0);
    await expect(conversations(alice.page).getByRole('link')).toHaveCount(0);
    // Alice still shows the same code, and it works.
    await expect(alice.page.getByRole('status', { name: 'Your pairing code' })).toHaveText(
      `${code.slice(0, 3)} ${code.slice(3)}`
    );
    await typeCode(bob.page, code, false);
    await expectSameNumber(alice.page, bob.page, ['Alice', 'Bob']);
  });

  test('"Numbers don\'t match" on one side adds nobody on either side', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });

    const code = await showCode(alice.page);
    await typeCode(bob.page, code);
    await expectSameNumber(alice.page, bob.page, ['Alice', 'Bob']);
    await expect(conversations(bob.page).getByRole('link')).toHaveCount(0);

    await compare(alice.page).getByRole('button', { name: 'Numbers match' }).click();
    await compare(bob.page).getByRole('button', { name: "Numbers don't match" }).click();
    await expect(compare(bob.page)).toHaveCount(0);
    await expect(bob.page.getByText(/Alice was not added to your contacts/)).toBeVisible();
    // Alice had confirmed: she is told, and gets no contact either.
    await expect(compare(alice.page)).toHaveCount(0);
    await expect(alice.page.getByText(/Bob said the numbers don't match/)).toBeVisible();
    await expect(conversations(bob.page).getByRole('link')).toHaveCount(0);
    await expect(conversations(alice.page).getByRole('link')).toHaveCount(0);
  });
});
