// OAuth2 client credentials (RFC 6749 §4.4) for `services[_].credentials.oauth2`, as OPA does it: the client
// id and secret go in HTTP Basic auth, the token is cached until shortly before `expires_in` runs out.
import type { HttpResponse } from './service.js';
import { ServiceError } from './service.js';

export interface OAuth2Config {
  token_url: string;
  client_id: string;
  client_secret: string;
  scopes?: string[];
  additional_headers?: Record<string, string>;
  additional_parameters?: Record<string, string>;
}

type Post = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: Buffer }) => Promise<HttpResponse>;

/** Refresh this long (at most a tenth of the lifetime) before expiry so a token never expires in flight. */
const expirySkewMs = 10_000;

export class OAuth2ClientCredentials {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(private readonly config: OAuth2Config, private readonly post: Post, private readonly now = Date.now) {}

  /** A valid access token: the cached one, or a new one (concurrent callers share one token request). */
  async token(): Promise<string> {
    if (this.cached && this.now() < this.cached.expiresAt) return this.cached.token;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops the cached token, e.g. after the resource server answered 401. */
  forget(): void {
    this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const { token_url, client_id, client_secret, scopes, additional_headers, additional_parameters } = this.config;
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...additional_parameters });
    if (scopes?.length) form.set('scope', scopes.join(' '));
    const basic = Buffer.from(`${client_id}:${client_secret}`).toString('base64');
    const res = await this.post(token_url, {
      method: 'POST',
      headers: {
        ...additional_headers,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${basic}`,
      },
      body: Buffer.from(form.toString()),
    });
    if (res.status !== 200) throw new ServiceError(`oauth2 token request to ${token_url} failed with HTTP ${res.status}`, res.status);
    let body: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new ServiceError(`oauth2 token response from ${token_url} is not JSON`);
    }
    if (typeof body.access_token !== 'string' || !body.access_token) throw new ServiceError(`oauth2 token response from ${token_url} has no access_token`);
    if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      throw new ServiceError(`oauth2 token response from ${token_url} has token_type ${JSON.stringify(body.token_type)}, expected "bearer"`);
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 0;
    // Without expires_in the token is used for this request only.
    this.cached = lifetimeMs > 0 ? { token: body.access_token, expiresAt: this.now() + lifetimeMs - Math.min(expirySkewMs, lifetimeMs / 10) } : undefined;
    return body.access_token;
  }
}
