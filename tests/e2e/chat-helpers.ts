/**
 * Chat steps shared by the browser scenarios, written only with the UI's accessible names.
 */
import type { Page } from '@playwright/test';
import { expect, type AppPage } from './fixtures.js';

export function conversations(page: Page) {
  return page.getByRole('navigation', { name: 'Conversations' });
}

export function messages(page: Page) {
  return page.getByRole('log', { name: 'Messages' });
}

export function article(page: Page, text: string) {
  return messages(page).getByRole('article').filter({ hasText: text });
}

/**
 * Sends `text` from the open conversation. With `shownAs` (the text as rendered, formatting
 * removed), also waits until the sender's own log shows it.
 */
export async function send(page: Page, text: string, shownAs?: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  if (shownAs !== undefined) await expect(article(page, shownAs).first()).toBeVisible();
}

export async function newInviteLink(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'New invite' }).click();
  const field = page.getByRole('textbox', { name: 'Invite link', exact: true });
  await expect(field).toHaveValue(/#\/invite\//);
  await expect(page.getByRole('img', { name: 'Invite QR code' })).toBeVisible();
  return field.inputValue();
}

/** `inviter` makes an invite; `invitee` opens it and accepts; both see the conversation. */
export async function befriend(
  inviter: AppPage,
  invitee: AppPage,
  names: [string, string]
): Promise<void> {
  const link = await newInviteLink(inviter.page);
  await invitee.page.goto(link);
  await invitee.page.getByRole('button', { name: 'Accept invite' }).click();
  await expect(conversations(invitee.page).getByRole('link', { name: names[0] })).toBeVisible();
  await expect(conversations(inviter.page).getByRole('link', { name: names[1] })).toBeVisible();
}
