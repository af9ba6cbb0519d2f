// OAuth2 for `services[_].credentials.oauth2` (docs: configuration, "OAuth2 Client Credentials" and "OAuth2 JWT
// Bearer Grant Type"), as OPA does it:
// - grant_type client_credentials (RFC 6749 §4.4) authenticated by exactly one of: client_secret (HTTP Basic),
//   signing_key (a JWT client assertion signed with a key from `keys`, RFC 7523 §2.2), client_assertion or
//   client_assertion_path (a ready-made assertion);
// - grant_type jwt_bearer (RFC 7523 §2.1): a JWT signed with `signing_key` is the grant itself.
// token_url must be https, so a client secret or assertion never travels in clear. The token is cached until
// shortly before `expires_in` runs out.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import type { HttpResponse } from '../net/http-client.js';
import { answerJson, HttpRequestError } from '../net/http-client.js';
import { signingKeyFor, type PrivateKeyConfig, type SigningKey } from './credentials/signing-key.js';

export interface OAuth2Config {
  grant_type?: 'client_credentials' | 'jwt_bearer';
  token_url: string;
  client_id?: string;
  client_secret?: string;
  /** Id of an entry of `keys` holding `private_key` (and `algorithm`), for JWT assertions. */
  signing_key?: string;
  /** Hex SHA-1 thumbprint of the signing certificate, sent as the JWT's x5t header. */
  thumbprint?: string;
  additional_claims?: Record<string, unknown>;
  include_jti_claim?: boolean;
  scopes?: string[];
  additional_headers?: Record<string, string>;
  additional_parameters?: Record<string, string>;
  client_assertion_type?: string;
  client_assertion?: string;
  client_assertion_path?: string;
  /** OPA's remote signers for assertions; refused, see the constructor. */
  aws_kms?: unknown;
  aws_signing?: unknown;
  azure_keyvault?: unknown;
}

type Post = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: Buffer }) => Promise<HttpResponse>;

export interface OAuth2Options {
  /** `keys` of the configuration, where signing_key is looked up. */
  keys?: Record<string, PrivateKeyConfig>;
  now?: () => number;
}

/** Refresh this long (at most a tenth of the lifetime) before expiry so a token never expires in flight. */
const expirySkewMs = 10_000;
const jwtAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Lifetime of the JWTs Verdict signs, as OPA. */
const assertionLifetimeSeconds = 600;

/** A setting OPA would refuse, found when the client is built (at start-up). */
export class OAuth2ConfigError extends Error {
  override name = 'OAuth2ConfigError';
}

export class OAuth2ClientCredentials {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;
  private readonly grantType: 'client_credentials' | 'jwt_bearer';
  private readonly signingKey?: SigningKey;
  private readonly now: () => number;

  constructor(private readonly config: OAuth2Config, private readonly post: Post, options: OAuth2Options = {}) {
    this.now = options.now ?? Date.now;
    for (const [key, what] of [['aws_kms', 'AWS KMS'], ['aws_signing', 'AWS KMS'], ['azure_keyvault', 'Azure Key Vault']] as const) {
      if (key in config) throw new OAuth2ConfigError(`${key}: signing assertions with ${what} is not supported by Verdict; use signing_key with a key from keys`);
    }
    this.grantType = config.grant_type ?? 'client_credentials';
    if (this.grantType !== 'client_credentials' && this.grantType !== 'jwt_bearer') {
      throw new OAuth2ConfigError('grant_type must be either client_credentials or jwt_bearer');
    }
    if (!/^https:\/\//.test(config.token_url ?? '')) {
      throw new OAuth2ConfigError(`token_url ${JSON.stringify(config.token_url)} must use the https scheme, so credentials are never sent in clear`);
    }
    if (this.grantType === 'client_credentials') {
      const given = (['client_secret', 'signing_key', 'client_assertion', 'client_assertion_path'] as const).filter((k) => config[k]);
      if (given.length === 0) throw new OAuth2ConfigError('one of client_secret, signing_key, client_assertion or client_assertion_path is required');
      if (given.length > 1) throw new OAuth2ConfigError(`only one of client_secret, signing_key, client_assertion or client_assertion_path may be set, not ${given.join(' and ')}`);
      if (given[0] !== 'signing_key' && !config.client_id) throw new OAuth2ConfigError(`client_id is required with ${given[0]}`);
    }
    if (this.grantType === 'jwt_bearer' || config.signing_key) {
      if (!config.signing_key) throw new OAuth2ConfigError('signing_key is required for grant_type jwt_bearer');
      this.signingKey = signingKeyFor(config.signing_key, options.keys);
    }
    if (config.thumbprint !== undefined && !/^([0-9a-fA-F]{2})+$/.test(config.thumbprint)) throw new OAuth2ConfigError('thumbprint must be hexadecimal');
  }

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

