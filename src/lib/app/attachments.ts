/**
 * Files in conversations: attach (encrypt, store, then send the message that carries the
 * record), fetch what others attached from the members who have it, with progress, pause,
 * resume, cancel, and resume after a reload (unfinished fetches are remembered; the blocks
 * already stored are not fetched again). No Svelte: the FilesStore adapts this to runes.
 *
 * ```ts
 * const attachments = createAttachments({ chat, libp2p: () => node.libp2p, blockstore });
 * await attachments.start();
 * await attachments.attach(conversationId, [file], { caption: 'the slides' });
 * attachments.onChange((id) => render(attachments.get(id)));
 * ```
 */
import { createFiles, storedSize, type Files, type FileSource } from '../files/files.js';
import { FileUnavailableError } from '../files/errors.js';
import { checkRoom, providersOf, recordReader, watchDirect } from './attachment-io.js';
import { encodeFileRecord, type FileRecord } from '../files/record.js';
import {
  describeFileError,
  etaOf,
  Meter,
  plainBytes,
  type TransferView
} from './transfer-state.js';
import type * as T from './attachments-types.js';
import { syncServing } from './serving-view.js';
import { createTransferLog, type TransferLog } from './transfer-log.js';

export type { TransferView, TransferState } from './transfer-state.js';
export type * from './attachments-types.js';

/** Files up to this size are fetched as soon as they are seen; bigger ones when asked. */
export const AUTO_DOWNLOAD_MAX = 512 * 1024 * 1024;
/** Fetches running at once (the rest wait in line). */
const MAX_ACTIVE = 2;
/** How often transfers waiting for a member look for a direct connection to one. */
const RECHECK_MS = 5_000;

interface Job {
  view: TransferView;
  record?: FileRecord;
  abort?: AbortController;
  meter: Meter;
  dropped: Set<string>;
  /** Stops following what this device sends of the stored file. */
  unserve?: () => void;
}

export function createAttachments(config: T.AttachmentsConfig): T.Attachments {
  return new AttachmentService(config);
}

class AttachmentService implements T.Attachments {
  private files: Files | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly listeners = new Set<(id: string) => void>();
  private readonly readRecord: ReturnType<typeof recordReader>;
  private readonly log: TransferLog;
  private readonly now: () => number;
  private offConnect: (() => void) | undefined;
  private active = 0;

  constructor(private readonly config: T.AttachmentsConfig) {
    this.log = config.log ?? createTransferLog();
    this.now = config.now ?? Date.now;
    this.readRecord = recordReader(config.chat);
  }

  async start(): Promise<void> {
    const libp2p = this.config.libp2p();
    this.files = await createFiles({
      libp2p,
      blockstore: this.config.blockstore,
      ...(this.config.stallMs !== undefined ? { stallMs: this.config.stallMs } : {})
    });
    this.offConnect = watchDirect(libp2p, RECHECK_MS, (peer) => this.retryWaiting(peer));
    for (const entry of this.log.unfinished()) {
      if (entry.paused) this.restorePaused(entry.conversationId, entry.messageId);
      else this.download(entry.conversationId, entry.messageId);
    }
  }

  async stop(): Promise<void> {
    this.offConnect?.();
    for (const job of this.jobs.values()) {
      job.abort?.abort(new DOMException('stopped', 'AbortError'));
      job.unserve?.();
      job.unserve = undefined;
    }
    await this.files?.stop();
    this.files = undefined;
  }

