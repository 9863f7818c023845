/**
 * First contentful paint of the app (`performance.getEntriesByName('first-contentful-paint')`)
 * and the HTML's arrival, per load. For bench/shell.ts.
 */
import type { Browser, BrowserContextOptions, Page } from '@playwright/test';
import type { RelayHandle } from '../../tests/fixtures/relay.js';
import { TIMEOUT_MS } from './app-pages.js';

export interface Load {
  fcp: number;
  /** Navigation timing: the HTML received. */
  htmlEnd: number;
  /** Immutable scripts this load fetched (paths under build/). */
  scripts: string[];
}

export async function load(page: Page, url: string): Promise<Load> {
  await page.goto(url);
  await page
    .waitForFunction(
      () => performance.getEntriesByName('first-contentful-paint').length > 0,
      undefined,
      { timeout: TIMEOUT_MS, polling: 20 }
    )
    .catch(() => {
      throw new Error(`no first-contentful-paint entry for ${url}`);
    });
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as
      PerformanceNavigationTiming | undefined;
    return {
      fcp: performance.getEntriesByName('first-contentful-paint')[0]!.startTime,
      htmlEnd: nav?.responseEnd ?? Number.NaN,
      scripts: performance
        .getEntriesByType('resource')
        .map((e) => new URL(e.name).pathname)
        .filter((p) => p.startsWith('/_app/immutable/') && p.endsWith('.js'))
        .map((p) => p.slice(1))
    };
  });
}

export interface Loads {
  cold: Load[];
  warm: Load[];
  hot: Load[];
  returning: Load[];
}

/** `count` fresh contexts, each loaded three times (cold, warm, hot). */
export async function measureLoads(
  browser: Browser,
  relay: RelayHandle,
  count: number,
  context: BrowserContextOptions
): Promise<Omit<Loads, 'returning'>> {
  const out: Omit<Loads, 'returning'> = { cold: [], warm: [], hot: [] };
  for (let i = 0; i < count; i++) {
    const fresh = await browser.newContext(context);
    try {
      const page = await fresh.newPage();
      for (const kind of ['cold', 'warm', 'hot'] as const) {
        out[kind].push(await load(page, `${relay.url}/`));
        // Let the HTTP and code caches be written before the next load.
        await page.waitForTimeout(1_000);
      }
    } finally {
      await fresh.close();
    }
  }
  return out;
}
