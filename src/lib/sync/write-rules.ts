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
 * | groups[g], segments[n]   | a member (an announcement is updated, never deleted; segment |
 * |                          | n > 0 only once n - 1 is announced: until then it waits)     |
 * | clients[c]               | only the author whose key c is derived from (self-certified) |
 *
 * | where (segment doc)      | who may write                                                |
 * |--------------------------|--------------------------------------------------------------|
 * | messages[id] (a map)     | its author, once; never deleted, never overwritten           |
 * | inside messages[id]      | h (naming its writer; written once, never replaced or        |
 * |                          | deleted), text, s, deleted, edited: its author               |
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
 * The rules per place are place-rules.ts, where each struct lands is update-places.ts; this
 * module walks an update's structs and deletions and gathers what those rules need to know.
 *
 * A struct whose parent or origin this doc does not have yet (or whose client's claim has
 * not arrived) is `pending`: the caller keeps the update and checks it again once the doc
 * changed, as Yjs would keep it pending.
 *
 * The update is read once, by inspectUpdate (update-check.ts): the rules go on what it read
 * (each struct's client, clocks, origins, parent, key and content kind), and decode a plain
 * value only where a rule looks at it. Y.decodeUpdate would build every struct again.
 *
 * ```ts
 * const summary = inspectUpdate(update, doc); // throws UpdateRejectedError
 * const verdict = checkWrites(summary, { doc, kind: 'segment', wire: 'c#0', author, isMember });
 * if (verdict.ok) Y.applyUpdate(doc, update);
 * ```
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { authorOfClient, checkClaim, CLIENTS_KEY } from './authorship.js';
import { UpdateRejectedError } from './errors.js';
import { SEGMENTS_KEY } from './message-format.js';
import {
  checkEntry,
  checkNested,
  Refused,
  refuse,
  wait,
  WRITTEN_ONCE,
  type Place,
  type WriteFacts
} from './place-rules.js';
import { inspectUpdate, type UpdateSummary } from './update-check.js';
import { NONE, type ParsedUpdate, type UpdateStructs } from './update-structs.js';
import { UpdatePlaces, type Ref } from './update-places.js';

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

/** A place as one string: two structs at the same place share it. */
const placeText = (p: Place): string => {
  const c = p.container;
  return `${p.root}\n${c === undefined ? '' : `${c.client}:${c.clock}`}\n${p.key ?? ''}`;
};

/**
 * Whether `author` may write everything `update` writes into `ctx.doc`. `update` is the
 * summary inspectUpdate returned for it against the same doc (the receiver's path), or the
 * bytes: inspected here for their limits, clock gaps let through (the receiver refuses those
 * before it asks the rules; a struct whose origin or parent is missing is pending here too).
 */
export function checkWrites(update: Uint8Array | UpdateSummary, ctx: RuleContext): Verdict {
  let summary: UpdateSummary;
  if (update instanceof Uint8Array) {
    try {
      summary = inspectUpdate(update, ctx.doc, undefined, { allowGaps: true });
    } catch (err) {
      if (!(err instanceof UpdateRejectedError)) throw err;
      return { ok: false, pending: err.gap, reason: err.reason };
    }
  } else summary = update;
  try {
    new WriteCheck(summary.parsed, ctx).run();
    return { ok: true };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, pending: err.pending, reason: err.message };
    return { ok: false, pending: false, reason: 'malformed update' };
  }
}

/** The checks of one update; it is also the facts the place rules ask (WriteFacts). */
class WriteCheck implements WriteFacts {
  private readonly s: UpdateStructs;
  /** Claims made in this update: client -> author. */
  private readonly claims = new Map<number, string>();
  /** The author of each client id seen (the doc does not change during a check). */
  private readonly authors = new Map<number, string | undefined>();
  private readonly places: UpdatePlaces;
  /**
   * Places this update writes (checked): an item it replaces there may be someone else's.
   * Kept only when the update deletes something (nothing asks otherwise).
   */
  private readonly written: Set<string> | undefined;
  private firstByKey: Map<string, Map<string, number>> | undefined;
  /** Nested places of WRITTEN_ONCE keys this update writes (checked), as placeText. */
  private readonly writtenOnce = new Set<string>();
  /** The write being checked (WriteFacts), and where it is. */
  private current: Ref = NONE;
  private currentPlace: Place | undefined;
  isType = false;
  deleting = false;
  readonly author: string;

