// `verdict run`'s command line: `opa run`'s flags with their meanings, in groups, plus Verdict's own. Each flag
// either works or is refused by name with the reason (src/cli/flags.ts). `runFlagGroups` lists the groups, so
// adding one (listeners, TLS, ...) is one line there and one reading of its values in run.ts.
import { logLevels } from '../log/logger.js';
import { flagsHelp, parseFlags, type FlagGroup, type FlagValues } from './flags.js';

export { choiceFlag, FlagError, secondsFlag, type FlagValues } from './flags.js';

const serverFlags: FlagGroup = {
  title: 'Server',
  flags: {
    server: { type: 'boolean', short: 's', help: 'start the server (verdict run always does; accepted for opa run command lines)' },
    'config-file': { type: 'string', short: 'c', value: 'FILE', help: 'configuration file (OPA format, YAML or JSON)' },
    set: { type: 'string', multiple: true, value: 'K=V,...', help: 'override config values (a.b=v, list[0].x=v, a={x,y}); repeatable' },
    'set-file': { type: 'string', multiple: true, value: 'K=FILE,...', help: "override config values with files' contents; repeatable" },
    'ready-timeout': { type: 'string', value: 'SECONDS', help: 'wait for every plugin to be ready before listening; fail after this long (<= 0: do not wait)' },
    'shutdown-grace-period': { type: 'string', value: 'SECONDS', help: 'on SIGTERM/SIGINT, let in-flight requests finish for this long (default 10)' },
    'shutdown-wait-period': { type: 'string', value: 'SECONDS', help: 'on SIGTERM/SIGINT, keep serving this long before shutting down (default 0)' },
  },
};

/** How Verdict listens and who may call it (src/server/listen-options.ts checks the values). */
const listenerFlags: FlagGroup = {
  title: 'Listeners, TLS and access control',
  flags: {
    addr: { type: 'string', short: 'a', multiple: true, value: 'ADDR', help: 'listening address: HOST:PORT, http://, https:// or unix://PATH; repeatable (default 127.0.0.1:8181; :8181 with --v0-compatible)' },
    'diagnostic-addr': { type: 'string', multiple: true, value: 'ADDR', help: 'address serving only /health and /metrics; repeatable' },
    'unix-socket-perm': { type: 'string', default: '600', value: 'MODE', help: 'file mode of unix:// sockets (default 600)' },
    'tls-cert-file': { type: 'string', value: 'FILE', help: 'serve HTTPS with this PEM certificate' },
    'tls-private-key-file': { type: 'string', value: 'FILE', help: "the certificate's PEM private key" },
    'tls-ca-cert-file': { type: 'string', value: 'FILE', help: 'CA that client certificates must chain to (--authentication=tls)' },
    'min-tls-version': { type: 'string', default: '1.2', value: 'VERSION', help: '1.0, 1.1, 1.2 or 1.3 (default 1.2)' },
    'tls-cert-refresh-period': { type: 'string', default: '0s', value: 'DURATION', help: 're-read the certificate files this often (0s: when they change)' },
    authentication: { type: 'string', default: 'off', value: 'MODE', help: 'token, tls or off (default off)' },
    authorization: { type: 'string', default: 'off', value: 'MODE', help: 'basic (every request decided by system.authz) or off (default off)' },
    h2c: { type: 'boolean', help: 'cleartext HTTP/2 (refused, with the reason)' },
  },
};

const loadingFlags: FlagGroup = {
  title: 'Policies and data',
  flags: {
    bundle: { type: 'boolean', short: 'b', help: 'load the paths as bundles (directories or .tar.gz files)' },
    watch: { type: 'boolean', short: 'w', help: 'reload the paths when they change' },
    ignore: { type: 'string', commaList: true, value: 'GLOB', help: "skip files and directories with these names while loading (e.g. '.*')" },
    'v0-compatible': { type: 'boolean', help: 'Rego v0 syntax for modules that do not state their version; listen on :8181 by default' },
    'v1-compatible': { type: 'boolean', help: 'Rego v1 syntax (the default)' },
  },
};

