// Verdict's one outbound HTTP(S) client. Bundle downloads, status reports, decision-log uploads, discovery, the
// HTTP PIP adapter, service credentials and the http.send builtin all send their requests through `sendRequest`:
// any method, a string or byte body, per-request TLS, a header deadline or one overall deadline, a byte limit on
// the body, redirects followed as Go's client follows them, and failures that say by kind and stage what went wrong.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { currentTrace, injectTraceContext, withTrace, type TraceContext } from '../tracing/index.js';

export interface HttpResponse {
  status: number;
  /** The status line's reason phrase ("Not Found"); empty when the server sent none. */
  statusMessage: string;
  headers: IncomingHttpHeaders;
  /** Every header with each value it was sent with, repeated headers kept apart. */
  headersDistinct: NodeJS.Dict<string[]>;
  /** The body's bytes as received. */
  body: Buffer;
}

/**
 * An answer's body as JSON, or the error `notJson` makes when it is not. JSON.parse, not the JSON reader: token
 * lifetimes, credentials and manifests are read as plain JavaScript values, never kept as number text.
 */
export function answerJson<T>(res: HttpResponse, notJson: () => Error): T {
  try {
    return JSON.parse(res.body.toString('utf8')) as T;
  } catch {
    throw notJson();
  }
}

/**
 * Why a request failed, for callers that report failures by kind: `network` (no answer; `code` names the cause,
 * e.g. ECONNREFUSED), `timeout` (a deadline passed: `httpCode` is set when it passed while reading the body),
 * `too_large` (over `maxBytes`, declared or streamed), `cut_off` (the body ended early), `cancelled` (the signal),
 * `redirects` (more redirects than allowed, or a 301/302/303 that would drop an upload's body), `other` (raised by a caller about an answer it refuses).
 */
export type HttpRequestFailure = 'network' | 'timeout' | 'too_large' | 'cut_off' | 'cancelled' | 'redirects' | 'other';

/**
 * A failed request; `httpCode` is set when the server answered (the failure came while reading the body), `url`
 * is the request that failed (after redirects, the hop that failed; for `redirects`, the refused Location) and
 * `cause` the socket's own error, when there was one.
 */
