/** Files between two app pages: pairing, attaching, the file card, saving and hashing. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, openApp } from './fixtures.js';
import { befriend, conversations, messages } from './chat-helpers.js';

export const MB = 1024 * 1024;

export function pattern(chunk: Uint8Array, offset: number): void {
  for (let i = 0; i < chunk.length; i++)
    chunk[i] = ((offset + i) * 131 + ((offset + i) >> 11)) & 0xff;
}

export function fileOf(size: number): Buffer {
  const data = Buffer.alloc(size);
  pattern(data, 0);
  return data;
}

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export async function pair(
  browser: Parameters<typeof openApp>[0],
  relay: Parameters<typeof openApp>[1]
) {
  const alice = await openApp(browser, relay, { name: 'Alice' });
  const bob = await openApp(browser, relay, { name: 'Bob' });
  await befriend(alice, bob, ['Alice', 'Bob']);
  for (const [me, other] of [
    [alice, 'Bob'],
    [bob, 'Alice']
  ] as const) {
    await conversations(me.page).getByRole('link', { name: other }).click();
  }
  return { alice, bob };
}

/** Attaches files in the open conversation and sends them (with a caption). */
export async function attach(
  page: Page,
  files: { name: string; mimeType: string; buffer: Buffer }[],
  options: { caption?: string; public?: boolean } = {}
) {
  await page.getByRole('button', { name: 'Attach file' }).setInputFiles(files);
  if (options.public === true) await page.getByRole('checkbox', { name: 'Share publicly' }).check();
  if (options.caption !== undefined) {
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill(options.caption);
  }
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** The file card of a message in the log, by file name. */
export const card = (page: Page, name: string) =>
  messages(page).getByRole('group', { name, exact: true });

/** Records every value a progressbar named `name` shows (from now on, across re-renders). */
export async function watchProgress(page: Page, name: string): Promise<void> {
  await page.evaluate((label) => {
    const w = window as unknown as { __progress: number[] };
    w.__progress = [];
    const look = () => {
      for (const el of document.querySelectorAll(
        `progress[aria-label="${CSS.escape(label)}"], [role=progressbar][aria-label="${CSS.escape(label)}"]`
      )) {
        const v = Number(el.getAttribute('value') ?? el.getAttribute('aria-valuenow') ?? NaN);
        if (!Number.isNaN(v)) w.__progress.push(v);
      }
    };
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true
    });
  }, name);
}

export async function saveAndHash(page: Page, name: string): Promise<string> {
  const save = card(page, name).getByRole('button', { name: `Save ${name}` });
  await expect(save).toBeVisible({ timeout: 90_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), save.click()]);
  expect(download.suggestedFilename()).toBe(name);
  const path = await download.path();
  return sha256(await readFile(path));
}
