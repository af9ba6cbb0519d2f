// Verdict's one outbound HTTP(S) client. Bundle downloads, status reports, decision-log uploads, discovery, the
// HTTP PIP adapter, service credentials and the http.send builtin all send their requests through `sendRequest`:
// any method, a string or byte body, per-request TLS, a header deadline or one overall deadline, a byte limit on
// the body, redirects when asked, and failures that say by kind and stage what went wrong.
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { activeTracing, injectTraceContext } from '../tracing/index.js';

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
 * `redirects` (more redirects than allowed), `other` (raised by a caller about an answer it refuses).
 */
export type ServiceFailure = 'network' | 'timeout' | 'too_large' | 'cut_off' | 'cancelled' | 'redirects' | 'other';

/**
 * A failed request; `httpCode` is set when the server answered (the failure came while reading the body), `url`
 * is the request that failed (after redirects, the hop that failed; for `redirects`, the refused Location) and
 * `cause` the socket's own error, when there was one.
 */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    message: string,
    readonly httpCode?: number,
    readonly failure: ServiceFailure = 'other',
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
   * Follow up to this many redirects as Go's client does: 301/302/303 become a GET without a body (a HEAD stays
   * a HEAD), 307/308 are sent again as they were. Redirect answers are returned as they are when absent.
   */
  maxRedirects?: number;
  /** Called with each URL before it is requested, the first and every redirect's; it throws to refuse one. */
  admit?: (url: URL) => void;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Methods Go's transport also resends on a fresh connection when a reused one was dropped. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
/** Socket errors that mean a reused keep-alive connection was closed by the other side before it answered. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One HTTP(S) exchange, its redirects followed when asked, under its deadlines and with a limit on the body size.
 * A replayable request that fails on a reused keep-alive connection before any answer (the service closed it
 * while idle) is sent once more, on a fresh connection.
 */
export async function sendRequest(url: string, opts: SendOptions): Promise<HttpResponse> {
  const deadline = opts.deadlineMs ? Date.now() + opts.deadlineMs : undefined;
  let target = new URL(url);
  let { method, body } = opts;
  for (let hops = 0; ; hops++) {
    opts.admit?.(target);
    const answer = await exchangeReplaying(target, { ...opts, method, body }, deadline);
    if ('body' in answer) return answer;
    if (hops + 1 >= (opts.maxRedirects ?? 0)) {
      throw new ServiceError(`${target.origin} redirected more than ${opts.maxRedirects} times`, answer.status, 'redirects', undefined, answer.location);
    }
    target = new URL(answer.location, target);
    if ([301, 302, 303].includes(answer.status) && method !== 'HEAD') {
      method = 'GET';
      body = undefined;
    }
  }
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
  constructor(readonly error: ServiceError) {}
}

function exchange(target: URL, opts: SendOptions, deadline: number | undefined): Promise<HttpResponse | Redirect> {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const options: RequestOptions & TlsOptions = { method: opts.method, headers: requestHeaders(opts), signal: opts.signal, ...opts.tls };
  const href = target.href;
  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    // The first failure wins; destroying the request afterwards only releases the socket.
    const fail = (err: ServiceError | StaleConnection) => {
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
        fail(new ServiceError(`response from ${target.origin} is ${length} bytes, over the limit of ${opts.maxBytes}`, res.statusCode, 'too_large', undefined, href));
        return;
      }
      // A body that stalls as long as the header deadline is given up on too.
      if (opts.timeoutMs !== undefined) {
        res.setTimeout(opts.timeoutMs, () => fail(new ServiceError(`response from ${target.origin} stalled for ${opts.timeoutMs} ms`, res.statusCode, 'timeout', undefined, href)));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const cutOff = (cause?: Error) => fail(new ServiceError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode, 'cut_off', undefined, href, { cause }));
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) {
          fail(new ServiceError(`response from ${target.origin} exceeded the limit of ${opts.maxBytes} bytes while downloading`, res.statusCode, 'too_large', undefined, href));
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
    const headerTimer = opts.timeoutMs === undefined ? undefined : setTimeout(() => fail(new ServiceError(`no response from ${target.origin} within ${opts.timeoutMs} ms`, undefined, 'timeout', undefined, href)), opts.timeoutMs);
    if (headerTimer) timers.push(headerTimer);
    if (deadline !== undefined) {
      const overall = () => fail(new ServiceError(`no complete response from ${target.origin} within ${opts.deadlineMs} ms`, answered?.statusCode, 'timeout', undefined, href));
      timers.push(setTimeout(overall, Math.max(0, deadline - Date.now())));
    }
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failure = asServiceError(err, target);
      // Only a connection that never answered this request is taken for stale.
      fail(!answered && req.reusedSocket && err.code !== undefined && STALE_CONNECTION_CODES.has(err.code) ? new StaleConnection(failure) : failure);
    });
    req.end(opts.body);
  });
}

/**
 * The caller's headers, with a Content-Length for a body (Node sends a GET's body without one) and the active
 * trace's context unless the caller carries its own traceparent.
 */
function requestHeaders(opts: SendOptions): Record<string, string> | undefined {
  const given = opts.headers ?? {};
  const names = Object.keys(given).map((k) => k.toLowerCase());
  let headers = opts.headers;
  if (opts.body !== undefined && !names.includes('content-length')) headers = { ...headers, 'Content-Length': String(Buffer.byteLength(opts.body)) };
  if (activeTracing() && !names.includes('traceparent')) headers = injectTraceContext({ ...headers });
  return headers;
}

function asServiceError(err: NodeJS.ErrnoException, target: URL): ServiceError {
  if (err.name === 'AbortError') return new ServiceError(`request to ${target.origin} was cancelled`, undefined, 'cancelled', undefined, target.href);
  return new ServiceError(`request to ${target.origin} failed: ${err.message}`, undefined, 'network', err.code, target.href, { cause: err });
}