const verificationFlags: FlagGroup = {
  title: 'Bundle signatures',
  flags: {
    'verification-key': { type: 'string', value: 'KEY', help: 'verify bundle signatures: HMAC secret or path of a PEM public key' },
    'verification-key-id': { type: 'string', value: 'ID', help: 'name of the verification key (default "default")' },
    'signing-alg': { type: 'string', value: 'ALG', help: 'signing algorithm (default RS256)' },
    scope: { type: 'string', value: 'SCOPE', help: 'scope to check in bundle signatures' },
    'exclude-files-verify': { type: 'string', commaList: true, value: 'GLOB', help: 'bundle files left out of signature verification' },
    'skip-verify': { type: 'boolean', help: 'do not verify the signatures of the bundles on the command line' },
  },
};

const loggingFlags: FlagGroup = {
  title: 'Logging',
  flags: {
    'log-level': { type: 'string', short: 'l', default: 'info', value: 'LEVEL', help: `log level: ${logLevels.join(', ')} (default info)` },
    'log-format': { type: 'string', default: 'json', value: 'FORMAT', help: 'json, json-pretty or text (default json)' },
    'log-level-request': { type: 'string', default: 'info', value: 'LEVEL', help: 'level of the "Received request."/"Sent response." lines: debug, info or error (default info)' },
  },
};

/** `opa run` flags whose meaning holds in Verdict without any work: accepted, and documented as such. */
const noEffectFlags: FlagGroup = {
  title: 'Accepted, with nothing to do in Verdict',
  flags: {
    'skip-version-check': { type: 'boolean', help: 'Verdict never checks for new versions' },
    'skip-known-schema-check': { type: 'boolean', help: 'Verdict does not type-check policies against known input schemas' },
    'optimize-store-for-read-speed': { type: 'boolean', help: "Verdict's store always serves reads from shared, unconverted values" },
  },
};

const SHELL = 'the interactive shell is not part of Verdict (verdict run always starts the server)';

/** `opa run` flags Verdict refuses, parsed with their types so the refusal names them rather than their value. */
const refusedFlags: FlagGroup = {
  title: 'Refused',
  flags: {
    pprof: { type: 'boolean', help: 'Go profiling endpoints', refused: 'Verdict is not a Go program: profile it with node --cpu-prof, --heap-prof or --inspect' },
    format: { type: 'string', short: 'f', help: 'shell output format', refused: SHELL },
    history: { type: 'string', short: 'H', help: 'shell history file', refused: SHELL },
    'watch-config': { type: 'boolean', help: 'restart on config change', refused: 'Verdict does not restart itself on a config change: restart the process (or use discovery) to apply a new configuration' },
    'log-timestamp-format': { type: 'string', help: 'Go time layout for log timestamps', refused: 'Verdict writes RFC 3339 timestamps; Go time layouts are not supported' },
    'max-errors': { type: 'string', short: 'm', help: 'compile errors before stopping', refused: 'the number of compile errors reported is not configurable in Verdict' },
  },
};

const verdictFlags: FlagGroup = {
  title: 'Verdict only',
  flags: {
    workers: { type: 'string', value: 'N|auto', help: 'server threads sharing the listening addresses, acting as one server (default auto: one per core; 1: the main thread alone)' },
    help: { type: 'boolean', short: 'h', help: 'print this help' },
  },
};

export const runFlagGroups: FlagGroup[] = [serverFlags, listenerFlags, loadingFlags, verificationFlags, loggingFlags, noEffectFlags, refusedFlags, verdictFlags];

export function parseRunArgs(args: string[]): { values: FlagValues; positionals: string[] } {
  return parseFlags(args, runFlagGroups);
}

export function runHelp(): string {
  return flagsHelp(
    ['usage: verdict run [flags] [PATH ...]', '', 'PATHs are policy and data files or directories (prefix:PATH puts data under data.prefix); with --bundle,', 'or for .tar.gz files, bundles. Flags are those of opa run.'],
    runFlagGroups,
  );
}
