// Performs one http.send request off the evaluation (asynchronously), through the one HTTP client
// (src/net/http-client.ts), and builds OPA's response object: {status, status_code, headers, body, raw_body}.
// Failures, in the words of Go's client that OPA quotes, become OPA's error object when raise_error is false.
// The inter-query cache (cache / force_cache) and single-flight of cacheable requests live here too, shared by
// every decision of the server.
import type { IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { HttpRequestError, HttpResponse, TlsOptions } from '../../net/http-client.js';
import { lazyRequire } from '../../lazy-require.js';
import { LookupCache } from '../../pip/cache.js';
import type { JsonValue } from '../../pip/adapter.js';
import { SingleFlight } from '../../pip/single-flight.js';
import { HostAllowList } from './allow-list.js';
import { HttpSendError, type HttpSendRequest } from './request.js';
import { cacheLifetimeMs } from './freshness.js';
import { currentTrace, traced, type SpanAttributes, type TraceContext } from '../../tracing/index.js';

const yaml = lazyRequire<typeof import('yaml')>('yaml');
// The HTTP client, and with it node:http, node:https and node:net, is loaded by the first request: every
// `verdict eval` and `verdict test` makes a client, and loading those up front cost each about 20 ms of CPU.
const httpClient = () => import('../../net/http-client.js');
type HttpClient = Awaited<ReturnType<typeof httpClient>>;

export interface HttpSendSettings {
  /** Timeout of a request that sets none, ms (OPA: 5s). */
  defaultTimeoutMs: number;
  /** Hosts requests may reach; undefined: any. */
  allowedHosts?: readonly string[];
  /** Bodies larger than this fail the request (OPA has no limit). */
  maxResponseBytes: number;
  /** Evaluations of one decision beyond which it fails: each new request costs one re-evaluation. */
  maxRequestsPerDecision: number;
  /** Responses kept by the inter-query cache. */
  cacheMaxEntries: number;
  /**
   * OPA's caching.inter_query_builtin_cache: the most bytes of cached responses (their JSON size), scaled by
   * forced_eviction_threshold_percentage; and how often expired responses are swept out (0: only when read).
   */
  cacheMaxBytes?: number;
  cacheStaleEvictionSeconds?: number;
}

export const DEFAULT_HTTP_SEND_SETTINGS: HttpSendSettings = {
  defaultTimeoutMs: 5000,
  maxResponseBytes: 16 * 1024 * 1024,
  maxRequestsPerDecision: 32,
  cacheMaxEntries: 1000,
};

export type HttpSendResponse = Record<string, JsonValue>;

/**
 * What became of one http.send request, for metrics: sent (a response, any status), failed (network error,
 * timeout, refused host, too large) or answered from the inter-query cache (cache_hit, no time).
 */
export type HttpSendOutcome = { outcome: 'sent' | 'failed'; seconds: number } | { outcome: 'cache_hit' };

/** A failure OPA reports as eval_http_send_network_error (Go's *url.Error) rather than an internal error. */
class NetworkError extends Error {}

const MAX_REDIRECTS = 10;
const CACHEABLE_STATUS = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);

export class HttpSendClient {
  readonly settings: HttpSendSettings;
  private readonly allowList?: HostAllowList;
  private readonly cache: LookupCache;
  private readonly inFlight = new SingleFlight<HttpSendResponse>();

  constructor(
    settings: Partial<HttpSendSettings> = {},
    private readonly observe: (event: HttpSendOutcome) => void = () => undefined,
  ) {
    this.settings = { ...DEFAULT_HTTP_SEND_SETTINGS, ...settings };
    this.allowList = this.settings.allowedHosts ? new HostAllowList(this.settings.allowedHosts) : undefined;
    this.cache = new LookupCache({
      ttlMs: Number.POSITIVE_INFINITY,
      negativeTtlMs: 0,
      maxEntries: this.settings.cacheMaxEntries,
      ...(this.settings.cacheMaxBytes !== undefined ? { maxBytes: this.settings.cacheMaxBytes } : {}),
    });
    const period = this.settings.cacheStaleEvictionSeconds ?? 0;
    if (period > 0) setInterval(() => this.cache.removeExpired(), period * 1000).unref();
  }

  /** Bytes the inter-query cache holds (its responses' JSON size). */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /**
   * The response object for a request, or OPA's error object when raise_error is false. With raise_error true a
   * failure rejects with an HttpSendError (the call is then undefined, as in OPA's non-strict evaluation).
   */
  async send(req: HttpSendRequest): Promise<HttpSendResponse> {
    if (!isCacheable(req)) return this.sendOrError(req);
    return this.cached(req) ?? this.inFlight.run(req.cacheKey, () => this.sendOrError(req)).promise;
  }

