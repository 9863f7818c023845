/**
 * Onboarding with an avatar: picked, checked and resized in the browser, saved with the
 * profile, sent in the invite handshake, and shown to the contact.
 */
import type { Page } from '@playwright/test';
import {
  expect,
  expectRelayReady,
  goHome,
  openApp,
  openSettings,
  readPeerId,
  test,
  type AppPage
} from './fixtures.js';
import { befriend } from './chat-helpers.js';

/** A real 300×200 PNG, drawn on a canvas in the page (so resizing has work to do). */
async function makePng(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 300;
    canvas.height = 200;
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.fillStyle = '#1f5fbf';
    ctx.fillRect(0, 0, 300, 200);
    ctx.fillStyle = '#ffcc00';
    ctx.beginPath();
    ctx.arc(150, 100, 80, 0, Math.PI * 2);
    ctx.fill();
    return canvas.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
}

/** A big noisy PNG (slow to decode and resize), drawn in the page. */
async function makeLargePng(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = 3000;
    canvas.height = 2000;
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    const pixels = ctx.createImageData(3000, 2000);
    for (let i = 0; i < pixels.data.length; i++) pixels.data[i] = (i * 2654435761) >>> 24;
    ctx.putImageData(pixels, 0, 0);
    return canvas.toDataURL('image/png');
  });
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
}

/** Natural size of an image element. */
function naturalSize(page: Page, name: string) {
  return page
    .getByRole('img', { name, exact: true })
    .evaluate((img: HTMLImageElement) => ({ w: img.naturalWidth, h: img.naturalHeight }));
}

test.describe('profile', () => {
  test('onboarding with an avatar: resized locally, shown to the contact; bad files are refused', async ({
    browser,
    relay
  }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(relay.url);
    await page.getByRole('textbox', { name: 'Display name' }).fill('Alice');
    const picker = page.getByLabel('Avatar (optional)');

    // Not an image at all.
    await picker.setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('just some text')
    });
    await expect(page.getByRole('alert')).toHaveText(/not a picture/);
    await expect(page.getByRole('img', { name: 'Your avatar' })).toHaveCount(0);

    // Says it is a PNG but can't be decoded.
    await picker.setInputFiles({
      name: 'broken.png',
      mimeType: 'image/png',
      buffer: Buffer.from('\x89PNG\r\n\x1a\n definitely not the rest of a png')
    });
    await expect(page.getByRole('alert')).toHaveText(/couldn't be read/);
    await expect(page.getByRole('img', { name: 'Your avatar' })).toHaveCount(0);

    const png = await makePng(page);
    await picker.setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await expect(page.getByRole('img', { name: 'Your avatar' })).toBeVisible();
    await expect(page.getByRole('alert')).toHaveCount(0);
    expect(await naturalSize(page, 'Your avatar')).toEqual({ w: 128, h: 128 });

    // Remove, then pick it again.
    await page.getByRole('button', { name: 'Remove' }).click();
    await expect(page.getByRole('img', { name: 'Your avatar' })).toHaveCount(0);
    await picker.setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await expect(page.getByRole('img', { name: 'Your avatar' })).toBeVisible();

    await page.getByRole('button', { name: 'Continue' }).click();
    await expectRelayReady(page);
    const alice: AppPage = { context, page, peerId: await readPeerId(page) };
    // Settings → Profile starts from the saved avatar.
    await openSettings(page);
    await expect(page.getByRole('img', { name: 'Your avatar' })).toBeVisible();
    await goHome(page);
    const bob = await openApp(browser, relay, { name: 'Bob' });
    await befriend(alice, bob, ['Alice', 'Bob']);

    // Bob accepted: his page shows the conversation with Alice.
    await bob.page.getByRole('button', { name: 'Contact details' }).click();
    const details = bob.page.getByRole('region', { name: 'Contact details' });
    const avatar = details.getByRole('img', { name: 'Avatar of Alice' });
    await expect(avatar).toBeVisible();
    await expect(avatar).toHaveAttribute('src', /^data:image\/(webp|jpeg|png);base64,/);
    const size = await avatar.evaluate((img: HTMLImageElement) => ({
      w: img.naturalWidth,
      h: img.naturalHeight
    }));
    expect(size.w).toBeGreaterThan(0);
    expect(size.w).toBeLessThanOrEqual(128);
    expect(size.h).toBeLessThanOrEqual(128);

    // Bob has none: Alice sees no avatar for him.
    await alice.page.getByRole('link', { name: 'Bob', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Contact details' }).click();
    const bobDetails = alice.page.getByRole('region', { name: 'Contact details' });
    await expect(bobDetails).toContainText('Bob');
    await expect(bobDetails.getByRole('img')).toHaveCount(0);

    // Reload: the avatar was saved with the profile (no onboarding again) and the contact's
    // copy is kept too.
    await bob.page.reload();
    await expectRelayReady(bob.page);
    await bob.page.getByRole('button', { name: 'Contact details' }).click();
    await expect(
      bob.page
        .getByRole('region', { name: 'Contact details' })
        .getByRole('img', { name: 'Avatar of Alice' })
    ).toBeVisible();

    await alice.context.close();
    await bob.context.close();
  });

  test('a bad file picked after (or while resizing) a photo leaves no avatar and nothing stuck', async ({
    browser,
    relay
  }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(relay.url);
    await page.getByRole('textbox', { name: 'Display name' }).fill('Alice');
    const picker = page.getByLabel('Avatar (optional)');
    const notes = { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('just text') };
    const preview = page.getByRole('img', { name: 'Your avatar' });
    const remove = page.getByRole('button', { name: 'Remove' });
    const proceed = page.getByRole('button', { name: 'Continue' });

    // A good photo, then a bad file: the error shows and the photo is gone (not saved later).
    await picker.setInputFiles({
      name: 'me.png',
      mimeType: 'image/png',
      buffer: await makePng(page)
    });
    await expect(preview).toBeVisible();
    await picker.setInputFiles(notes);
    await expect(page.getByRole('alert')).toHaveText(/not a picture/);
    await expect(preview).toHaveCount(0);
    await expect(proceed).toBeEnabled();
    // Remove clears the error.
    await remove.click();
    await expect(page.getByRole('alert')).toHaveCount(0);
    await expect(remove).toHaveCount(0);

    // A large photo, and a bad file while it is still being resized: not stuck busy.
    await picker.setInputFiles({
      name: 'big.png',
      mimeType: 'image/png',
      buffer: await makeLargePng(page)
    });
    await picker.setInputFiles(notes);
    await expect(page.getByRole('alert')).toHaveText(/not a picture/);
    await expect(proceed).toBeEnabled();
    await expect(remove).toBeVisible();
    await expect(preview).toHaveCount(0);
    await remove.click();
    await expect(page.getByRole('alert')).toHaveCount(0);

    await proceed.click();
    await expectRelayReady(page);
    await context.close();
  });
});
