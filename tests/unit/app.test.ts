import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { composeApp, createApp } from '../../src/lib/app/app.js';
import { createNodeApp } from '../../src/lib/app/node-app.js';
import {
  effectiveIceServers,
  effectiveRelays,
  invalidIceUrls,
  splitLines,
  splitList
} from '../../src/lib/app/merge.js';
import {
  parseRelayInfo,
  readInlineRelayInfo,
  RELAY_INFO_ELEMENT_ID,
  type RelayInfoDocument
} from '../../src/lib/app/relay-info.js';
import { injectRelayInfo, RELAY_INFO_ELEMENT_ID as RELAY_SIDE_ID } from '../../relay/src/http.js';
import type { NodeInit, P2PNode } from '../../src/lib/p2p/types.js';
import { createMemoryKeyStore } from '../../src/lib/storage/key-store.js';
import {
  createLocalSettingsStore,
  createMemorySettingsStore,
  parseSettings
} from '../../src/lib/storage/settings.js';

const RELAY = '12D3KooWCV9smSi6qAxz4shJqxe9tZmeXDCuyotxvLJAQUAvdTby';
const RELAY_ADDR = `/ip4/127.0.0.1/tcp/9090/ws/p2p/${RELAY}`;
const EXTRA = '/ip4/10.0.0.2/tcp/9090/ws/p2p/12D3KooWGdZeFT1rT2fYxpDn58F1yWN4sBiXu9ppYRAnJiH1GDei';
const info = {
  peerId: RELAY,
  multiaddrs: [RELAY_ADDR],
  version: '1',
  iceServers: [{ urls: 'stun:127.0.0.1:3478' }]
};

const SHELL = '<!doctype html><html><head><title>app</title></head><body></body></html>';

/**
 * The page as a browser parses it, for the one element the app reads: the text of
 * `<script ... id="…">` runs up to the first `</script` (the HTML rule; JSON escapes don't count).
 */
function pageWith(html: string): RelayInfoDocument {
  return {
    getElementById(id) {
      const open = new RegExp(`<script[^>]*\\sid="${id}"[^>]*>`).exec(html);
      if (open === null) return null;
      const start = open.index + open[0].length;
      const end = html.indexOf('</script', start);
      return { textContent: html.slice(start, end === -1 ? undefined : end) };
    }
  };
}

function fakeNode() {
  const calls = { relays: [] as string[][], ice: [] as RTCIceServer[][], started: 0, stopped: 0 };
  const node = {
    setRelays: (r: string[]) => calls.relays.push(r),
    setIceServers: (s: RTCIceServer[]) => calls.ice.push(s),
    start: async () => {
      calls.started++;
    },
    stop: async () => {
      calls.stopped++;
    }
  } as unknown as P2PNode;
  return { node, calls };
}

