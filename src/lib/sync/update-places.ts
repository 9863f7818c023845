/**
 * Where the structs of an update land, for the write rules (write-rules.ts): the root map and
 * key of each, and for one inside a nested map (a message, a member's receipts) that map's
 * key, id and owner. Structs of the update are their index in what inspectUpdate read
 * (UpdateStructs); structs of the doc are its Y.Items. An item that continues a key (its
 * origin is set) is where its origin is, followed without recursion; a struct whose origin or
 * parent is missing waits (`Refused` pending), as Yjs would keep it pending.
 */
import * as Y from 'yjs';
import { isId } from './message-format.js';
import { refuse, wait, type Container, type Place } from './place-rules.js';
import { findStruct, NONE, type UpdateStructs } from './update-structs.js';

/** A struct of the update (its index in UpdateStructs) or of the doc. */
export type Ref = number | Y.Item | Y.GC;

export class UpdatePlaces {
  private readonly updatePlaces: (Place | null | undefined)[] = [];
  private readonly docPlaces = new Map<Y.Item, Place | null>();
  /** The nested maps items are in (by the map's struct index, or its item). */
  private readonly containers = new Map<number | Y.Item, Container>();

  constructor(
    private readonly s: UpdateStructs,
    private readonly doc: Y.Doc,
    /** The author of a client id (claimed in the doc or in the update), if any. */
    private readonly authorOf: (client: number) => string | undefined
  ) {}

  isCollected(ref: Ref): boolean {
    return typeof ref === 'number' ? this.s.kind[ref] === 0 : !(ref instanceof Y.Item);
  }

  /** A struct of the update or the doc holding (client, clock). */
  find(client: number, clock: number): Ref | undefined {
    const i = findStruct(this.s, client, clock);
    if (i !== NONE) return i;
    // Not in the update (or in a Skip of it): the doc may have it.
    const store = this.doc.store;
    if (clock >= Y.getState(store, client)) return undefined;
    return Y.getItem(store, Y.createID(client, clock)) as Y.Item | Y.GC;
  }

  /**
   * Where a struct is. Items that continue a key (their origin is set) take their place from
   * the origin, which may itself continue one: followed without recursion.
   */
  placeOf(start: Ref): Place | null {
    const s = this.s;
    const chain: number[] = [];
    let current: Ref | undefined = start;
    let found: Place | null | undefined;
    while (found === undefined) {
      if (typeof current !== 'number') {
        found = this.docItemPlace(current);
        break;
      }
      if (s.kind[current] === 0) {
        found = null; // GC'd origin: Yjs turns the item into deleted content
        break;
      }
      const memo = this.updatePlaces[current];
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
      if (chain.length > s.kind.length + 1) refuse('origin cycle');
      // The origin, else the right origin: both are at the same place.
      const b = 6 * current;
      const o = s.deps[b]! !== NONE ? b : b + 2;
      if (s.deps[o] === NONE) refuse('item without parent or origin');
      current = this.find(s.deps[o]!, s.deps[o + 1]!);
      if (current === undefined) wait('origin not here yet');
    }
    for (const c of chain) this.updatePlaces[c] = found;
    return found;
  }

  /** The place of an item of the doc (which always names its parent). */
  private docItemPlace(item: Y.Item | Y.GC): Place | null {
    if (!(item instanceof Y.Item)) return null; // collected
    let place = this.docPlaces.get(item);
    if (place === undefined) {
      const parent: unknown = item.parent;
      if (!(parent instanceof Y.AbstractType)) refuse('item without parent');
      place = this.docPlace(item, parent as Y.AbstractType<unknown>);
      this.docPlaces.set(item, place);
    }
    return place;
  }

  /** The place of an update struct that names its parent, or undefined. */
  private directPlace(i: number): Place | undefined {
    const s = this.s;
    if (s.root[i] === true) return { root: s.rootName[i]!, key: s.key[i]! };
    const b = 6 * i + 4;
    if (s.deps[b] === NONE) return undefined; // continues its origin
    const container = this.find(s.deps[b]!, s.deps[b + 1]!);
    if (container === undefined) wait('parent not here yet');
    if (!this.isTypeRef(container)) refuse('parent is not a map');
    let c = this.containers.get(container as number | Y.Item);
    if (c === undefined) {
      const cp = this.placeOf(container);
      if (cp === null) refuse('parent was deleted');
      if (cp.container !== undefined) refuse('nested too deep');
      const [client, clock] =
        typeof container === 'number'
          ? [s.client[container]!, s.clock[container]!]
          : [container.id.client, container.id.clock];
      c = { root: cp.root, key: cp.key, client, clock, owner: this.ownerOf(container, cp.root) };
      this.containers.set(container as number | Y.Item, c);
    }
    return { root: c.root, key: s.key[i]!, container: c };
  }

  isTypeRef(ref: Ref): boolean {
    if (typeof ref === 'number') return this.s.kind[ref] === 3;
    return ref instanceof Y.Item && ref.content instanceof Y.ContentType;
  }

  private docPlace(item: Y.Item, parent: Y.AbstractType<unknown>): Place {
    const containerItem = parent._item;
    if (containerItem === null) return { root: Y.findRootTypeKey(parent), key: item.parentSub };
    const outer = containerItem.parent;
    if (!(outer instanceof Y.AbstractType) || outer._item !== null) refuse('nested too deep');
    let c = this.containers.get(containerItem);
    if (c === undefined) {
      const root = Y.findRootTypeKey(outer as Y.AbstractType<unknown>);
      c = {
        root,
        key: containerItem.parentSub,
        client: containerItem.id.client,
        clock: containerItem.id.clock,
        owner: this.ownerOf(containerItem, root)
      };
      this.containers.set(containerItem, c);
    }
    return { root: c.root, key: item.parentSub, container: c };
  }

  /**
   * Who owns a message or receipts map: the author of its client id; for one written before
   * client ids were claimed (a conversation from before sync 4, in the doc already), the
   * author its header names, or the member its receipts slot is named after. Nothing new can
   * be written under an unclaimed client id, so only such old maps have no claimed author.
   */
  private ownerOf(container: Ref, root: string): string | undefined {
    if (typeof container === 'number') return this.authorOf(this.s.client[container]!);
    const item = container as Y.Item;
    const claimed = this.authorOf(item.id.client);
    if (claimed !== undefined) return claimed;
    if (root === 'receipts') return item.parentSub ?? undefined;
    if (root !== 'messages' || !(item.content instanceof Y.ContentType)) return undefined;
    const header = (item.content.type as Y.Map<unknown>).get('h');
    const a = typeof header === 'object' && header !== null ? (header as { a?: unknown }).a : null;
    return isId(a) ? a : undefined;
  }
}
