/**
 * Local message search and unread badges, through the UI's accessible names only.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures.js';
import { article, befriend, conversations, messages, send } from './chat-helpers.js';

function searchBox(page: Page) {
  return page.getByRole('searchbox', { name: 'Search messages' });
}

function results(page: Page) {
  return page.getByRole('list', { name: 'Search results' });
}

/** The conversation's row in the navigation, found by its link. */
function conversationItem(page: Page, name: string) {
  return conversations(page)
    .getByRole('listitem')
    .filter({ has: page.getByRole('link', { name, exact: true }) });
}

test.describe('search', () => {
  test('finds a message across the history, opens it in view, follows edits and deletes', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    await befriend(alice, bob, ['Alice', 'Bob']);
    await alice.page.getByRole('link', { name: 'Bob' }).click();

    await send(alice.page, 'the Zeppelin leaves at noon', 'the Zeppelin leaves at noon');
    // Enough after it that it scrolls out of the (virtualized) log.
    for (let i = 1; i <= 25; i++) await send(alice.page, `filler message ${i}`);
    await expect(article(alice.page, 'filler message 25')).toBeVisible();

    // Bob is not looking at the conversation; the messages still arrive and get indexed.
    await bob.page.getByRole('link', { name: 'Close' }).click();
    await expect(messages(bob.page)).toHaveCount(0);
    await expect(conversationItem(bob.page, 'Alice')).toContainText('filler message 25');
    await searchBox(bob.page).fill('zepp');
    const hit = results(bob.page).getByRole('link');
    await expect(hit).toHaveCount(1);
    await expect(hit).toHaveAccessibleName(/^Alice: the Zeppelin leaves at noon/);
    await expect(hit.locator('mark')).toHaveText('Zeppelin');
    // Accents and case don't matter.
    await searchBox(bob.page).fill('ZÉPPELIN');
    await expect(hit).toHaveCount(1);

    // Screen readers hear how many matched (the list is named "Search results").
    await expect(bob.page.getByRole('status').filter({ hasText: /messages? match/ })).toHaveText(
      '1 message matches'
    );

    await hit.click();
    await expect(bob.page).toHaveURL(/#\/c\/[^/]+\/m\//);
    await expect(messages(bob.page)).toBeVisible();
    await expect(article(bob.page, 'the Zeppelin leaves at noon')).toBeInViewport();
    // Focus moves to the message (not left on the result link).
    await expect(article(bob.page, 'the Zeppelin leaves at noon')).toBeFocused();

    // Escape clears the search.
    await searchBox(bob.page).press('Escape');
    await expect(searchBox(bob.page)).toHaveValue('');
    await expect(results(bob.page)).toHaveCount(0);

    // Alice finds her own message the same way and edits it.
    await searchBox(alice.page).fill('zeppelin');
    await results(alice.page).getByRole('link').click();
    const row = article(alice.page, 'the Zeppelin leaves at noon');
    await row.getByLabel('Message actions').click();
    await row.getByRole('button', { name: 'Edit' }).click();
    await alice.page
      .getByRole('textbox', { name: 'Message', exact: true })
      .fill('the airship leaves at one');
    await alice.page.getByRole('button', { name: 'Save', exact: true }).click();

    await searchBox(bob.page).fill('zeppelin');
    await expect(
      bob.page.getByRole('status').filter({ hasText: 'No messages match' })
    ).toBeVisible();
    await searchBox(bob.page).fill('airship');
    await expect(results(bob.page).getByRole('link')).toHaveAccessibleName(
      /^Alice: the airship leaves at one/
    );

    const edited = article(alice.page, 'the airship leaves at one');
    await edited.getByLabel('Message actions').click();
    await edited.getByRole('button', { name: 'Delete' }).click();
    await expect(results(bob.page)).toHaveCount(0);
    await expect(
      bob.page.getByRole('status').filter({ hasText: 'No messages match' })
    ).toBeVisible();

    await alice.context.close();
    await bob.context.close();
  });

  test('a conversation opened after a search result shows and follows its newest messages', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    const carol = await openApp(browser, relay, { name: 'Carol' });
    await befriend(bob, alice, ['Bob', 'Alice']);
    await befriend(carol, alice, ['Carol', 'Alice']);

    // Enough in Alice's conversation with Carol that it scrolls.
    await conversations(alice.page).getByRole('link', { name: 'Carol', exact: true }).click();
    for (let i = 1; i <= 20; i++) await send(alice.page, `carol filler ${i}`);
    await expect(article(alice.page, 'carol filler 20')).toBeVisible();
    await conversations(alice.page).getByRole('link', { name: 'Bob', exact: true }).click();
    await send(alice.page, 'the Zeppelin leaves at noon', 'the Zeppelin leaves at noon');

    // Alice opens a search result: that view stops following the newest message.
    await searchBox(alice.page).fill('zeppelin');
    await results(alice.page).getByRole('link').click();
    await expect(article(alice.page, 'the Zeppelin leaves at noon')).toBeFocused();

    // Then Carol's conversation from the list: it opens at its newest message...
    await conversations(alice.page).getByRole('link', { name: 'Carol', exact: true }).click();
    await expect(alice.page.getByRole('heading', { name: 'Carol' })).toBeVisible();
    await messages(alice.page).scrollIntoViewIfNeeded();
    await expect(article(alice.page, 'carol filler 20')).toBeInViewport();

    // ...and follows new ones.
    await conversations(carol.page).getByRole('link', { name: 'Alice', exact: true }).click();
    await send(carol.page, 'fresh news from Carol', 'fresh news from Carol');
    await expect(article(alice.page, 'fresh news from Carol')).toBeInViewport();

    for (const p of [alice, bob, carol]) await p.context.close();
  });

  test('unread badge counts messages in a conversation not shown, and goes when it is read', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    const carol = await openApp(browser, relay, { name: 'Carol' });
    await befriend(alice, bob, ['Alice', 'Bob']);
    await befriend(carol, bob, ['Carol', 'Bob']);
    // Bob looks at the conversation with Carol.
    await bob.page.getByRole('link', { name: 'Carol', exact: true }).click();
    await expect(bob.page.getByRole('heading', { name: 'Carol' })).toBeVisible();

    await alice.page.getByRole('link', { name: 'Bob' }).click();
    await send(alice.page, 'one', 'one');
    await send(alice.page, 'two', 'two');
    await send(alice.page, 'three', 'three');

    const item = conversationItem(bob.page, 'Alice');
    await expect(item).toContainText('3 unread');
    await expect(conversationItem(bob.page, 'Carol')).not.toContainText('unread');
    await expect(article(alice.page, 'three').getByRole('status')).toHaveAccessibleName(
      'Delivered'
    );

    await item.getByRole('link', { name: 'Alice', exact: true }).click();
    await expect(article(bob.page, 'three')).toBeVisible();
    await expect(item).not.toContainText('unread');
    await expect(article(alice.page, 'three').getByRole('status')).toHaveAccessibleName('Read');

    for (const p of [alice, bob, carol]) await p.context.close();
  });
});
