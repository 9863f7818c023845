/**
 * The messenger through the real thing: separate Chromium contexts (own IndexedDB, own libp2p
 * node), a real relay process, and only the UI's accessible names.
 */
import type { Page } from '@playwright/test';
import { expect, expectRelayReady, openApp, test } from './fixtures.js';
import { article, befriend, conversations, newInviteLink, send } from './chat-helpers.js';

test.describe('chat', () => {
  test('invite, accept, chat both ways, statuses reach Read, reload keeps history', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    await befriend(alice, bob, ['Alice', 'Bob']);

    await bob.page.getByRole('link', { name: 'Alice' }).click();
    await alice.page.getByRole('link', { name: 'Bob' }).click();

    await send(bob.page, 'hello **Alice**');
    await expect(article(alice.page, 'hello Alice')).toBeVisible();
    await expect(alice.page.getByRole('log', { name: 'Messages' }).locator('strong')).toHaveText(
      'Alice'
    );
    await send(alice.page, 'hi Bob, see `code`');
    await expect(article(bob.page, 'hi Bob, see code')).toBeVisible();

    // Both pages are visible with the conversation open: each side reads the other's message.
    await expect(article(alice.page, 'hi Bob').getByRole('status')).toHaveAccessibleName('Read');
    await expect(article(bob.page, 'hello Alice').getByRole('status')).toHaveAccessibleName('Read');
    // No status on the other person's messages.
    await expect(article(alice.page, 'hello Alice').getByRole('status')).toHaveCount(0);

    await bob.page.reload();
    await expectRelayReady(bob.page);
    await expect(article(bob.page, 'hello Alice')).toBeVisible();
    await expect(article(bob.page, 'hi Bob, see code')).toBeVisible();
    // Onboarding is not asked again.
    await expect(bob.page.getByRole('textbox', { name: 'Display name' })).toHaveCount(0);

    await alice.context.close();
    await bob.context.close();
  });

  test('a message written while the other side is closed arrives when both are online', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    await befriend(alice, bob, ['Alice', 'Bob']);
    await bob.page.getByRole('link', { name: 'Alice' }).click();
    const conversationUrl = bob.page.url();

    // Bob goes away (page closed, context kept: same device, same storage).
    await bob.page.close();
    await alice.page.getByRole('link', { name: 'Bob' }).click();
    await send(alice.page, 'while you were away');
    await expect(
      article(alice.page, 'while you were away').getByRole('status')
    ).toHaveAccessibleName('Pending');

    const page = await bob.context.newPage();
    await page.goto(conversationUrl);
    await expectRelayReady(page);
    await expect(article(page, 'while you were away')).toBeVisible({ timeout: 45_000 });
    await expect(
      article(alice.page, 'while you were away').getByRole('status')
    ).toHaveAccessibleName('Read');

    await alice.context.close();
    await bob.context.close();
  });

  test('a group of three: everyone sees everyone', async ({ browser, relay }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });

    // Bob opens the invite link on his first run: onboarding first, then the invite.
    const bobLink = await newInviteLink(alice.page);
    const bobContext = await browser.newContext();
    const bobPage = await bobContext.newPage();
    await bobPage.goto(bobLink);
    await bobPage.getByRole('textbox', { name: 'Display name' }).fill('Bob');
    await bobPage.getByRole('button', { name: 'Continue' }).click();
    await bobPage.getByRole('button', { name: 'Accept invite' }).click();
    await expect(conversations(bobPage).getByRole('link', { name: 'Alice' })).toBeVisible();
    const bob = { context: bobContext, page: bobPage, peerId: '' };

    // Carol pastes the link into "Add contact".
    const carol = await openApp(browser, relay, { name: 'Carol' });
    const carolLink = await newInviteLink(alice.page);
    await carol.page.getByRole('button', { name: 'Add contact' }).click();
    await carol.page.getByRole('textbox', { name: 'Invite link or code' }).fill(carolLink);
    await carol.page.getByRole('button', { name: 'Add', exact: true }).click();
    await expect(conversations(carol.page).getByRole('link', { name: 'Alice' })).toBeVisible();
    await expect(conversations(alice.page).getByRole('link', { name: 'Carol' })).toBeVisible();

    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByRole('textbox', { name: 'Group name' }).fill('Climbing');
    await alice.page.getByRole('checkbox', { name: 'Bob' }).check();
    await alice.page.getByRole('checkbox', { name: 'Carol' }).check();
    await alice.page.getByRole('button', { name: 'Create group' }).click();

    for (const p of [alice, bob, carol]) {
      await expect(conversations(p.page).getByRole('link', { name: 'Climbing' })).toBeVisible();
      await conversations(p.page).getByRole('link', { name: 'Climbing' }).click();
    }
    await send(alice.page, 'from alice');
    await send(bob.page, 'from bob');
    await send(carol.page, 'from carol');
    for (const p of [alice, bob, carol]) {
      for (const text of ['from alice', 'from bob', 'from carol']) {
        await expect(article(p.page, text)).toBeVisible();
      }
    }
    await expect(article(alice.page, 'from alice').getByRole('status')).toHaveAccessibleName(
      'Read'
    );

    for (const p of [alice, bob, carol]) await p.context.close();
  });

  test('reply, edit, delete, react and typing reach the other side', async ({ browser, relay }) => {
    const alice = await openApp(browser, relay, { name: 'Alice' });
    const bob = await openApp(browser, relay, { name: 'Bob' });
    await befriend(alice, bob, ['Alice', 'Bob']);
    await alice.page.getByRole('link', { name: 'Bob' }).click();
    await bob.page.getByRole('link', { name: 'Alice' }).click();

    const act = async (page: Page, text: string, action: string): Promise<void> => {
      const row = article(page, text);
      await row.getByLabel('Message actions').click();
      await row.getByRole('button', { name: action }).click();
    };

    await send(alice.page, 'typo here');
    await send(alice.page, 'to be deleted');
    await expect(article(bob.page, 'to be deleted')).toBeVisible();

    await act(alice.page, 'typo here', 'Edit');
    await alice.page.getByRole('textbox', { name: 'Message', exact: true }).fill('fixed text');
    await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(article(bob.page, 'fixed text')).toContainText('edited');

    await act(alice.page, 'to be deleted', 'Delete');
    await expect(article(bob.page, 'Message deleted')).toBeVisible();
    await expect(article(bob.page, 'to be deleted')).toHaveCount(0);

    await act(bob.page, 'fixed text', 'React 👍');
    await expect(
      article(alice.page, 'fixed text').getByRole('button', { name: '👍 1' })
    ).toBeVisible();

    // Typing shows on the other side while it lasts.
    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('ty');
    await expect(alice.page.getByText('Bob typing…')).toBeVisible();

    await act(bob.page, 'fixed text', 'Reply');
    await send(bob.page, 'this is the answer');
    await expect(article(alice.page, 'this is the answer').locator('blockquote')).toContainText(
      'fixed text'
    );
    // The quote jumps to the quoted message (and moves focus there).
    await article(alice.page, 'this is the answer')
      .getByRole('button', { name: /^In reply to You: fixed text/ })
      .click();
    await expect(article(alice.page, 'fixed text').first()).toBeFocused();
    // Edits and deletions by their author keep valid signatures on the other side.
    await expect(bob.page.getByRole('log', { name: 'Messages' })).not.toContainText('Not verified');
    await expect(alice.page.getByRole('log', { name: 'Messages' })).not.toContainText(
      'Not verified'
    );

    await alice.context.close();
    await bob.context.close();
  });
});
