/**
 * Group management and presence through the real thing: separate Chromium contexts, a real
 * relay process, and only the UI's accessible names.
 */
import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures.js';
import { article, befriend, conversations, send } from './chat-helpers.js';

function conversation(page: Page) {
  return page.getByRole('region', { name: /.+/ }).filter({
    has: page.getByRole('log', { name: 'Messages' })
  });
}

test.describe('groups', () => {
  test('rename a group and add a member who then gets its history', async ({ browser, relay }) => {
    const ana = await openApp(browser, relay, { name: 'Ana' });
    const ben = await openApp(browser, relay, { name: 'Ben' });
    const cleo = await openApp(browser, relay, { name: 'Cleo' });
    await befriend(ana, ben, ['Ana', 'Ben']);
    await befriend(ana, cleo, ['Ana', 'Cleo']);

    await ana.page.getByRole('button', { name: 'New group' }).click();
    await ana.page.getByRole('textbox', { name: 'Group name' }).fill('Climbing');
    await ana.page.getByRole('checkbox', { name: 'Ben' }).check();
    await ana.page.getByRole('button', { name: 'Create group' }).click();
    await expect(ana.page.getByRole('heading', { name: 'Climbing', level: 2 })).toBeVisible();
    await send(ana.page, 'before the rename', 'before the rename');
    await expect(conversations(ben.page).getByRole('link', { name: 'Climbing' })).toBeVisible();

    // Ana opens the group details.
    const details = ana.page.getByRole('button', { name: 'Group details' });
    await expect(details).toHaveAttribute('aria-expanded', 'false');
    await details.click();
    await expect(details).toHaveAttribute('aria-expanded', 'true');
    const view = conversation(ana.page);
    const name = view.getByRole('textbox', { name: 'Rename group to' });
    await expect(name).toHaveValue('Climbing');
    const members = view.getByRole('list', { name: 'Group members' });
    await expect(members.getByRole('listitem')).toHaveCount(2);
    await expect(members.getByRole('listitem').filter({ hasText: 'You' })).toContainText('Online');
    await expect(members.getByRole('listitem').filter({ hasText: 'Ben' })).toContainText('Online');

    // The New group panel open at the same time keeps its own, different names.
    await ana.page.getByRole('button', { name: 'New group' }).click();
    await expect(ana.page.getByRole('textbox', { name: 'Group name', exact: true })).toHaveCount(1);
    await expect(ana.page.getByRole('group', { name: 'Members', exact: true })).toHaveCount(1);
    await ana.page.getByRole('button', { name: 'New group' }).click();

    // The same name (after trimming) is not a rename.
    await name.fill(' Climbing ');
    await view.getByRole('button', { name: 'Rename group' }).click();
    await expect(view.getByText('The name is unchanged.')).toBeVisible();
    await expect(view.getByText('Group renamed.')).toHaveCount(0);

    // Invalid names are refused with a clear error.
    await name.fill('   ');
    await view.getByRole('button', { name: 'Rename group' }).click();
    await expect(view.getByRole('alert')).toHaveText('Give the group a name.');
    await name.fill('x'.repeat(65));
    await view.getByRole('button', { name: 'Rename group' }).click();
    await expect(view.getByRole('alert')).toHaveText('A group name can be at most 64 characters.');

    await name.fill('  Bouldering  ');
    await view.getByRole('button', { name: 'Rename group' }).click();
    await expect(view.getByText('Group renamed.')).toBeVisible();
    await expect(ana.page.getByRole('heading', { name: 'Bouldering', level: 2 })).toBeVisible();
    await expect(conversations(ana.page).getByRole('link', { name: 'Bouldering' })).toBeVisible();
    await expect(conversations(ben.page).getByRole('link', { name: 'Bouldering' })).toBeVisible();
    await expect(conversations(ben.page).getByRole('link', { name: 'Climbing' })).toHaveCount(0);

    // Only Cleo can be added (Ben is a member already).
    const add = view.getByRole('group', { name: 'Add contacts' });
    await expect(add.getByRole('checkbox')).toHaveCount(1);
    await add.getByRole('checkbox', { name: 'Cleo', exact: true }).check();
    await view.getByRole('button', { name: 'Add members' }).click();
    await expect(members.getByRole('listitem')).toHaveCount(3);
    await expect(members.getByRole('listitem').filter({ hasText: 'Cleo' })).toBeVisible();

    const cleoLink = conversations(cleo.page).getByRole('link', { name: 'Bouldering' });
    await expect(cleoLink).toBeVisible();
    await cleoLink.click();
    await expect(article(cleo.page, 'before the rename')).toBeVisible();

    await send(cleo.page, 'hello from cleo');
    await expect(article(ana.page, 'hello from cleo')).toBeVisible();
    await conversations(ben.page).getByRole('link', { name: 'Bouldering' }).click();
    await expect(article(ben.page, 'hello from cleo')).toBeVisible();
    await expect(article(ben.page, 'before the rename')).toBeVisible();

    // Ben and Cleo are not contacts: Ben sees Cleo's presence as nothing, not "Offline".
    await ben.page.getByRole('button', { name: 'Group details' }).click();
    const benMembers = conversation(ben.page).getByRole('list', { name: 'Group members' });
    await expect(benMembers.getByRole('listitem')).toHaveCount(3);
    await expect(benMembers.getByRole('listitem').filter({ hasText: 'Ana' })).toContainText(
      'Online'
    );
    const cleoItem = benMembers.getByRole('listitem').filter({ hasNotText: /You|Ana/ });
    await expect(cleoItem).toHaveCount(1);
    await expect(cleoItem).not.toContainText(/Online|Away|Offline/);

    for (const p of [ana, ben, cleo]) await p.context.close();
  });
});

test.describe('presence', () => {
  test('a contact shows Online while its page is open, Offline once it closes', async ({
    browser,
    relay
  }) => {
    const ana = await openApp(browser, relay, { name: 'Ana' });
    const ben = await openApp(browser, relay, { name: 'Ben' });
    await befriend(ana, ben, ['Ana', 'Ben']);
    await conversations(ana.page).getByRole('link', { name: 'Ben' }).click();

    const presence = ana.page.getByRole('status', { name: 'Presence' });
    await expect(presence).toHaveText('Online');
    // The navigation marks the 1:1 conversation as online; the link keeps its name.
    const item = conversations(ana.page)
      .getByRole('listitem')
      .filter({
        has: ana.page.getByRole('link', { name: 'Ben', exact: true })
      });
    await expect(item).toContainText('online');

    await ben.page.close();
    await expect(presence).toHaveText('Offline', { timeout: 90_000 });
    await expect(item).not.toContainText('online');

    await ana.context.close();
    await ben.context.close();
  });
});
