// The request object of http.send, checked and normalised as OPA's topdown/http.go does: the accepted keys,
// the required ones, the value types, and the "operand 1 ..." wording of its errors.
import { BuiltinError, type JsonObject } from '../args.js';

/** Keys an http.send request object may have (providers.aws.sign_req checks its request against them too). */
export const HTTP_SEND_REQUEST_KEYS: ReadonlySet<string> = new Set([
  'method', 'url', 'body', 'enable_redirect', 'force_json_decode', 'force_yaml_decode', 'headers', 'raw_body',
  'tls_use_system_certs', 'tls_ca_cert', 'tls_ca_cert_file', 'tls_ca_cert_env_variable', 'tls_client_cert',
  'tls_client_cert_file', 'tls_client_cert_env_variable', 'tls_client_key', 'tls_client_key_file',
  'tls_client_key_env_variable', 'tls_insecure_skip_verify', 'tls_server_name', 'timeout', 'cache', 'force_cache',
  'force_cache_duration_seconds', 'raise_error', 'caching_mode', 'max_retry_attempts', 'cache_ignored_headers',
]);
const REQUIRED_KEYS = ['method', 'url'];

/** OPA's error codes: a type error in the operand, or any other builtin error. */
export class HttpSendError extends BuiltinError {
  constructor(
    readonly code: 'eval_type_error' | 'eval_builtin_error',
    message: string,
  ) {
    super('http.send', message);
  }

  /** The text OPA puts in the error object (OPA prefixes the call's file:row, which a wasm host cannot know). */
  get opaMessage(): string {
    return `${this.code}: ${this.message}`;
  }
}

export interface TlsOptions {
  /** PEM text given inline or through an environment variable. */
  ca?: string;
  cert?: string;
  key?: string;
  /** PEM files, read by the client when it connects (off the evaluation). */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify: boolean;
  serverName?: string;
}

export interface HttpSendRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** `raw_body` as it is, or `body` as JSON text (OPA sets no Content-Type for it: the policy does). */
  body?: string;
  /** Milliseconds; undefined: the configured default. */
  timeoutMs?: number;
  enableRedirect: boolean;
  forceJsonDecode: boolean;
  forceYamlDecode: boolean;
  raiseError: boolean;
  cache: boolean;
  forceCacheSeconds?: number;
  maxRetryAttempts: number;
  tls: TlsOptions;
  /** The inter-query cache key: the request object without the headers listed in cache_ignored_headers. */
  cacheKey: string;
}

/**
 * raise_error is read before anything else, so a malformed request can still come back as an error object.
 * A value that is not a boolean is itself an error that leaves the call undefined (as raising would).
 */
export function raiseErrorOf(request: unknown): boolean {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) return true;
  return (request as JsonObject).raise_error !== false;
}

export function parseRequest(raw: unknown): HttpSendRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new HttpSendError('eval_type_error', `operand 1 must be object but got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}`);
  }
  const obj = raw as JsonObject;
  const keys = Object.keys(obj);
  const invalid = keys.filter((k) => !HTTP_SEND_REQUEST_KEYS.has(k)).sort();
  if (invalid.length > 0) throw new HttpSendError('eval_type_error', `operand 1 invalid request parameters(s): ${regoSet(invalid)}`);
  const missing = REQUIRED_KEYS.filter((k) => !(k in obj));
  if (missing.length > 0) throw new HttpSendError('eval_type_error', `operand 1 missing required request parameters(s): ${regoSet(missing)}`);

  if (obj.raise_error !== undefined && typeof obj.raise_error !== 'boolean') throw new HttpSendError('eval_builtin_error', 'invalid value for raise_error field');
  const method = stringField(obj, 'method').toUpperCase();
  const url = stringField(obj, 'url');
  const headers = headersOf(obj.headers);
  let body: string | undefined;
  if (obj.raw_body !== undefined) body = stringField(obj, 'raw_body');
  else if (obj.body !== undefined) body = JSON.stringify(obj.body);
  const forceCache = boolField(obj, 'force_cache');
  let forceCacheSeconds: number | undefined;
  if (forceCache) {
    if (obj.force_cache_duration_seconds === undefined) throw new HttpSendError('eval_builtin_error', "'force_cache' set but 'force_cache_duration_seconds' parameter is missing");
    forceCacheSeconds = intField(obj, 'force_cache_duration_seconds');
  }
  return {
    method,
    url,
    headers,
    body,
    timeoutMs: obj.timeout === undefined ? undefined : timeoutMs(obj.timeout),
    enableRedirect: boolField(obj, 'enable_redirect'),
    forceJsonDecode: boolField(obj, 'force_json_decode'),
    forceYamlDecode: boolField(obj, 'force_yaml_decode'),
    raiseError: raiseErrorOf(obj),
    cache: boolField(obj, 'cache'),
    forceCacheSeconds,
    maxRetryAttempts: obj.max_retry_attempts === undefined ? 0 : intField(obj, 'max_retry_attempts'),
    tls: tlsOptions(obj),
    cacheKey: cacheKeyOf(obj),
  };
}