export class HttpRequestError extends Error {
  override name = 'HttpRequestError';
  constructor(
    message: string,
    readonly httpCode?: number,
    readonly failure: HttpRequestFailure = 'other',
    readonly code?: string,
    readonly url?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface TlsOptions {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  rejectUnauthorized: boolean;
  /** The name the server's certificate is checked against (and sent as SNI), when not the URL's host. */
  servername?: string;
}

export interface SendOptions {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  tls: TlsOptions;
  /** Milliseconds the response headers may take, and the longest the body may stall; none when absent. */
  timeoutMs?: number;
  /** Milliseconds the whole exchange may take, headers, body and redirects together; none when absent or 0. */
  deadlineMs?: number;
  maxBytes?: number;
  signal?: AbortSignal;
  /**
   * The request may be sent twice (a read, even when POSTed). GET, HEAD, OPTIONS and TRACE always may. Only such
   * requests are asked again when a pooled keep-alive connection turns out to have been closed by the server.
   */
  replayable?: boolean;
  /**
   * Follow up to this many redirects (10 when absent, as Go's client) as Go's client does: 301/302/303 become a
   * GET without a body (a HEAD stays a HEAD), 307/308 are sent again as they were; credentials stay behind when
   * the host changes (see `mayKeepCredentials`). 0 returns redirect answers as they are.
   */
  maxRedirects?: number;
  /**
   * The body is what the request is for (a decision-log or status upload): a 301, 302 or 303, which Go's client
   * follows as a GET without it, fails the request instead, so an upload is never counted delivered when its
   * body went nowhere. 307 and 308, which resend the body, are followed.
   */
  bodyRequired?: boolean;
  /** Called with each URL before it is requested, the first and every redirect's; it throws to refuse one. */
  admit?: (url: URL) => void;
  /**
   * The trace the request is part of (distributed tracing on): every hop, redirects included, carries its span as
   * the parent in `traceparent`, and its `tracestate` when it has one, in place of any the caller set, as OPA's
   * instrumented transport does. Absent: the trace current when sendRequest is called, so a caller that awaits
   * between its span and the request passes it here.
   */
  trace?: TraceContext;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Methods Go's transport also resends on a fresh connection when a reused one was dropped. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
/** Socket errors that mean a reused keep-alive connection was closed by the other side before it answered. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One HTTP(S) exchange, its redirects followed, under its deadlines and with a limit on the body size. A
 * replayable request that fails on a reused keep-alive connection before any answer (the service closed it while
 * idle) is sent once more, on a fresh connection.
 */
export async function sendRequest(url: string, opts: SendOptions): Promise<HttpResponse> {
  const deadline = opts.deadlineMs ? Date.now() + opts.deadlineMs : undefined;
  // Taken before the first await, after which no trace is current.
  const trace = opts.trace ?? currentTrace();
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const first = new URL(url);
  let target = first;
  let { method, body, headers } = opts;
  let bodyDropped = false;
  let credentialsDropped = false;
  for (let hops = 0; ; hops++) {
    opts.admit?.(target);
    const answer = await exchangeReplaying(target, { ...opts, method, body, headers, maxRedirects, trace }, deadline);
    if ('body' in answer) return answer;
    if (hops + 1 >= maxRedirects) {
      throw new HttpRequestError(`${target.origin} redirected more than ${maxRedirects} times`, answer.status, 'redirects', undefined, answer.location);
    }
    const from = target;
    target = new URL(answer.location, from);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new HttpRequestError(`${from.origin} redirected to ${target.protocol} URL, which is not http(s)`, answer.status, 'other', undefined, target.href);
    }
    if ([301, 302, 303].includes(answer.status) && method !== 'HEAD') {
      if (opts.bodyRequired && body !== undefined) {
        throw new HttpRequestError(`${from.origin} answered ${answer.status} with Location ${target.href}: an upload is not sent on as a GET without its body (the service should answer 307 or 308, or be configured with its new URL)`, answer.status, 'redirects', undefined, target.href);
      }
      bodyDropped = true;
      method = 'GET';
      body = undefined;
    }
    credentialsDropped ||= !mayKeepCredentials(first, from, target);
    headers = redirectHeaders(opts.headers, { from, to: target, bodyDropped, credentialsDropped });
  }
}

/** Go's http.Client's limit, which OPA's service clients have too. */
const DEFAULT_MAX_REDIRECTS = 10;

/**
 * Headers that carry credentials: never sent to a host the request was not meant for. Go's client (so OPA) sends
 * X-Amz-Security-Token, the session token `s3_signing` adds, on to any host; it is a credential all the same.
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'www-authenticate', 'cookie', 'cookie2', 'x-amz-security-token']);

/**
 * Whether a redirect from `from` to `to` may carry the first request's credentials. Go's client keeps them while
 * the host is the first request's or a subdomain of its host name (ports aside); Verdict also drops them when a
 * redirect leaves https for http, where they would cross the network in clear.
 */
function mayKeepCredentials(first: URL, from: URL, to: URL): boolean {
  if (from.protocol === 'https:' && to.protocol !== 'https:') return false;
  if (to.host === first.host) return true;
  const host = to.hostname.toLowerCase();
  const firstHost = first.hostname.toLowerCase();
  const isIp = (name: string) => isIP(name.replace(/^\[|\]$/g, '')) !== 0;
  return host === firstHost || (!isIp(host) && !isIp(firstHost) && host.endsWith(`.${firstHost}`));
}

/**
 * The caller's headers for a redirect's next hop, as Go's client sends them: credentials only where
 * `mayKeepCredentials` allows, no headers describing a body that is no longer sent, and a Referer naming the
 * page that redirected (unless the caller set one, or it would leak an https URL to http).
 */
function redirectHeaders(given: Record<string, string> | undefined, hop: { from: URL; to: URL; bodyDropped: boolean; credentialsDropped: boolean }): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given ?? {})) {
    const lower = name.toLowerCase();
    if (hop.credentialsDropped && CREDENTIAL_HEADERS.has(lower)) continue;
    if (hop.bodyDropped && (lower.startsWith('content-') || lower === 'transfer-encoding')) continue;
    headers[name] = value;
  }
  if (!hasHeader(headers, 'referer') && !(hop.from.protocol === 'https:' && hop.to.protocol === 'http:')) {
    const referer = new URL(hop.from);
    referer.username = '';
    referer.password = '';
    referer.hash = '';
    headers.Referer = referer.href;
  }
  return headers;
}

/** A redirect that is to be followed: its body is not read. */
interface Redirect {
  status: number;
  location: string;
}

async function exchangeReplaying(target: URL, opts: SendOptions, deadline: number | undefined): Promise<HttpResponse | Redirect> {
  try {
    return await exchange(target, opts, deadline);
  } catch (err) {
    const replayable = opts.replayable || IDEMPOTENT_METHODS.has(opts.method);
    if (!(err instanceof StaleConnection) || !replayable || opts.signal?.aborted) throw err instanceof StaleConnection ? err.error : err;
    return exchange(target, opts, deadline).catch((again: unknown) => {
      throw again instanceof StaleConnection ? again.error : again;
    });
  }
}

