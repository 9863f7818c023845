/** How the relay's defaults and the user's settings combine. Pure. */
import type { Settings } from '../storage/settings.js';
import type { RelayInfo } from './relay-info.js';

/** The page's relay always comes first; the user's extra relays follow; duplicates dropped. */
export function effectiveRelays(info: RelayInfo | undefined, settings: Settings): string[] {
  const out: string[] = [];
  for (const addr of [...(info?.multiaddrs ?? []), ...settings.relays]) {
    const a = addr.trim();
    if (a !== '' && !out.includes(a)) out.push(a);
  }
  return out;
}

/** The relay's suggested ICE servers plus the user's URLs. Never public defaults. */
export function effectiveIceServers(
  info: RelayInfo | undefined,
  settings: Settings
): RTCIceServer[] {
  const out: RTCIceServer[] = (info?.iceServers ?? []).map((s) => ({ ...s }));
  for (const url of settings.iceServers) {
    const u = url.trim();
    if (u !== '') out.push({ urls: u });
  }
  return out;
}

/** "a, b\nc" -> ['a', 'b', 'c'] (the ICE servers field). */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** One entry per non-empty line (the relays field). */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Rejects ICE server URLs that aren't stun:/stuns:/turn:/turns:. Returns the bad ones. */
export function invalidIceUrls(urls: string[]): string[] {
  return urls.filter((u) => !/^(stun|stuns|turn|turns):[^\s]+$/i.test(u));
}
