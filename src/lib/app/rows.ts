/**
 * The Chat façade's read models, made from a conversation model: list summaries, the header of
 * a conversation, and message rows as the view renders them (status, authenticity, reply
 * preview, author names). Pure functions of their inputs.
 */
import type { Authenticity, Conversation, Message, MessageStatus } from '../sync/index.js';
import type { ConversationInfo, ConversationSummary, MessageRow } from './chat-types.js';

/** How the read models name people. */
export interface Names {
  self(): string;
  /** "You", the contact's name, or a short peer ID. */
  of(peer: string): string;
}

function titleOf(conv: Conversation, names: Names): { kind: '1:1' | 'group'; name: string } {
  const meta = conv.meta();
  if (meta === undefined) return { kind: '1:1', name: '' };
  if (meta.kind === 'group') return { kind: 'group', name: meta.name };
  const other = conv.members().find((m) => m !== names.self());
  return { kind: '1:1', name: other === undefined ? meta.name || 'Me' : names.of(other) };
}

/** A conversation's row in the list; undefined when it has not arrived or this device left. */
export function summaryOf(
  id: string,
  conv: Conversation,
  names: Names
): ConversationSummary | undefined {
  if (conv.meta() === undefined || !conv.isMember(names.self())) return undefined;
  const { kind, name } = titleOf(conv, names);
  const last = conv.messages({ limit: 1 })[0];
  return {
    id,
    kind,
    name,
    members: conv.members(),
    unread: conv.unreadCount(names.self()),
    ...(last === undefined ? {} : { last })
  };
}

export function conversationInfo(
  id: string,
  conv: Conversation,
  names: Names,
  incompatible: (peer: string) => boolean = () => false
): ConversationInfo | undefined {
  const meta = conv.meta();
  if (meta === undefined) return undefined;
  const members = conv.members();
  const { kind, name } = titleOf(conv, names);
  const peer = kind === '1:1' ? members.find((m) => m !== names.self()) : undefined;
  return {
    id,
    kind,
    name,
    groupName: kind === 'group' ? meta.name : '',
    members,
    ...(peer === undefined ? {} : { peer }),
    left: kind === 'group' && !conv.isMember(names.self()),
    size: conv.size(),
    outdated: members.filter((m) => m !== names.self() && incompatible(m)).map((m) => names.of(m))
  };
}

/**
 * A message as the view renders it. `authenticity` says what is known of its signature (the
 * caller decides whether to check it now or later).
 */
export function messageRow(
  conv: Conversation,
  messageId: string,
  names: Names,
  status: (messageId: string) => MessageStatus | undefined,
  authenticity: (messageId: string) => Authenticity
): MessageRow | undefined {
  const m = conv.message(messageId);
  if (m === undefined) return undefined;
  return rowOf(conv, m, names, status, authenticity);
}

function rowOf(
  conv: Conversation,
  m: Message,
  names: Names,
  status: (messageId: string) => MessageStatus | undefined,
  authenticity: (messageId: string) => Authenticity
): MessageRow {
  const self = names.self();
  const mine = m.author === self;
  const quoted = m.replyTo === undefined ? undefined : conv.message(m.replyTo);
  const state = mine ? status(m.id) : undefined;
  return {
    id: m.id,
    key: m.key,
    author: m.author,
    authorName: names.of(m.author),
    mine,
    text: m.text,
    ...(m.file === undefined ? {} : { file: m.file }),
    at: m.displayAt,
    edited: m.edited,
    deleted: m.deleted,
    authenticity: authenticity(m.id),
    ...(quoted === undefined
      ? {}
      : {
          replyTo: {
            id: quoted.id,
            author: names.of(quoted.author),
            text: quoted.text,
            ...(quoted.file === undefined ? {} : { file: quoted.file })
          }
        }),
    reactions: Object.entries(m.reactions).map(([emoji, who]) => ({
      emoji,
      count: who.length,
      mine: who.includes(self)
    })),
    ...(state === undefined ? {} : { status: state })
  };
}
