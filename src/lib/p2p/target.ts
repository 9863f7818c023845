/**
 * Parsing what a user pastes into "Peer ID or link": a bare peer ID, a multiaddr ending in
 * /p2p/<peer>, or an app link (`<origin>/#/connect/<peer>` or `?peer=<peer>`). Pure.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { CONNECT_LINK_HASH_PREFIX, CONNECT_LINK_QUERY_PARAM } from './constants.js';
import { InvalidTargetError } from './errors.js';

export interface Target {
  /** Canonical string form of the peer ID. */
  peerId: string;
  /** Present when the input was a multiaddr (e.g. one that names the relay to use). */
  multiaddr?: string;
}

/** Longest input considered; anything longer is not something a person pasted on purpose. */
const MAX_TARGET_LENGTH = 4_096;

export function parseTarget(input: string): Target {
  const text = typeof input === 'string' ? input.trim() : '';
  if (text === '') throw new InvalidTargetError('Enter a peer ID or a link', 'empty');
  if (text.length > MAX_TARGET_LENGTH) {
    throw new InvalidTargetError('That is too long to be a peer ID or a link');
  }

  const fromLink = extractFromLink(text);
  if (fromLink !== undefined) return parseBare(fromLink);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new InvalidTargetError('That link does not contain a peer ID');
  }
  return parseBare(text);
}

/** Builds the app link that carries a peer ID. `base` is the app's origin (plus path). */
export function connectLink(base: string, peerId: string): string {
  const root = base.replace(/#.*$/, '').replace(/\/+$/, '');
  return `${root}/${CONNECT_LINK_HASH_PREFIX}${encodeURIComponent(peerId)}`;
}

/**
 * The peer part of an app link, or undefined if `text` is not one. Accepts full URLs and bare
 * fragments (`#/connect/<peer>`), so a link pasted with surrounding text still works.
 */
export function extractFromLink(text: string): string | undefined {
  const hashAt = text.indexOf(CONNECT_LINK_HASH_PREFIX);
  if (hashAt >= 0) {
    const rest = text.slice(hashAt + CONNECT_LINK_HASH_PREFIX.length);
    const value = rest.split(/[\s?&#]/, 1)[0] ?? '';
    return safeDecode(value);
  }
  const urlMatch = /[a-z][a-z0-9+.-]*:\/\/\S+/i.exec(text);
  if (urlMatch !== null) {
    let url: URL;
    try {
      url = new URL(urlMatch[0]);
    } catch {
      return undefined;
    }
    const fromQuery = url.searchParams.get(CONNECT_LINK_QUERY_PARAM);
    if (fromQuery !== null) return fromQuery.trim();
    // `?peer=` may also sit inside the fragment (`#/?peer=...`).
    const hashQuery = url.hash.indexOf('?');
    if (hashQuery >= 0) {
      const inHash = new URLSearchParams(url.hash.slice(hashQuery + 1)).get(
        CONNECT_LINK_QUERY_PARAM
      );
      if (inHash !== null) return inHash.trim();
    }
  }
  return undefined;
}

function parseBare(text: string): Target {
  if (text === '') throw new InvalidTargetError('That link does not contain a peer ID');
  if (text.startsWith('/')) return parseMultiaddr(text);
  if (/\s/.test(text)) throw new InvalidTargetError('A peer ID has no spaces in it');
  return { peerId: parsePeerId(text) };
}

function parseMultiaddr(text: string): Target {
  let ma;
  try {
    ma = multiaddr(text);
  } catch {
    throw new InvalidTargetError('That address is not a valid multiaddr');
  }
  const components = ma.getComponents();
  const last = components[components.length - 1];
  if (last?.name !== 'p2p' || last.value === undefined) {
    throw new InvalidTargetError('That address does not end in /p2p/<peer ID>');
  }
  return { peerId: parsePeerId(last.value), multiaddr: ma.toString() };
}

function parsePeerId(text: string): string {
  try {
    return peerIdFromString(text).toString();
  } catch {
    throw new InvalidTargetError('That is not a valid peer ID');
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value).trim();
  } catch {
    return value.trim();
  }
}
