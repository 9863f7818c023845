/**
 * The UI's view of files in conversations: each transfer's progress as reactive state (only the
 * rows showing a transfer re-render when it moves), attaching, pause/resume/cancel, saving a
 * file as a download and image previews. Over the Attachments service (src/lib/app/attachments.ts).
 *
 * ```svelte
 * {@const file = files.attachment(conversationId, message.id)}
 * {@const t = files.view(message.id)}
 * <progress aria-label={file.record.name} value={t?.bytes} max={file.record.size}></progress>
 * ```
 */
import { SvelteMap } from 'svelte/reactivity';
import type { AttachmentOf, Attachments, TransferView } from '$lib/app/attachments';
import { formatBytes } from '$lib/app/bytes';
import type { FileSource } from '$lib/files/files';
import { isPublic, type FileRecord } from '$lib/files/record';
import type { WebShares, WebShareView } from '$lib/app/web-shares';

/** Images up to this size are shown inline once stored (bigger ones: the thumbnail only). */
const MAX_INLINE_IMAGE = 40 * 1024 * 1024;
const INLINE_TYPES = /^image\/(jpeg|png|gif|webp|avif|bmp)$/u;
/** Videos the browser may play, up to this size, play inline once stored. */
const MAX_INLINE_VIDEO = 200 * 1024 * 1024;
const VIDEO_TYPES = /^video\/(mp4|webm|ogg)$/u;

export interface SaveTarget {
  /** Streams `chunks` out as a download named `name`. */
  save(name: string, type: string, size: number, chunks: AsyncIterable<Uint8Array>): Promise<void>;
}

export class FilesStore {
  readonly #att: Attachments;
  readonly #target: SaveTarget;
  readonly #views = new SvelteMap<string, TransferView>();
  // A cache, not state: nothing renders from the map itself.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #urls = new Map<string, Promise<string | undefined>>();
  #off: (() => void) | undefined;
  readonly #web: WebShares | undefined;
  readonly #webViews = new SvelteMap<string, WebShareView>();
  #offWeb: (() => void) | undefined;

  /** Last attach or save error per conversation, in words for people. */
  readonly errors = new SvelteMap<string, string>();

  constructor(attachments: Attachments, target: SaveTarget, web?: WebShares) {
    this.#att = attachments;
    this.#target = target;
    this.#web = web;
  }

