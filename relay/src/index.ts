/**
 * p2p4e-relay entry point: flags/env -> config -> identity -> libp2p node -> HTTP server.
 *
 * Logs one JSON object per line on stdout; the start line is `"msg":"relay started"` with
 * `url`, `httpPort`, `wsPort`, `peerId` and `multiaddrs`. SIGTERM/SIGINT stop it cleanly
 * (exit 0); invalid configuration exits with 2, other start failures with 1.
 *
 * @example
 * ```sh
 * node relay/dist/index.js --host 0.0.0.0 --announce /dns4/relay.example.org/tcp/443/wss
 * node relay/dist/index.js --help
 * ```
 */
import './polyfills.js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { helpText, parseConfig, type RelayConfig } from './config.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK } from './errors.js';
import type { Gateway } from './gateway.js';
import type { RelayHttpServer } from './http.js';
import type { Logger } from './log.js';
import type { RelayNode } from './node.js';
import type { PublicShares } from './public-shares.js';

/** How long a clean stop may take before the process exits anyway (code 1). */
const STOP_TIMEOUT_MS = 5_000;
/** How often a summary line is logged (only when something changed). */
const STATS_INTERVAL_MS = 60_000;

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A URL a person on this machine can open. */
function localUrl(host: string, port: number): string {
  let h = host;
  if (host === '0.0.0.0') h = '127.0.0.1';
  else if (host === '::') h = '[::1]';
  else if (isIP(host) === 6) h = `[${host}]`;
  return `http://${h}:${port}`;
}

function errorName(err: unknown): string | undefined {
  return (err as { name?: unknown } | undefined)?.name as string | undefined;
}

async function start(config: RelayConfig, log: Logger, version: string): Promise<void> {
  // Loaded only once the configuration is valid: --help and config errors answer at once.
  const [
    { startHttpServer },
    { loadOrCreateIdentity },
    { createRelayMetrics },
    { createRelayNode }
  ] = await Promise.all([
    import('./http.js'),
    import('./identity.js'),
    import('./metrics.js'),
    import('./node.js')
  ]);
  const metrics = createRelayMetrics();
  const identity = await loadOrCreateIdentity(config.dataDir);
  if (identity.fixedPermissions === true) {
    log.warn({ path: identity.path }, 'identity key was readable by others; set mode 0600');
  }

  const node: RelayNode = await createRelayNode({
    config,
    privateKey: identity.privateKey,
    logger: log,
    metrics,
    version
  });
  // Public shares: the protocol always answers (with 'disabled' when off); Helia, the store and
  // the gateway are loaded only when --public-shares-quota is set.
  let shares: PublicShares;
  let gateway: Gateway | undefined;
  try {
    const { startPublicShares } = await import('./public-shares.js');
    shares = await startPublicShares({ libp2p: node.libp2p, config, logger: log, metrics });
    if (shares.store !== undefined) {
      const { createGateway } = await import('./gateway.js');
      gateway = createGateway(shares.store);
    }
  } catch (err) {
    await node.stop().catch(() => {});
    throw err;
  }

  let stopping = false;
  const running = (): boolean => !stopping && node.isRunning();
  metrics.bind(
    {
      running,
      connections: () => node.connections(),
      reservations: () => node.reservations(),
      topics: () => node.topics(),
      publicShares: () => shares.stats()
    },
    { version, peerId: node.peerId }
  );

  let http: RelayHttpServer;
  try {
    http = await startHttpServer({
      host: config.host,
      port: config.httpPort,
      staticDir: config.staticDir,
      version,
      iceServers: config.iceServers,
      logger: log,
      metrics,
      gateway,
      publicShareMax: config.publicShareMax,
      status: () => ({
        running: running(),
        peerId: node.peerId,
        multiaddrs: node.multiaddrs(),
        connections: node.connections().length,
        reservations: node.reservations()
      })
    });
  } catch (err) {
    await shares.stop().catch(() => {});
    await node.stop().catch(() => {});
    throw err;
  }

  let lastStats = '';
  const statsTimer = setInterval(() => {
    const stats = {
      connections: node.connections().length,
      reservations: node.reservations(),
      topics: node.topics()
    };
    const text = JSON.stringify(stats);
    if (text !== lastStats) {
      lastStats = text;
      log.info(stats, 'relay stats');
    }
  }, STATS_INTERVAL_MS);
  statsTimer.unref();

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    clearInterval(statsTimer);
    log.info({ signal }, 'relay stopping');
    const timer = setTimeout(() => {
      log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'clean stop timed out; exiting');
      process.exit(EXIT_FAILURE);
    }, STOP_TIMEOUT_MS);
    timer.unref();
    const results = await Promise.allSettled([
      // Fetches in progress are undone (their blocks deleted) before the node goes.
      shares.stop().then(() => node.stop()),
      http.close()
    ]);
    for (const result of results) {
      if (result.status === 'rejected') log.warn({ err: result.reason }, 'error while stopping');
    }
    log.info('relay stopped');
    process.exit(EXIT_OK);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));

  // Announce only once the signal handlers are in place: a supervisor (or a test) that stops
  // the relay right after this line must get a clean stop, not the default kill.
  const url = localUrl(config.host, http.port);
  log.info(
    {
      url,
      httpPort: http.port,
      wsPort: node.wsPort,
      peerId: node.peerId,
      multiaddrs: node.multiaddrs(),
      host: config.host,
      version,
      dataDir: config.dataDir,
      staticDir: config.staticDir,
      identityCreated: identity.created
    },
    'relay started'
  );
  if (process.stdout.isTTY) {
    process.stdout.write(
      `\n  p2p4e relay ${version} is running.\n  Open ${url}\n` +
        (config.host === '127.0.0.1' || config.host === '::1'
          ? '  (only this machine can connect; use --host 0.0.0.0 to serve others)\n\n'
          : '\n')
    );
  }
}

async function main(): Promise<void> {
  const version = readVersion();
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (errorName(err) === 'ConfigError') {
      process.stderr.write(`p2p4e-relay: ${(err as Error).message}\nRun with --help for usage.\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(helpText());
    process.exit(EXIT_OK);
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${version}\n`);
    process.exit(EXIT_OK);
  }

  const { config } = parsed;
  const { createLogger } = await import('./log.js');
  const log = createLogger(config.logLevel);

  let lastRejectionLog = 0;
  process.on('unhandledRejection', (reason) => {
    // A stray rejection deep in a library must not take every user's relay down; log it
    // (at most once a second, so a peer that triggers it repeatedly cannot flood the log).
    const now = Date.now();
    if (now - lastRejectionLog > 1_000) {
      lastRejectionLog = now;
      log.error({ err: reason }, 'unhandled promise rejection');
    }
  });
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.exit(EXIT_FAILURE);
  });

  try {
    await start(config, log, version);
  } catch (err) {
    log.fatal({ err }, 'relay failed to start');
    process.stderr.write(`p2p4e-relay: ${(err as Error).message ?? String(err)}\n`);
    process.exit(EXIT_FAILURE);
  }
}

void main();
