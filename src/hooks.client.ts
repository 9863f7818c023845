/**
 * Runs before SvelteKit renders the first screen: the page's node (key load, relay dial,
 * reservation) starts here, from a module graph without the messenger's code, so its I/O
 * overlaps loading and compiling the rest of the app and the first render. The stores pick the
 * same node up (boot.browser.ts, app.browser.ts); a failure shows there, on "start".
 */
import type { ClientInit } from '@sveltejs/kit';
import { browserNodeApp } from '$lib/app/boot.browser';

export const init: ClientInit = () => {
  try {
    browserNodeApp()
      .start()
      .catch(() => undefined);
  } catch {
    // Never keep the app from rendering: the page starts it again and shows what went wrong.
  }
};