  start(): void {
    this.#offWeb ??= this.#web?.onChange((id) => {
      const view = this.#web?.view(id);
      if (view !== undefined) this.#webViews.set(id, view);
    });
    this.#off ??= this.#att.onChange((id) => {
      const view = this.#att.get(id);
      if (
        view === undefined ||
        (view.state === 'done' && view.direction === 'send' && id.startsWith('prep-'))
      ) {
        this.#views.delete(id);
      } else {
        this.#views.set(id, view);
      }
    });
  }

  stop(): void {
    this.#off?.();
    this.#off = undefined;
    this.#offWeb?.();
    this.#offWeb = undefined;
    for (const url of this.#urls.values())
      void url.then((u) => u !== undefined && URL.revokeObjectURL(u));
    this.#urls.clear();
  }

  /** The transfer of a message's file (or a preparing one), reactive. */
  view(id: string): TransferView | undefined {
    return this.#views.get(id);
  }

  /** Files of a conversation being prepared before their message is sent, reactive. */
  preparing(conversationId: string): TransferView[] {
    return [...this.#views.values()].filter(
      (v) => v.conversationId === conversationId && v.state === 'preparing'
    );
  }

  /** A message's attachment (record or error); also makes sure it is here or on its way. */
  attachment(conversationId: string, messageId: string): AttachmentOf | undefined {
    const of = this.#att.attachmentOf(conversationId, messageId);
    if (of?.record !== undefined) this.#att.ensure(conversationId, messageId);
    return of;
  }

  async attach(
    conversationId: string,
    files: FileSource[],
    options: { caption?: string; public?: boolean; replyTo?: string } = {}
  ): Promise<boolean> {
    this.errors.delete(conversationId);
    try {
      await this.#att.attach(conversationId, files, options);
      return true;
    } catch (err) {
      this.errors.set(conversationId, (err as Error).message || 'The file could not be sent.');
      return false;
    }
  }

  download(conversationId: string, messageId: string): void {
    this.#att.download(conversationId, messageId);
  }
  pause(id: string): void {
    this.#att.pause(id);
  }
  resume(id: string): void {
    this.#att.resume(id);
  }
  cancel(id: string): void {
    this.#att.cancel(id);
  }

  /** Saves the stored file as a normal browser download. */
  async save(conversationId: string, record: FileRecord): Promise<void> {
    this.errors.delete(conversationId);
    try {
      await this.#target.save(record.name, record.type, record.size, this.#att.read(record));
    } catch (err) {
      this.errors.set(
        conversationId,
        `“${record.name}” could not be saved: ${(err as Error).message || 'unknown error'}`
      );
    }
  }

  /** Whether the UI shows the stored file itself as an image. */
  inlineImage(record: FileRecord): boolean {
    return INLINE_TYPES.test(record.type) && record.size <= MAX_INLINE_IMAGE;
  }

  /** Whether the UI plays the stored file itself as a video (where the browser can). */
  inlineVideo(record: FileRecord): boolean {
    return VIDEO_TYPES.test(record.type) && record.size <= MAX_INLINE_VIDEO;
  }

  /** An object URL of a stored image or video (made once, kept while the page lives). */
  imageUrl(messageId: string, record: FileRecord): Promise<string | undefined> {
    let url = this.#urls.get(messageId);
    if (url === undefined) {
      url = (async () => {
        if (!this.inlineImage(record) && !this.inlineVideo(record)) return undefined;
        const parts: Uint8Array<ArrayBuffer>[] = [];
        for await (const part of this.#att.read(record))
          parts.push(part as Uint8Array<ArrayBuffer>);
        return URL.createObjectURL(new Blob(parts, { type: record.type }));
      })().catch(() => undefined);
      this.#urls.set(messageId, url);
    }
    return url;
  }

  async removeLocal(conversationId: string, messageId: string): Promise<void> {
    const url = this.#urls.get(messageId);
    this.#urls.delete(messageId);
    void url?.then((u) => u !== undefined && URL.revokeObjectURL(u));
    await this.#att.removeLocal(conversationId, messageId);
  }

  stored(): { conversationId: string; messageId: string; name: string; size: number }[] {
    return this.#att.stored();
  }

  /** The public link of an unencrypted file (`ipfs://<cid>`), undefined for an encrypted one. */
  publicLink(record: FileRecord): string | undefined {
    return record.key === undefined ? `ipfs://${record.cid}` : undefined;
  }

  /** Copies a public file's link; false when there is none or the clipboard refused. */
  async copyLink(record: FileRecord): Promise<boolean> {
    const link = this.publicLink(record);
    return link !== undefined && (await copyText(link));
  }

  /** A public file can be put on the web: the relay that served the app keeps such files. */
  canPutOnWeb(record: FileRecord): boolean {
    return isPublic(record) && this.#web?.gateway() !== undefined;
  }

  /** Where the public file of message `id` stands with the web gateway, reactive. */
  webView(id: string): WebShareView | undefined {
    return this.#webViews.get(id);
  }

  /** Asks the relay to keep the stored public file of message `id` and serve it on the web. */
  putOnWeb(id: string, record: FileRecord): void {
    this.#web?.put(id, record);
  }

  /** Copies a file's web link; false when the clipboard refused. */
  async copyWebLink(url: string): Promise<boolean> {
    return copyText(url);
  }
}

async function copyText(text: string): Promise<boolean> {
  try {
    await globalThis.navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** "1 s", "45 s", "3 min", "1 h 5 min": how long is left, in words. */
export function durationText(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const min = Math.ceil(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return rest === 0 ? `${h} h` : `${h} h ${rest} min`;
}

/**
 * "3.2 MB of 25 MB · 4.1 MB/s · 6 s left" for a moving transfer (speed and time left only
 * while known), "Queued", "Paused" or "Waiting for someone who has it to come online".
 */
/** What this device is sending of a stored file, in words. */
export function servingText(serving: NonNullable<TransferView['serving']>): string {
  const parts = [`Sending · ${formatBytes(serving.bytes)} of ${formatBytes(serving.total)}`];
  if (serving.speed > 0) parts.push(`${formatBytes(serving.speed)}/s`);
  if (serving.eta !== undefined) parts.push(`${durationText(serving.eta)} left`);
  return parts.join(' · ');
}

export function transferText(view: TransferView): string {
  const format = formatBytes;
  switch (view.state) {
    case 'queued':
      return 'Queued';
    case 'paused':
      return 'Paused';
    case 'waiting':
      return 'Waiting for someone who has it to come online';
    default: {
      const parts = [`${format(view.bytes)} of ${format(view.size)}`];
      if (view.speed > 0) parts.push(`${format(view.speed)}/s`);
      if (view.eta !== undefined) parts.push(`${durationText(view.eta)} left`);
      const text = parts.join(' · ');
      return view.state === 'preparing' ? `Preparing… ${text}` : text;
    }
  }
}
