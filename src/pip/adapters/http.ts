// `http` adapter: GET or POST a JSON service. URL placeholders are URL-encoded, body placeholders keep their JSON
// type, the response is size-limited and parsed as JSON, and `pick` selects part of it. 404 means "not found".
// Requests go through the bundle services' HTTP client (src/bundle/service.ts), the one outbound client, and
// OAuth2 client credentials through their OAuth2 client (src/bundle/oauth2.ts), so both speak to a token
// endpoint the same way OPA does, https only.

import { openedOnFirstLookup, type JsonValue, type LookupParams, type PipAdapter, type PipAdapterKind } from '../adapter.js';
import { PipConfigError, PipLookupError } from '../errors.js';
import { readSettingFile } from '../setting-file.js';
import { rootCertificates } from 'node:tls';
import { OAuth2ClientCredentials, type OAuth2Config } from '../../bundle/oauth2.js';
import { sendRequest, HttpRequestError, type HttpResponse, type TlsOptions } from '../../net/http-client.js';
import { lookupFailure, parseJsonBody } from '../http-body.js';
import { parseTemplate, scalarText, type Template } from '../template.js';
import { currentTrace } from '../../tracing/index.js';

interface HttpSettings {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  auth?: { type: 'bearer'; token: string } | ({ type: 'oauth2'; ca_cert?: string } & OAuth2Config);
  max_response_bytes?: number;
  pick?: string;
}

/** A JSON body with templates in its strings, compiled once. */
type BodyTemplate = Template | BodyTemplate[] | { [key: string]: BodyTemplate } | JsonValue;

export class HttpAdapter implements PipAdapter {
  readonly requiredParams: readonly string[];
  private readonly url: Template;
  private readonly headers: [string, Template][];
  private readonly body: BodyTemplate | undefined;
  private readonly method: 'GET' | 'POST';
  private readonly limit: number;
  private readonly pick: string[];
  private readonly oauth2: OAuth2ClientCredentials | undefined;
  private readonly bearer: string | undefined;