  /** A fresh inter-query cache entry for a cache / force_cache request: answered without aborting the evaluation. */
  cached(req: HttpSendRequest): HttpSendResponse | undefined {
    if (!isCacheable(req)) return undefined;
    const hit = this.cache.get(req.cacheKey);
    if (!hit?.ok) return undefined;
    this.observe({ outcome: 'cache_hit' });
    return hit.value as HttpSendResponse;
  }

  private async sendOrError(req: HttpSendRequest): Promise<HttpSendResponse> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const { response, headers } = await traced('http.send', 'client', () => spanAttributes(req), async (span) => {
        // The span's trace, taken now: the request goes out after awaits (TLS files, retries).
        const exchanged = await this.exchangeWithRetries(req, currentTrace());
        span?.setAttribute('http.response.status_code', exchanged.response.status_code as number);
        return exchanged;
      });
      this.observe({ outcome: 'sent', seconds: seconds() });
      this.store(req, response, headers);
      return response;
    } catch (err) {
      this.observe({ outcome: 'failed', seconds: seconds() });
      const code = err instanceof NetworkError ? 'eval_http_send_network_error' : 'eval_http_send_internal_error';
      const message = err instanceof HttpSendError ? err.opaMessage : (err as Error).message;
      if (req.raiseError) throw err instanceof HttpSendError ? err : new HttpSendError('eval_builtin_error', message);
      return { status_code: 0, error: { code, message } };
    }
  }

  private store(req: HttpSendRequest, response: HttpSendResponse, headers: IncomingHttpHeaders): void {
    if (!CACHEABLE_STATUS.has(response.status_code as number)) return;
    const lifetime = req.forceCacheSeconds !== undefined ? req.forceCacheSeconds * 1000 : req.cache ? cacheLifetimeMs(headers) : 0;
    if (lifetime > 0) this.cache.set(req.cacheKey, { ok: true, value: response }, lifetime, this.settings.cacheMaxBytes === undefined ? 0 : JSON.stringify(response).length);
  }

  private async exchangeWithRetries(req: HttpSendRequest, trace: TraceContext | undefined): Promise<{ response: HttpSendResponse; headers: IncomingHttpHeaders }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.exchange(req, trace);
      } catch (err) {
        if (!(err instanceof NetworkError) || attempt >= req.maxRetryAttempts) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 1000)));
      }
    }
  }

  /** One request with its redirects (followed only with enable_redirect, as OPA), under one deadline. */
  private async exchange(req: HttpSendRequest, trace: TraceContext | undefined): Promise<{ response: HttpSendResponse; headers: IncomingHttpHeaders }> {
    const tls = await tlsConnectOptions(req);
    const url = parseUrl(req);
    const allowList = this.allowList;
    const http = await httpClient();
    try {
      const res = await http.sendRequest(url.href, {
        method: req.method,
        headers: headersFor(req, http.hasHeader),
        trace,
        body: req.body,
        tls,
        deadlineMs: req.timeoutMs ?? this.settings.defaultTimeoutMs,
        maxBytes: this.settings.maxResponseBytes,
        maxRedirects: req.enableRedirect ? MAX_REDIRECTS : 0,
        admit: allowList && ((hop) => {
          if (!allowList.allows(hop)) throw new HttpSendError('eval_builtin_error', `disallowed host: ${hop.hostname}`);
        }),
      });
      return { response: responseObject(res, req), headers: res.headers };
    } catch (err) {
      throw err instanceof http.HttpRequestError ? inGoWords(err, req.method, this.settings.maxResponseBytes) : err;
    }
  }
}

function isCacheable(req: HttpSendRequest): boolean {
  return req.cache || req.forceCacheSeconds !== undefined;
}

function parseUrl(req: HttpSendRequest): URL {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new NetworkError(`${goOp(req.method)} "${req.url}": unsupported protocol scheme ""`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new NetworkError(`${goOp(req.method)} "${req.url}": unsupported protocol scheme "${url.protocol.slice(0, -1)}"`);
  }
  return url;
}

/** The http.send span's attributes: the target without its query string, which may carry secrets. */
function spanAttributes(req: HttpSendRequest): SpanAttributes {
  try {
    const url = new URL(req.url);
    return { 'http.request.method': req.method, 'server.address': url.hostname, 'server.port': Number(url.port) || undefined, 'url.path': url.pathname };
  } catch {
    return { 'http.request.method': req.method };
  }
}

