/**
 * Files between two browsers (separate contexts: separate IndexedDB blockstores and libp2p
 * nodes), driven only through accessible names: "Attach file", a progressbar named after the
 * file, "Pause" / "Resume" / "Cancel", "Save <file name>", "Share publicly".
 */
import type { Page } from '@playwright/test';
import { expect, test, type AppPage } from './fixtures.js';
import { article, conversations } from './chat-helpers.js';
import { reference } from '../fixtures/unixfs-reference.js';
import {
  attach,
  card,
  fileOf,
  MB,
  pair,
  pattern,
  saveAndHash,
  sha256,
  watchProgress
} from './files-helpers.js';

test.describe('files', () => {
  test('a 25 MB file goes to the other device with progress; the saved copy is identical', async ({
    browser,
    relay
  }) => {
    const { alice, bob } = await pair(browser, relay);
    const data = fileOf(25 * MB);
    await watchProgress(bob.page, 'report.bin');
    await attach(
      alice.page,
      [{ name: 'report.bin', mimeType: 'application/octet-stream', buffer: data }],
      {
        caption: 'the report'
      }
    );
    await expect(article(alice.page, 'the report')).toBeVisible({ timeout: 60_000 });
    // Prepared: from now on Alice's progressbar for it is the sending.
    await watchProgress(alice.page, 'report.bin');
    await expect(card(bob.page, 'report.bin')).toBeVisible({ timeout: 30_000 });
    expect(await saveAndHash(bob.page, 'report.bin')).toBe(sha256(data));
    const progressOf = (page: Page) =>
      page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
    const seen = await progressOf(bob.page);
    // Progress was shown while it came, and it only went forward.
    expect(seen.some((v) => v > 0 && v < data.length)).toBe(true);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
    // And on the sender's side while it went out.
    const sent = await progressOf(alice.page);
    expect(sent.some((v) => v > 0 && v < data.length)).toBe(true);
    expect(sent).toEqual([...sent].sort((x, y) => x - y));
    // The sender can save its own copy too.
    expect(await saveAndHash(alice.page, 'report.bin')).toBe(sha256(data));
  });

  test('a receiver reloaded mid-transfer resumes and completes; pause and resume', async ({
    browser,
    relay
  }) => {
    const { alice, bob } = await pair(browser, relay);
    const data = fileOf(45 * MB);
    await attach(alice.page, [
      { name: 'big.bin', mimeType: 'application/octet-stream', buffer: data }
    ]);
    const bar = card(bob.page, 'big.bin').getByRole('progressbar', { name: 'big.bin' });
    await expect(bar).toBeVisible({ timeout: 60_000 });
    // Pause once some of it is here: it stays paused, with what it has.
    await expect
      .poll(async () => Number(await bar.getAttribute('value')), { timeout: 60_000 })
      .toBeGreaterThan(0);
    await card(bob.page, 'big.bin').getByRole('button', { name: 'Pause' }).click();
    await expect(card(bob.page, 'big.bin').getByRole('button', { name: 'Resume' })).toBeVisible();
    const paused = Number(await bar.getAttribute('value'));
    expect(paused).toBeLessThan(data.length);
    await card(bob.page, 'big.bin').getByRole('button', { name: 'Resume' }).click();
    // It goes on from where it was (blocks asked for again right after Pause gave them up used
    // to be lost inside bitswap for up to ~25 s: patches/@helia+bitswap, want-again.test.ts).
    await expect
      .poll(async () => Number((await bar.getAttribute('value')) ?? 0), { timeout: 30_000 })
      .toBeGreaterThan(paused);
    // Reload in the middle: the transfer picks up where it was.
    await bob.page.reload();
    await conversations(bob.page).getByRole('link', { name: 'Alice' }).click();
    expect(await saveAndHash(bob.page, 'big.bin')).toBe(sha256(data));
  });

  test('images show a preview and open in a viewer', async ({ browser, relay }) => {
    const { alice, bob } = await pair(browser, relay);
    const png = await alice.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(64, 48);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#c33';
      ctx.fillRect(0, 0, 64, 48);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      return [...new Uint8Array(await blob.arrayBuffer())];
    });
    await attach(alice.page, [
      { name: 'red.png', mimeType: 'image/png', buffer: Buffer.from(png) }
    ]);
    const img = card(bob.page, 'red.png').getByRole('img', { name: 'red.png' }).first();
    await expect(img).toBeVisible({ timeout: 60_000 });
    await expect
      .poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
    await expect(
      card(bob.page, 'red.png').getByRole('button', { name: 'Save red.png' })
    ).toBeVisible();
    await img.click();
    const viewer = bob.page.getByRole('dialog', { name: 'red.png' });
    await expect(viewer).toBeVisible();
    await bob.page.keyboard.press('Escape');
    await expect(viewer).toBeHidden();
  });

  test('a video the browser can play plays inline once here', async ({ browser, relay }) => {
    const { alice, bob } = await pair(browser, relay);
    // A short WebM made in the page (canvas + MediaRecorder).
    const webm = await alice.page.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 48;
      const ctx = canvas.getContext('2d')!;
      const stream = canvas.captureStream(10);
      const recorder = new MediaRecorder(stream, { mimeType: 'video/webm' });
      const parts: Blob[] = [];
      recorder.ondataavailable = (e) => parts.push(e.data);
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.start();
      for (let i = 0; i < 10; i++) {
        ctx.fillStyle = `hsl(${i * 36} 80% 50%)`;
        ctx.fillRect(0, 0, 64, 48);
        await new Promise((r) => setTimeout(r, 50));
      }
      recorder.stop();
      await stopped;
      return [...new Uint8Array(await new Blob(parts).arrayBuffer())];
    });
    // Bob's card shows the sender's thumbnail (a frame of the video) until the video is here.
    await bob.page.evaluate(() => {
      const w = window as unknown as { __thumbs: string[] };
      w.__thumbs = [];
      new MutationObserver(() => {
        for (const img of document.querySelectorAll('img[alt="clip.webm"]')) {
          w.__thumbs.push(img.getAttribute('src') ?? '');
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await attach(alice.page, [
      { name: 'clip.webm', mimeType: 'video/webm', buffer: Buffer.from(webm) }
    ]);
    const video = card(bob.page, 'clip.webm').locator('video');
    await expect(video).toBeVisible({ timeout: 60_000 });
    await expect(video).toHaveAccessibleName('clip.webm');
    await expect
      .poll(() => video.evaluate((el) => (el as HTMLVideoElement).readyState))
      .toBeGreaterThanOrEqual(1);
    const thumbs = await bob.page.evaluate(
      () => (window as unknown as { __thumbs: string[] }).__thumbs
    );
    expect(thumbs.some((src) => src.startsWith('data:image/jpeg;base64,'))).toBe(true);
  });

  test('a public share shows the ordinary IPFS CID of its bytes', async ({ browser, relay }) => {
    const { alice, bob } = await pair(browser, relay);
    const size = 2 * MB + 12_345;
    const data = Buffer.alloc(size);
    pattern(data, 0);
    const expected = await reference(size, pattern);
    await attach(
      alice.page,
      [{ name: 'open.bin', mimeType: 'application/octet-stream', buffer: data }],
      {
        public: true
      }
    );
    for (const who of [alice, bob] as AppPage[]) {
      await expect(card(who.page, 'open.bin')).toContainText(`ipfs://${expected}`, {
        timeout: 60_000
      });
    }
    expect(await saveAndHash(bob.page, 'open.bin')).toBe(sha256(data));
  });
});
