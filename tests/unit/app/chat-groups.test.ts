/**
 * Group management and presence in the chat service, over in-memory hosts and sync links.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { directConversationId } from '../../../src/lib/app/chat.js';
import { MAX_GROUP_NAME_LENGTH } from '../../../src/lib/app/groups.js';
import { PRESENCE_EXPIRY_MS } from '../../../src/lib/app/presence.js';
import { decodeFrame } from '../../../src/lib/sync/protocol.js';
import {
  createChatNetwork,
  texts,
  type ChatDevice,
  type ChatNetwork
} from '../../fixtures/chat-network.js';
import { syncOf } from '../../../src/lib/app/testing.js';
import { headOf } from '../../../src/lib/sync/testing.js';

let net: ChatNetwork;

afterEach(async () => {
  await net?.stop();
});

function nameOn(device: ChatDevice, id: string): string | undefined {
  return device.chat.summaries().find((s) => s.id === id)?.name;
}

async function trio(): Promise<{ a: ChatDevice; b: ChatDevice; c: ChatDevice }> {
  net = createChatNetwork();
  const a = await net.device('Ana');
  const b = await net.device('Ben');
  const c = await net.device('Cleo');
  await net.befriend(a, b);
  await net.befriend(a, c);
  return { a, b, c };
}

describe('renameGroup', () => {
  it('renames on every member device, trimmed', async () => {
    const { a, b } = await trio();
    const id = await a.chat.createGroup('Climbing', [b.id]);
    await net.sync.settle();
    expect(nameOn(b, id)).toBe('Climbing');

    await a.chat.renameGroup(id, '  Bouldering  ');
    await net.sync.settle();
    expect(nameOn(a, id)).toBe('Bouldering');
    expect(nameOn(b, id)).toBe('Bouldering');

    // Any member may rename.
    await b.chat.renameGroup(id, 'Crag');
    await net.sync.settle();
    expect(nameOn(a, id)).toBe('Crag');
  });

  it('refuses empty and too long names, and conversations that are not groups', async () => {
    const { a, b } = await trio();
    const id = await a.chat.createGroup('Climbing', [b.id]);
    const invalid = expect.objectContaining({ name: 'InvalidGroupNameError' });
    await expect(a.chat.renameGroup(id, '')).rejects.toEqual(invalid);
    await expect(a.chat.renameGroup(id, '   ')).rejects.toEqual(invalid);
    await expect(a.chat.renameGroup(id, 'x'.repeat(MAX_GROUP_NAME_LENGTH + 1))).rejects.toEqual(
      invalid
    );
    await a.chat.renameGroup(id, 'x'.repeat(MAX_GROUP_NAME_LENGTH));
    expect(nameOn(a, id)).toBe('x'.repeat(MAX_GROUP_NAME_LENGTH));
    const unknown = expect.objectContaining({ name: 'UnknownGroupError' });
    await expect(a.chat.renameGroup(directConversationId(a.id, b.id), 'No')).rejects.toEqual(
      unknown
    );
    await expect(a.chat.renameGroup('g-nope', 'No')).rejects.toEqual(unknown);
  });
});

describe('group announcements from a contact are untrusted', () => {
  async function pairWithAnnouncements(
    write: (groups: Y.Map<unknown>, ids: { a: string; b: string; c: string }) => void
  ): Promise<ChatDevice> {
    net = createChatNetwork();
    const a = await net.device('Ana');
    const b = await net.device('Ben');
    const c = await net.device('Cleo');
    await net.befriend(a, b);
    const direct = headOf(syncOf(b.chat).conversation(directConversationId(a.id, b.id))!);
    direct.transact(() => write(direct.getMap('groups'), { a: a.id, b: b.id, c: c.id }));
    await net.sync.settle();
    return a;
  }

  it('at most 16 joins waiting per contact', async () => {
    const ids = Array.from({ length: 40 }, () => `g-${crypto.randomUUID()}`);
    const a = await pairWithAnnouncements((groups, p) => {
      for (const id of ids) groups.set(id, { name: 'spam', members: [p.a, p.b] });
    });
    expect(ids.filter((id) => syncOf(a.chat).conversation(id) !== undefined)).toHaveLength(16);
    // None of them shows as a conversation until its doc arrives.
    expect(a.chat.summaries().filter((s) => s.kind === 'group')).toEqual([]);
  });

  it('ignores announcements without the announcer or with too many members; drops junk ids', async () => {
    const [without, junk, huge] = [0, 1, 2].map(() => `g-${crypto.randomUUID()}`) as [
      string,
      string,
      string
    ];
    const a = await pairWithAnnouncements((groups, p) => {
      groups.set(without, { name: 'x', members: [p.a, p.c] });
      groups.set(junk, { name: 'x', members: [p.a, p.b, 'not a peer id', 42] });
      groups.set(huge, { name: 'x', members: [p.a, p.b, ...Array<string>(300).fill(p.c)] });
    });
    expect(syncOf(a.chat).conversation(without)).toBeUndefined();
    expect(syncOf(a.chat).conversation(huge)).toBeUndefined();
    expect(syncOf(a.chat).conversation(junk)).toBeDefined();
  });
});

describe('createGroup', () => {
  it('applies the name rules and takes only contacts', async () => {
    const { a, b } = await trio();
    const stranger = await net.device('Stranger');
    await expect(a.chat.createGroup('  ', [b.id])).rejects.toEqual(
      expect.objectContaining({ name: 'InvalidGroupNameError' })
    );
    await expect(a.chat.createGroup('x'.repeat(MAX_GROUP_NAME_LENGTH + 1), [b.id])).rejects.toEqual(
      expect.objectContaining({ name: 'InvalidGroupNameError' })
    );
    await expect(a.chat.createGroup('Climbing', [stranger.id])).rejects.toEqual(
      expect.objectContaining({ name: 'NotAContactError' })
    );
    await a.chat.contacts.block(b.id);
    await expect(a.chat.createGroup('Climbing', [b.id])).rejects.toEqual(
      expect.objectContaining({ name: 'NotAContactError' })
    );
    expect(a.chat.summaries().filter((s) => s.kind === 'group')).toEqual([]);
    await a.chat.unblock(b.id);
    const id = await a.chat.createGroup('  Climbing ', [b.id, b.id, a.id]);
    expect(nameOn(a, id)).toBe('Climbing');
    expect(a.chat.info(id)?.members).toEqual([a.id, b.id].sort());
  });
});

describe('addGroupMembers', () => {
  it('announces the group to the new member, who gets its name and earlier messages', async () => {
    const { a, b, c } = await trio();
    const id = await a.chat.createGroup('Climbing', [b.id]);
    a.chat.send(id, 'first');
    await net.sync.settle();
    await a.chat.renameGroup(id, 'Crag');
    await net.sync.settle();
    expect(nameOn(c, id)).toBeUndefined();

    await a.chat.addGroupMembers(id, [c.id]);
    await net.sync.settle();
    const all = [a.id, b.id, c.id].sort();
    expect(nameOn(c, id)).toBe('Crag');
    expect(texts(c, id)).toEqual(['first']);
    for (const d of [a, b, c]) expect(d.chat.info(id)?.members).toEqual(all);
    // The announcement B got earlier now lists C too (for a device that joins late).
    const announced = headOf(syncOf(b.chat).conversation(directConversationId(a.id, b.id))!)
      .getMap('groups')
      .get(id) as { name: string; members: string[] };
    expect(announced).toEqual({ name: 'Crag', members: all });

    // B and C are not linked: A passes their messages on.
    c.chat.send(id, 'from cleo');
    await net.sync.settle();
    expect(texts(a, id)).toEqual(['first', 'from cleo']);
    expect(texts(b, id)).toEqual(['first', 'from cleo']);
  });

  it('a member who already joined syncs with the new member directly', async () => {
    const { a, b, c } = await trio();
    await net.link(b, c); // connected, though not contacts
    const id = await a.chat.createGroup('Climbing', [b.id]);
    await net.sync.settle();
    // C joins while B can't hear from A: C asks B, who doesn't know C is a member yet.
    net.unlink(a, b);
    await a.chat.addGroupMembers(id, [c.id]);
    await net.sync.settle();
    expect(c.chat.info(id)?.members.includes(c.id)).toBe(true);
    expect(b.chat.info(id)?.members.includes(c.id)).toBe(false);
    // B learns the new member from A, then A goes away.
    await net.link(a, b);
    expect(b.chat.info(id)?.members.includes(c.id)).toBe(true);
    net.unlink(a, b);
    net.unlink(a, c);
    c.chat.send(id, 'without ana');
    await net.sync.settle();
    expect(texts(b, id)).toEqual(['without ana']);
    b.chat.send(id, 'hi cleo');
    await net.sync.settle();
    expect(texts(c, id)).toEqual(['without ana', 'hi cleo']);
  });

  it('a stale announcement does not undo a rename or bring back someone who left', async () => {
    // Which of two concurrent writes wins in Yjs depends on random client ids, so the race is
    // run several times: joining must never write the announced state into the group doc.
    for (let run = 0; run < 8; run++) {
      const { a, b, c } = await trio();
      // B is offline when A creates the group with B and C: B's announcement waits in the
      // 1:1 doc, saying "Climbing" with A, B and C.
      net.unlink(a, b);
      const id = await a.chat.createGroup('Climbing', [b.id, c.id]);
      await net.sync.settle();
      // Meanwhile A renames the group (the announcement is updated: "Crag" with A, B and C),
      // then C leaves (no announcement changes) and C renames it once more.
      await a.chat.renameGroup(id, 'Crag');
      await net.sync.settle();
      await c.chat.renameGroup(id, 'Boulders');
      c.chat.leaveGroup(id);
      await net.sync.settle();
      // B comes back: the 1:1 doc (with the old announcement) arrives, the group doc not yet.
      const isGroup = (f: { bytes: Uint8Array }): boolean =>
        decodeFrame(f.bytes, 1 << 30).conversationId === id;
      net.sync.connect(a.id, b.id);
      for (let i = 0; i < 20; i++) {
        net.sync.discard(isGroup);
        while (net.sync.step(false)) net.sync.discard(isGroup);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(nameOn(b, id)).toBeUndefined(); // nothing to show before the group doc arrives
      // Then the group doc syncs (a new connection).
      net.unlink(a, b);
      await net.link(a, b);
      expect(nameOn(b, id)).toBe('Boulders');
      expect(nameOn(a, id)).toBe('Boulders');
      for (const d of [a, b]) {
        expect(d.chat.info(id)?.members).toEqual([a.id, b.id].sort());
      }
      await net.stop();
    }
  });

  it('only adds contacts, and ignores who is already a member', async () => {
    const { a, b, c } = await trio();
    const id = await a.chat.createGroup('Climbing', [b.id]);
    await net.sync.settle();
    // C is not a contact of B.
    await expect(b.chat.addGroupMembers(id, [c.id])).rejects.toEqual(
      expect.objectContaining({ name: 'NotAContactError' })
    );
    expect(b.chat.info(id)?.members.includes(c.id)).toBe(false);
    await a.chat.addGroupMembers(id, [b.id, a.id]);
    expect(a.chat.info(id)?.members).toEqual([a.id, b.id].sort());
    await expect(a.chat.addGroupMembers(directConversationId(a.id, b.id), [c.id])).rejects.toEqual(
      expect.objectContaining({ name: 'UnknownGroupError' })
    );
  });
});

describe('presence', () => {
  it('online once the 1:1 conversation is live, away when hidden, offline on disconnect', async () => {
    net = createChatNetwork();
    const a = await net.device('Ana');
    const b = await net.device('Ben');
    const seen: string[] = [];
    a.chat.onChange((change) => {
      if (change.type === 'presence') seen.push(a.chat.presence(change.peer));
    });
    expect(a.chat.presence(b.id)).toBe('offline');
    await net.befriend(a, b);
    expect(a.chat.presence(b.id)).toBe('online');
    expect(b.chat.presence(a.id)).toBe('online');
    expect(a.chat.presence(a.id)).toBe('online');

    b.visibility.set(true);
    await net.sync.settle();
    expect(a.chat.presence(b.id)).toBe('away');
    expect(b.chat.presence(b.id)).toBe('away');
    b.visibility.set(false);
    await net.sync.settle();
    expect(a.chat.presence(b.id)).toBe('online');

    net.unlink(a, b);
    expect(a.chat.presence(b.id)).toBe('offline');
    expect(seen).toEqual(['online', 'away', 'online', 'offline']);
  });

  it('a contact who is blocked shows offline at once', async () => {
    net = createChatNetwork();
    const a = await net.device('Ana');
    const b = await net.device('Ben');
    await net.befriend(a, b);
    expect(a.chat.presence(b.id)).toBe('online');
    await a.chat.contacts.block(b.id);
    expect(a.chat.presence(b.id)).toBe('offline');
  });

  it('expires without notices, and the periodic notice keeps it fresh', async () => {
    net = createChatNetwork();
    const a = await net.device('Ana');
    const b = await net.device('Ben');
    await net.befriend(a, b);
    for (let i = 0; i < 4; i++) {
      b.timers.advance(30_000);
      await net.sync.settle();
      a.timers.advance(30_000);
      expect(a.chat.presence(b.id)).toBe('online');
    }
    // B stops sending (e.g. its tab froze) while the link stays up.
    await b.chat.stop();
    a.timers.advance(PRESENCE_EXPIRY_MS);
    expect(a.chat.presence(b.id)).toBe('offline');
  });

  it('typing notices still arrive', async () => {
    net = createChatNetwork();
    const a = await net.device('Ana');
    const b = await net.device('Ben');
    await net.befriend(a, b);
    const typing: string[] = [];
    a.chat.onChange((change) => {
      if (change.type === 'typing') typing.push(change.peer);
    });
    b.chat.typing(directConversationId(a.id, b.id));
    await net.sync.settle();
    expect(typing).toEqual([b.id]);
  });
});
