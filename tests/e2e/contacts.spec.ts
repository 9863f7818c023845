/**
 * Contact details, blocking and leaving a group, through the UI's accessible names only:
 * separate Chromium contexts (own IndexedDB, own libp2p node) and a real relay process.
 */
import type { Page } from '@playwright/test';
import { expect, goHome, openApp, openSettings, test } from './fixtures.js';
import { article, befriend, conversations, send } from './chat-helpers.js';

const SAFETY_NUMBER = /^\d{5}( \d{5}){11}$/;

async function openConversation(page: Page, name: string): Promise<void> {
  await conversations(page).getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { name, level: 2 })).toBeVisible();
}

async function openDetails(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Contact details' }).click();
  await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();
}

function safetyNumber(page: Page) {
  return page.getByRole('note', { name: 'Safety number' });
}

test.describe('contacts', () => {
  test('fingerprint in Settings; same safety number; verify, rename, leave group, remove', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });

    await openSettings(alice.page);
    await expect(alice.page.getByText(/^Fingerprint: \d{5}( \d{5}){7}$/)).toBeVisible();
    await goHome(alice.page);

    await befriend(alice, bob, ['Alice', 'Bob']);
    await openConversation(alice.page, 'Bob');
    await openConversation(bob.page, 'Alice');
    await openDetails(alice.page);
    await openDetails(bob.page);

    await expect(safetyNumber(alice.page)).toHaveText(SAFETY_NUMBER);
    const number = (await safetyNumber(alice.page).textContent())?.trim() ?? '';
    await expect(safetyNumber(bob.page)).toHaveText(number);

    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await expect(alice.page.getByText('Verified', { exact: true })).toBeVisible();
    await expect(alice.page.getByRole('button', { name: 'Mark as verified' })).toHaveCount(0);

    await alice.page.getByRole('textbox', { name: 'Nickname' }).fill('Bobby Climber');
    await alice.page.getByRole('button', { name: 'Rename' }).click();
    await expect(
      conversations(alice.page).getByRole('link', { name: 'Bobby Climber' })
    ).toBeVisible();
    await expect(
      alice.page.getByRole('heading', { name: 'Bobby Climber', level: 2 })
    ).toBeVisible();

    // A group with Bob; Bob leaves it and it is gone from his list.
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByRole('textbox', { name: 'Group name' }).fill('Hike');
    await alice.page.getByRole('checkbox', { name: 'Bobby Climber' }).check();
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await openConversation(bob.page, 'Hike');
    await bob.page.getByRole('button', { name: 'Leave group' }).click();
    await expect(bob.page.getByText('You left this group.')).toBeVisible();
    await expect(conversations(bob.page).getByRole('link', { name: 'Hike' })).toHaveCount(0);
    await expect(bob.page.getByRole('textbox', { name: 'Message', exact: true })).toBeHidden();

    // Removing asks first.
    await openConversation(alice.page, 'Bobby Climber');
    await openDetails(alice.page);
    await alice.page.getByRole('button', { name: 'Remove contact' }).click();
    await expect(alice.page.getByText('Not in your contacts.')).toHaveCount(0);
    await alice.page.getByRole('button', { name: 'Confirm remove' }).click();
    await expect(alice.page.getByText('Not in your contacts.')).toBeVisible();
    await expect(
      conversations(alice.page).getByRole('link', { name: 'Bobby Climber' })
    ).toHaveCount(0);

    await alice.context.close();
    await bob.context.close();
  });

  test('a blocked contact’s messages do not arrive until unblocked', async ({ browser, relay }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    const carol = await openApp(browser, relay, { name: 'Carol' });
    await befriend(alice, bob, ['Alice', 'Bob']);
    await befriend(alice, carol, ['Alice', 'Carol']);

    await openConversation(alice.page, 'Bob');
    await openConversation(bob.page, 'Alice');
    await openConversation(carol.page, 'Alice');
    await send(bob.page, 'before the block', 'before the block');
    await expect(article(alice.page, 'before the block')).toBeVisible();

    await openDetails(alice.page);
    await alice.page.getByRole('button', { name: 'Block', exact: true }).click();
    await expect(alice.page.getByRole('button', { name: 'Unblock' })).toBeVisible();

    await send(bob.page, 'after the block', 'after the block');
    // Control: a message sent after Bob's, by someone not blocked, does arrive.
    await send(carol.page, 'control from carol', 'control from carol');
    await openConversation(alice.page, 'Carol');
    await expect(article(alice.page, 'control from carol')).toBeVisible();

    await openConversation(alice.page, 'Bob');
    await expect(article(alice.page, 'before the block')).toBeVisible();
    await expect(article(alice.page, 'after the block')).toHaveCount(0);

    // Unblocking asks Bob again: what was refused arrives now.
    await openDetails(alice.page);
    await alice.page.getByRole('button', { name: 'Unblock' }).click();
    await expect(article(alice.page, 'after the block')).toBeVisible({ timeout: 30_000 });

    for (const p of [alice, bob, carol]) await p.context.close();
  });
});
