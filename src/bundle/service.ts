// A remote service from OPA's `services` config (docs: configuration, "Services"): base URL, extra headers, TLS
// (custom CA, client certificate) and credentials (src/bundle/credentials: bearer, OAuth2, AWS signing, GCP and
// Azure metadata tokens). Its requests go through the one HTTP client (src/net/http-client.ts) with the service's
// header deadline and a byte limit, so a bundle larger than allowed is cut off while downloading. Bundle
// downloads, status reports, decision-log uploads and discovery all use it.
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { credentialFor, type CredentialsConfig } from './credentials/index.js';
import type { PrivateKeyConfig } from './credentials/signing-key.js';
import type { ServiceCredential } from './credentials/types.js';
import { ConfigError } from '../config/config.js';
import { sendRequest, type HttpResponse, type TlsOptions } from '../net/http-client.js';
import type { TraceContext } from '../tracing/index.js';

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

export interface GetOptions {
  headers?: Record<string, string>;
  /** Extra seconds on top of the header timeout, for long polling. */
  waitSeconds?: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** Leave the service's credentials out: the request carries its own Authorization (an OCI registry token). */
  withoutCredentials?: boolean;
  /** The trace the request is part of (see SendOptions.trace): credentials are awaited before it is sent. */
  trace?: TraceContext;
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

/** The methods the plugins send to a service with. */
export type ServiceMethod = 'GET' | 'POST' | 'PUT';

/**
 * A service whose settings cannot work (its URL, type, TLS files or credentials), found before any request is
 * sent: a configuration error, named by the service, not a failed request.
 */
export class ServiceConfigError extends ConfigError {
  override name = 'ServiceConfigError';
}

export class ServiceClient {
  private readonly tls: TlsOptions;
  private readonly credential: ServiceCredential;

  constructor(readonly config: ServiceConfig, options: ServiceClientOptions = {}) {
    const where = `service ${config.name}`;
    if (!/^https?:\/\//.test(config.url)) throw new ServiceConfigError(`${where}: url ${JSON.stringify(config.url)} is not http(s)`);
    if (config.type !== undefined && config.type !== '' && config.type !== 'oci') throw new ServiceConfigError(`${where}: type ${JSON.stringify(config.type)} is not a service type (OPA knows only "oci")`);
    // OPA's registry client sends a registry only its credentials' Authorization: the service's headers never
    // reach it, so they are refused rather than sent where OPA would not, or dropped unsaid.
    if (config.type === 'oci' && Object.keys(config.headers ?? {}).length > 0) {
      throw new ServiceConfigError(`${where}: headers (${Object.keys(config.headers!).join(', ')}) are not sent to an OCI registry, as OPA does not send them; remove them (credentials set the Authorization)`);
    }
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
      throw new ServiceConfigError(`${where}: ${(err as Error).message}`, { cause: err });
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
  send(method: ServiceMethod, resource: string, opts: GetOptions & { body?: Buffer }): Promise<HttpResponse> {
    return this.request(method, this.urlOf(resource), opts);
  }

  /** POST `<url>/<resource>` with the service's headers and credentials (status reports, decision logs). */
  post(resource: string, body: Buffer, opts: Omit<GetOptions, 'waitSeconds'>): Promise<HttpResponse> {
    return this.request('POST', this.urlOf(resource), { ...opts, body, bodyRequired: true });
  }

  /** GET an absolute URL with the service's credentials and TLS settings: an OCI registry's token endpoint. */
  fetchAbsolute(url: string, opts: GetOptions): Promise<HttpResponse> {
    return this.request('GET', url, opts);
  }

  private async request(method: ServiceMethod, url: string, opts: GetOptions & { body?: Buffer; bodyRequired?: boolean }): Promise<HttpResponse> {
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
      bodyRequired: opts.bodyRequired,
      trace: opts.trace,
    });
    // A rejected token may have been revoked early: fetch a fresh one next time.
    if (response.status === 401) this.credential.forget?.();
    return response;
  }
}

/** Token, metadata and STS answers are small; anything larger is refused. */
const tokenResponseLimit = 1024 * 1024;

/** OPA accepts `services` as a map (name → config) or a list of configs with `name`; both become a list. */
export function normaliseServices(services: Record<string, Omit<ServiceConfig, 'name'>> | ServiceConfig[] | undefined): ServiceConfig[] {
  if (!services) return [];
  if (Array.isArray(services)) {
    services.forEach((s, i) => {
      if (!s.name) throw new ServiceConfigError(`services[${i}] has no name`);
    });
    return services;
  }
  return Object.entries(services).map(([name, s]) => ({ ...s, name }));
}