  constructor(
    private readonly parsed: ParsedUpdate,
    private readonly ctx: RuleContext
  ) {
    this.s = parsed.structs;
    this.author = ctx.author;
    this.places = new UpdatePlaces(this.s, ctx.doc, (client) => this.authorOf(client));
    if (parsed.deletes.size > 0) this.written = new Set();
  }

  run(): void {
    this.collectClaims();
    const s = this.s;
    const store = this.ctx.doc.store;
    for (const [client, run] of s.runs) {
      const state = Y.getState(store, client);
      for (let i = run.first; i < run.first + run.count; i++) {
        // Already here (an envelope that came again, or overlapping a merged run): Yjs skips it.
        if (s.clock[i]! + s.length[i]! <= state) continue;
        this.checkStruct(i);
      }
    }
    for (const [client, ranges] of this.parsed.deletes) {
      for (let r = 0; r < ranges.length; r += 2) {
        this.checkDeletion(client, ranges[r]!, ranges[r + 1]! - ranges[r]!);
      }
    }
  }

  /** Claims of client ids in this update, each checked against its derivation. */
  private collectClaims(): void {
    const s = this.s;
    for (let i = 0; i < s.kind.length; i++) {
      if (s.kind[i]! < 2 || s.rootName[i] !== CLIENTS_KEY || s.key[i] === null) continue;
      const key = s.key[i]!;
      const client = Number(key);
      if (!Number.isSafeInteger(client) || String(client) !== key) {
        refuse('malformed client claim');
      }
      const claim = checkClaim(this.ctx.wire, client, this.valueAt(i));
      if (claim === undefined || claim.a !== this.ctx.author) {
        refuse('client claim not the author’s');
      }
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
    if (this.authors.has(client)) return this.authors.get(client);
    const author = this.docClaim(client) ?? this.claims.get(client);
    this.authors.set(client, author);
    return author;
  }

  /** The first plain value of struct `i` (undefined for other content), decoded now. */
  private valueAt(i: number): unknown {
    if (this.s.ref[i] !== 8) return undefined;
    const d = decoding.createDecoder(this.parsed.update);
    d.pos = this.s.contentAt[i]!;
    decoding.readVarUint(d); // how many values: inspectUpdate checked them
    return decoding.readAny(d);
  }

  private checkStruct(i: number): void {
    const kind = this.s.kind[i]!;
    if (kind === 1) return; // a Skip
    const owner = this.authorOf(this.s.client[i]!);
    if (owner === undefined) wait('unclaimed client id');
    if (owner !== this.ctx.author) refuse('written under another author’s client id');
    if (kind === 0) return; // GC: deleted content of the author's own items
    const place = this.places.placeOf(i);
    if (place === null) return; // integrates as deleted content (its origin was collected)
    this.checkPlace(place, i, false);
    this.written?.add(placeText(place));
    if (place.container !== undefined && WRITTEN_ONCE.has(place.key!)) {
      this.writtenOnce.add(placeText(place));
    }
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
      const ref = this.places.find(client, at);
      if (ref === undefined) {
        // Not here yet (or in this update and beyond it): Yjs keeps such deletions too.
        if (at >= Y.getState(store, client)) return;
        wait('deletion of unknown items');
      }
      if (this.places.isCollected(ref)) {
        if (!own) refuse('deletes another author’s items');
      } else {
        const place = this.places.placeOf(ref);
        if (own) {
          // Replacing one's own value: the write at that place was checked.
          if (place !== null && !this.written!.has(placeText(place))) {
            this.checkPlace(place, ref, true);
          }
        } else if (place === null || !this.written!.has(placeText(place))) {
          refuse('deletes another author’s items');
        }
      }
      at =
        typeof ref === 'number'
          ? this.s.clock[ref]! + this.s.length[ref]!
          : ref.id.clock + ref.length;
    }
  }

