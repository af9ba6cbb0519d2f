// A remote service from OPA's `services` config (docs: configuration, "Services"): base URL, extra headers, TLS
// (custom CA, client certificate) and credentials (bearer token or OAuth2 client credentials). It sends one GET
// at a time and reads the body under a byte limit, so a bundle larger than allowed is cut off while downloading.
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { OAuth2ClientCredentials, type OAuth2Config } from './oauth2.js';

/** One entry of OPA's `services` (snake_case keys as in OPA's config file). */
export interface ServiceConfig {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** Seconds to wait for response headers; default 10 as OPA. */
  response_header_timeout_seconds?: number;
  allow_insecure_tls?: boolean;
  tls?: { ca_cert?: string; system_ca_required?: boolean };
  credentials?: {
    bearer?: { token?: string; token_path?: string; scheme?: string };
    client_tls?: { cert: string; private_key: string; private_key_passphrase?: string };
    oauth2?: OAuth2Config;
  };
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A failed request; `httpCode` is set when the server answered. */
export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(message: string, readonly httpCode?: number) {
    super(message);
  }
}

export interface GetOptions {
  headers?: Record<string, string>;
  /** Extra seconds on top of the header timeout, for long polling. */
  waitSeconds?: number;
  maxBytes: number;
  signal?: AbortSignal;
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
  if (config.tls?.ca_cert) {
    const custom = readFileSync(config.tls.ca_cert, 'utf8');
    tls.ca = config.tls.system_ca_required ? [...rootCertificates, custom] : [custom];
  }
  const client = config.credentials?.client_tls;
  if (client) {
    tls.cert = readFileSync(client.cert);
    tls.key = readFileSync(client.private_key);
    if (client.private_key_passphrase) tls.passphrase = client.private_key_passphrase;
  }
  return tls;
}

export class ServiceClient {
  private readonly tls: TlsOptions;
  private readonly oauth2?: OAuth2ClientCredentials;

  constructor(readonly config: ServiceConfig) {
    if (!/^https?:\/\//.test(config.url)) throw new ServiceError(`service ${config.name}: url ${JSON.stringify(config.url)} is not http(s)`);
    this.tls = tlsOptionsFor(config);
    const oauth2 = config.credentials?.oauth2;
    if (oauth2) this.oauth2 = new OAuth2ClientCredentials(oauth2, (url, init) => sendRequest(url, { ...init, tls: this.tls, timeoutMs: this.headerTimeoutMs, maxBytes: 1024 * 1024 }));
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

  /** POST `body` to `<url>/<resource>` with the service's headers and credentials (decision-log uploads). */
  post(resource: string, body: Buffer, opts: GetOptions): Promise<HttpResponse> {
    return this.send('POST', resource, opts, body);
  }

  private async send(method: SendOptions['method'], resource: string, opts: GetOptions, body?: Buffer): Promise<HttpResponse> {
    const headers = { ...this.config.headers, ...(await this.authorization()), ...opts.headers };
    const response = await sendRequest(this.urlOf(resource), {
      method,
      headers,
      ...(body ? { body } : {}),
      tls: this.tls,
      timeoutMs: this.headerTimeoutMs + (opts.waitSeconds ?? 0) * 1000,
      maxBytes: opts.maxBytes,
      signal: opts.signal,
    });
    // A rejected token may have been revoked early: fetch a fresh one next time.
    if (response.status === 401) this.oauth2?.forget();
    return response;
  }

  private async authorization(): Promise<Record<string, string>> {
    const creds = this.config.credentials;
    if (creds?.bearer) {
      const { token, token_path, scheme = 'Bearer' } = creds.bearer;
      // token_path is re-read per request, so a rotated token file is picked up without a restart.
      const value = token_path ? (await readFile(token_path, 'utf8')).trim() : token ?? '';
      return { authorization: `${scheme} ${value}` };
    }
    if (this.oauth2) return { authorization: `Bearer ${await this.oauth2.token()}` };
    return {};
  }
}

export interface SendOptions {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Buffer;
  tls: TlsOptions;
  timeoutMs: number;
  maxBytes?: number;
  signal?: AbortSignal;
}

/** One HTTP(S) exchange with a deadline for the response headers and a limit on the body size. */
export function sendRequest(url: string, opts: SendOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const options: RequestOptions & TlsOptions = { method: opts.method, headers: opts.headers, signal: opts.signal, ...opts.tls };
  return new Promise((resolve, reject) => {
    // The first failure wins; destroying the request afterwards only releases the socket.
    const fail = (err: ServiceError) => {
      clearTimeout(headerTimer);
      reject(err);
      req.destroy();
    };
    const req = send(target, options, (res) => {
      clearTimeout(headerTimer);
      const length = Number(res.headers['content-length'] ?? NaN);
      if (opts.maxBytes !== undefined && length > opts.maxBytes) {
        fail(new ServiceError(`response from ${target.origin} is ${length} bytes, over the limit of ${opts.maxBytes}`, res.statusCode));
        return;
      }
      // A body that stalls as long as the header deadline is given up on too.
      res.setTimeout(opts.timeoutMs, () => fail(new ServiceError(`response from ${target.origin} stalled for ${opts.timeoutMs} ms`, res.statusCode)));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) {
          fail(new ServiceError(`response from ${target.origin} exceeded the limit of ${opts.maxBytes} bytes while downloading`, res.statusCode));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (!res.complete) fail(new ServiceError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode));
        else resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', () => fail(new ServiceError(`response from ${target.origin} was cut off after ${size} bytes`, res.statusCode)));
    });
    const headerTimer = setTimeout(() => fail(new ServiceError(`no response from ${target.origin} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (err) => fail(asServiceError(err, target)));
    req.end(opts.body);
  });
}

function asServiceError(err: Error, target: URL): ServiceError {
  if (err.name === 'AbortError') return new ServiceError(`request to ${target.origin} was cancelled`);
  return new ServiceError(`request to ${target.origin} failed: ${err.message}`);
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
