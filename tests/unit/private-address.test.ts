/** Invite relay addresses on private networks are dialed only from a page on one (private-address.ts). */
import { describe, expect, it } from 'vitest';
import {
  dialableRelays,
  isPrivateHost,
  isPrivateMultiaddr,
  isPrivateOrigin
} from '../../src/lib/contacts/private-address.js';

const P = '/p2p/12D3KooWSRMWDQcU2zqjFpjQQCAbNHxPhu5gUrxKyVtMxV4oZ1Bg';

describe('private addresses', () => {
  it('knows RFC 1918, loopback, link-local, CGNAT, ULA and local names', () => {
    for (const h of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.10.10',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '[::1]',
      'fe80::1',
      'fd12:3456::1',
      'fc00::1',
      '::ffff:192.168.0.1',
      'localhost',
      'relay.localhost',
      'printer.local',
      'printer.local.'
    ]) {
      expect(isPrivateHost(h), h).toBe(true);
    }
    for (const h of [
      '8.8.8.8',
      '172.32.0.1',
      '172.15.0.1',
      '192.169.0.1',
      '100.128.0.1',
      '2001:db8::1',
      '2606:4700::1111',
      'relay.example.com',
      'local.example.com'
    ]) {
      expect(isPrivateHost(h), h).toBe(false);
    }
  });

  it('reads multiaddrs: ip4, ip6 and dns names', () => {
    expect(isPrivateMultiaddr(`/ip4/192.168.1.5/tcp/443/wss${P}`)).toBe(true);
    expect(isPrivateMultiaddr(`/ip6/fe80::1/tcp/443/wss${P}`)).toBe(true);
    expect(isPrivateMultiaddr(`/dns4/nas.local/tcp/443/wss${P}`)).toBe(true);
    expect(isPrivateMultiaddr(`/dns4/relay.example.com/tcp/443/wss${P}`)).toBe(false);
    expect(isPrivateMultiaddr(`/ip4/203.0.113.9/tcp/443/wss${P}`)).toBe(false);
    expect(isPrivateMultiaddr('not a multiaddr')).toBe(true);
  });

  it('the page origin decides: private relays only from a private page', () => {
    const relays = [`/ip4/127.0.0.1/tcp/8080/ws${P}`, `/dns4/relay.example.com/tcp/443/wss${P}`];
    expect(isPrivateOrigin('http://127.0.0.1:8080')).toBe(true);
    expect(isPrivateOrigin('http://[::1]:8080')).toBe(true);
    expect(isPrivateOrigin('http://localhost:5173')).toBe(true);
    expect(isPrivateOrigin('https://chat.example.com')).toBe(false);
    expect(isPrivateOrigin(undefined)).toBe(false);
    expect(dialableRelays(relays, 'https://chat.example.com')).toEqual([relays[1]]);
    expect(dialableRelays(relays, undefined)).toEqual([relays[1]]);
    expect(dialableRelays(relays, 'http://192.168.1.20:8080')).toEqual(relays);
  });
});
