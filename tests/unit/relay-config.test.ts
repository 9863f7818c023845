import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { helpText, parseConfig, SETTINGS, type RelayConfig } from '../../relay/src/config.js';
import { ConfigError } from '../../relay/src/errors.js';

const CWD = '/srv/relay';

function config(argv: string[] = [], env: Record<string, string> = {}): RelayConfig {
  const result = parseConfig(argv, env, CWD);
  if (result.kind !== 'config') throw new Error(`expected a config, got ${result.kind}`);
  return result.config;
}

function configError(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(argv, env, CWD);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).name).toBe('ConfigError');
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify({ argv, env })}`);
}

describe('relay config', () => {
  it('has documented defaults', () => {
    expect(config()).toEqual({
      host: '127.0.0.1',
      httpPort: 8080,
      wsPort: 9090,
      announce: [],
      dataDir: path.join(CWD, 'data'),
      staticDir: path.join(CWD, 'build'),
      iceServers: [],
      maxConnections: 1024,
      maxPendingConnections: 128,
      maxConnRatePerIp: 10,
      handshakeTimeout: 10,
      maxStreamsPerConnection: 256,
      wsMaxMessageSize: 1_048_576,
      maxReservations: 1024,
      reservationTtl: 3600,
      relayDataLimit: 1_048_576,
      relayDurationLimit: 300,
      maxTopics: 900,
      publicSharesQuota: 0,
      publicShareMax: 100_000_000,
      logLevel: 'info'
    } satisfies RelayConfig);
  });

  it('reads flags as `--flag value` and `--flag=value`', () => {
    const c = config([
      '--host',
      '0.0.0.0',
      '--http-port=0',
      '--ws-port',
      '0',
      '--announce',
      '/dns4/relay.example.org/tcp/443/wss, /ip4/203.0.113.7/tcp/9090/ws',
      '--data-dir=/var/lib/p2p4e',
      '--static-dir',
      'dist/app',
      '--max-connections',
      '50',
      '--max-reservations',
      '2000',
      '--reservation-ttl',
      '60',
      '--relay-data-limit',
      '0',
      '--relay-duration-limit',
      '0',
      '--ice-servers',
      'stun:stun.example.org:3478,turns:turn.example.org:5349?transport=tcp',
      '--log-level',
      'DEBUG'
    ]);
    expect(c).toMatchObject({
      host: '0.0.0.0',
      httpPort: 0,
      wsPort: 0,
      announce: ['/dns4/relay.example.org/tcp/443/wss', '/ip4/203.0.113.7/tcp/9090/ws'],
      dataDir: '/var/lib/p2p4e',
      staticDir: path.join(CWD, 'dist/app'),
      maxConnections: 50,
      maxReservations: 2000,
      reservationTtl: 60,
      relayDataLimit: 0,
      relayDurationLimit: 0,
      iceServers: [
        { urls: 'stun:stun.example.org:3478' },
        { urls: 'turns:turn.example.org:5349?transport=tcp' }
      ],
      logLevel: 'debug'
    });
  });

  it('reads every setting from its environment variable', () => {
    const env: Record<string, string> = {
      P2P4E_HOST: '::',
      P2P4E_HTTP_PORT: '8081',
      P2P4E_WS_PORT: '9091',
      P2P4E_ANNOUNCE: '/dns4/relay.example.org/tcp/443/wss',
      P2P4E_DATA_DIR: '/data',
      P2P4E_STATIC_DIR: '/app/build',
      P2P4E_ICE_SERVERS: 'stun:stun.example.org',
      P2P4E_MAX_CONNECTIONS: '10',
      P2P4E_MAX_PENDING_CONNECTIONS: '11',
      P2P4E_MAX_CONN_RATE_PER_IP: '12',
      P2P4E_HANDSHAKE_TIMEOUT: '13',
      P2P4E_MAX_STREAMS_PER_CONNECTION: '14',
      P2P4E_WS_MAX_MESSAGE_SIZE: '200000',
      P2P4E_MAX_RESERVATIONS: '15',
      P2P4E_RESERVATION_TTL: '16',
      P2P4E_RELAY_DATA_LIMIT: '17',
      P2P4E_RELAY_DURATION_LIMIT: '18',
      P2P4E_MAX_TOPICS: '19',
      P2P4E_PUBLIC_SHARES_QUOTA: '5GB',
      P2P4E_PUBLIC_SHARE_MAX: '20MiB',
      P2P4E_LOG_LEVEL: 'warn'
    };
    // Every setting has its variable in this test.
    expect(Object.keys(env).sort()).toEqual(SETTINGS.map((s) => s.env).sort());
    expect(config([], env)).toEqual({
      host: '::',
      httpPort: 8081,
      wsPort: 9091,
      announce: ['/dns4/relay.example.org/tcp/443/wss'],
      dataDir: '/data',
      staticDir: '/app/build',
      iceServers: [{ urls: 'stun:stun.example.org' }],
      maxConnections: 10,
      maxPendingConnections: 11,
      maxConnRatePerIp: 12,
      handshakeTimeout: 13,
      maxStreamsPerConnection: 14,
      wsMaxMessageSize: 200_000,
      maxReservations: 15,
      reservationTtl: 16,
      relayDataLimit: 17,
      relayDurationLimit: 18,
      maxTopics: 19,
      publicSharesQuota: 5_000_000_000,
      publicShareMax: 20 * 1024 * 1024,
      logLevel: 'warn'
    } satisfies RelayConfig);
  });

  it('gives flags precedence over the environment, and the environment over defaults', () => {
    const env = { P2P4E_HTTP_PORT: '8081', P2P4E_WS_PORT: '9091', P2P4E_HOST: '0.0.0.0' };
    const c = config(['--http-port', '7000'], env);
    expect(c.httpPort).toBe(7000); // flag
    expect(c.wsPort).toBe(9091); // env
    expect(c.host).toBe('0.0.0.0'); // env
    expect(c.maxReservations).toBe(1024); // default
    // A flag wins even over an invalid environment value.
    expect(config(['--ws-port', '1'], { P2P4E_WS_PORT: 'nope' }).wsPort).toBe(1);
    // The last repetition of a flag wins.
    expect(config(['--http-port', '1', '--http-port', '2']).httpPort).toBe(2);
  });

  it('treats empty environment variables as unset', () => {
    expect(config([], { P2P4E_ANNOUNCE: '', P2P4E_HTTP_PORT: ' ' })).toMatchObject({
      announce: [],
      httpPort: 8080
    });
  });

  it('reads public share sizes as bytes or with SI and IEC units', () => {
    const sizes: [string, number][] = [
      ['0', 0],
      ['1048576', 1_048_576],
      ['1GB', 1_000_000_000],
      ['1 gb', 1_000_000_000],
      ['1.5GB', 1_500_000_000],
      ['500MB', 500_000_000],
      ['500M', 500_000_000],
      ['64kB', 64_000],
      ['2GiB', 2 * 1024 ** 3],
      ['512KiB', 512 * 1024],
      ['1TB', 1e12],
      ['100B', 100]
    ];
    for (const [raw, bytes] of sizes) {
      expect(config(['--public-shares-quota', raw]).publicSharesQuota).toBe(bytes);
    }
    expect(config(['--public-share-max=1MiB']).publicShareMax).toBe(1_048_576);
    // Off by default; the quota alone turns the feature on.
    expect(config().publicSharesQuota).toBe(0);
    expect(config(['--public-shares-quota', '50MB']).publicShareMax).toBe(100_000_000);
  });

  it('accepts ICE servers with credentials as JSON', () => {
    const c = config([
      '--ice-servers',
      '[{"urls":["turn:turn.example.org:3478"],"username":"u","credential":"p"}]'
    ]);
    expect(c.iceServers).toEqual([
      { urls: ['turn:turn.example.org:3478'], username: 'u', credential: 'p' }
    ]);
  });

  it.each<[string[], Record<string, string>, string]>([
    [['--http-port', '65536'], {}, '--http-port'],
    [['--http-port', '80.5'], {}, '--http-port'],
    [['--http-port', ''], {}, '--http-port'],
    [['--ws-port', '-1'], {}, '--ws-port'],
    [['--ws-port', '1e3'], {}, '--ws-port'],
    [['--http-port', '9000', '--ws-port', '9000'], {}, '--ws-port'],
    [['--host', 'example.org'], {}, '--host'],
    [['--host', '999.0.0.1'], {}, '--host'],
    [['--announce', '/ip4/1.2.3.4/tcp/443'], {}, '--announce'],
    [['--announce', 'relay.example.org:443'], {}, '--announce'],
    [['--announce', '/ip4/1.2.3.4/tcp/99999/ws'], {}, '--announce'],
    [
      [
        '--announce',
        '/ip4/1.2.3.4/tcp/443/ws/p2p/12D3KooWGRUV8ynLpZRW4ogC3AFyjmmJGjJEYBz5WHvTr6wYeAaS'
      ],
      {},
      '--announce'
    ],
    [['--data-dir', ''], {}, '--data-dir'],
    [['--static-dir', ' '], {}, '--static-dir'],
    [['--ice-servers', 'https://example.org'], {}, '--ice-servers'],
    [['--ice-servers', '[{"urls":"stun:x","password":"p"}]'], {}, '--ice-servers'],
    [['--ice-servers', '[not json'], {}, '--ice-servers'],
    [['--max-connections', '0'], {}, '--max-connections'],
    [['--max-pending-connections', '-3'], {}, '--max-pending-connections'],
    [['--max-conn-rate-per-ip', 'many'], {}, '--max-conn-rate-per-ip'],
    [['--handshake-timeout', '0'], {}, '--handshake-timeout'],
    [['--max-streams-per-connection', '0'], {}, '--max-streams-per-connection'],
    [['--ws-max-message-size', '1024'], {}, '--ws-max-message-size'],
    [['--max-reservations', '0'], {}, '--max-reservations'],
    [['--reservation-ttl', '0'], {}, '--reservation-ttl'],
    [['--reservation-ttl', '99999999'], {}, '--reservation-ttl'],
    [['--relay-data-limit', '-1'], {}, '--relay-data-limit'],
    [['--relay-duration-limit', '-1'], {}, '--relay-duration-limit'],
    [['--relay-duration-limit', '9999999'], {}, '--relay-duration-limit'],
    [['--max-topics', '5000'], {}, '--max-topics'],
    [['--public-shares-quota', '-1'], {}, '--public-shares-quota'],
    [['--public-shares-quota', 'lots'], {}, '--public-shares-quota'],
    [['--public-shares-quota', '10XB'], {}, '--public-shares-quota'],
    [['--public-shares-quota', '1e9'], {}, '--public-shares-quota'],
    [['--public-shares-quota', '99999999PB'], {}, '--public-shares-quota'],
    [['--public-shares-quota', '9999999TB'], {}, '--public-shares-quota'],
    [['--public-share-max', '0'], {}, '--public-share-max'],
    [['--public-share-max', ''], {}, '--public-share-max'],
    [[], { P2P4E_PUBLIC_SHARES_QUOTA: 'ten gigs' }, '--public-shares-quota'],
    [['--log-level', 'verbose'], {}, '--log-level'],
    [['--unknown'], {}, '--unknown'],
    [['--unknown=1'], {}, '--unknown'],
    [['stray'], {}, 'stray'],
    [['--http-port'], {}, '--http-port'],
    [['--http-port', '--ws-port', '1'], {}, '--http-port'],
    [[], { P2P4E_HTTP_PORT: 'abc' }, '--http-port'],
    [[], { P2P4E_MAX_RESERVATIONS: '-1' }, '--max-reservations'],
    [[], { P2P4E_ANNOUNCE: '/ip4/1.2.3.4' }, '--announce']
  ])('rejects %j %j naming %s', (argv, env, setting) => {
    const err = configError(argv, env);
    expect(err.setting).toBe(setting);
    expect(err.message).toContain(setting);
  });

  it('names the environment variable when the bad value came from it', () => {
    const err = configError([], { P2P4E_RELAY_DATA_LIMIT: '-5' });
    expect(err.setting).toBe('--relay-data-limit');
    expect(err.message).toContain('P2P4E_RELAY_DATA_LIMIT');
    expect(err.message).toContain('negative');
  });

  it('answers --help and --version before validating anything else', () => {
    expect(parseConfig(['--help'])).toEqual({ kind: 'help' });
    expect(parseConfig(['-h'])).toEqual({ kind: 'help' });
    expect(parseConfig(['--bogus', '--help'])).toEqual({ kind: 'help' });
    expect(parseConfig(['--http-port', 'x', '-h'])).toEqual({ kind: 'help' });
    expect(parseConfig(['--version'])).toEqual({ kind: 'version' });
  });

  it('--help lists every flag with its environment variable and default', () => {
    const text = helpText();
    for (const s of SETTINGS) {
      expect(text).toContain(s.flag);
      expect(text).toContain(
        `env ${s.env}, default ${s.defaultText === '' ? 'none' : s.defaultText}`
      );
    }
    expect(text).toContain('0.0.0.0');
    expect(text).toContain('/dns4/relay.example.org/tcp/443/wss');
    expect(text).toMatch(/exit|Exit/);
  });
});