describe('createApp', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('merges relay-info with saved settings and starts the node', async () => {
    const { node, calls } = fakeNode();
    let init: NodeInit | undefined;
    const fetch = vi.fn(async () => new Response(JSON.stringify(info)));
    const app = createApp({
      origin: 'http://127.0.0.1:8080',
      keyStore: createMemoryKeyStore(),
      settingsStore: createMemorySettingsStore({ relays: [EXTRA], iceServers: ['turn:10.0.0.3'] }),
      fetch,
      createNode: (i) => {
        init = i;
        return node;
      }
    });
    expect(fetch).not.toHaveBeenCalled(); // no I/O before start()
    expect(init?.iceServers).toEqual([]);
    await app.start();
    expect(fetch).toHaveBeenCalledWith('http://127.0.0.1:8080/api/relay-info', expect.anything());
    expect(calls.started).toBe(1);
    expect(calls.relays.at(-1)).toEqual([RELAY_ADDR, EXTRA]);
    expect(calls.ice.at(-1)).toEqual([{ urls: 'stun:127.0.0.1:3478' }, { urls: 'turn:10.0.0.3' }]);
    expect(app.snapshot.relayInfo).toMatchObject({ status: 'ok', info });
    expect(app.linkFor('12D3KooWX')).toBe('http://127.0.0.1:8080/#/connect/12D3KooWX');
    await app.stop();
    expect(calls.stopped).toBe(1);
  });

  it('uses the relay-info the page came with: relays set before the node starts, no fetch', async () => {
    const order: string[] = [];
    const node = {
      setRelays: (r: string[]) => order.push(`relays ${r.join(' ')}`),
      setIceServers: (s: RTCIceServer[]) => order.push(`ice ${s.map((x) => x.urls).join(' ')}`),
      start: async () => {
        order.push('start');
      },
      stop: async () => {}
    } as unknown as P2PNode;
    const fetch = vi.fn(async () => new Response(JSON.stringify(info)));
    const app = createApp({
      origin: 'http://127.0.0.1:8080',
      relayInfo: readInlineRelayInfo(pageWith(injectRelayInfo(SHELL, info))),
      keyStore: createMemoryKeyStore(),
      settingsStore: createMemorySettingsStore({ relays: [EXTRA], iceServers: [] }),
      fetch,
      createNode: () => node
    });
    expect(app.snapshot.relayInfo).toMatchObject({ status: 'ok', info });
    await app.start();
    expect(order).toEqual([`relays ${RELAY_ADDR} ${EXTRA}`, 'ice stun:127.0.0.1:3478', 'start']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).not.toHaveBeenCalled();
    await app.stop();
  });

  it('keeps retrying relay-info with a clear message while the relay is down', async () => {
    const { node, calls } = fakeNode();
    let up = false;
    const fetch = vi.fn(async () => {
      if (!up) throw new TypeError('Failed to fetch');
      return new Response(JSON.stringify(info));
    });
    const app = createApp({
      origin: 'http://127.0.0.1:8080',
      keyStore: createMemoryKeyStore(),
      settingsStore: createMemorySettingsStore(),
      fetch,
      createNode: () => node,
      random: () => 0
    });
    const changes: string[] = [];
    app.addEventListener('change', (e) => changes.push(e.detail.relayInfo.status));
    await app.start();
    expect(app.snapshot.relayInfo).toMatchObject({
      status: 'error',
      error: "Can't reach the relay at 127.0.0.1:8080"
    });
    expect(calls.started).toBe(1); // the node (and the device ID) come up anyway
    await vi.advanceTimersByTimeAsync(1_000);
    expect(fetch).toHaveBeenCalledTimes(2);
    up = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(app.snapshot.relayInfo.status).toBe('ok');
    expect(calls.relays.at(-1)).toEqual([RELAY_ADDR]);
    expect(changes).toContain('ok');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(3);
    await app.stop();
  });

  it('reports HTTP errors and nonsense answers in words', async () => {
    const { node } = fakeNode();
    for (const [response, words] of [
      [new Response('nope', { status: 502 }), 'answered with an error (HTTP 502)'],
      [new Response('<html>'), "sent an answer that isn't JSON"],
      [new Response('{"peerId":1}'), 'sent an unexpected answer']
    ] as const) {
      const app = createApp({
        origin: 'http://127.0.0.1:8080',
        keyStore: createMemoryKeyStore(),
        settingsStore: createMemorySettingsStore(),
        fetch: async () => response,
        createNode: () => node
      });
      await app.start();
      expect(app.snapshot.relayInfo.error).toBe(`The relay at 127.0.0.1:8080 ${words}`);
      await app.stop();
    }
  });

  it('saveSettings stores and applies', async () => {
    const { node, calls } = fakeNode();
    const settingsStore = createMemorySettingsStore();
    const app = createApp({
      origin: 'http://127.0.0.1:8080',
      keyStore: createMemoryKeyStore(),
      settingsStore,
      fetch: async () => new Response(JSON.stringify(info)),
      createNode: () => node
    });
    await app.start();
    await app.saveSettings({ relays: [EXTRA], iceServers: [] });
    expect(await settingsStore.load()).toEqual({ relays: [EXTRA], iceServers: [] });
    expect(calls.relays.at(-1)).toEqual([RELAY_ADDR, EXTRA]);
    await app.stop();
  });

  it('the node half starts first (before the page renders); the messenger composed later shares its start', async () => {
    let release!: () => void;
    const { node, calls } = fakeNode();
    node.start = () => {
      calls.started++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const base = createNodeApp({
      origin: 'http://127.0.0.1:8080',
      relayInfo: info,
      keyStore: createMemoryKeyStore(),
      settingsStore: createMemorySettingsStore(),
      createNode: () => node
    });
    const booting = base.start();
    const app = composeApp(base, { origin: 'http://127.0.0.1:8080' });
    expect(app.node).toBe(node);
    let started = false;
    const appStart = app.start().then(() => (started = true));
    await vi.waitFor(() => expect(calls.started).toBe(1));
    await Promise.resolve();
    expect(started).toBe(false); // waits for the start under way, does not start again
    release();
    await Promise.all([booting, appStart]);
    expect(started).toBe(true);
    expect(calls.started).toBe(1);
    await app.stop();
    expect(calls.stopped).toBe(1);
  });

  it('a start that failed (settings unreadable) can be tried again', async () => {
    const { node, calls } = fakeNode();
    let fail = true;
    const settingsStore = createMemorySettingsStore();
    const load = settingsStore.load.bind(settingsStore);
    settingsStore.load = () => (fail ? Promise.reject(new Error('storage gone')) : load());
    const app = createApp({
      origin: 'http://127.0.0.1:8080',
      relayInfo: info,
      keyStore: createMemoryKeyStore(),
      settingsStore,
      createNode: () => node
    });
    await expect(app.start()).rejects.toThrow('storage gone');
    expect(calls.started).toBe(0);
    fail = false;
    await app.start();
    expect(calls.started).toBe(1);
    await app.stop();
  });
});

