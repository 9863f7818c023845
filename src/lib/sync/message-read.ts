/**
 * Reading a stored message into plain data (every field validated: anything malformed reads as
 * no message) and what its signature covers, with a cache of signature checks.
 */
import * as Y from 'yjs';
import type { Verifier } from '../crypto/signing.js';
import { MAX_EMOJI_LENGTH, MAX_TEXT_LENGTH } from './constants.js';
import type { Authenticity, Message } from './conversation-types.js';
import {
  isCounter,
  isFileRecord,
  isId,
  isWall,
  orderKey,
  readHeader,
  REACTION_PREFIX,
  type Header
} from './message-format.js';

/**
 * The message stored under `id` (a Y.Map), or undefined when anything about it is wrong.
 * `seen` is when this device first saw it: the displayed time is never later.
 */
export function readMessage(id: string, map: unknown, seen: number): Message | undefined {
  if (!isId(id) || !(map instanceof Y.Map)) return undefined;
  const header = readHeader(map);
  if (header === undefined) return undefined;
  const { a: author, c: createdAt, w: wall, n: ctr, r: replyTo, f: file } = header;
  const text = map.get('text');
  const edited = map.get('edited');
  const deleted = map.get('deleted');
  if (!isId(author) || typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) {
    return undefined;
  }
  if (!isWall(createdAt) || !isWall(wall) || !isCounter(ctr)) return undefined;
  if (replyTo !== undefined && !isId(replyTo)) return undefined;
  if (file !== undefined && !isFileRecord(file)) return undefined;
  const isDeleted = deleted === true;
  const reactions: Record<string, string[]> = {};
  if (!isDeleted) {
    for (const [k, v] of map.entries()) {
      if (v !== true || !k.startsWith(REACTION_PREFIX)) continue;
      const nl = k.lastIndexOf('\n');
      const emoji = k.slice(REACTION_PREFIX.length, nl);
      const reactor = k.slice(nl + 1);
      if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH || !isId(reactor)) continue;
      (reactions[emoji] ??= []).push(reactor);
    }
    for (const list of Object.values(reactions)) list.sort();
  }
  const hlc = { wall, counter: ctr };
  return {
    id,
    author,
    text: isDeleted ? '' : text,
    createdAt,
    displayAt: Math.min(createdAt, seen),
    hlc,
    key: orderKey(hlc, author, id),
    ...(replyTo !== undefined ? { replyTo } : {}),
    // A deletion takes the file away with the text (the header keeps it: it is immutable).
    ...(file !== undefined && !isDeleted ? { file } : {}),
    edited: edited === true,
    deleted: isDeleted,
    reactions
  };
}

/**
 * What a message signature covers: version, conversation, message id, the immutable header
 * (author, times, quoted message, file record) and the current text and deletion. Reactions
 * and receipts are not covered (each member writes its own). The segment is not covered
 * either: a message means the same wherever it is stored. The file record is appended to the
 * header's fields only when there is one: the bytes of a message without a file are the same
 * as before files existed (their signatures still verify), and one with a file can't read as
 * one without (the arrays differ in length).
 */
export function signedBytes(
  conversationId: string,
  id: string,
  h: Header,
  text: string,
  edited: boolean,
  deleted: boolean
): Uint8Array {
  const fields: unknown[] = ['p2p4e/msg/1', conversationId, id, h.a, h.c, h.w, h.n, h.r ?? null];
  if (h.f !== undefined) fields.push(h.f);
  return new TextEncoder().encode(JSON.stringify([...fields, text, edited, deleted]));
}

/** Signature checks of a conversation's messages, cached until the message changes. */
export class SignatureChecks {
  private readonly checked = new Map<
    string,
    {
      sig: unknown;
      /** The stored header value (compared by identity: a new one is a new check). */
      h: unknown;
      text: string;
      edited: boolean;
      deleted: boolean;
      result: Authenticity;
    }
  >();

  constructor(
    private readonly conversationId: string,
    private readonly verify: Verifier | undefined
  ) {}

  /** The cached result for `msg` while it is unchanged (no signature is checked). */
  cached(map: Y.Map<unknown> | undefined, msg: Message | undefined): Authenticity | undefined {
    if (this.verify === undefined) return 'unknown';
    if (map === undefined || msg === undefined) return 'unverified';
    const cached = this.checked.get(msg.id);
    if (
      cached === undefined ||
      cached.sig !== map.get('s') ||
      cached.h !== map.get('h') ||
      cached.text !== msg.text ||
      cached.edited !== msg.edited ||
      cached.deleted !== msg.deleted
    ) {
      return undefined;
    }
    return cached.result;
  }

  /** Whether `msg` (read from `map`) carries its author's valid signature. */
  check(map: Y.Map<unknown> | undefined, msg: Message | undefined): Authenticity {
    if (this.verify === undefined) return 'unknown';
    const header = map !== undefined ? readHeader(map) : undefined;
    if (map === undefined || header === undefined || msg === undefined) return 'unverified';
    const sig = map.get('s');
    const h = map.get('h');
    const cached = this.checked.get(msg.id);
    if (
      cached !== undefined &&
      cached.sig === sig &&
      cached.h === h &&
      cached.text === msg.text &&
      cached.edited === msg.edited &&
      cached.deleted === msg.deleted
    ) {
      return cached.result;
    }
    const bytes = signedBytes(
      this.conversationId,
      msg.id,
      header,
      msg.text,
      msg.edited,
      msg.deleted
    );
    const ok = sig instanceof Uint8Array && this.verify(msg.author, bytes, sig);
    const result: Authenticity = ok ? 'verified' : 'unverified';
    if (this.checked.size > 10_000) this.checked.clear();
    this.checked.set(msg.id, {
      sig,
      h,
      text: msg.text,
      edited: msg.edited,
      deleted: msg.deleted,
      result
    });
    return result;
  }

  clear(): void {
    this.checked.clear();
  }
}
