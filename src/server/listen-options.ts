// How `verdict run` listens and who may call it: the flags `opa run` has for addresses, TLS, authentication and
// authorization, and their translation into start options. Values are checked here, so a wrong one stops
// start-up with a message naming the flag.
import { parseDuration } from '../builtins/go-time.js';
import { parseListenAddress } from './listeners.js';

export type Authentication = 'token' | 'tls' | 'off';
export type Authorization = 'basic' | 'off';
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CA certificates that client certificates must chain to (`--authentication=tls`). */
  caCertFile?: string;
}

export interface TlsOptions extends TlsFiles {
  minVersion: TlsVersion;
  /** How often the files are re-read; 0 watches them and reloads on change instead (as OPA). */
  refreshMs: number;
}

export interface ListenOptions {
  /** Addresses serving the whole API: HOST:PORT, http://, https:// or unix:// (every one is served). */
  addrs: string[];
  /** Addresses serving only /health and /metrics. */
  diagnosticAddrs: string[];
  /** File mode given to unix socket files. */
  unixSocketMode: number;
  tls?: TlsOptions;
  authentication: Authentication;
  authorization: Authorization;
}

export class ListenOptionsError extends Error {
  override name = 'ListenOptionsError';
}

/** The values of the listener flags (src/cli/run-flags.ts), as the argument parser gives them. */
export interface ListenFlagValues {
  addr?: string[];
  'diagnostic-addr'?: string[];
  'unix-socket-perm'?: string;
  'tls-cert-file'?: string;
  'tls-private-key-file'?: string;
  'tls-ca-cert-file'?: string;
  'min-tls-version'?: string;
  'tls-cert-refresh-period'?: string;
  authentication?: string;
  authorization?: string;
  h2c?: boolean;
}

const tlsVersions: Record<string, TlsVersion> = { '1.0': 'TLSv1', '1.1': 'TLSv1.1', '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/** `defaultAddr` is used when no --addr is given (OPA's default moves to :8181 with --v0-compatible). */
export function listenOptionsFromFlags(values: ListenFlagValues, defaultAddr = '127.0.0.1:8181'): ListenOptions {
  const fail = (message: string): never => {
    throw new ListenOptionsError(message);
  };
  if (values.h2c) {
    fail('--h2c is not supported: Node serves cleartext HTTP/2 only on a port of its own, not next to HTTP/1.1 as OPA does; use TLS (HTTP/1.1) or put an HTTP/2 proxy in front');
  }
  const authentication = (values.authentication ?? 'off') as Authentication;
  if (!['token', 'tls', 'off'].includes(authentication)) fail(`--authentication ${authentication}: expected token, tls or off`);
  const authorization = (values.authorization ?? 'off') as Authorization;
  if (!['basic', 'off'].includes(authorization)) fail(`--authorization ${authorization}: expected basic or off`);
  const minTls = values['min-tls-version'] ?? '1.2';
  const minVersion = tlsVersions[minTls] ?? fail(`--min-tls-version ${minTls}: expected one of 1.0, 1.1, 1.2, 1.3`);
  const refresh = values['tls-cert-refresh-period'] ?? '0s';
  let refreshNs: bigint;
  try {
    refreshNs = parseDuration(refresh, false);
  } catch {
    return fail(`--tls-cert-refresh-period ${refresh}: expected a duration such as 30s or 5m`);
  }
  if (refreshNs < 0n) fail(`--tls-cert-refresh-period ${refresh}: must not be negative`);
  const perm = values['unix-socket-perm'] ?? '600';
  if (!/^[0-7]{3,4}$/.test(perm)) fail(`--unix-socket-perm ${perm}: expected an octal file mode such as 600`);

  const certFile = values['tls-cert-file'];
  const keyFile = values['tls-private-key-file'];
  const caCertFile = values['tls-ca-cert-file'];
  if (Boolean(certFile) !== Boolean(keyFile)) fail('--tls-cert-file and --tls-private-key-file must be given together');
  if (caCertFile && !certFile) fail('--tls-ca-cert-file needs --tls-cert-file and --tls-private-key-file');
  if (authentication === 'tls' && !caCertFile) fail('--authentication=tls needs --tls-ca-cert-file (the CA that client certificates must chain to) and a server certificate');
  const tls: TlsOptions | undefined = certFile && keyFile ? { certFile, keyFile, ...(caCertFile ? { caCertFile } : {}), minVersion, refreshMs: Number(refreshNs / 1_000_000n) } : undefined;

  const addrs = values.addr?.length ? values.addr : [defaultAddr];
  const diagnosticAddrs = values['diagnostic-addr'] ?? [];
  for (const addr of [...addrs, ...diagnosticAddrs]) {
    try {
      if (parseListenAddress(addr, tls !== undefined).scheme === 'https' && !tls) fail(`--addr ${addr}: https needs --tls-cert-file and --tls-private-key-file`);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  return { addrs, diagnosticAddrs, unixSocketMode: parseInt(perm, 8), ...(tls ? { tls } : {}), authentication, authorization };
}
