import {
  connectDirect,
  expect,
  expectRelayReady,
  openApp,
  openSettings,
  peerItem,
  readPeerId,
  test
} from './fixtures.js';

test.describe('two browsers reach each other', () => {
  test('both reach the relay, connect, and see each other as direct', async ({
    browser,
    relay
  }) => {
    const alice = await openApp(browser, relay);
    const bob = await openApp(browser, relay);
    expect(alice.peerId).not.toBe(bob.peerId);

    // Once reserved, the device is reachable at a circuit address on the relay, and WebRTC
    // (Settings → This device).
    await openSettings(alice.page);
    await alice.page.getByText(/^Addresses \(\d+\)$/).click();
    const addresses = alice.page.getByRole('list', { name: "This device's addresses" });
    await expect(addresses).toContainText(`/p2p/${relay.peerId}/p2p-circuit/p2p/${alice.peerId}`);
    await expect(addresses).toContainText('/webrtc');

    await connectDirect(alice, bob);
    // Round-trip time shows up once the first ping returns.
    await expect(peerItem(alice.page, bob.peerId)).toContainText(/\d+(\.\d+)? ms/);
    await expect(peerItem(bob.page, alice.peerId)).toContainText(/\d+(\.\d+)? ms/);

    await alice.context.close();
    await bob.context.close();
  });

  test('a reload keeps the device peer ID', async ({ browser, relay }) => {
    const alice = await openApp(browser, relay);
    await alice.page.reload();
    await expectRelayReady(alice.page);
    expect(await readPeerId(alice.page)).toBe(alice.peerId);

    // A fresh context is a fresh device with another ID.
    const other = await openApp(browser, relay);
    expect(other.peerId).not.toBe(alice.peerId);
    await alice.context.close();
    await other.context.close();
  });

  test('an unknown peer ID gets a clear error, not a hang', async ({ browser, relay }) => {
    const alice = await openApp(browser, relay);
    const bob = await openApp(browser, relay);
    const bobId = bob.peerId;
    await bob.context.close(); // Bob is gone: nobody answers to his ID any more.

    await openSettings(alice.page);
    const field = alice.page.getByRole('textbox', { name: 'Peer ID or link' });
    const connect = alice.page.getByRole('button', { name: /^Connect(ing…)?$/ });
    const alert = alice.page.getByRole('alert');
    await field.fill(bobId);
    await connect.click();
    // Words that say what happened, not "Something went wrong", and the form is usable again.
    await expect(alert).toHaveText(
      "Couldn't reach that device. Check that it's online with the app open and uses the same relay.",
      { timeout: 60_000 }
    );
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(connect).toBeEnabled();

    await field.fill('not a peer id');
    await connect.click();
    await expect(alert).toHaveText("That doesn't look like a peer ID or a link from this app.");
    await alice.context.close();
  });

  test('20 fresh pairs all connect directly (the dial stall is retried)', async ({
    browser,
    relay
  }) => {
    test.setTimeout(600_000);
    for (let i = 0; i < 20; i++) {
      const a = await openApp(browser, relay);
      const b = await openApp(browser, relay);
      await connectDirect(a, b);
      await a.context.close();
      await b.context.close();
    }
  });
});
