/**
 * The head doc's part of a conversation model (conversation.ts): meta, members, receipts and,
 * in a 1:1 conversation, the groups announced to the other person. Reads validate (anything
 * malformed reads as absent); writes check the writing side's rules (groups only, members
 * only, receipts only for oneself) before they touch the doc. The maps are looked up through
 * the SegmentWindow on every call: a reload replaces the head doc.
 */
import * as Y from 'yjs';
import { MAX_NAME_LENGTH } from './constants.js';
import { InvalidInputError, NotAGroupError, NotMemberError } from './errors.js';
import { checkId, checkName, isId, isKey, isWall } from './message-format.js';
import type { SegmentWindow } from './segment-window.js';
import type {
  ConversationMeta,
  CreateConversationInit,
  GroupAnnouncement,
  Receipts
} from './conversation-types.js';

/** A member entry: the time it joined (> 0); 0 is a member that left (absent: never was). */
function joinedAt(value: unknown): boolean {
  return isWall(value) && value > 0;
}

/** Key of the announcements map in a 1:1 conversation's head (group id -> GroupAnnouncement). */
const ANNOUNCEMENTS_KEY = 'groups';

export class ConversationHead {
  constructor(
    private readonly docs: SegmentWindow,
    private readonly self: string,
    private readonly now: () => number
  ) {}

  private get head(): Y.Doc {
    return this.docs.set.head;
  }

  announceGroup(groupId: string, info: GroupAnnouncement): void {
    if (this.meta()?.kind !== '1:1') throw new InvalidInputError('not a 1:1 conversation');
    checkId(groupId, 'group id');
    this.head.getMap(ANNOUNCEMENTS_KEY).set(groupId, {
      name: info.name,
      members: [...info.members]
    });
  }

  announcements(): [string, unknown][] {
    return [...this.head.getMap<unknown>(ANNOUNCEMENTS_KEY).entries()];
  }

  init(init: CreateConversationInit): void {
    if (this.meta() !== undefined) return;
    const name = init.name ?? '';
    checkName(name);
    for (const m of init.members) checkId(m, 'member');
    this.head.transact(() => {
      this.docs.metaMap.set('kind', init.kind);
      this.docs.metaMap.set('name', name);
      this.docs.metaMap.set('createdAt', this.now());
      const t = this.now();
      for (const m of new Set([...init.members, this.self])) this.docs.membersMap.set(m, t);
    });
  }

  meta(): ConversationMeta | undefined {
    const meta = this.docs.metaMap;
    const kind = meta.get('kind');
    const name = meta.get('name');
    const createdAt = meta.get('createdAt');
    if (kind !== '1:1' && kind !== 'group') return undefined;
    return {
      kind,
      name: typeof name === 'string' && name.length <= MAX_NAME_LENGTH ? name : '',
      createdAt: isWall(createdAt) ? createdAt : 0
    };
  }

  members(): string[] {
    const out: string[] = [];
    for (const [peer, joined] of this.docs.membersMap.entries()) {
      if (isId(peer) && joinedAt(joined)) out.push(peer);
    }
    return out.sort();
  }

  isMember(peerId: string): boolean {
    return isId(peerId) && joinedAt(this.docs.membersMap.get(peerId));
  }

  addMembers(peers: string[]): void {
    this.requireGroup();
    this.requireMember();
    for (const p of peers) checkId(p, 'member');
    const t = this.now();
    this.head.transact(() => {
      for (const p of peers) if (!this.isMember(p)) this.docs.membersMap.set(p, t);
    });
  }

  /**
   * Leaves the group: `members[self] = 0`, a change of one's own, not the deletion of an entry
   * someone else wrote (write-rules.ts lets a member remove only itself, and only this way).
   */
  leave(): void {
    this.requireGroup();
    this.docs.membersMap.set(this.self, 0);
  }

  rename(name: string): void {
    this.requireGroup();
    this.requireMember();
    checkName(name);
    this.docs.metaMap.set('name', name);
  }

  receipts(member: string): Receipts {
    const r = this.docs.receiptsMap.get(member);
    if (!(r instanceof Y.Map)) return {};
    const out: Receipts = {};
    const delivered = r.get('delivered');
    const read = r.get('read');
    if (isKey(delivered)) out.delivered = delivered;
    if (isKey(read)) out.read = read;
    return out;
  }

  /** Moves this device's `fields` receipt marks up to `key` (never back). */
  mark(fields: ('delivered' | 'read')[], key: string): void {
    this.head.transact(() => {
      let r = this.docs.receiptsMap.get(this.self);
      if (!(r instanceof Y.Map)) {
        r = new Y.Map<unknown>();
        this.docs.receiptsMap.set(this.self, r);
      }
      const map = r as Y.Map<unknown>;
      for (const field of fields) {
        const current = map.get(field);
        if (!isKey(current) || current < key) map.set(field, key);
      }
    });
  }

  private requireGroup(): void {
    if (this.meta()?.kind !== 'group') throw new NotAGroupError('not a group conversation');
  }

  /** Throws NotMemberError when this device left (or was never listed). */
  requireMember(): void {
    if (this.meta() !== undefined && !this.isMember(this.self)) {
      throw new NotMemberError('this device is not a member of the conversation');
    }
  }
}
