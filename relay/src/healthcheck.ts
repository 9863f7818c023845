/**
 * Container health check: exits 0 when GET /healthz answers 200 within 4 seconds, else 1.
 * Reads the same environment as the relay (P2P4E_HOST, P2P4E_HTTP_PORT), so configure the
 * container with environment variables rather than flags.
 *
 * @example
 * ```dockerfile
 * HEALTHCHECK CMD ["node", "relay/dist/healthcheck.js"]
 * ```
 */
const envHost = process.env.P2P4E_HOST?.trim() || '127.0.0.1';
const port = process.env.P2P4E_HTTP_PORT?.trim() || '8080';
let host = envHost;
if (envHost === '0.0.0.0') host = '127.0.0.1';
else if (envHost === '::') host = '[::1]';
else if (envHost.includes(':')) host = `[${envHost}]`;

fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(4_000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1)
);