function headersFor(req: HttpSendRequest, hasHeader: HttpClient['hasHeader']): Record<string, string> {
  const headers: Record<string, string> = { ...req.headers };
  if (!hasHeader(headers, 'user-agent')) headers['User-Agent'] = 'Verdict (http.send)';
  // OPA gives a request with its own TLS settings a transport of its own without keep-alive.
  if (hasOwnTls(req)) headers.Connection = 'close';
  return headers;
}

function hasOwnTls({ tls }: HttpSendRequest): boolean {
  return tls.insecureSkipVerify || [tls.ca, tls.cert, tls.key, tls.caFile, tls.certFile, tls.keyFile, tls.serverName].some((v) => v !== undefined);
}

async function tlsConnectOptions(req: HttpSendRequest): Promise<TlsOptions> {
  const { tls } = req;
  const file = async (path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (err) {
      throw new HttpSendError('eval_builtin_error', `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const out: TlsOptions = { rejectUnauthorized: !tls.insecureSkipVerify };
  const ca = tls.ca ?? (await file(tls.caFile));
  const cert = tls.cert ?? (await file(tls.certFile));
  const key = tls.key ?? (await file(tls.keyFile));
  if (ca !== undefined) out.ca = ca;
  if (cert !== undefined) out.cert = cert;
  if (key !== undefined) out.key = key;
  if (tls.serverName !== undefined) out.servername = tls.serverName;
  return out;
}

/** Go's url.Error spells the method with only its first letter upper case ("Get", "Post"). */
function goOp(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

/** The shared client's failure in the words of Go's net/http client, which is what OPA's messages quote. */
function inGoWords(err: HttpRequestError, method: string, limit: number): Error {
  const url = err.url ?? '';
  const op = `${goOp(method)} "${url}"`;
  switch (err.failure) {
    case 'redirects':
      return new NetworkError(`${op}: stopped after ${MAX_REDIRECTS} redirects`);
    case 'too_large':
      return new HttpSendError('eval_builtin_error', `response body from ${new URL(url).host} is over the ${limit}-byte limit (http_send.max_response_bytes)`);
    case 'timeout':
      return new NetworkError(`${op}: context deadline exceeded (Client.Timeout exceeded while ${err.httpCode === undefined ? 'awaiting headers' : 'reading body'})`);
    case 'cut_off':
      return new NetworkError(`${op}: aborted`);
  }
  const target = new URL(url);
  const hostPort = `${target.hostname}:${target.port || (target.protocol === 'https:' ? '443' : '80')}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return new NetworkError(`${op}: dial tcp ${hostPort}: connect: connection refused`);
    case 'ENOTFOUND':
      return new NetworkError(`${op}: dial tcp: lookup ${target.hostname}: no such host`);
    case 'ECONNRESET':
      return new NetworkError(`${op}: read tcp ${hostPort}: connection reset by peer`);
    default:
      return new NetworkError(`${op}: ${err.cause instanceof Error ? err.cause.message : err.message}`);
  }
}

function responseObject(res: HttpResponse, req: HttpSendRequest): HttpSendResponse {
  const text = res.body.toString('utf8');
  const contentType = String(res.headers['content-type'] ?? '');
  let body: JsonValue = null;
  if (req.forceJsonDecode || contentType.includes('application/json')) body = decodeJson(text);
  else if (req.forceYamlDecode || contentType.includes('application/yaml') || contentType.includes('application/x-yaml')) body = decodeYaml(text);
  const headers: Record<string, JsonValue> = {};
  // Go's client moves Transfer-Encoding out of the header map (resp.TransferEncoding) and deletes
  // "Connection: close" (resp.Close), so OPA never shows them.
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (!values || name === 'transfer-encoding' || (name === 'connection' && values.every((v) => v.toLowerCase() === 'close'))) continue;
    headers[name] = values;
  }
  return {
    status: `${res.status} ${res.statusMessage}`.trimEnd(),
    status_code: res.status,
    headers,
    body,
    raw_body: text,
  };
}

/** A body that does not decode is no error in OPA: `body` is null and `raw_body` has the text. */
function decodeJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return null;
  }
}

function decodeYaml(text: string): JsonValue {
  try {
    return (yaml().parse(text) ?? null) as JsonValue;
  } catch {
    return null;
  }
}