/** The failure of a request sent on a reused connection that was dropped before answering. */
class StaleConnection {
  constructor(readonly error: HttpRequestError) {}
}

function exchange(target: URL, opts: SendOptions, deadline: number | undefined): Promise<HttpResponse | Redirect> {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const options: RequestOptions & TlsOptions = { method: opts.method, headers: requestHeaders(opts), signal: opts.signal, ...opts.tls };
  const href = target.href;
  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    // The first failure wins; destroying the request afterwards only releases the socket.
    const fail = (err: HttpRequestError | StaleConnection) => {
      timers.forEach(clearTimeout);
      reject(err);
      req.destroy();
    };
    let answered: IncomingMessage | undefined;
    const req = send(target, options, (res) => {
      answered = res;
      clearTimeout(headerTimer);
      const location = res.headers.location;
      if (opts.maxRedirects && location && REDIRECT_STATUSES.has(res.statusCode ?? 0)) {
        timers.forEach(clearTimeout);
        res.resume();
        resolve({ status: res.statusCode ?? 0, location });
        return;
      }
      const length = Number(res.headers['content-length'] ?? NaN);
      if (opts.maxBytes !== undefined && length > opts.maxBytes) {
        fail(new HttpRequestError(`response from ${target.origin} is ${length} bytes, over the limit of ${opts.maxBytes}`, res.statusCode, 'too_large', undefined, href));
        return;
      }
      // A body that stalls as long as the header deadline is given up on too.
      if (opts.timeoutMs !== undefined) {
        res.setTimeout(opts.timeoutMs, () => fail(new HttpRequestError(`response from ${target.origin} stalled for ${opts.timeoutMs} ms`, res.statusCode, 'timeout', undefined, href)));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const cutOff = (cause?: Error) => fail(new HttpRequestError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode, 'cut_off', undefined, href, { cause }));
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) {
          fail(new HttpRequestError(`response from ${target.origin} exceeded the limit of ${opts.maxBytes} bytes while downloading`, res.statusCode, 'too_large', undefined, href));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) return cutOff();
        timers.forEach(clearTimeout);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, headersDistinct: res.headersDistinct, body: Buffer.concat(chunks) });
      });
      res.on('error', cutOff);
    });
    const headerTimer = opts.timeoutMs === undefined ? undefined : setTimeout(() => fail(new HttpRequestError(`no response from ${target.origin} within ${opts.timeoutMs} ms`, undefined, 'timeout', undefined, href)), opts.timeoutMs);
    if (headerTimer) timers.push(headerTimer);
    if (deadline !== undefined) {
      const overall = () => fail(new HttpRequestError(`no complete response from ${target.origin} within ${opts.deadlineMs} ms`, answered?.statusCode, 'timeout', undefined, href));
      timers.push(setTimeout(overall, Math.max(0, deadline - Date.now())));
    }
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failure = asRequestError(err, target);
      // Only a connection that never answered this request is taken for stale.
      fail(!answered && req.reusedSocket && err.code !== undefined && STALE_CONNECTION_CODES.has(err.code) ? new StaleConnection(failure) : failure);
    });
    req.end(opts.body);
  });
}

/**
 * The caller's headers, with a Content-Length for a body (Node sends a GET's body without one) and the request's
 * trace context.
 */
function requestHeaders(opts: SendOptions): Record<string, string> | undefined {
  let headers = opts.headers;
  if (opts.body !== undefined && !hasHeader(opts.headers, 'content-length')) headers = { ...headers, 'Content-Length': String(Buffer.byteLength(opts.body)) };
  if (opts.trace) headers = withTraceContext(headers, opts.trace);
  return headers;
}

/** `headers` with the trace's context headers in place of the caller's of the same names, under any case. */
function withTraceContext(headers: Record<string, string> | undefined, trace: TraceContext): Record<string, string> | undefined {
  const context = withTrace(trace, () => injectTraceContext({}));
  const names = Object.keys(context);
  if (names.length === 0) return headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (!names.includes(name.toLowerCase())) out[name] = value;
  return Object.assign(out, context);
}

/** Whether `headers` has the header `lowerName` (given in lower case), under any case. */
export function hasHeader(headers: Record<string, string> | undefined, lowerName: string): boolean {
  return headers !== undefined && Object.keys(headers).some((name) => name.toLowerCase() === lowerName);
}

function asRequestError(err: NodeJS.ErrnoException, target: URL): HttpRequestError {
  if (err.name === 'AbortError') return new HttpRequestError(`request to ${target.origin} was cancelled`, undefined, 'cancelled', undefined, target.href);
  return new HttpRequestError(`request to ${target.origin} failed: ${err.message}`, undefined, 'network', err.code, target.href, { cause: err });
}
