/**
 * Click → painted, measured in the page: from a click event (a capture listener) until a text
 * is shown in the log "Messages" and that frame is rendered. For bench/shell.ts.
 */
import type { Locator, Page } from '@playwright/test';
import { TIMEOUT_MS } from './app-pages.js';

/** Resolves when the page's main thread has been idle once (after a short pause). */
async function idle(page: Page): Promise<void> {
  await page.waitForTimeout(50);
  await page.evaluate(
    'new Promise((resolve) => requestIdleCallback(() => resolve(), { timeout: 2000 }))'
  );
}

export interface Timing {
  /** ms from the click event to: the newest message shown, the next frame, that frame rendered. */
  dom: number;
  frame: number;
  painted: number;
}

/**
 * Arms the page: from the next click event (a capture listener), until `text` is in an article
 * of the log "Messages" (`dom`: a MutationObserver that reads no geometry, so the measure forces
 * no layout between the app's updates) and inside the log's box (checked in each animation
 * frame: `frame`), then a message posted from that frame (`painted`: after its rendering). `text` null: nothing to wait for (the floor). A string, not a function: tsx would
 * wrap named inner functions in a helper the page lacks.
 */
const armScript = (text: string | null): string => `(() => {
  const text = ${JSON.stringify(text)};
  const now = () => performance.now();
  const labelOf = (el) => {
    const label = el.getAttribute('aria-label');
    if (label !== null) return label.trim();
    return (el.getAttribute('aria-labelledby') ?? '')
      .split(/\\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ')
      .trim();
  };
  const logOf = () =>
    [...document.querySelectorAll('[role="log"]')].find((el) => labelOf(el) === 'Messages');
  // In the DOM: no layout read (a MutationObserver callback runs between the app's own DOM
  // updates; reading geometry there would force layouts the app never asked for).
  const inDom = () => {
    if (text === null) return true;
    const log = logOf();
    if (log === undefined) return false;
    for (const row of log.querySelectorAll('article')) if (row.textContent.includes(text)) return true;
    return false;
  };
  // In view: read in an animation frame, where the layout is due anyway.
  const shown = () => {
    if (text === null) return true;
    const log = logOf();
    if (log === undefined) return false;
    const box = log.getBoundingClientRect();
    for (const row of log.querySelectorAll('article')) {
      if (!row.textContent.includes(text)) continue;
      const r = row.getBoundingClientRect();
      return r.height > 0 && r.bottom > box.top && r.top < box.bottom;
    }
    return false;
  };
  window.__switch = new Promise((resolve, reject) => {
    let clickAt;
    let done = false;
    let observer;
    let raf = 0;
    const cleanup = () => {
      clearTimeout(timer);
      observer?.disconnect();
      cancelAnimationFrame(raf);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('not shown within ${TIMEOUT_MS} ms: ' + text));
    }, ${TIMEOUT_MS});
    const rendered = (dom, frame) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve({ clickAt, dom, frame, painted: now() });
      channel.port2.postMessage(0);
    };
    let domAt;
    const seen = () => {
      if (domAt === undefined && clickAt !== undefined && inDom()) domAt = now();
    };
    // Each frame: in view yet? Then that frame's rendering ends the measure.
    const loop = () => {
      if (done || clickAt === undefined) return;
      seen();
      if (domAt !== undefined && shown()) {
        done = true;
        const frame = now();
        cleanup();
        rendered(domAt, frame);
        return;
      }
      raf = requestAnimationFrame(loop);
    };
    window.addEventListener(
      'click',
      () => {
        clickAt = now();
        observer = new MutationObserver(seen);
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
        seen();
        raf = requestAnimationFrame(loop);
      },
      { capture: true, once: true }
    );
  });
})()`;

export async function timedClick(
  page: Page,
  target: Locator,
  text: string | null
): Promise<Timing> {
  await idle(page);
  await page.evaluate(armScript(text));
  await target.click();
  const t = (await page.evaluate('window.__switch')) as Timing & { clickAt: number };
  return { dom: t.dom - t.clickAt, frame: t.frame - t.clickAt, painted: t.painted - t.clickAt };
}