  onChange(listener: (id: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(id: string): TransferView | undefined {
    return this.jobs.get(id)?.view;
  }

  preparing(conversationId: string): TransferView[] {
    return [...this.jobs.values()]
      .map((j) => j.view)
      .filter((v) => v.conversationId === conversationId && v.state === 'preparing');
  }

  private emit(job: Job, patch: Partial<TransferView>): void {
    job.view = { ...job.view, ...patch };
    // A file stored here whole is sent to whoever fetches it: its card shows that.
    syncServing(job, this.files, {
      now: this.now,
      idleMs: this.config.servingIdleMs,
      onChange: (serving) => this.emit(job, { serving })
    });
    for (const l of this.listeners) l(job.view.id);
  }

  private requireFiles(): Files {
    if (this.files === undefined) throw new Error('files are not started');
    return this.files;
  }

  // --- sending ---------------------------------------------------------------------------

  async attach(
    conversationId: string,
    sources: FileSource[],
    options: T.AttachOptions = {}
  ): Promise<string[]> {
    const files = this.requireFiles();
    const ids: string[] = [];
    for (const [i, source] of sources.entries()) {
      const local = `prep-${crypto.randomUUID()}`;
      const job = this.newJob(local, conversationId, source, 'send', 'preparing');
      try {
        await checkRoom(this.config.estimate, source.name, source.size);
        const preview = await this.config.preview?.(source).catch(() => undefined);
        const record = await files.add(source, {
          public: options.public === true,
          signal: job.abort!.signal,
          onProgress: (bytes) => this.progress(job, bytes),
          ...(preview !== undefined ? { preview } : {})
        });
        const id = this.config.chat.send(conversationId, i === 0 ? (options.caption ?? '') : '', {
          file: encodeFileRecord(record),
          ...(i === 0 && options.replyTo !== undefined ? { replyTo: options.replyTo } : {})
        });
        this.jobs.delete(local);
        this.emit(job, { state: 'done', bytes: source.size, speed: 0, eta: undefined });
        this.log.stored({ conversationId, messageId: id, name: record.name, size: record.size });
        const done = this.newJob(id, conversationId, record, 'send', 'done');
        done.record = record;
        this.emit(done, { bytes: record.size });
        ids.push(id);
      } catch (err) {
        this.jobs.delete(local);
        const cancelled = job.abort!.signal.aborted;
        this.emit(job, {
          state: cancelled ? 'cancelled' : 'failed',
          error: describeFileError(err)
        });
        if (!cancelled) throw err;
      }
    }
    return ids;
  }

  private newJob(
    id: string,
    conversationId: string,
    file: { name: string; size: number; type: string },
    direction: 'send' | 'receive',
    state: TransferView['state']
  ): Job {
    const { name, size, type } = file;
    const view = { id, conversationId, name, size, type, direction, state, bytes: 0, speed: 0 };
    const job: Job = {
      view,
      abort: new AbortController(),
      meter: new Meter(this.now),
      dropped: new Set()
    };
    this.jobs.set(id, job);
    this.emit(job, {});
    return job;
  }

  private progress(job: Job, bytes: number): void {
    const speed = job.meter.sample(bytes);
    this.emit(job, { bytes, speed, eta: etaOf(bytes, job.view.size, speed) });
  }

  // --- receiving -------------------------------------------------------------------------

  attachmentOf(conversationId: string, messageId: string): T.AttachmentOf | undefined {
    return this.readRecord(conversationId, messageId);
  }

  ensure(conversationId: string, messageId: string): void {
    if (this.jobs.has(messageId) || this.files === undefined) return;
    const record = this.attachmentOf(conversationId, messageId)?.record;
    if (record === undefined) return;
    const job = this.newJob(messageId, conversationId, record, 'receive', 'queued');
    job.record = record;
    const auto = record.size <= (this.config.autoDownloadMax ?? AUTO_DOWNLOAD_MAX);
    const total = storedSize(record);
    void this.requireFiles()
      .stored(record)
      .then(
        (stored) => {
          if (stored === total) this.emit(job, { state: 'done', bytes: record.size });
          else if (job.view.state !== 'queued') return;
          else if (auto) this.enqueue(job);
          else
            this.emit(job, { state: 'available', bytes: plainBytes(stored, total, record.size) });
        },
        (err: unknown) => this.emit(job, { state: 'failed', error: describeFileError(err) })
      );
  }

  download(conversationId: string, messageId: string): void {
    const job = this.jobs.get(messageId);
    if (job === undefined) {
      const record = this.attachmentOf(conversationId, messageId)?.record;
      if (record === undefined || this.files === undefined) return;
      const fresh = this.newJob(messageId, conversationId, record, 'receive', 'queued');
      fresh.record = record;
      this.enqueue(fresh);
      return;
    }
    if (job.view.state !== 'downloading' && job.view.state !== 'done') this.enqueue(job);
  }

  private restorePaused(conversationId: string, messageId: string): void {
    const record = this.attachmentOf(conversationId, messageId)?.record;
    if (record === undefined) return this.log.forget(messageId);
    const job = this.newJob(messageId, conversationId, record, 'receive', 'paused');
    job.record = record;
    const total = storedSize(record);
    void this.requireFiles()
      .stored(record)
      .then((stored) => {
        if (job.view.state === 'paused') {
          this.emit(job, { bytes: plainBytes(stored, total, record.size) });
        }
      })
      .catch(() => undefined);
  }

  private enqueue(job: Job): void {
    job.abort = new AbortController();
    this.emit(job, { state: 'queued', error: undefined });
    this.log.unfinishedAdd({
      conversationId: job.view.conversationId,
      messageId: job.view.id,
      paused: false
    });
    this.pump();
  }

  private pump(): void {
    for (const job of this.jobs.values()) {
      if (this.active >= MAX_ACTIVE) return;
      if (
        job.view.state === 'queued' &&
        job.view.direction === 'receive' &&
        job.record !== undefined
      ) {
        void this.run(job, job.record);
      }
    }
  }

  private providersOf(job: Job): string[] {
    return providersOf(this.config.chat, job.view.conversationId, job.view.id);
  }

  private async run(job: Job, record: FileRecord): Promise<void> {
    this.active++;
    const signal = job.abort!.signal;
    job.meter.reset();
    this.emit(job, { state: 'downloading', speed: 0, eta: undefined });
    const total = storedSize(record);
    try {
      const had = await this.requireFiles().stored(record);
      await checkRoom(this.config.estimate, record.name, total - had);
      // The fetch counts the blocks it finds here again first: the bar stays where it was.
      const floor = plainBytes(had, total, record.size);
      await this.requireFiles().fetch(record, {
        providers: this.providersOf(job),
        signal,
        dropped: job.dropped,
        onProgress: (p) =>
          this.progress(job, Math.max(floor, plainBytes(p.bytes, total, record.size)))
      });
      // Every segment is authenticated: a wrong key shows on the first one, now rather than
      // when the file is opened.
      if (record.size > 0) await this.requireFiles().read(record, { start: 0, end: 1 }).next();
      this.log.forget(job.view.id);
      this.log.stored({
        conversationId: job.view.conversationId,
        messageId: job.view.id,
        name: record.name,
        size: record.size
      });
      this.emit(job, { state: 'done', bytes: record.size, speed: 0, eta: undefined });
    } catch (err) {
      if (signal.aborted) {
        // pause() or cancel() set the state already.
      } else if (err instanceof FileUnavailableError) {
        this.emit(job, { state: 'waiting', speed: 0, eta: undefined, error: err.message });
      } else {
        this.log.forget(job.view.id);
        this.emit(job, {
          state: 'failed',
          speed: 0,
          eta: undefined,
          error: describeFileError(err)
        });
      }
    } finally {
      this.active--;
      this.pump();
    }
  }

  /** `peer` is directly reachable (again): transfers waiting for it go on, it is asked again. */
  private retryWaiting(peer: string): void {
    for (const job of this.jobs.values()) {
      if (job.view.state === 'waiting' && this.providersOf(job).includes(peer)) {
        job.dropped.delete(peer);
        this.enqueue(job);
      }
    }
  }

  pause(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined || job.view.direction !== 'receive') return;
    if (!['queued', 'downloading', 'waiting'].includes(job.view.state)) return;
    this.emit(job, { state: 'paused', speed: 0, eta: undefined });
    job.abort?.abort(new DOMException('paused', 'AbortError'));
    this.log.unfinishedAdd({
      conversationId: job.view.conversationId,
      messageId: id,
      paused: true
    });
  }

  resume(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    if (['paused', 'waiting', 'failed', 'cancelled', 'available'].includes(job.view.state)) {
      // Asked by the person: every member is worth asking again.
      job.dropped.clear();
      this.enqueue(job);
    }
  }

  cancel(id: string): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    const { state, direction } = job.view;
    if (state === 'done' || state === 'cancelled') return;
    this.emit(job, { state: 'cancelled', speed: 0, eta: undefined, bytes: 0 });
    job.abort?.abort(new DOMException('cancelled', 'AbortError'));
    if (direction === 'receive') {
      this.log.forget(id);
      if (job.record !== undefined) void this.files?.remove(job.record).catch(() => undefined);
    }
  }

  read(record: FileRecord, range?: { start: number; end: number }): AsyncGenerator<Uint8Array> {
    return this.requireFiles().read(record, range);
  }

  async removeLocal(conversationId: string, messageId: string): Promise<void> {
    const record = this.attachmentOf(conversationId, messageId)?.record;
    this.log.forget(messageId);
    this.log.unstored(messageId);
    const job = this.jobs.get(messageId);
    job?.abort?.abort(new DOMException('removed', 'AbortError'));
    if (record !== undefined) await this.requireFiles().remove(record);
    if (job !== undefined)
      this.emit(job, { state: 'available', bytes: 0, speed: 0, eta: undefined });
  }

  stored() {
    return this.log.storedFiles();
  }
}