  private async form(): Promise<URLSearchParams> {
    const { client_id, client_secret, client_assertion, client_assertion_path, scopes } = this.config;
    const form = new URLSearchParams();
    if (this.grantType === 'jwt_bearer') {
      form.set('grant_type', jwtBearerGrant);
      form.set('assertion', await this.signedAssertion());
    } else {
      form.set('grant_type', 'client_credentials');
      if (!client_secret) {
        const assertion = this.signingKey
          ? await this.signedAssertion()
          : client_assertion ?? (await readFile(client_assertion_path!, 'utf8')).trim();
        if (client_id) form.set('client_id', client_id);
        form.set('client_assertion_type', this.signingKey ? jwtAssertionType : this.config.client_assertion_type ?? jwtAssertionType);
        form.set('client_assertion', assertion);
      }
    }
    if (scopes?.length) form.set('scope', scopes.join(' '));
    for (const [k, v] of Object.entries(this.config.additional_parameters ?? {})) form.set(k, v);
    return form;
  }

  /** The JWT OPA signs: iat and exp (10 minutes), then additional_claims, scope, and a jti if asked. */
  private async signedAssertion(): Promise<string> {
    const key = this.signingKey!;
    const iat = Math.floor(this.now() / 1000);
    const claims: Record<string, unknown> = { iat, exp: iat + assertionLifetimeSeconds, ...this.config.additional_claims };
    if (this.config.scopes?.length) claims.scope = this.config.scopes.join(' ');
    if (this.config.include_jti_claim) claims.jti = randomUUID();
    const header: { typ: string; alg: string; x5t?: string } = { typ: 'JWT', alg: key.algorithm };
    // OPA sends the thumbprint base64url-encoded with padding.
    if (this.config.thumbprint) header.x5t = Buffer.from(this.config.thumbprint, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
    return new SignJWT(claims).setProtectedHeader(header).sign(key.key);
  }

  private async fetchToken(): Promise<string> {
    const { token_url, client_id, client_secret, additional_headers } = this.config;
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (this.grantType === 'client_credentials' && client_secret) {
      headers.authorization = `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`;
    }
    const res = await this.post(token_url, {
      method: 'POST',
      headers: { ...headers, ...additional_headers },
      body: Buffer.from((await this.form()).toString()),
    });
    if (res.status !== 200) throw new HttpRequestError(`oauth2 token request to ${token_url} failed with HTTP ${res.status}`, res.status);
    const body = answerJson<{ access_token?: unknown; token_type?: unknown; expires_in?: unknown }>(res, () => new HttpRequestError(`oauth2 token response from ${token_url} is not JSON`));
    if (typeof body.access_token !== 'string' || !body.access_token) throw new HttpRequestError(`oauth2 token response from ${token_url} has no access_token`);
    if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      throw new HttpRequestError(`oauth2 token response from ${token_url} has token_type ${JSON.stringify(body.token_type)}, expected "bearer"`);
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 0;
    // Without expires_in the token is used for this request only.
    this.cached = lifetimeMs > 0 ? { token: body.access_token, expiresAt: this.now() + lifetimeMs - Math.min(expirySkewMs, lifetimeMs / 10) } : undefined;
    return body.access_token;
  }
}
