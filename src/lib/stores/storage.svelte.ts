/**
 * Settings → Storage: how much this site keeps on the device and how much it may, whether the
 * browser keeps it for good (persistent storage), and the files stored here, each deletable.
 * The storage manager (`navigator.storage`) is injected, so tests run with a fake.
 *
 * ```svelte
 * const storage = createBrowserStorageStore(chat.files, (id) => nameOf(id));
 * onMount(() => void storage.refresh());
 * <meter aria-label="Storage used" value={storage.usage} max={storage.quota}></meter>
 * ```
 */
import { formatBytes } from '$lib/app/bytes';

/** What this store needs of `navigator.storage` (any part may be missing in a browser). */
export interface StorageManagerLike {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

/** A file this device keeps (FilesStore.stored()). */
export interface StoredFile {
  conversationId: string;
  messageId: string;
  name: string;
  size: number;
}

/** Where the stored files come from and go (the FilesStore). */
export interface StoredFiles {
  stored(): StoredFile[];
  removeLocal(conversationId: string, messageId: string): Promise<void>;
}

export interface StoredFileView extends StoredFile {
  /** The conversation's name ("Unknown conversation" once it is gone). */
  conversation: string;
}

export const KEPT_TEXT = 'Files are kept until you delete them.';
export const MAY_CLEAR_TEXT = 'The browser may clear files when space runs low.';
export const EMPTY_TEXT = 'No files stored yet.';
/** Stored files listed before "Show more files". */
export const STORED_PAGE = 100;

export class StorageStore {
  readonly #manager: StorageManagerLike | undefined;
  readonly #files: StoredFiles;
  readonly #nameOf: (conversationId: string) => string | undefined;

  /** Bytes this site uses / may use (undefined: not known yet, or not reported). */
  usage = $state<number | undefined>(undefined);
  quota = $state<number | undefined>(undefined);
  /** The first estimate came back (or failed). */
  measured = $state(false);
  /** Whether the browser keeps this site's data until the person deletes it. */
  persisted = $state<boolean | undefined>(undefined);
  /** Files stored here, newest first. */
  stored = $state.raw<StoredFile[]>([]);
  /** How many of `stored` are listed. */
  shown = $state(STORED_PAGE);
  /** The file being deleted (its message id). */
  deleting = $state<string | undefined>(undefined);
  error = $state<string | undefined>(undefined);

  constructor(
    manager: StorageManagerLike | undefined,
    files: StoredFiles,
    nameOf: (conversationId: string) => string | undefined
  ) {
    this.#manager = manager;
    this.#files = files;
    this.#nameOf = nameOf;
  }

  /** "1.2 GB of 10 GB used", "1.2 GB used", or undefined while not known. */
  get usedText(): string | undefined {
    if (this.usage === undefined) return undefined;
    const used = formatBytes(this.usage);
    return this.quota === undefined || this.quota <= 0
      ? `${used} used`
      : `${used} of ${formatBytes(this.quota)} used`;
  }

  /** What persistence means for the files, in words (undefined: the browser doesn't say). */
  get persistText(): string | undefined {
    if (this.persisted === undefined) return undefined;
    return this.persisted ? KEPT_TEXT : MAY_CLEAR_TEXT;
  }

  /** The listed files with their conversations' names. */
  get files(): StoredFileView[] {
    return this.stored.slice(0, this.shown).map((f) => ({
      ...f,
      conversation: this.#nameOf(f.conversationId) ?? 'Unknown conversation'
    }));
  }

  /** Reads the estimate, the persistence state and the stored files again. */
  async refresh(): Promise<void> {
    this.stored = this.#files.stored();
    await Promise.all([this.#estimate(), this.#readPersisted()]);
  }

  showMore(): void {
    this.shown += STORED_PAGE;
  }

  /** Asks the browser to keep this site's data ("Keep files on this device"). */
  async persist(): Promise<void> {
    this.error = undefined;
    if (typeof this.#manager?.persist !== 'function') {
      this.persisted = false;
      return;
    }
    try {
      this.persisted = await this.#manager.persist();
    } catch {
      this.persisted = false;
    }
  }

  /** Deletes this device's copy of a file, then reads the list and the estimate again. */
  async remove(conversationId: string, messageId: string): Promise<void> {
    this.error = undefined;
    this.deleting = messageId;
    const name = this.stored.find((f) => f.messageId === messageId)?.name ?? 'The file';
    try {
      await this.#files.removeLocal(conversationId, messageId);
    } catch (err) {
      this.error = `“${name}” could not be deleted: ${(err as Error).message || 'unknown error'}`;
    } finally {
      this.deleting = undefined;
    }
    this.stored = this.#files.stored();
    await this.#estimate();
  }

  async #estimate(): Promise<void> {
    if (typeof this.#manager?.estimate === 'function') {
      try {
        const { usage, quota } = await this.#manager.estimate();
        this.usage = usage;
        this.quota = quota;
      } catch {
        this.usage = undefined;
        this.quota = undefined;
      }
    }
    this.measured = true;
  }

  async #readPersisted(): Promise<void> {
    if (typeof this.#manager?.persisted !== 'function') return;
    try {
      this.persisted = await this.#manager.persisted();
    } catch {
      this.persisted = undefined;
    }
  }
}

/** The store over this browser's `navigator.storage`. */
export function createBrowserStorageStore(
  files: StoredFiles,
  nameOf: (conversationId: string) => string | undefined
): StorageStore {
  return new StorageStore(globalThis.navigator?.storage, files, nameOf);
}
