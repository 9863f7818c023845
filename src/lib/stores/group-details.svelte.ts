/**
 * The "Group details" panel of an open group: rename it, see its members, add contacts.
 * Owned by ConversationStore (one per open conversation), refreshed with it.
 */
import type { Chat } from '$lib/app/chat-types';
import { describeError } from '$lib/app/error-text';

export interface GroupMemberView {
  peer: string;
  /** "You", the contact's name, or a short peer ID. */
  name: string;
}

export interface GroupCandidateView extends GroupMemberView {
  /** The checkbox label: the name, plus a short peer ID when another contact has the same name. */
  label: string;
}

/** The last characters of a peer ID, shown to tell contacts with the same name apart. */
export function peerSuffix(peer: string): string {
  return `…${peer.slice(-6)}`;
}

function nameKey(name: string): string {
  return name.normalize('NFKC').trim().toLocaleLowerCase();
}

/**
 * Checkbox labels for contacts, by peer: the name alone when no other of `contacts` has the same
 * name (ignoring case), otherwise "Name (…a1b2c3)" so one contact cannot pose as another.
 */
export function contactLabels(
  contacts: readonly { peer: string; name: string }[]
): Map<string, string> {
  // Local lookups, not state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const counts = new Map<string, number>();
  for (const c of contacts) counts.set(nameKey(c.name), (counts.get(nameKey(c.name)) ?? 0) + 1);
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const labels = new Map<string, string>();
  for (const c of contacts) {
    const shared = (counts.get(nameKey(c.name)) ?? 0) > 1;
    labels.set(c.peer, shared ? `${c.name} (${peerSuffix(c.peer)})` : c.name);
  }
  return labels;
}

export class GroupDetailsStore {
  readonly id: string;
  readonly #chat: Chat;

  open = $state(false);
  nameDraft = $state('');
  members = $state.raw<GroupMemberView[]>([]);
  /** Contacts who are not members yet. */
  candidates = $state.raw<GroupCandidateView[]>([]);
  selected = $state<string[]>([]);
  error = $state<string | undefined>(undefined);
  notice = $state<string | undefined>(undefined);
  busy = $state(false);

  constructor(chat: Chat, id: string) {
    this.#chat = chat;
    this.id = id;
  }

  toggle(): void {
    this.open = !this.open;
    this.error = undefined;
    this.notice = undefined;
    this.selected = [];
    if (this.open) {
      this.nameDraft = this.#chat.info(this.id)?.groupName ?? '';
      this.refresh();
    }
  }

  /** Re-reads members and contacts (while open). */
  refresh(): void {
    if (!this.open) return;
    const members = this.#chat.info(this.id)?.members ?? [];
    const self = this.#chat.self;
    const view = (peer: string): GroupMemberView => ({ peer, name: this.#name(peer) });
    // You first, then by name.
    this.members = members
      .map(view)
      .sort((a, b) => (a.peer === self ? -1 : b.peer === self ? 1 : a.name.localeCompare(b.name)));
    // A local lookup, not state.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const isMember = new Set(members);
    const contacts = this.#chat.contacts.list();
    // Names are told apart against all contacts, not only those not in the group yet.
    const labels = contactLabels(contacts.map((c) => view(c.peerId)));
    this.candidates = contacts
      .filter((c) => !c.blocked && !isMember.has(c.peerId))
      .map((c) => ({ ...view(c.peerId), label: labels.get(c.peerId) ?? this.#name(c.peerId) }))
      .sort((a, b) => a.label.localeCompare(b.label));
    // A contact blocked or removed since it was ticked has no checkbox any more: drop it.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const allowed = new Set(this.candidates.map((c) => c.peer));
    this.selected = this.selected.filter((p) => allowed.has(p));
  }

  choose(peer: string, checked: boolean): void {
    this.selected = checked
      ? [...this.selected.filter((p) => p !== peer), peer]
      : this.selected.filter((p) => p !== peer);
  }

  async rename(): Promise<boolean> {
    this.error = undefined;
    this.notice = undefined;
    this.busy = true;
    try {
      const before = this.#chat.info(this.id)?.groupName;
      await this.#chat.renameGroup(this.id, this.nameDraft);
      this.nameDraft = this.nameDraft.trim();
      const after = this.#chat.info(this.id)?.groupName;
      this.notice = after === before ? 'The name is unchanged.' : 'Group renamed.';
      return true;
    } catch (err) {
      this.error = describeError(err, 'group');
      return false;
    } finally {
      this.busy = false;
    }
  }

  async addMembers(): Promise<boolean> {
    this.error = undefined;
    this.notice = undefined;
    if (this.selected.length === 0) {
      this.error = 'Choose at least one contact to add.';
      return false;
    }
    const names = this.selected.map((p) => this.#name(p));
    this.busy = true;
    try {
      await this.#chat.addGroupMembers(this.id, [...this.selected]);
      this.selected = [];
      this.notice = `Added ${names.join(', ')}.`;
      this.refresh();
      return true;
    } catch (err) {
      this.error = describeError(err, 'group');
      return false;
    } finally {
      this.busy = false;
    }
  }

  #name(peer: string): string {
    if (peer === this.#chat.self) return 'You';
    return this.#chat.contacts.displayName(peer) ?? `${peer.slice(0, 8)}…${peer.slice(-6)}`;
  }
}
