/**
 * The relay as a real child process: HTTP API, metrics, static files, configuration errors,
 * restarts and shutdown.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPeer, waitFor } from '../fixtures/node-peer.js';
import {
  readMetric,
  REPO_ROOT,
  runRelay,
  startRelay,
  type RelayHandle
} from '../fixtures/relay.js';

const VERSION = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;
const SECRET = 'TOP-SECRET-outside-the-static-dir';

/** A raw GET that keeps the path exactly as written (fetch would normalize `..`). */
function rawGet(
  port: number,
  rawPath: string,
  headers: Record<string, string> = {}
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: rawPath, method: 'GET', headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }
    );
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${rawPath} timed out`)));
    req.end();
  });
}

describe('relay HTTP API', () => {
  let relay: RelayHandle;
  let tmp: string;
  let staticDir: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'p2p4e-static-'));
    staticDir = path.join(tmp, 'build');
    await mkdir(path.join(staticDir, '_app/immutable/chunks'), { recursive: true });
    await mkdir(path.join(staticDir, 'about'), { recursive: true });
    await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>app shell</title>');
    await writeFile(
      path.join(staticDir, 'about/index.html'),
      '<!doctype html><title>about</title>'
    );
    await writeFile(path.join(staticDir, '_app/immutable/chunks/app.abc123.js'), 'export {};');
    await writeFile(path.join(staticDir, 'style.css'), 'body{}');
    await writeFile(
      path.join(staticDir, 'favicon.svg'),
      '<svg xmlns="http://www.w3.org/2000/svg"/>'
    );
    await writeFile(path.join(staticDir, '.env'), SECRET);
    await writeFile(path.join(tmp, 'secret.txt'), SECRET);
    await symlink(path.join(tmp, 'secret.txt'), path.join(staticDir, 'leak.txt'));
    relay = await startRelay({
      staticDir,
      args: ['--ice-servers', 'stun:stun.example.org:3478,turn:turn.example.org:3478']
    });
  });

  afterAll(async () => {
    await relay?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('GET /api/relay-info describes the relay for browsers', async () => {
    const res = await fetch(`${relay.url}/api/relay-info`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const info = await res.json();
    expect(info).toEqual({
      peerId: relay.peerId,
      multiaddrs: relay.multiaddrs,
      version: VERSION,
      iceServers: [{ urls: 'stun:stun.example.org:3478' }, { urls: 'turn:turn.example.org:3478' }]
    });
    expect(info.multiaddrs).toEqual([`/ip4/127.0.0.1/tcp/${relay.wsPort}/ws/p2p/${relay.peerId}`]);
  });

  it("inlines its relay-info into the app's index.html, revalidated by an ETag over it", async () => {
    const api = await (await fetch(`${relay.url}/api/relay-info`)).json();
    const inline = (html: string): unknown => {
      const m = /<script type="application\/json" id="p2p4e-relay-info">([^<]*)<\/script>/.exec(
        html
      );
      return m === null ? undefined : JSON.parse(m[1] as string);
    };
    // The app's shell wherever it is served: /, /index.html and the client-side routes.
    let etag = '';
    for (const route of ['/', '/index.html', '/chat/abc', '/invite?code=xyz']) {
      const res = await fetch(`${relay.url}${route}`);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('cache-control'), route).toBe('no-cache');
      expect(res.headers.get('content-encoding'), route).toBeNull();
      const html = await res.text();
      expect(html, route).toContain('app shell');
      expect(inline(html), route).toEqual(api);
      expect(Number(res.headers.get('content-length')), route).toBe(Buffer.byteLength(html));
      etag ||= res.headers.get('etag') ?? '';
      expect(res.headers.get('etag'), route).toBe(etag);
    }
    // Another directory's index.html is not the app: left alone.
    expect(inline(await (await fetch(`${relay.url}/about`)).text())).toBeUndefined();
    expect((await rawGet(relay.httpPort, '/', { 'If-None-Match': etag })).status).toBe(304);
    expect((await rawGet(relay.httpPort, '/', { 'If-None-Match': '"stale"' })).status).toBe(200);
    const head = await fetch(`${relay.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('GET /healthz reports ok while the node runs', async () => {
    const res = await fetch(`${relay.url}/healthz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', peerId: relay.peerId, version: VERSION });
  });

  it('GET /metrics exposes relay and process metrics that follow connections', async () => {
    const res = await fetch(`${relay.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    for (const name of [
      'p2p4e_relay_up',
      'p2p4e_relay_info',
      'p2p4e_relay_connections',
      'p2p4e_relay_connections_opened_total',
      'p2p4e_relay_reservations',
      'p2p4e_relay_circuits_opened_total',
      'p2p4e_relay_circuits_active',
      'p2p4e_relay_relayed_bytes_total',
      'p2p4e_relay_gossipsub_topics',
      'p2p4e_relay_http_requests_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'libp2p_connection_manager_connections'
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    expect(await readMetric(relay.url, 'p2p4e_relay_up')).toBe(1);

    const opened = await readMetric(relay.url, 'p2p4e_relay_connections_opened_total').catch(
      () => 0
    );
    const peer = await createTestPeer({ dial: [relay.multiaddrs[0] ?? ''], webrtc: false });
    try {
      await waitFor(
        async () =>
          (await readMetric(relay.url, 'p2p4e_relay_connections', {
            direction: 'inbound',
            transport: 'websockets'
          }).catch(() => 0)) === 1,
        { message: 'one inbound WebSocket connection in the metrics' }
      );
      expect(await readMetric(relay.url, 'p2p4e_relay_connections_opened_total')).toBe(opened + 1);
      const health = await (await fetch(`${relay.url}/healthz`)).json();
      expect(health.connections).toBe(1);
    } finally {
      await peer.stop();
    }
    await waitFor(
      async () => (await readMetric(relay.url, 'p2p4e_relay_connections').catch(() => 0)) === 0,
      { message: 'the connection to be gone from the metrics' }
    );
    expect(
      await readMetric(relay.url, 'p2p4e_relay_http_requests_total', { route: 'metrics' })
    ).toBeGreaterThan(1);
  });

  it('serves the app with content types, caching and an SPA fallback', async () => {
    const root = await fetch(`${relay.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('cache-control')).toBe('no-cache');
    expect(await root.text()).toContain('app shell');

    const js = await fetch(`${relay.url}/_app/immutable/chunks/app.abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await js.text()).toBe('export {};');

    const css = await fetch(`${relay.url}/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const svg = await fetch(`${relay.url}/favicon.svg`);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');

    // Client-side routes get the app shell; a directory with its own index.html gets that.
    for (const route of ['/chat/abc', '/settings', '/invite?code=xyz']) {
      const res = await fetch(`${relay.url}${route}`);
      expect(res.status, route).toBe(200);
      expect(await res.text(), route).toContain('app shell');
    }
    expect(await (await fetch(`${relay.url}/about`)).text()).toContain('about');

    // Missing assets are 404, not HTML.
    const missing = await fetch(`${relay.url}/_app/immutable/chunks/missing.js`);
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();

    // Revalidation with the ETag.
    const etag = root.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const again = await rawGet(relay.httpPort, '/', { 'If-None-Match': etag });
    expect(again.status).toBe(304);

    const post = await fetch(`${relay.url}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    await post.arrayBuffer();
  });

  it('refuses path traversal, dotfiles and symlinks out of the static dir', async () => {
    for (const attempt of [
      '/../secret.txt',
      '/../../../../etc/passwd',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/_app/../../secret.txt',
      '/..\\secret.txt',
      '/%5c..%5csecret.txt',
      '/.env',
      '/%2eenv',
      '/leak.txt',
      '/%00index.html',
      '/%E0%A4%A'
    ]) {
      const res = await rawGet(relay.httpPort, attempt);
      expect([400, 403, 404], `${attempt} -> ${res.status}`).toContain(res.status);
      expect(res.body, attempt).not.toContain(SECRET);
      expect(res.body, attempt).not.toContain('root:');
    }
    // The relay still serves normally afterwards.
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });
});

describe('relay process', () => {
  it('rejects invalid configuration with exit code 2 naming the setting', async () => {
    const cases: Array<{ args?: string[]; env?: Record<string, string>; setting: string }> = [
      { args: ['--http-port', '99999'], setting: '--http-port' },
      { args: ['--ws-port', 'abc'], setting: '--ws-port' },
      { args: ['--relay-data-limit', '-1'], setting: '--relay-data-limit' },
      { args: ['--max-reservations', '0'], setting: '--max-reservations' },
      { args: ['--announce', '/ip4/1.2.3.4/tcp/443'], setting: '--announce' },
      { args: ['--announce', 'not-a-multiaddr'], setting: '--announce' },
      { args: ['--ice-servers', 'http://example.org'], setting: '--ice-servers' },
      { args: ['--log-level', 'loud'], setting: '--log-level' },
      { args: ['--no-such-flag', '1'], setting: '--no-such-flag' },
      { env: { P2P4E_RELAY_DURATION_LIMIT: '-5' }, setting: 'P2P4E_RELAY_DURATION_LIMIT' }
    ];
    // Ephemeral ports and a throwaway data dir by environment (flags win over it), so a case
    // that wrongly starts cannot collide with anything; runRelay kills it after its timeout.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'p2p4e-badconfig-'));
    const baseEnv = { P2P4E_HTTP_PORT: '0', P2P4E_WS_PORT: '0', P2P4E_DATA_DIR: dataDir };
    const results = await Promise.all(
      cases.map((c) => runRelay(c.args ?? [], { env: { ...baseEnv, ...c.env }, timeoutMs: 15_000 }))
    );
    await rm(dataDir, { recursive: true, force: true });
    results.forEach((result, i) => {
      const c = cases[i];
      expect(result.code, JSON.stringify(c)).toBe(2);
      expect(result.stderr, JSON.stringify(c)).toContain(c?.setting);
      expect(result.stdout, JSON.stringify(c)).not.toContain('relay started');
    });
  });

  it('--help lists every flag with its environment variable and exits 0', async () => {
    const result = await runRelay(['--help']);
    expect(result.code).toBe(0);
    for (const text of ['--host', 'P2P4E_HOST', '--ice-servers', 'P2P4E_ICE_SERVERS', '0.0.0.0']) {
      expect(result.stdout).toContain(text);
    }
  });

  it('keeps its peer ID and addresses across a restart', async () => {
    const first = await startRelay();
    try {
      const keyFile = path.join(first.dataDir, 'relay-key');
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      const second = await first.restart();
      expect(second.peerId).toBe(first.peerId);
      expect(second.multiaddrs).toEqual(first.multiaddrs);
      expect(second.url).toBe(first.url);
      expect(second.dataDir).toBe(first.dataDir);
      expect(first.process.exitCode).toBe(0);
      const info = await (await fetch(`${second.url}/api/relay-info`)).json();
      expect(info.peerId).toBe(first.peerId);
      expect(second.logs()).toContain('"identityCreated":false');

      // stop() on the first handle stops the restarted process; restart() works after stop().
      await first.stop();
      expect(second.process.exitCode).toBe(0);
      const third = await first.restart();
      expect(third.peerId).toBe(first.peerId);
      expect(third.multiaddrs).toEqual(first.multiaddrs);
    } finally {
      await first.stop();
    }
  });

  it('stops cleanly on SIGTERM within a few seconds, with exit code 0', async () => {
    const relay = await startRelay();
    const peer = await createTestPeer({ relay: relay.multiaddrs[0], webrtc: false });
    try {
      const exited = new Promise<{ code: number | null; ms: number }>((resolve) => {
        const t0 = Date.now();
        relay.process.once('exit', (code) => resolve({ code, ms: Date.now() - t0 }));
      });
      relay.process.kill('SIGTERM');
      const { code, ms } = await exited;
      expect(code).toBe(0);
      expect(ms).toBeLessThan(4_000);
      expect(relay.logs()).toContain('"msg":"relay stopped"');
      // Its clients see the connection go.
      await waitFor(() => peer.getConnections().length === 0, {
        message: 'the client to lose its connection'
      });
    } finally {
      await peer.stop();
      await relay.stop();
    }
  });
});