/** A canonical JSON text of a value (object keys sorted), so equal Rego objects give equal keys. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as JsonObject;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

function cacheKeyOf(obj: JsonObject): string {
  const ignored = obj.cache_ignored_headers;
  if (!Array.isArray(ignored) || ignored.length === 0 || obj.headers === null || typeof obj.headers !== 'object') return canonicalJson(obj);
  const drop = new Set(ignored.map((h) => String(h).toLowerCase()));
  const headers = Object.fromEntries(Object.entries(obj.headers as JsonObject).filter(([k]) => !drop.has(k.toLowerCase())));
  return canonicalJson({ ...obj, headers });
}

function regoSet(items: string[]): string {
  return `{${items.map((s) => JSON.stringify(s)).join(', ')}}`;
}

function stringField(obj: JsonObject, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new HttpSendError('eval_builtin_error', `"${key}" must be a string`);
  return v;
}

/** The value as Rego prints it, which is what OPA hands to Go's strconv parsers (strings keep their quotes). */
function regoText(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null';
}

/** OPA parses with strconv.ParseInt on the value's Rego text: 60 works, "60" and 1.5 do not. */
function intField(obj: JsonObject, key: string): number {
  const text = regoText(obj[key]);
  if (!/^[+-]?\d+$/.test(text)) throw new HttpSendError('eval_builtin_error', `strconv.ParseInt: parsing ${JSON.stringify(text)}: invalid syntax`);
  return Number(text);
}

/** OPA parses with strconv.ParseBool on the value's Rego text: true and 1 work, "true" does not. */
function boolField(obj: JsonObject, key: string): boolean {
  const v = obj[key];
  if (v === undefined) return false;
  const text = regoText(v);
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  throw new HttpSendError('eval_builtin_error', `strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

function headersOf(v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpSendError('eval_builtin_error', 'invalid type for headers key');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v as JsonObject)) {
    if (typeof value !== 'string') throw new HttpSendError('eval_builtin_error', `invalid type for headers value ${JSON.stringify(regoText(value).replace(/^"|"$/g, ''))}`);
    out[name] = value;
  }
  return out;
}

/** A number is nanoseconds; a string is a Go duration ("500ms", "1m30s"). */
function timeoutMs(v: unknown): number {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') {
    const ms = goDurationMs(v);
    if (ms !== undefined) return ms;
    throw new HttpSendError('eval_builtin_error', `invalid timeout value ${JSON.stringify(v)}: time: invalid duration ${JSON.stringify(v)}`);
  }
  throw new HttpSendError('eval_type_error', `operand 1 'timeout' must be one of {string, number} but got ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v}`);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

function goDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 ? undefined : total;
}

/** PEM text given inline or named by an environment variable (the file spelling is read by the client). */
function pem(obj: JsonObject, base: string): string | undefined {
  if (obj[base] !== undefined) return stringField(obj, base);
  if (obj[`${base}_env_variable`] !== undefined) return process.env[stringField(obj, `${base}_env_variable`)];
  return undefined;
}

function tlsOptions(obj: JsonObject): TlsOptions {
  return {
    ca: pem(obj, 'tls_ca_cert'),
    cert: pem(obj, 'tls_client_cert'),
    key: pem(obj, 'tls_client_key'),
    caFile: optionalString(obj, 'tls_ca_cert_file'),
    certFile: optionalString(obj, 'tls_client_cert_file'),
    keyFile: optionalString(obj, 'tls_client_key_file'),
    insecureSkipVerify: boolField(obj, 'tls_insecure_skip_verify'),
    serverName: optionalString(obj, 'tls_server_name'),
  };
}

function optionalString(obj: JsonObject, key: string): string | undefined {
  return obj[key] === undefined ? undefined : stringField(obj, key);
}
