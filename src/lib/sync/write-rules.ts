/**
 * What an author may change in a conversation's docs, checked by every receiver before an
 * update touches its doc (issue 8, "every change authored").
 *
 * An update arrives signed by its author (envelope.ts). Here, every struct in it must be
 * written under one of the author's client ids (authorship.ts), and every struct and every
 * deletion must land where the author may write:
 *
 * | where (head doc)         | who may write                                                |
 * |--------------------------|--------------------------------------------------------------|
 * | meta.kind, meta.createdAt| who creates it; kind again only with its value, createdAt   |
 * |                          | only along with kind (both sides create a 1:1); not deleted  |
 * | meta.name                | a member (anyone while the conversation is being created)    |
 * | members[P] = time > 0    | a member (adds P); members[P] = 0: only P (leaves)           |
 * | receipts[P] (a map)      | only P, and only its own keys `delivered` / `read`           |
 * | groups[g], segments[n]   | a member (an announcement is updated, never deleted)         |
 * | clients[c]               | only the author whose key c is derived from (self-certified) |
 *
 * | where (segment doc)      | who may write                                                |
 * |--------------------------|--------------------------------------------------------------|
 * | messages[id] (a map)     | its author, once; never deleted, never overwritten           |
 * | inside messages[id]      | h (naming its writer), text, s, deleted, edited: its author  |
 * |                          | `r:<emoji>\n<P>` (a reaction): only P                        |
 * | clients[c]               | as in the head                                               |
 *
 * Deleting an item counts as writing where it is, with two more rules: meta.kind/createdAt and
 * messages[id] are never deleted (a deletion is a signed tombstone: `deleted: true`), and a
 * member never deletes someone else's item except the value its own write at the same place
 * replaces (leaving writes members[self] = 0; a value written before sync 4, under a client
 * id nobody claimed, is nobody's own: only replaced, never deleted). Nested types
 * exist only at messages[id] and receipts[P], one level deep: anything else is refused.
 *
 * The rules per place are place-rules.ts; this module finds where each struct and deletion of
 * an update lands, and what those rules need to know about it.
 *
 * A struct whose parent or origin this doc does not have yet (or whose client's claim has
 * not arrived) is `pending`: the caller keeps the update and checks it again once the doc
 * changed, as Yjs would keep it pending.
 *
 * ```ts
 * const verdict = checkWrites(update, { doc, kind: 'segment', wire: 'c#0', author, isMember });
 * if (verdict.ok) Y.applyUpdate(doc, update);
 * ```
 */
import * as Y from 'yjs';
import { authorOfClient, checkClaim, CLIENTS_KEY } from './authorship.js';
import { isId, SEGMENTS_KEY } from './message-format.js';
import {
  checkEntry,
  checkNested,
  Refused,
  refuse,
  wait,
  type Place,
  type WriteFacts
} from './place-rules.js';

export type DocKind = 'head' | 'segment';

export interface RuleContext {
  /** The doc as it is before the update. */
  doc: Y.Doc;
  kind: DocKind;
  /** The doc's wire id (`<conv>` or `<conv>#<n>`): client ids are derived from it. */
  wire: string;
  /** The author who signed the update. */
  author: string;
  /** Whether `peer` is a member now (the head doc's member list). */
  isMember(peer: string): boolean;
}

export type Verdict = { ok: true } | { ok: false; pending: boolean; reason: string };

const HEAD_ROOTS = new Set(['meta', 'members', 'receipts', 'groups', SEGMENTS_KEY, CLIENTS_KEY]);
const SEGMENT_ROOTS = new Set(['messages', CLIENTS_KEY]);

const idText = (id: { client: number; clock: number }): string => `${id.client}:${id.clock}`;
/** A place as one string: two structs at the same place share it. */
const placeText = (p: Place): string => `${p.root}\n${p.container?.id ?? ''}\n${p.key ?? ''}`;

type Struct = ReturnType<typeof Y.decodeUpdate>['structs'][number];
type AnyItem = Y.Item | Y.GC | Struct;

