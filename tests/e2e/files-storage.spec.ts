/**
 * Settings → Storage in a real browser: a received file is listed with its size, and "Delete
 * <name>" removes this device's copy: every block record and every pack (the Blobs the
 * IndexedDB blockstore writes a batch's blocks into, src/lib/files/idb-packs.ts) is gone, and
 * the file's card offers "Download <name>" again.
 */
import type { Page } from '@playwright/test';
import { expect, goHome, openSettings, test } from './fixtures.js';
import { conversations } from './chat-helpers.js';
import { attach, card, fileOf, MB, pair, saveAndHash, sha256 } from './files-helpers.js';

/** Records in the app's blockstore database (opened beside the app, read only). */
function stored(page: Page): Promise<{ blocks: number; packs: number; blobs: number }> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open('p2p4e-blocks');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const all = <T>(req: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const tx = db.transaction(['blocks', 'packs'], 'readonly');
    const blocks = await all(tx.objectStore('blocks').count());
    const packs: unknown[] = await all(tx.objectStore('packs').getAll());
    db.close();
    return { blocks, packs: packs.length, blobs: packs.filter((p) => p instanceof Blob).length };
  });
}

test('Storage lists a received file and deletes this device’s copy, packs and all', async ({
  browser,
  relay
}) => {
  const { alice, bob } = await pair(browser, relay);
  const data = fileOf(6 * MB);
  await attach(alice.page, [
    { name: 'kept.bin', mimeType: 'application/octet-stream', buffer: data }
  ]);
  await expect(card(bob.page, 'kept.bin')).toBeVisible({ timeout: 30_000 });
  expect(await saveAndHash(bob.page, 'kept.bin')).toBe(sha256(data));

  // 24 sealed 256 KiB blocks and the DAG's root: the big ones in a few packs (Blobs).
  const before = await stored(bob.page);
  expect(before.blocks).toBeGreaterThanOrEqual(25);
  expect(before.packs).toBeGreaterThanOrEqual(1);
  expect(before.packs).toBeLessThan(before.blocks / 4);
  expect(before.blobs).toBe(before.packs);

  await openSettings(bob.page);
  const storage = bob.page.getByRole('region', { name: 'Storage' });
  await expect(storage).toContainText('kept.bin');
  await expect(storage).toContainText('6.3 MB');
  await storage.getByRole('button', { name: 'Delete kept.bin' }).click();
  await expect(storage).not.toContainText('kept.bin');
  expect(await stored(bob.page)).toEqual({ blocks: 0, packs: 0, blobs: 0 });

  // The message stays; the file can be fetched again.
  await goHome(bob.page);
  await conversations(bob.page).getByRole('link', { name: 'Alice' }).click();
  await expect(
    card(bob.page, 'kept.bin').getByRole('button', { name: 'Download kept.bin' })
  ).toBeVisible();
  // Alice's copy is untouched.
  expect((await stored(alice.page)).blocks).toBeGreaterThanOrEqual(25);
});
