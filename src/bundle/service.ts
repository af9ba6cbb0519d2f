// A remote service from OPA's `services` config (docs: configuration, "Services"): base URL, extra headers, TLS
// (custom CA, client certificate) and credentials (src/bundle/credentials: bearer, OAuth2, AWS signing, GCP and
// Azure metadata tokens). It sends one request at a time and reads the body under a byte limit, so a bundle
// larger than allowed is cut off while downloading. Bundle downloads, status reports and decision-log uploads all use it.
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { credentialFor, type CredentialsConfig } from './credentials/index.js';
import type { PrivateKeyConfig } from './credentials/signing-key.js';
import type { ServiceCredential } from './credentials/types.js';
import { activeTracing, injectTraceContext } from '../tracing/index.js';

/** One entry of OPA's `services` (snake_case keys as in OPA's config file). */
export interface ServiceConfig {
  name: string;
  url: string;
  /** OPA's `type`: absent for a bundle/REST server, "oci" for an OCI registry (src/bundle/oci.ts). */
  type?: string;
  headers?: Record<string, string>;
  /** Seconds to wait for response headers; default 10 as OPA. */
  response_header_timeout_seconds?: number;
  allow_insecure_tls?: boolean;
  tls?: { ca_cert?: string; system_ca_required?: boolean };
  credentials?: CredentialsConfig;
}

export interface ServiceClientOptions {
  /** The configuration's `keys`, where OAuth2 `signing_key` is looked up. */
  keys?: Record<string, PrivateKeyConfig>;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
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
 * Why a request failed, for callers that report failures by kind (the PIP http adapter): `network` (no answer;
 * `code` names the cause, e.g. ECONNREFUSED), `timeout` (no headers, or a stalled body, within the deadline),
 * `too_large` (over `maxBytes`, declared or streamed), `cut_off` (the body ended early), `cancelled` (the signal),
 * `other` (raised by a caller about an answer it refuses).
 */
export type ServiceFailure = 'network' | 'timeout' | 'too_large' | 'cut_off' | 'cancelled' | 'other';

/** A failed request; `httpCode` is set when the server answered. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(message: string, readonly httpCode?: number, readonly failure: ServiceFailure = 'other', readonly code?: string) {
    super(message);
  }
}

export interface GetOptions {
  headers?: Record<string, string>;
  /** Extra seconds on top of the header timeout, for long polling. */
  waitSeconds?: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** Leave the service's credentials out: the request carries its own Authorization (an OCI registry token). */
  withoutCredentials?: boolean;
}

export interface TlsOptions {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
  passphrase?: string;
  rejectUnauthorized: boolean;
}

/** Reads the CA and client certificate files once, when the service is set up (as OPA does at start). */
export function tlsOptionsFor(config: ServiceConfig): TlsOptions {
  const tls: TlsOptions = { rejectUnauthorized: !config.allow_insecure_tls };
  const client = config.credentials?.client_tls;
  // client_tls.ca_cert is OPA's deprecated spelling of tls.ca_cert, honoured only when tls.ca_cert is absent.
  const caSettings = config.tls?.ca_cert ? config.tls : client?.ca_cert ? client : undefined;
  if (caSettings?.ca_cert) {
    const custom = readFileSync(caSettings.ca_cert, 'utf8');
    tls.ca = caSettings.system_ca_required ? [...rootCertificates, custom] : [custom];
  }
  if (client) {
    tls.cert = readFileSync(client.cert);
    tls.key = readFileSync(client.private_key);
    if (client.private_key_passphrase) tls.passphrase = client.private_key_passphrase;
  }
  return tls;
}

export class ServiceClient {
  private readonly tls: TlsOptions;
  private readonly credential: ServiceCredential;