  private checkPlace(place: Place, ref: Ref, deleting: boolean): void {
    const roots = this.ctx.kind === 'head' ? HEAD_ROOTS : SEGMENT_ROOTS;
    if (!roots.has(place.root)) refuse(`no writes to "${place.root}"`);
    if (place.key === null) refuse('not a map entry');
    let isMap: boolean;
    if (typeof ref === 'number') {
      this.isType = this.s.kind[ref] === 3;
      isMap = this.s.typeRef[ref] === 1;
    } else {
      const content = (ref as Y.Item).content;
      this.isType = content instanceof Y.ContentType;
      isMap = this.isType && (content as Y.ContentType).type instanceof Y.Map;
    }
    if (this.isType && !isMap) refuse('only maps nest');
    this.current = ref;
    this.currentPlace = place;
    this.deleting = deleting;
    if (place.container !== undefined) {
      if (this.isType) refuse('nested too deep');
      checkNested(place, place.key, this);
      return;
    }
    checkEntry(place, place.key, this);
  }

  // WriteFacts, of the write being checked:

  /** Its plain value (decoded when a rule asks). */
  get value(): unknown {
    const ref = this.current;
    if (typeof ref === 'number') return this.valueAt(ref);
    const content = (ref as Y.Item).content;
    return content instanceof Y.ContentAny ? content.arr[0] : undefined;
  }

  isMember(peer: string): boolean {
    return this.ctx.isMember(peer);
  }

  claimOf(client: number): string | undefined {
    return this.claims.get(client);
  }

  metaKind(): unknown {
    return this.ctx.doc.getMap('meta').get('kind');
  }

  /** The doc (or an earlier struct of this update) already has an item under root[key]. */
  hasKey(root: string, key: string): boolean {
    const map = this.ctx.doc.getMap(root);
    if (map._map.has(key)) return true;
    const first = this.firstWrites().get(root)?.get(key);
    return first !== undefined && first !== this.current;
  }

  /** Per root and key, the first struct of the update naming that root map entry (built once). */
  private firstWrites(): Map<string, Map<string, number>> {
    if (this.firstByKey === undefined) {
      const s = this.s;
      this.firstByKey = new Map();
      for (let i = 0; i < s.kind.length; i++) {
        const root = s.rootName[i];
        const key = s.key[i];
        if (s.kind[i]! < 2 || root === null || key === null) continue;
        let keys = this.firstByKey.get(root!);
        if (keys === undefined) this.firstByKey.set(root!, (keys = new Map()));
        if (!keys.has(key!)) keys.set(key!, i);
      }
    }
    return this.firstByKey;
  }

  /** Some struct of this update writes root[key] (naming its root). */
  writesKey(root: string, key: string): boolean {
    const s = this.s;
    for (let i = 0; i < s.kind.length; i++) {
      if (s.kind[i]! >= 2 && s.key[i] === key && s.rootName[i] === root) return true;
    }
    return false;
  }

  /** The nested map of the write already has an item under `key`: in the doc or this update. */
  containerHas(key: string): boolean {
    const place = this.currentPlace;
    if (place?.container === undefined) return false;
    const c = place.container;
    if (this.writtenOnce.has(placeText({ ...place, key }))) return true;
    const store = this.ctx.doc.store;
    if (c.clock >= Y.getState(store, c.client)) return false; // the map is new in this update
    const item = Y.getItem(store, Y.createID(c.client, c.clock));
    if (!(item instanceof Y.Item) || !(item.content instanceof Y.ContentType)) return false;
    // Deleted items count too: a key once written stays written.
    return (item.content.type as Y.Map<unknown>)._map.has(key);
  }

  /** The head is being created: nobody wrote meta.kind yet. */
  creating(): boolean {
    return this.ctx.kind === 'head' && !this.ctx.doc.getMap('meta')._map.has('kind');
  }
}
