/**
 * Relay configuration: command-line flags and environment variables to a validated
 * `RelayConfig`. Pure apart from `path.resolve` against the given `cwd`: no I/O, no exits.
 *
 * Precedence: flag > environment variable > default. Empty environment variables count as
 * unset (docker-compose often passes `P2P4E_ANNOUNCE=`).
 *
 * This module reads the flags and environment variables and writes --help; the settings table
 * (defaults, ranges, help lines) is in `config-settings.ts` and the value parsers in
 * `config-values.ts`. Everything public is re-exported from here.
 *
 * @example
 * ```ts
 * const result = parseConfig(process.argv.slice(2), process.env);
 * if (result.kind === 'help') console.log(helpText());
 * else start(result.config);
 * ```
 */
import { ConfigError } from './errors.js';
import { quote } from './config-values.js';
import { SETTINGS, type RelayConfig, type Setting } from './config-settings.js';

export { LOG_LEVELS, type IceServer, type LogLevel } from './config-values.js';
export {
  MAX_TIMER_SECONDS,
  MAX_TOPICS,
  MIN_WS_MESSAGE_SIZE,
  SETTINGS,
  type RelayConfig
} from './config-settings.js';

export type ParseResult =
  { kind: 'config'; config: RelayConfig } | { kind: 'help' } | { kind: 'version' };

type Env = Record<string, string | undefined>;

type AnySetting = Setting<keyof RelayConfig>;

const BY_FLAG = new Map<string, AnySetting>(SETTINGS.map((s) => [s.flag, s as AnySetting]));

/**
 * Parse flags (`--name value` or `--name=value`) and environment variables into a config.
 * Throws `ConfigError` naming the offending setting.
 */
export function parseConfig(
  argv: readonly string[],
  env: Env = {},
  cwd: string = process.cwd()
): ParseResult {
  // --help and --version win wherever they appear, even next to an unknown flag.
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  if (argv.includes('--version') || argv.includes('-v')) return { kind: 'version' };

  const fromFlags = new Map<AnySetting, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      throw new ConfigError(arg, `unexpected argument ${quote(arg)} (see --help)`);
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const s = BY_FLAG.get(flag);
    if (s === undefined) {
      throw new ConfigError(flag, `unknown flag ${flag} (see --help)`);
    }
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) {
        throw new ConfigError(flag, `missing value for ${flag}`);
      }
      i++;
    }
    fromFlags.set(s, value);
  }

  const config: Partial<Record<keyof RelayConfig, unknown>> = {};
  for (const s of SETTINGS as readonly AnySetting[]) {
    const flagValue = fromFlags.get(s);
    const envValue = env[s.env];
    let raw: string;
    let name: string;
    if (flagValue !== undefined) {
      raw = flagValue;
      name = s.flag;
    } else if (envValue !== undefined && envValue.trim() !== '') {
      raw = envValue;
      name = `${s.env} (${s.flag})`;
    } else {
      raw = s.defaultText;
      name = s.flag;
    }
    try {
      config[s.key] = s.parse(raw, name, cwd);
    } catch (err) {
      // Name the flag as the setting even when the bad value came from the environment.
      if (err instanceof ConfigError) throw new ConfigError(s.flag, err.message);
      throw err;
    }
  }

  const result = config as RelayConfig;
  if (result.httpPort !== 0 && result.httpPort === result.wsPort) {
    throw new ConfigError(
      '--ws-port',
      `invalid --ws-port: ${result.wsPort} is also the --http-port; use two different ports`
    );
  }
  return { kind: 'config', config: result };
}

/** The --help text: every flag with its environment variable and default. */
export function helpText(): string {
  const lines = [
    'p2p4e-relay: community relay for p2p4everything',
    '',
    'A libp2p node (WebSockets, circuit relay v2, gossipsub) and an HTTP server for the app.',
    '',
    'Usage: node relay/dist/index.js [--flag value | --flag=value]...',
    '',
    'Flags take precedence over environment variables, which take precedence over defaults.',
    '',
    'Options:'
  ];
  for (const s of SETTINGS as readonly AnySetting[]) {
    const def = s.defaultText === '' ? 'none' : s.defaultText;
    lines.push(`  ${s.flag} <value>`);
    lines.push(`      env ${s.env}, default ${def}`);
    for (const helpLine of s.help.split('\n')) lines.push(`      ${helpLine}`);
  }
  lines.push('  -h, --help       Show this text and exit.');
  lines.push('  -v, --version    Print the version and exit.');
  lines.push('');
  lines.push(
    'Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 invalid configuration.'
  );
  lines.push('');
  return lines.join('\n');
}
