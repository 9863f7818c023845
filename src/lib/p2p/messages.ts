/**
 * Words for people: relay states turned into sentences for the UI. Pure, so the store and tests
 * share one wording. (Errors are put in words by describeError in src/lib/app/error-text.ts.)
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { NodeState, RelayState } from './types.js';

/** `/ip4/127.0.0.1/tcp/9090/ws/p2p/…` -> `127.0.0.1:9090`; falls back to the input. */
export function describeAddr(addr: string): string {
  try {
    const components = multiaddr(addr).getComponents();
    const host = components.find((c) =>
      ['ip4', 'ip6', 'dns', 'dns4', 'dns6', 'dnsaddr'].includes(c.name)
    );
    const port = components.find((c) => c.name === 'tcp' || c.name === 'udp');
    if (host?.value === undefined) return addr;
    const h = host.name === 'ip6' ? `[${host.value}]` : host.value;
    return port?.value === undefined ? h : `${h}:${port.value}`;
  } catch {
    return addr;
  }
}

export function relayUnreachableMessage(addr: string): string {
  return `Can't reach the relay at ${describeAddr(addr)}`;
}

export function relayRefusedMessage(addr: string): string {
  return `The relay at ${describeAddr(addr)} didn't give this device a slot`;
}

export function relayAddressInvalidMessage(addr: string): string {
  return `The relay address "${addr}" isn't a valid multiaddr ending in /p2p/<relay ID>`;
}

export function relayTooManyMessage(max: number): string {
  return `Only ${max} relays can be used at once; this one is skipped`;
}

/** Seconds left until `at`, rounded up, at least 1. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}

/** Status line for one relay that is not reserved. */
export function relayProblemText(relay: RelayState, now: number): string | undefined {
  if (relay.error === undefined) return undefined;
  if (relay.status === 'retrying') return `${relay.error} — retrying now…`;
  if (relay.status === 'error' && relay.nextRetryAt !== undefined) {
    return `${relay.error} — retrying in ${secondsUntil(relay.nextRetryAt, now)} s`;
  }
  return relay.error;
}

export const RELAY_STATUS_TEXT = {
  offline: 'Offline',
  connecting: 'Connecting to relay…',
  online: 'Connected via relay'
} as const;

/**
 * The one line shown in the "Relay status" region: "Offline", "Connecting to relay…",
 * "Connected via relay", or a sentence about the relay that can't be reached.
 */
export function relayStatusText(state: NodeState, now: number): string {
  if (state.status === 'offline') return RELAY_STATUS_TEXT.offline;
  if (state.relays.some((r) => r.status === 'reserved')) return RELAY_STATUS_TEXT.online;
  for (const relay of state.relays) {
    const text = relayProblemText(relay, now);
    if (text !== undefined) return text;
  }
  return RELAY_STATUS_TEXT.connecting;
}
