// OAuth2 client-credentials grant (RFC 6749 §4.4): fetches an access token, keeps it until shortly before it
// expires, and lets concurrent lookups share one token request.

import { fetchFailure, readJsonBody } from './http-body.js';
import { PipLookupError } from './errors.js';

export interface ClientCredentials {
  token_url: string;
  client_id: string;
  client_secret: string;
  scopes?: string[];
}

/** Renew this long before the server's expiry, so a token does not expire between check and use. */
const EXPIRY_MARGIN_MS = 10_000;
const TOKEN_RESPONSE_LIMIT = 64 * 1024;

export class ClientCredentialsToken {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly creds: ClientCredentials) {}

  async get(signal: AbortSignal): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    this.pending ??= this.request(signal).finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** Forget the token (the resource server rejected it), so the next lookup asks for a new one. */
  invalidate(): void {
    this.token = undefined;
  }

  private async request(signal: AbortSignal): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.creds.scopes?.length) form.set('scope', this.creds.scopes.join(' '));
    // client_secret_basic (RFC 6749 §2.3.1): id and secret are form-encoded before base64.
    const basic = Buffer.from(`${encodeURIComponent(this.creds.client_id)}:${encodeURIComponent(this.creds.client_secret)}`).toString('base64');
    let res: Response;
    try {
      res = await fetch(this.creds.token_url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal,
      });
    } catch (err) {
      throw fetchFailure(err, signal, 'OAuth2 token request');
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new PipLookupError('unavailable', `OAuth2 token request answered ${res.status}`);
    }
    const body = await readJsonBody(res, TOKEN_RESPONSE_LIMIT, 'OAuth2 token response');
    const fields = (body ?? {}) as { access_token?: unknown; expires_in?: unknown };
    if (typeof fields.access_token !== 'string' || fields.access_token === '') {
      throw new PipLookupError('bad_response', 'OAuth2 token response has no access_token');
    }
    const lifetimeMs = typeof fields.expires_in === 'number' ? fields.expires_in * 1000 : 300_000;
    this.token = { value: fields.access_token, expiresAt: Date.now() + Math.max(0, lifetimeMs - EXPIRY_MARGIN_MS) };
    return fields.access_token;
  }
}
