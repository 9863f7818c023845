/**
 * Saving a stored file as a normal browser download without holding it in the page: the bytes
 * stream through the service worker (src/service-worker.ts), which answers a navigation to
 * `_download/<id>` with them as an attachment, pulling chunk by chunk over a MessageChannel.
 * Where no service worker controls the page (first visit before it activates, private modes
 * that refuse one), the file is put together as a Blob from its parts and saved from that.
 */
import type { SaveTarget } from '../stores/files.svelte.js';

/** Chunks the page sends ahead of the service worker's reads. */
const AHEAD = 4;

export function browserSaveTarget(): SaveTarget {
  return {
    async save(name, type, size, chunks) {
      const worker = navigator.serviceWorker?.controller;
      if (worker != null) await streamThroughWorker(worker, name, type, size, chunks);
      else await saveAsBlob(name, type, chunks);
    }
  };
}

async function streamThroughWorker(
  worker: ServiceWorker,
  name: string,
  type: string,
  size: number,
  chunks: AsyncIterable<Uint8Array>
): Promise<void> {
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  const port = channel.port1;
  const iterator = chunks[Symbol.asyncIterator]();
  let credit = 0;
  let sending = false;
  const done = new Promise<void>((resolve, reject) => {
    const send = async (): Promise<void> => {
      if (sending) return;
      sending = true;
      try {
        while (credit > 0) {
          const next = await iterator.next();
          if (next.done === true) {
            port.postMessage({ end: true });
            resolve();
            return;
          }
          credit--;
          const copy = next.value.slice();
          port.postMessage({ chunk: copy }, [copy.buffer]);
        }
      } catch (err) {
        port.postMessage({ error: (err as Error).message });
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        sending = false;
      }
    };
    port.onmessage = (e: MessageEvent<{ pull?: number; cancel?: boolean; ready?: boolean }>) => {
      if (e.data.ready === true) {
        // The worker holds the stream: navigate a hidden frame to it to start the download.
        const frame = document.createElement('iframe');
        frame.hidden = true;
        frame.src = new URL(`_download/${id}`, document.baseURI).href;
        document.body.append(frame);
        setTimeout(() => frame.remove(), 60_000);
      } else if (e.data.cancel === true) {
        void iterator.return?.(undefined);
        reject(new Error('the download was cancelled'));
      } else if (typeof e.data.pull === 'number') {
        credit += e.data.pull;
        void send();
      }
    };
  });
  worker.postMessage({ type: 'p2p4e-download', id, name, mime: type, size, ahead: AHEAD }, [
    channel.port2
  ]);
  await done;
}

async function saveAsBlob(name: string, type: string, chunks: AsyncIterable<Uint8Array>) {
  const parts: Blob[] = [];
  let batch: Uint8Array<ArrayBuffer>[] = [];
  let batchBytes = 0;
  for await (const chunk of chunks) {
    batch.push(chunk as Uint8Array<ArrayBuffer>);
    batchBytes += chunk.length;
    // Parts go into Blobs (the browser's storage, not the page's heap) 16 MiB at a time.
    if (batchBytes >= 16 * 1024 * 1024) {
      parts.push(new Blob(batch));
      batch = [];
      batchBytes = 0;
    }
  }
  parts.push(new Blob(batch));
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