  constructor(readonly config: ServiceConfig, options: ServiceClientOptions = {}) {
    const where = `service ${config.name}`;
    if (!/^https?:\/\//.test(config.url)) throw new ServiceError(`${where}: url ${JSON.stringify(config.url)} is not http(s)`);
    if (config.type !== undefined && config.type !== '' && config.type !== 'oci') throw new ServiceError(`${where}: type ${JSON.stringify(config.type)} is not a service type (OPA knows only "oci")`);
    try {
      this.tls = tlsOptionsFor(config);
      this.credential = credentialFor(config.credentials, {
        serviceType: config.type,
        keys: options.keys,
        env: options.env ?? process.env,
        now: options.now ?? Date.now,
        sendWithServiceTls: (url, init) => sendRequest(url, { ...init, tls: this.tls, maxBytes: tokenResponseLimit }),
        send: (url, init) => sendRequest(url, { ...init, tls: { rejectUnauthorized: true }, maxBytes: tokenResponseLimit }),
      });
    } catch (err) {
      throw new ServiceError(`${where}: ${(err as Error).message}`);
    }
  }

  private get headerTimeoutMs(): number {
    return (this.config.response_header_timeout_seconds ?? 10) * 1000;
  }

  /** The full URL of `resource` on this service. */
  urlOf(resource: string): string {
    return this.config.url.replace(/\/+$/, '') + '/' + resource.replace(/^\/+/, '');
  }

  /** GET `<url>/<resource>` with the service's headers and credentials. */
  get(resource: string, opts: GetOptions): Promise<HttpResponse> {
    return this.send('GET', resource, opts);
  }

  /** One request to `<url>/<resource>` with the service's headers and credentials (which may sign the body). */
  send(method: SendOptions['method'], resource: string, opts: GetOptions & { body?: Buffer }): Promise<HttpResponse> {
    return this.request(method, this.urlOf(resource), opts);
  }

  /** POST `<url>/<resource>` with the service's headers and credentials (status reports, decision logs). */
  post(resource: string, body: Buffer, opts: Omit<GetOptions, 'waitSeconds'>): Promise<HttpResponse> {
    return this.send('POST', resource, { ...opts, body });
  }

  /** GET an absolute URL with the service's credentials and TLS settings: an OCI registry's token endpoint. */
  fetchAbsolute(url: string, opts: GetOptions): Promise<HttpResponse> {
    return this.request('GET', url, opts);
  }

  private async request(method: SendOptions['method'], url: string, opts: GetOptions & { body?: Buffer }): Promise<HttpResponse> {
    const base = { ...this.config.headers, ...opts.headers };
    const headers = opts.withoutCredentials ? base : { ...base, ...(await this.credential.headers({ method, url, headers: base, body: opts.body })) };
    const response = await sendRequest(url, {
      method,
      headers,
      body: opts.body,
      tls: this.tls,
      timeoutMs: this.headerTimeoutMs + (opts.waitSeconds ?? 0) * 1000,
      maxBytes: opts.maxBytes,
      signal: opts.signal,
    });
    // A rejected token may have been revoked early: fetch a fresh one next time.
    if (response.status === 401) this.credential.forget?.();
    return response;
  }
}

/** Token, metadata and STS answers are small; anything larger is refused. */
const tokenResponseLimit = 1024 * 1024;

export interface SendOptions {
  method: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: Buffer;
  tls: TlsOptions;
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
  /**
   * The request may be sent twice (a read, even when POSTed). GETs always may. Only such requests are asked
   * again when a pooled keep-alive connection turns out to have been closed by the server.
   */
  replayable?: boolean;
}

/** Socket errors that mean a reused keep-alive connection was closed by the other side before it answered. */
const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One HTTP(S) exchange with a deadline for the response headers and a limit on the body size. A replayable
 * request that fails on a reused keep-alive connection before any answer (the service closed it while idle) is
 * sent once more, on a fresh connection.
 */
export async function sendRequest(url: string, opts: SendOptions): Promise<HttpResponse> {
  try {
    return await exchange(url, opts);
  } catch (err) {
    const replayable = opts.replayable || opts.method === 'GET';
    if (!(err instanceof StaleConnection) || !replayable || opts.signal?.aborted) throw err instanceof StaleConnection ? err.error : err;
    return exchange(url, opts).catch((again: unknown) => {
      throw again instanceof StaleConnection ? again.error : again;
    });
  }
}

/** The failure of a request sent on a reused connection that was dropped before answering. */
class StaleConnection {
  constructor(readonly error: ServiceError) {}
}

function exchange(url: string, opts: SendOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  // Bundle downloads, decision-log uploads and HTTP PIP lookups carry the trace they are part of.
  const headers = activeTracing() ? injectTraceContext({ ...opts.headers }) : opts.headers;
  const options: RequestOptions & TlsOptions = { method: opts.method, headers, signal: opts.signal, ...opts.tls };
  return new Promise((resolve, reject) => {
    // The first failure wins; destroying the request afterwards only releases the socket.
    const fail = (err: ServiceError | StaleConnection) => {
      clearTimeout(headerTimer);
      reject(err);
      req.destroy();
    };
    let answered = false;
    const req = send(target, options, (res) => {
      answered = true;
      clearTimeout(headerTimer);
      const length = Number(res.headers['content-length'] ?? NaN);
      if (opts.maxBytes !== undefined && length > opts.maxBytes) {
        fail(new ServiceError(`response from ${target.origin} is ${length} bytes, over the limit of ${opts.maxBytes}`, res.statusCode, 'too_large'));
        return;
      }
      // A body that stalls as long as the header deadline is given up on too.
      res.setTimeout(opts.timeoutMs, () => fail(new ServiceError(`response from ${target.origin} stalled for ${opts.timeoutMs} ms`, res.statusCode, 'timeout')));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) {
          fail(new ServiceError(`response from ${target.origin} exceeded the limit of ${opts.maxBytes} bytes while downloading`, res.statusCode, 'too_large'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) fail(new ServiceError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode, 'cut_off'));
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', () => fail(new ServiceError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode, 'cut_off')));
    });
    const headerTimer = setTimeout(() => fail(new ServiceError(`no response from ${target.origin} within ${opts.timeoutMs} ms`, undefined, 'timeout')), opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const failure = asServiceError(err, target);
      // Only a connection that never answered this request is taken for stale.
      fail(!answered && req.reusedSocket && err.code !== undefined && STALE_CONNECTION_CODES.has(err.code) ? new StaleConnection(failure) : failure);
    });
    req.end(opts.body);
  });
}

function asServiceError(err: NodeJS.ErrnoException, target: URL): ServiceError {
  if (err.name === 'AbortError') return new ServiceError(`request to ${target.origin} was cancelled`, undefined, 'cancelled');
  return new ServiceError(`request to ${target.origin} failed: ${err.message}`, undefined, 'network', err.code);
}

/** OPA accepts `services` as a map (name → config) or a list of configs with `name`; both become a list. */
export function normaliseServices(services: Record<string, Omit<ServiceConfig, 'name'>> | ServiceConfig[] | undefined): ServiceConfig[] {
  if (!services) return [];
  if (Array.isArray(services)) {
    services.forEach((s, i) => {
      if (!s.name) throw new ServiceError(`services[${i}] has no name`);
    });
    return services;
  }
  return Object.entries(services).map(([name, s]) => ({ ...s, name }));
}
