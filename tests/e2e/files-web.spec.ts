/**
 * "Put on the web": a relay whose operator keeps public shares says so in its relay-info; the
 * card of a stored public file offers "Put on the web", the relay fetches the file from the
 * device, and the card shows a web link that opens the file for anyone (the relay's gateway).
 */
import { expect, test } from './fixtures.js';
import { conversations } from './chat-helpers.js';
import { attach, card, fileOf, MB, pair, pattern, sha256 } from './files-helpers.js';
import { reference } from '../fixtures/unixfs-reference.js';

test.use({ relayArgs: ['--public-shares-quota', '50MB'] });

test.describe('files on the web', () => {
  test('a public file put on the web opens from its web link, identical', async ({
    browser,
    relay
  }) => {
    const { alice, bob } = await pair(browser, relay);
    const data = fileOf(3 * MB + 5);
    await attach(
      alice.page,
      [{ name: 'open data.bin', mimeType: 'application/octet-stream', buffer: data }],
      { public: true }
    );
    const mine = card(alice.page, 'open data.bin');
    await expect(mine.getByRole('button', { name: 'Save open data.bin' })).toBeVisible({
      timeout: 60_000
    });
    await mine.getByRole('button', { name: 'Put on the web' }).click();
    const link = mine.getByRole('link', { name: 'Open web link' });
    await expect(link).toBeVisible({ timeout: 60_000 });
    const href = (await link.getAttribute('href')) ?? '';
    const cid = await reference(data.length, pattern);
    expect(href).toBe(`${relay.url}/ipfs/${cid}?filename=open+data.bin`);
    // Anyone (here: Node's fetch, no app) gets the file from the relay.
    const res = await fetch(href);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('open data.bin');
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(data));
    // Bob sees the public file; once he has it, he can put it on the web too (already kept).
    await conversations(bob.page).getByRole('link', { name: 'Alice' }).click();
    const his = card(bob.page, 'open data.bin');
    await expect(his.getByRole('button', { name: 'Save open data.bin' })).toBeVisible({
      timeout: 60_000
    });
    await his.getByRole('button', { name: 'Put on the web' }).click();
    await expect(his.getByRole('link', { name: 'Open web link' })).toHaveAttribute('href', href);
  });
});