  constructor(name: string, settings: HttpSettings, private readonly timeoutMs: number) {
    const where = `pip.adapters.${name}.settings`;
    this.url = parseTemplate(settings.url, `${where}.url`);
    const sample = this.url.render(Object.fromEntries(this.url.params.map((p) => [p, 'x'])), (v) => String(v));
    let parsed: URL;
    try {
      parsed = new URL(sample);
    } catch {
      throw new PipConfigError(`${where}.url: "${settings.url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new PipConfigError(`${where}.url: only http and https URLs are supported`);
    }
    // Input values may choose the path and query, never the host the lookup goes to.
    const origin = /^[a-z]+:\/\/[^/?#]*/i.exec(settings.url)?.[0] ?? '';
    if (origin.includes('{')) throw new PipConfigError(`${where}.url: placeholders are not allowed in the scheme, host or port`);
    this.headers = Object.entries(settings.headers ?? {}).map(([k, v]) => [k, parseTemplate(v, `${where}.headers.${k}`)]);
    this.method = settings.method ?? 'GET';
    this.body = settings.body === undefined ? undefined : compileBody(settings.body, `${where}.body`);
    this.limit = settings.max_response_bytes ?? 1024 * 1024;
    this.pick = settings.pick ? settings.pick.split('.') : [];
    if (settings.auth?.type === 'bearer') this.bearer = settings.auth.token;
    if (settings.auth?.type === 'oauth2') {
      const { type: _type, ca_cert, ...oauth2 } = settings.auth;
      const tls: TlsOptions = { rejectUnauthorized: true };
      if (ca_cert) tls.ca = [...rootCertificates, readSettingFile(ca_cert, `${where}.auth.ca_cert`).toString('utf8')];
      try {
        this.oauth2 = new OAuth2ClientCredentials(oauth2, (url, init) => postTokenRequest(url, init, timeoutMs, tls));
      } catch (err) {
        throw new PipConfigError(`${where}.auth: ${(err as Error).message}`);
      }
    }
    const params = [...this.url.params, ...this.headers.flatMap(([, t]) => t.params), ...bodyParams(this.body)];
    this.requiredParams = [...new Set(params)];
  }

  async lookup(params: LookupParams, signal: AbortSignal): Promise<JsonValue> {
    // The lookup's span is current only until the first await (an OAuth2 token): it is taken now.
    const trace = currentTrace();
    const url = this.url.render(params, (v) => encodeURIComponent(scalarText(v)));
    const where = `${this.method} ${new URL(url).origin}${new URL(url).pathname}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    for (const [k, t] of this.headers) headers[k] = headerValue(t.render(params, (v) => scalarText(v)), k);
    let body: Buffer | undefined;
    if (this.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(renderBody(this.body, params)));
    }
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (this.oauth2) headers.authorization = `Bearer ${await this.accessToken(this.oauth2)}`;

    // The one HTTP client: it carries the lookup's trace context (the lookup's span is the parent the PIP
    // service sees), and asks again once on a fresh connection when a pooled keep-alive one was closed while
    // idle, which is safe because a lookup is a read even when POSTed.
    let res: Pick<HttpResponse, 'status' | 'body'>;
    try {
      res = await sendRequest(url, { method: this.method, headers, body, tls: LOOKUP_TLS, timeoutMs: this.timeoutMs, maxBytes: this.limit, signal, replayable: true, trace });
    } catch (err) {
      // An error status whose body is over the limit is still that status.
      if (!(err instanceof HttpRequestError) || err.httpCode === undefined || isSuccess(err.httpCode)) throw lookupFailure(err, signal, where, this.limit);
      res = { status: err.httpCode, body: Buffer.alloc(0) };
    }
    if (res.status === 404) return null;
    if (!isSuccess(res.status)) {
      if (res.status === 401) this.oauth2?.forget();
      throw new PipLookupError('bad_response', `${where} answered ${res.status}`);
    }
    return pickPath(parseJsonBody(res.body, `response of ${where}`), this.pick);
  }

  private async accessToken(oauth2: OAuth2ClientCredentials): Promise<string> {
    try {
      return await oauth2.token();
    } catch (err) {
      throw err instanceof PipLookupError ? err : new PipLookupError('unavailable', (err as Error).message);
    }
  }
}

const TOKEN_RESPONSE_LIMIT = 64 * 1024;

/**
 * The token request of the OAuth2 client, through the services' HTTP client so `ca_cert` can be trusted for it.
 * It is shared by the lookups waiting for a token, so it has its own deadline (the adapter's timeout) rather
 * than the signal of whichever lookup started it.
 */
async function postTokenRequest(url: string, init: { method: 'POST'; headers: Record<string, string>; body: Buffer }, timeoutMs: number, tls: TlsOptions) {
  try {
    return await sendRequest(url, { ...init, tls, timeoutMs, maxBytes: TOKEN_RESPONSE_LIMIT });
  } catch (err) {
    throw new PipLookupError('unavailable', `OAuth2 token request to ${url} failed: ${(err as Error).message}`);
  }
}

/** Lookups trust the system's CAs, as any HTTPS client does; `auth.ca_cert` is for the token endpoint only. */
const LOOKUP_TLS: TlsOptions = { rejectUnauthorized: true };

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function headerValue(value: string, name: string): string {
  // A header value built from input must not smuggle another header or request line.
  if (/[\r\n\0]/.test(value)) throw new PipLookupError('failed', `header ${name} would contain a line break`);
  return value;
}

function compileBody(value: unknown, where: string): BodyTemplate {
  if (typeof value === 'string') return parseTemplate(value, where);
  if (Array.isArray(value)) return value.map((v, i) => compileBody(v, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compileBody(v, `${where}.${k}`)]));
  }
  return value as JsonValue;
}

function isTemplate(node: BodyTemplate | undefined): node is Template {
  return node !== null && typeof node === 'object' && 'render' in node;
}

function bodyParams(node: BodyTemplate | undefined): string[] {
  if (isTemplate(node)) return [...node.params];
  if (Array.isArray(node)) return node.flatMap(bodyParams);
  if (node !== null && typeof node === 'object' && node !== undefined) return Object.values(node).flatMap(bodyParams);
  return [];
}

function renderBody(node: BodyTemplate, params: LookupParams): JsonValue {
  if (isTemplate(node)) {
    if (node.whole !== undefined) return params[node.whole] ?? null;
    return node.render(params, (v) => scalarText(v));
  }
  if (Array.isArray(node)) return node.map((n) => renderBody(n, params));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, renderBody(v, params)]));
  }
  return node;
}

/** The value at a dotted path (numeric segments index arrays); null when absent. */
export function pickPath(value: JsonValue, path: readonly string[]): JsonValue {
  let node: JsonValue = value;
  for (const seg of path) {
    if (Array.isArray(node) && /^\d+$/.test(seg)) node = node[Number(seg)] ?? null;
    else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, seg)) node = node[seg];
    else return null;
  }
  return node;
}

/** Building the adapter opens nothing: requests (the token's too) go out when a lookup runs. */
export const httpAdapter: PipAdapterKind = {
  prepare: (name, settings, context) => openedOnFirstLookup(new HttpAdapter(name, settings as unknown as HttpSettings, context.timeoutMs)),
};
