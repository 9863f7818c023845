/**
 * The write rules per root map (the table in write-rules.ts): what an author may write or
 * delete at one place of a head or segment doc. Pure functions of the facts they are given
 * (the place, the value, the author, membership, what the doc and the update hold already);
 * separate from write-rules.ts, which walks an update's structs to find their places and
 * gathers those facts.
 */
import { CLIENTS_KEY } from './authorship.js';
import { MAX_SEGMENT } from './constants.js';
import { isId, REACTION_PREFIX, SEGMENTS_KEY } from './message-format.js';

/** Keys inside a message map that only its author writes. */
const MESSAGE_KEYS = new Set(['h', 'text', 's', 'deleted', 'edited']);
/**
 * Keys inside a nested map written once and never deleted: a message's header (author, times,
 * quoted message, file record). The write check keeps track of this update's writes to them.
 */
export const WRITTEN_ONCE = new Set(['h']);
const RECEIPT_KEYS = new Set(['delivered', 'read']);

/** Where a struct is: a root map's key, or a key inside a nested map (one level). */
export interface Place {
  root: string;
  key: string | null;
  /** Set when the struct is inside a nested map: that map's own key, id and author. */
  container?: Container;
}

/** A nested map (a message, a member's receipts): its key, id and author. */
export interface Container {
  /** The root map it is in. */
  root: string;
  key: string | null;
  client: number;
  clock: number;
  owner: string | undefined;
}

/** A write refused (`pending`: it may be allowed once the doc has what it lacks). */
export class Refused extends Error {
  constructor(
    readonly pending: boolean,
    reason: string
  ) {
    super(reason);
  }
}
export function refuse(reason: string): never {
  throw new Refused(false, reason);
}
export function wait(reason: string): never {
  throw new Refused(true, reason);
}

/** What the rules know of one write (or deletion) besides its place. */
export interface WriteFacts {
  /** The author who signed the update. */
  author: string;
  /** The item's plain value (undefined for other content, such as a nested map; read it
   * only where a rule needs it: it may be decoded on each read). */
  readonly value: unknown;
  /** The write is a nested map. */
  isType: boolean;
  deleting: boolean;
  /** Whether `peer` is a member now (the head doc's member list). */
  isMember(peer: string): boolean;
  /** The head is being created: nobody wrote meta.kind yet. */
  creating(): boolean;
  /** The author a client id is claimed for in this update. */
  claimOf(client: number): string | undefined;
  /** The doc (or an earlier struct of this update) already has an item under root[key]. */
  hasKey(root: string, key: string): boolean;
  /** Some struct of this update writes root[key]. */
  writesKey(root: string, key: string): boolean;
  /** meta.kind as the doc has it. */
  metaKind(): unknown;
  /**
   * The nested map the write is in already has an item under `key` (a WRITTEN_ONCE key): in
   * the doc, or written by an earlier struct of this update.
   */
  containerHas(key: string): boolean;
}

function isOwnHeader(value: unknown, author: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as Record<string, unknown>).a === author
  );
}

/** A write to `root[key]` of a root map (`place` is not inside a nested map). */
export function checkEntry(place: Place, key: string, facts: WriteFacts): void {
  const { author, isType, deleting } = facts;
  switch (place.root) {
    case CLIENTS_KEY:
      if (deleting) refuse('claims stay');
      if (facts.claimOf(Number(key)) !== author) refuse('client claim not the author’s');
      return;
    case 'messages':
      if (deleting) refuse('messages are never deleted (a tombstone is)');
      if (!isType) refuse('a message is a map');
      if (!isId(key)) refuse('bad message id');
      if (facts.hasKey('messages', key)) refuse('message id taken');
      return;
    case 'meta':
      if (key === 'kind' || key === 'createdAt') {
        // Both sides of a 1:1 conversation create it, maybe at once: the kind may be written
        // again with the same value, the creation time only along with it.
        if (deleting) refuse(`meta.${key} is set once`);
        if (!facts.hasKey('meta', key)) return;
        const same =
          key === 'kind' ? facts.metaKind() === facts.value : facts.writesKey('meta', 'kind');
        if (!same) refuse(`meta.${key} is set once`);
        return;
      }
      if (key !== 'name') refuse(`no meta.${key}`);
      if (!facts.creating() && !facts.isMember(author)) refuse('not a member');
      if (!deleting && typeof facts.value !== 'string') refuse('a name is text');
      return;
    case 'members': {
      if (!isId(key)) refuse('bad member id');
      if (deleting) {
        if (key !== author) refuse('only a member removes itself');
        return;
      }
      const value = facts.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) refuse('bad member entry');
      if (value <= 0) {
        if (key !== author) refuse('only a member removes itself');
      } else if (!facts.creating() && !facts.isMember(author)) {
        refuse('not a member');
      }
      return;
    }
    case 'receipts':
      if (key !== author) refuse('receipts of someone else');
      if (!deleting && !isType) refuse('receipts are a map');
      return;
    case 'groups':
      // Announced again on a rename or a new member (group-service.ts), never taken back.
      if (deleting) refuse('announcements stay');
      if (!facts.isMember(author)) refuse('not a member');
      return;
    case SEGMENTS_KEY:
      if (deleting) refuse('segments stay');
      if (!/^(0|[1-9]\d{0,5})$/.test(key) || facts.value !== 1 || Number(key) > MAX_SEGMENT) {
        refuse('bad segment entry');
      }
      if (!facts.creating() && !facts.isMember(author)) refuse('not a member');
      // In order: every member's new messages go to the newest segment announced, so one
      // announcement far ahead would move them all there (and to the last there can be).
      // The one before may come in another member's change still on its way: it waits.
      if (key !== '0' && !facts.hasKey(SEGMENTS_KEY, String(Number(key) - 1))) {
        wait('a segment announced before the one before it');
      }
      return;
    default:
      refuse(`no writes to "${place.root}"`);
  }
}

/** A write to `key` inside a nested map (a message or a member's receipts). */
export function checkNested(place: Place, key: string, facts: WriteFacts): void {
  const { author, deleting } = facts;
  const owner = place.container!.owner;
  if (owner === undefined) wait('container author unknown');
  if (place.root === 'messages') {
    if (MESSAGE_KEYS.has(key)) {
      if (owner !== author) refuse('changes someone else’s message');
      if (key === 'h') {
        // Immutable: written once with the message (its file record too), never deleted or
        // replaced, and naming the author: the one who wrote it.
        if (deleting) refuse('a header stays');
        if (!isOwnHeader(facts.value, author)) refuse('a header in someone else’s name');
        if (facts.containerHas(key)) refuse('a header is written once');
      }
      return;
    }
    if (key.startsWith(REACTION_PREFIX)) {
      const peer = key.slice(key.lastIndexOf('\n') + 1);
      if (!key.includes('\n') || peer !== author) refuse('a reaction in someone else’s name');
      return;
    }
    refuse(`no message field "${key}"`);
  }
  if (place.root === 'receipts') {
    if (owner !== author || place.container!.key !== author) refuse('receipts of someone else');
    if (!RECEIPT_KEYS.has(key)) refuse(`no receipt field "${key}"`);
    return;
  }
  refuse(`nothing nests in "${place.root}"`);
}
