/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The app's service worker. For now one job: stream file downloads (src/lib/app/save.browser.ts)
 * so a big received file is saved without ever being whole in the page. Every other request
 * goes to the network untouched.
 */
const sw = self as unknown as ServiceWorkerGlobalScope;

interface Pending {
  stream: ReadableStream<Uint8Array>;
  name: string;
  mime: string;
  size: number;
}
const pending = new Map<string, Pending>();

sw.addEventListener('install', () => {
  void sw.skipWaiting();
});
sw.addEventListener('activate', (event) => {
  event.waitUntil(sw.clients.claim());
});

sw.addEventListener('message', (event) => {
  const data = event.data as {
    type?: unknown;
    id?: unknown;
    name?: unknown;
    mime?: unknown;
    size?: unknown;
    ahead?: unknown;
  };
  const port = event.ports[0];
  if (data?.type !== 'p2p4e-download' || port === undefined || typeof data.id !== 'string') return;
  const ahead = typeof data.ahead === 'number' ? data.ahead : 4;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        port.onmessage = (
          e: MessageEvent<{ chunk?: Uint8Array; end?: boolean; error?: string }>
        ) => {
          if (e.data.chunk !== undefined) {
            controller.enqueue(e.data.chunk);
            port.postMessage({ pull: 1 });
          } else if (e.data.end === true) {
            controller.close();
            port.close();
          } else if (e.data.error !== undefined) {
            controller.error(new Error(e.data.error));
            port.close();
          }
        };
        port.postMessage({ pull: ahead });
      },
      cancel() {
        port.postMessage({ cancel: true });
        port.close();
      }
    },
    { highWaterMark: ahead }
  );
  pending.set(data.id, {
    stream,
    name: typeof data.name === 'string' ? data.name : 'file',
    mime: typeof data.mime === 'string' ? data.mime : 'application/octet-stream',
    size: typeof data.size === 'number' ? data.size : -1
  });
  // Not claimed within a minute: dropped.
  setTimeout(() => pending.delete(data.id as string), 60_000);
  port.postMessage({ ready: true });
});

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const at = url.pathname.lastIndexOf('/_download/');
  if (url.origin !== sw.location.origin || at < 0) return;
  const id = url.pathname.slice(at + '/_download/'.length);
  const download = pending.get(id);
  pending.delete(id);
  if (download === undefined) {
    event.respondWith(new Response('This download is no longer available.', { status: 404 }));
    return;
  }
  const ascii = download.name.replace(/[^\x20-\x7e]|["\\]/gu, '_');
  const headers = new Headers({
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(download.name)}`,
    'X-Content-Type-Options': 'nosniff'
  });
  if (download.size >= 0) headers.set('Content-Length', String(download.size));
  event.respondWith(new Response(download.stream, { headers }));
});