export function checkWrites(update: Uint8Array, ctx: RuleContext): Verdict {
  try {
    new WriteCheck(update, ctx).run();
    return { ok: true };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, pending: err.pending, reason: err.message };
    return { ok: false, pending: false, reason: 'malformed update' };
  }
}

class WriteCheck {
  private readonly structs: Struct[];
  private readonly ds: ReturnType<typeof Y.decodeUpdate>['ds'];
  /** The update's structs per client, in clock order. */
  private readonly byClient = new Map<number, Struct[]>();
  /** Claims made in this update: client -> author. */
  private readonly claims = new Map<number, string>();
  private readonly places = new Map<Y.Item, Place | null>();
  /** Places this update writes (checked): an item it replaces there may be someone else's. */
  private readonly written = new Set<string>();
  private firstByKey: Map<string, Struct> | undefined;

  constructor(
    update: Uint8Array,
    private readonly ctx: RuleContext
  ) {
    const decoded = Y.decodeUpdate(update);
    this.structs = decoded.structs;
    this.ds = decoded.ds;
    for (const s of this.structs) {
      let list = this.byClient.get(s.id.client);
      if (list === undefined) this.byClient.set(s.id.client, (list = []));
      list.push(s);
    }
  }

  run(): void {
    this.collectClaims();
    const store = this.ctx.doc.store;
    for (const s of this.structs) {
      // Already here (an envelope that came again, or overlapping a merged run): Yjs skips it.
      if (s.id.clock + s.length <= Y.getState(store, s.id.client)) continue;
      this.checkStruct(s);
    }
    for (const [client, ranges] of this.ds.clients) {
      for (const r of ranges) this.checkDeletion(client, r.clock, r.len);
    }
  }

  /** Claims of client ids in this update, each checked against its derivation. */
  private collectClaims(): void {
    for (const s of this.structs) {
      const parent: unknown = s instanceof Y.Item ? s.parent : undefined;
      if (!(s instanceof Y.Item) || parent !== CLIENTS_KEY || s.parentSub === null) continue;
      const client = Number(s.parentSub);
      if (!Number.isSafeInteger(client) || String(client) !== s.parentSub) {
        refuse('malformed client claim');
      }
      const value = s.content instanceof Y.ContentAny ? s.content.arr[0] : undefined;
      const claim = checkClaim(this.ctx.wire, client, value);
      if (claim === undefined || claim.a !== this.ctx.author)
        refuse('client claim not the author’s');
      const existing = this.docClaim(client);
      if (existing !== undefined && existing !== this.ctx.author) refuse('client id taken');
      this.claims.set(client, this.ctx.author);
    }
  }

  private docClaim(client: number): string | undefined {
    return authorOfClient(this.ctx.doc, this.ctx.wire, client);
  }

  /** The author of a client id: claimed in the doc or in this update. */
  private authorOf(client: number): string | undefined {
    return this.docClaim(client) ?? this.claims.get(client);
  }

  private checkStruct(s: Struct): void {
    if (s instanceof Y.Skip) return;
    const owner = this.authorOf(s.id.client);
    if (owner === undefined) wait('unclaimed client id');
    if (owner !== this.ctx.author) refuse('written under another author’s client id');
    if (!(s instanceof Y.Item)) return; // GC: deleted content of the author's own items
    const place = this.placeOf(s);
    if (place === null) return; // integrates as deleted content (its origin was collected)
    this.checkPlace(place, s, false);
    this.written.add(placeText(place));
  }

