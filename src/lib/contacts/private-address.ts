/**
 * Which relay addresses from an invite may be dialed. An invite is text from a stranger: if its
 * relay addresses were dialed as given, a link could make the browser probe the reader's own
 * network (the router, 127.0.0.1 services, other devices). So addresses on private networks
 * (RFC 1918, loopback, link-local, CGNAT, IPv6 ULA and link-local, `localhost`, `.local`) are
 * dialed only when the app itself was loaded from such an address: then a private relay is the
 * normal setup (a LAN or a development relay) and the page can reach that network anyway.
 * Pure functions.
 */
import { multiaddr } from '@multiformats/multiaddr';

/** True for an IPv4 address in a private, loopback, link-local, CGNAT or "this network" range. */
export function isPrivateIPv4(ip: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (m === null) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return (
    a === 10 ||
    a === 127 ||
    a === 0 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/** True for ::, ::1, fe80::/10, fc00::/7, and IPv4-mapped private addresses. */
export function isPrivateIPv6(ip: string): boolean {
  const s =
    ip
      .toLowerCase()
      .replace(/^\[|\]$/g, '')
      .split('%')[0] ?? '';
  if (s === '::' || s === '::1' || /^0*:(0*:)*0*1?$/.test(s)) return true;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(s);
  if (mapped !== null) return isPrivateIPv4(mapped[1]!);
  const first = parseInt(s.split(':')[0] || '0', 16);
  if (Number.isNaN(first)) return false;
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

/** True for names that only resolve on the local machine or network. */
export function isPrivateName(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost') || n.endsWith('.local');
}

/** A URL host or a bare address/name: is it on a private network? */
export function isPrivateHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h.includes(':')) return isPrivateIPv6(h);
  return isPrivateIPv4(h) || isPrivateName(h);
}

/**
 * True when `addr` (a multiaddr string) reaches a private network: any ip4/ip6/dns* component
 * that is private. Unreadable addresses count as private (never dialed from a public page).
 */
export function isPrivateMultiaddr(addr: string): boolean {
  let components;
  try {
    components = multiaddr(addr).getComponents();
  } catch {
    return true;
  }
  return components.some((c) => {
    if (c.value === undefined) return false;
    if (c.name === 'ip4') return isPrivateIPv4(c.value);
    if (c.name === 'ip6') return isPrivateIPv6(c.value);
    if (c.name === 'dns' || c.name === 'dns4' || c.name === 'dns6' || c.name === 'dnsaddr') {
      return isPrivateHost(c.value);
    }
    return false;
  });
}

/** True when the page was loaded from a private address (see the file comment). */
export function isPrivateOrigin(pageOrigin: string | undefined): boolean {
  if (pageOrigin === undefined) return false;
  try {
    return isPrivateHost(new URL(pageOrigin).hostname);
  } catch {
    return false;
  }
}

/** The relay addresses of an invite this page may dial. */
export function dialableRelays(
  relays: readonly string[],
  pageOrigin: string | undefined
): string[] {
  if (isPrivateOrigin(pageOrigin)) return [...relays];
  return relays.filter((r) => !isPrivateMultiaddr(r));
}
