/** The attachments service's interface and options (attachments.ts implements it). */
import type { Libp2p } from '@libp2p/interface';
import type { Blockstore } from 'interface-blockstore';
import type { FileSource } from '../files/files.js';
import type { FileRecord } from '../files/record.js';
import type { Chat } from './chat-types.js';
import type { TransferLog } from './transfer-log.js';
import type { TransferView } from './transfer-state.js';

export interface AttachmentsConfig {
  chat: Chat;
  /** The app's started libp2p node (read at start()). */
  libp2p: () => Libp2p;
  blockstore: Blockstore;
  /** Where unfinished fetches are remembered across reloads (default: not remembered). */
  log?: TransferLog;
  /** A thumbnail of an image (browser: canvas), or undefined. */
  preview?: (file: FileSource) => Promise<{ thumb: string; w: number; h: number } | undefined>;
  /**
   * Space used and granted (browser: navigator.storage.estimate): a file that would not fit
   * is refused before any of it is written. Default: no check (the blockstore's own errors).
   */
  estimate?: () => Promise<{ usage?: number; quota?: number }>;
  stallMs?: number;
  autoDownloadMax?: number;
  /** A file's sending ends on the card after this long with nothing sent (default 5 s). */
  servingIdleMs?: number;
  now?: () => number;
}

export interface AttachOptions {
  /** Text of the first file's message. */
  caption?: string;
  /** Unencrypted, with its ordinary public CID. */
  public?: boolean;
  replyTo?: string;
}

/** A message's attachment as read: its record, or why it cannot be used. */
export type AttachmentOf =
  { record: FileRecord; error?: undefined } | { record?: undefined; error: string };

export interface Attachments {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called with a transfer id whenever that transfer's view changes. */
  onChange(listener: (id: string) => void): () => void;
  get(id: string): TransferView | undefined;
  /** Files of a conversation being prepared (encrypted and stored) before their message exists. */
  preparing(conversationId: string): TransferView[];
  /** Adds each file and sends a message carrying it; resolves with the message ids. */
  attach(conversationId: string, files: FileSource[], options?: AttachOptions): Promise<string[]>;
  attachmentOf(conversationId: string, messageId: string): AttachmentOf | undefined;
  /** Makes sure the message's file is here or on its way (fetches small files unasked). */
  ensure(conversationId: string, messageId: string): void;
  /** Starts (or restarts) fetching a file that is not here. */
  download(conversationId: string, messageId: string): void;
  pause(id: string): void;
  resume(id: string): void;
  cancel(id: string): void;
  /** The decrypted bytes of a stored file, in order. */
  read(record: FileRecord, range?: { start: number; end: number }): AsyncGenerator<Uint8Array>;
  /** Deletes this device's copy (the message stays; it can be fetched again). */
  removeLocal(conversationId: string, messageId: string): Promise<void>;
  /** Files this device keeps, newest first. */
  stored(): { conversationId: string; messageId: string; name: string; size: number }[];
}