describe('inline relay-info', () => {
  it('the relay and the app agree on the element', () => {
    expect(RELAY_SIDE_ID).toBe(RELAY_INFO_ELEMENT_ID);
  });

  it('is injected into <head> and read back unchanged', () => {
    const html = injectRelayInfo(SHELL, info);
    expect(html.indexOf(RELAY_INFO_ELEMENT_ID)).toBeLessThan(html.indexOf('</head>'));
    expect(readInlineRelayInfo(pageWith(html))).toEqual(info);
    // A page without </head> still gets it.
    expect(readInlineRelayInfo(pageWith(injectRelayInfo('<title>x</title>', info)))).toEqual(info);
  });

  it('escapes what could end the script element or open a comment', () => {
    const hostile = {
      ...info,
      version: '</script><script>alert(1)</script><!-- & \u2028\u2029 >',
      iceServers: [{ urls: 'turn:x</SCRIPT>', credential: '<!--' }]
    };
    const html = injectRelayInfo(SHELL, hostile);
    const tagAt = html.indexOf(RELAY_INFO_ELEMENT_ID);
    const json = html.slice(html.indexOf('>', tagAt) + 1, html.indexOf('</script', tagAt));
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    expect(readInlineRelayInfo(pageWith(html))).toEqual(parseRelayInfo(hostile));
  });

  it('is absent or unusable: undefined (the app then fetches it)', () => {
    expect(readInlineRelayInfo(pageWith(SHELL))).toBeUndefined();
    expect(readInlineRelayInfo(undefined)).toBeUndefined();
    const broken = (text: string): RelayInfoDocument => ({
      getElementById: () => ({ textContent: text })
    });
    expect(readInlineRelayInfo(broken(''))).toBeUndefined();
    expect(readInlineRelayInfo(broken('{"peerId":'))).toBeUndefined();
    expect(readInlineRelayInfo(broken('{"peerId":""}'))).toBeUndefined();
  });
});

describe('merging and parsing', () => {
  it('relay-info comes first, duplicates go', () => {
    expect(
      effectiveRelays(info, { relays: [RELAY_ADDR, ` ${EXTRA} `, ''], iceServers: [] })
    ).toEqual([RELAY_ADDR, EXTRA]);
    expect(effectiveRelays(undefined, { relays: [EXTRA], iceServers: [] })).toEqual([EXTRA]);
    expect(effectiveIceServers(undefined, { relays: [], iceServers: [] })).toEqual([]);
  });

  it('splits the settings fields', () => {
    expect(splitLines(`${RELAY_ADDR}\r\n\n  ${EXTRA}  \n`)).toEqual([RELAY_ADDR, EXTRA]);
    expect(splitList('stun:a:1, turn:b:2,,\nstuns:c')).toEqual(['stun:a:1', 'turn:b:2', 'stuns:c']);
    expect(invalidIceUrls(['stun:a', 'http://x', 'turns:b:5349'])).toEqual(['http://x']);
  });

  it('parseRelayInfo accepts the contract and drops junk', () => {
    expect(parseRelayInfo(info)).toEqual(info);
    expect(parseRelayInfo({ peerId: RELAY, multiaddrs: [RELAY_ADDR, 3] })).toEqual({
      peerId: RELAY,
      multiaddrs: [RELAY_ADDR],
      version: '',
      iceServers: []
    });
    expect(
      parseRelayInfo({ ...info, iceServers: [{ urls: [] }, { nope: 1 }, { urls: ['stun:x'] }] })
        ?.iceServers
    ).toEqual([{ urls: ['stun:x'] }]);
    for (const bad of [null, 'x', {}, { peerId: '', multiaddrs: [] }, { peerId: RELAY }]) {
      expect(parseRelayInfo(bad)).toBeUndefined();
    }
    // A relay that keeps public shares says how big; anything else is "it does not".
    expect(parseRelayInfo({ ...info, publicShares: { maxBytes: 1000 } })?.publicShares).toEqual({
      maxBytes: 1000
    });
    for (const junk of [true, null, {}, { maxBytes: -1 }, { maxBytes: 1.5 }, { maxBytes: '9' }]) {
      expect(parseRelayInfo({ ...info, publicShares: junk })?.publicShares).toBeUndefined();
    }
  });

  it('settings survive garbage in localStorage', async () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v)
    };
    const store = createLocalSettingsStore({ storage });
    expect(await store.load()).toEqual({ relays: [], iceServers: [] });
    await store.save({ relays: [EXTRA], iceServers: ['stun:x'] });
    expect(await store.load()).toEqual({ relays: [EXTRA], iceServers: ['stun:x'] });
    for (const raw of ['{', '[]', '42', 'null', '{"relays":"x","iceServers":[1,"stun:y"]}']) {
      expect(parseSettings(raw)).toEqual(
        raw.includes('stun:y')
          ? { relays: [], iceServers: ['stun:y'] }
          : { relays: [], iceServers: [] }
      );
    }
  });
});
