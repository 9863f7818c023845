/** The "Relay status" line, from the node's state plus relay-info. Pure. */
import { RELAY_STATUS_TEXT, relayStatusText, secondsUntil } from '../p2p/messages.js';
import type { NodeState, NodeStatus } from '../p2p/types.js';
import type { RelayInfoState } from './node-app.js';

export interface StatusInput {
  node: NodeState;
  relayInfo: RelayInfoState;
  /** The app is starting (node not up yet). */
  starting: boolean;
  now: number;
}

export function statusLine({ node, relayInfo, starting, now }: StatusInput): string {
  if (node.status === 'offline') {
    return starting ? RELAY_STATUS_TEXT.connecting : RELAY_STATUS_TEXT.offline;
  }
  // With no relay configured at all, what went wrong is the relay-info request.
  if (node.relays.length === 0 && relayInfo.status === 'error' && relayInfo.error !== undefined) {
    return relayInfo.nextRetryAt === undefined
      ? relayInfo.error
      : `${relayInfo.error} — retrying in ${secondsUntil(relayInfo.nextRetryAt, now)} s`;
  }
  return relayStatusText(node, now);
}

/** Whether the line contains a countdown that needs a clock tick. */
export function needsTick(node: NodeState, relayInfo: RelayInfoState): boolean {
  return (
    node.relays.some((r) => r.nextRetryAt !== undefined) ||
    (relayInfo.status === 'error' && relayInfo.nextRetryAt !== undefined)
  );
}

/**
 * What a conversation says when members' apps speak no sync version this one does
 * (ConversationInfo.outdated); '' when none.
 */
export function outdatedNotice(names: readonly string[]): string {
  if (names.length === 0) return '';
  const who = names.length === 1 ? `${names[0]}'s app` : `the apps of ${names.join(', ')}`;
  return (
    `Can't sync with ${who}: a different version of p2p4everything. ` +
    'Messages go through once you both run the latest version.'
  );
}

/** The header's one word for the connection: what a person needs to know at a glance. */
export type ConnectionWord = 'Offline' | 'Connecting' | 'Via relay' | 'Direct';

export function connectionWord(status: NodeStatus, directPeers: number): ConnectionWord {
  if (status === 'offline') return 'Offline';
  if (directPeers > 0) return 'Direct';
  return status === 'online' ? 'Via relay' : 'Connecting';
}