  /**
   * A deletion of the author's own items is checked as a write where they are; someone else's
   * item may only be the value the update replaces (Yjs deletes the old value of a map key
   * that is set again, and says so in the update).
   */
  private checkDeletion(client: number, clock: number, len: number): void {
    const owner = this.authorOf(client);
    // Nobody claimed the client id: items written before sync 4 (in the doc already), which
    // are nobody's own; or changes not here yet, a gap.
    if (owner === undefined && clock >= Y.getState(this.ctx.doc.store, client)) {
      wait('deletion of unknown items');
    }
    const own = owner === this.ctx.author;
    const store = this.ctx.doc.store;
    let at = clock;
    while (at < clock + len) {
      const item = this.find({ client, clock: at });
      if (item === undefined) {
        // Not here yet (or in this update and beyond it): Yjs keeps such deletions too.
        if (at >= Y.getState(store, client)) return;
        wait('deletion of unknown items');
      }
      if (!(item instanceof Y.Item)) {
        if (!own) refuse('deletes another author’s items');
      } else {
        const place = this.placeOf(item);
        if (own) {
          // Replacing one's own value: the write at that place was checked.
          if (place !== null && !this.written.has(placeText(place))) {
            this.checkPlace(place, item, true);
          }
        } else if (place === null || !this.written.has(placeText(place))) {
          refuse('deletes another author’s items');
        }
      }
      at = item.id.clock + item.length;
    }
  }

