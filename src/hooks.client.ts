/**
 * Runs before SvelteKit renders the first screen: the app (key load, node, relay dial and
 * reservation) starts here, so its I/O overlaps the router's start and the first render
 * instead of waiting for the page component.
 */
import type { ClientInit } from '@sveltejs/kit';
import { browserStores } from '$lib/stores/chat.svelte';

export const init: ClientInit = () => {
  void browserStores().chat.start();
};