  /** A struct of the update or the doc holding `id`. */
  private find(id: { client: number; clock: number }): AnyItem | undefined {
    const list = this.byClient.get(id.client);
    if (list !== undefined) {
      let lo = 0;
      let hi = list.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const s = list[mid]!;
        if (id.clock < s.id.clock) hi = mid - 1;
        else if (id.clock >= s.id.clock + s.length) lo = mid + 1;
        else if (s instanceof Y.Skip)
          break; // a gap in the update: the doc may have it
        else return s;
      }
    }
    const store = this.ctx.doc.store;
    if (id.clock >= Y.getState(store, id.client)) return undefined;
    return Y.getItem(store, Y.createID(id.client, id.clock)) as Y.Item | Y.GC;
  }

  /**
   * Where an item is. Items that continue a key (their origin is set) take their place from
   * the origin, which may itself continue one: followed without recursion.
   */
  private placeOf(item: Y.Item): Place | null {
    const chain: Y.Item[] = [];
    let current: AnyItem | undefined = item;
    let found: Place | null | undefined;
    while (found === undefined) {
      if (!(current instanceof Y.Item)) {
        found = null; // GC'd origin: Yjs turns the item into deleted content
        break;
      }
      const memo = this.places.get(current);
      if (memo !== undefined) {
        found = memo;
        break;
      }
      const direct = this.directPlace(current);
      if (direct !== undefined) {
        found = direct;
        break;
      }
      chain.push(current);
      if (chain.length > this.structs.length + 1 && !this.isDocItem(current)) {
        refuse('origin cycle');
      }
      const origin: Y.ID | null = current.origin ?? current.rightOrigin;
      if (origin === null) refuse('item without parent or origin');
      current = this.find(origin as Y.ID);
      if (current === undefined) wait('origin not here yet');
    }
    for (const c of chain) this.places.set(c, found);
    return found;
  }

  private isDocItem(item: Y.Item): boolean {
    return item.parent instanceof Y.AbstractType;
  }

  /** The place of an item that names its parent (in the doc: always), or undefined. */
  private directPlace(item: Y.Item): Place | undefined {
    const parent: unknown = item.parent;
    if (parent instanceof Y.AbstractType) return this.docPlace(item as Y.Item, parent);
    if (typeof parent === 'string') return { root: parent, key: item.parentSub };
    if (parent instanceof Y.ID) {
      const container = this.find(parent);
      if (container === undefined) wait('parent not here yet');
      if (!(container instanceof Y.Item) || !(container.content instanceof Y.ContentType)) {
        refuse('parent is not a map');
      }
      const cp = this.placeOf(container as Y.Item);
      if (cp === null) refuse('parent was deleted');
      if (cp!.container !== undefined) refuse('nested too deep');
      return {
        root: cp!.root,
        key: item.parentSub,
        container: {
          key: cp!.key,
          id: idText((container as Y.Item).id),
          owner: this.ownerOf(container as Y.Item, cp!.root)
        }
      };
    }
    return undefined; // continues its origin
  }

  private docPlace(item: Y.Item, parent: Y.AbstractType<unknown>): Place {
    const containerItem = parent._item;
    if (containerItem === null) return { root: Y.findRootTypeKey(parent), key: item.parentSub };
    const outer = containerItem.parent;
    if (!(outer instanceof Y.AbstractType) || outer._item !== null) refuse('nested too deep');
    const root = Y.findRootTypeKey(outer as Y.AbstractType<unknown>);
    return {
      root,
      key: item.parentSub,
      container: {
        key: containerItem.parentSub,
        id: idText(containerItem.id),
        owner: this.ownerOf(containerItem, root)
      }
    };
  }

  /**
   * Who owns a message or receipts map: the author of its client id; for one written before
   * client ids were claimed (a conversation from before sync 4, in the doc already), the
   * author its header names, or the member its receipts slot is named after. Nothing new can
   * be written under an unclaimed client id, so only such old maps have no claimed author.
   */
  private ownerOf(container: Y.Item, root: string): string | undefined {
    const claimed = this.authorOf(container.id.client);
    if (claimed !== undefined || !(container.parent instanceof Y.AbstractType)) return claimed;
    if (root === 'receipts') return container.parentSub ?? undefined;
    if (root !== 'messages' || !(container.content instanceof Y.ContentType)) return undefined;
    const header = (container.content.type as Y.Map<unknown>).get('h');
    const a = typeof header === 'object' && header !== null ? (header as { a?: unknown }).a : null;
    return isId(a) ? a : undefined;
  }

  private checkPlace(place: Place, item: Y.Item, deleting: boolean): void {
    const roots = this.ctx.kind === 'head' ? HEAD_ROOTS : SEGMENT_ROOTS;
    if (!roots.has(place.root)) refuse(`no writes to "${place.root}"`);
    if (place.key === null) refuse('not a map entry');
    const content = (item as Y.Item).content;
    const isType = content instanceof Y.ContentType;
    if (isType && !(content.type instanceof Y.Map)) refuse('only maps nest');
    const value = content instanceof Y.ContentAny ? content.arr[0] : undefined;
    const facts: WriteFacts = {
      author: this.ctx.author,
      value,
      isType,
      deleting,
      isMember: (peer) => this.ctx.isMember(peer),
      creating: () => this.creating(),
      claimOf: (client) => this.claims.get(client),
      hasKey: (root, key) => this.hasKey(root, key, item),
      writesKey: (root, key) => this.writesKey(root, key),
      metaKind: () => this.ctx.doc.getMap('meta').get('kind')
    };
    if (place.container !== undefined) {
      if (isType) refuse('nested too deep');
      checkNested(place, place.key!, facts);
      return;
    }
    checkEntry(place, place.key!, facts);
  }

  /** The doc (or an earlier struct of this update) already has an item under root[key]. */
  private hasKey(root: string, key: string, except: Y.Item): boolean {
    const map = this.ctx.doc.getMap(root);
    if (map._map.has(key)) return true;
    const first = this.firstWrites().get(`${root}\n${key}`);
    return first !== undefined && first !== except;
  }

  /** Per `root\nkey`, the first struct of the update naming that root map entry (built once). */
  private firstWrites(): Map<string, Struct> {
    if (this.firstByKey === undefined) {
      this.firstByKey = new Map();
      for (const s of this.structs) {
        if (!(s instanceof Y.Item) || typeof s.parent !== 'string' || s.parentSub === null)
          continue;
        const k = `${s.parent}\n${s.parentSub}`;
        if (!this.firstByKey.has(k)) this.firstByKey.set(k, s);
      }
    }
    return this.firstByKey;
  }

  /** Some struct of this update writes root[key]. */
  private writesKey(root: string, key: string): boolean {
    for (const s of this.structs) {
      if (!(s instanceof Y.Item) || s.parentSub !== key) continue;
      const parent: unknown = s.parent;
      if (parent === root) return true;
      if (parent instanceof Y.AbstractType && parent === this.ctx.doc.getMap(root)) return true;
    }
    return false;
  }

  /** The head is being created: nobody wrote meta.kind yet. */
  private creating(): boolean {
    return this.ctx.kind === 'head' && !this.ctx.doc.getMap('meta')._map.has('kind');
  }
}
