// Bearer-JWT authentication for Verdict's admin APIs (bundle upload, decision log queries). Tokens are checked
// with jose against a JWKS URL (cached, refetched when an unknown key id appears) or static keys, then for
// issuer, audience, expiry, the optional roles, and the scope of the action the route performs: a token for
// reading decisions cannot upload a bundle. Failures answer OPA's error envelope {code:"unauthorized", message}:
// 401 when the token is missing or invalid, 403 when it is valid but not allowed this action.
// The message says "invalid" or "expired", never which check failed, so probing learns nothing about keys.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** What an admin route does. Each action needs its own scope; none implies another. */
export const adminActions = ['bundles:read', 'bundles:write', 'decisions:read', 'decisions:write'] as const;
export type AdminAction = (typeof adminActions)[number];

export interface AdminAuthConfig {
  /** URL of the identity provider's JWKS; keys are cached and refetched when an unknown `kid` appears. */
  jwks_url?: string;
  jwks_cache_seconds?: number;
  /** Least time between two JWKS fetches, so forged `kid`s cannot make Verdict hammer the provider. */
  jwks_min_refresh_seconds?: number;
  /** Static keys (used when no jwks_url): a PEM public key or certificate, a JWK (JSON text), or an HMAC secret (with an HS algorithm). */
  keys?: Array<{ key: string; kid?: string; algorithm?: string }>;
  issuer: string | string[];
  audience: string | string[];
  /** Accepted `alg`s; default RS/PS/ES/EdDSA, plus the algorithm of every static key. `none` is never accepted. */
  algorithms?: string[];
  /**
   * The scope a token needs for each action, found in the space-separated `scope` claim (or the `scp` array).
   * By default the action's own name; set it when the identity provider names scopes its own way.
   */
  scopes?: Partial<Record<AdminAction, string>>;
  /** Refused: the old single scope list for every route. Kept in the type to explain how to migrate. */
  required_scopes?: unknown;
  /** At least one of these must appear in the role claim, whatever the action. */
  required_roles?: string[];
  /** Dotted path of the role claim; default "roles" (e.g. "realm_access.roles" for Keycloak). */
  role_claim?: string;
  clock_tolerance_seconds?: number;
}

/** Why a request was refused: `status` 401 (authenticate) or 403 (not allowed); `message` is safe to send. */
export class AdminAuthError extends Error {
  override name = 'AdminAuthError';
  constructor(readonly status: 401 | 403, message: string) {
    super(message);
  }
}

const asymmetricAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface AdminTokenVerifier {
  /** The verified claims of a token allowed to perform `action`, or AdminAuthError. */
  verify(token: string, action: AdminAction): Promise<JWTPayload>;
}

export function createAdminTokenVerifier(config: AdminAuthConfig): AdminTokenVerifier {
  if (!config.jwks_url && !config.keys?.length) throw new Error('admin auth needs jwks_url or keys');
  if (!config.issuer || !config.audience) throw new Error('admin auth needs issuer and audience');
  const scopeOf = actionScopes(config);
  const algorithms = (config.algorithms ?? [...asymmetricAlgorithms, ...(config.keys ?? []).flatMap((k) => (k.algorithm ? [k.algorithm] : []))])
    .filter((alg) => alg.toLowerCase() !== 'none');
  const remote = config.jwks_url ? remoteKeySet({ ...config, jwks_url: config.jwks_url }) : undefined;
  const staticKeys = (config.keys ?? []).map(loadStaticKey);
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms,
    clockTolerance: config.clock_tolerance_seconds ?? 30,
    requiredClaims: ['exp'],
  };
  // Static keys: those matching the token's kid (when both name one) and algorithm are tried in turn.
  async function verifyWithStaticKeys(token: string): Promise<JWTPayload> {
    const header = decodeProtectedHeader(token);
    const candidates = staticKeys.filter((k) => (!header.kid || !k.kid || k.kid === header.kid) && keyFitsAlgorithm(k, String(header.alg)));
    let failure: unknown = new Error('no key fits the token');
    for (const candidate of candidates) {
      try {
        return (await jwtVerify(token, candidate.key, options)).payload;
      } catch (err) {
        failure = err;
        if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired) break;
      }
    }
    throw failure;
  }
  return {
    async verify(token: string, action: AdminAction): Promise<JWTPayload> {
      let payload: JWTPayload;
      try {
        payload = remote ? (await jwtVerify(token, remote, options)).payload : await verifyWithStaticKeys(token);
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new AdminAuthError(401, 'bearer token expired');
        throw new AdminAuthError(401, 'bearer token invalid');
      }
      checkPermissions(payload, config, scopeOf[action]);
      return payload;
    },
  };
}

type StaticKey = { key: KeyObject; kid?: string; algorithm?: string };

function remoteKeySet(config: AdminAuthConfig & { jwks_url: string }): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(config.jwks_url), {
    cacheMaxAge: (config.jwks_cache_seconds ?? 600) * 1000,
    cooldownDuration: (config.jwks_min_refresh_seconds ?? 30) * 1000,
    timeoutDuration: 5000,
  });
}

function loadStaticKey(entry: { key: string; kid?: string; algorithm?: string }, n: number): StaticKey {
  const text = entry.key.trim();
  let key: KeyObject;
  try {
    if (text.startsWith('{')) {
      let jwk: import('node:crypto').JsonWebKey;
      try {
        jwk = JSON.parse(text) as import('node:crypto').JsonWebKey;
      } catch {
        // JSON.parse quotes the text it failed on, and this text may be a secret.
        throw new Error('it starts with "{" but is not valid JSON');
      }
      if (jwk.d) throw new Error('it is a private key; configure the public key');
      key = jwk.kty === 'oct' ? createSecretKey(Buffer.from(String(jwk.k), 'base64url')) : createPublicKey({ key: jwk, format: 'jwk' });
    } else if (entry.algorithm?.startsWith('HS')) {
      key = createSecretKey(Buffer.from(entry.key, 'utf8'));
    } else {
      // A PEM public key or certificate; a private key also works (its public half is used), as in OPA's keys.
      key = createPublicKey(entry.key);
    }
  } catch (err) {
    throw new Error(`admin auth key ${n} is not a usable PEM public key, JWK or secret: ${(err as Error).message}`);
  }
  return { key, kid: entry.kid, algorithm: entry.algorithm };
}

/** Whether a key can check a token signed with `alg`: keeps an RSA public key from being used as an HMAC secret. */
function keyFitsAlgorithm(key: StaticKey, alg: string): boolean {
  if (key.algorithm) return key.algorithm === alg;
  const type = key.key.type === 'secret' ? 'secret' : key.key.asymmetricKeyType;
  if (alg.startsWith('HS')) return type === 'secret';
  if (alg.startsWith('RS') || alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg.startsWith('ES')) return type === 'ec';
  return alg === 'EdDSA' && (type === 'ed25519' || type === 'ed448');
}

function claimAt(payload: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), payload);
}

function asList(v: unknown): string[] {
  if (typeof v === 'string') return v.split(' ').filter(Boolean);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/**
 * The scope each action needs. The old `required_scopes` (one list for every route) is refused rather than
 * guessed at: reading it as "every action" would let a decisions reader upload bundles, as it did before.
 */
function actionScopes(config: AdminAuthConfig): Record<AdminAction, string> {
  if (config.required_scopes !== undefined) {
    throw new Error(
      'admin_api.auth.required_scopes is no longer supported: each admin action now needs its own scope ' +
        `(${adminActions.join(', ')}). Remove required_scopes and give tokens the scopes of the actions they may perform, ` +
        'or name the scopes your identity provider issues with admin_api.auth.scopes, e.g. scopes: {"bundles:write": "<old scope>"}',
    );
  }
  const configured = config.scopes ?? {};
  for (const [action, scope] of Object.entries(configured)) {
    if (!(adminActions as readonly string[]).includes(action)) {
      throw new Error(`admin_api.auth.scopes: unknown action ${JSON.stringify(action)}; actions are ${adminActions.join(', ')}`);
    }
    if (typeof scope !== 'string' || scope === '' || /\s/.test(scope)) {
      throw new Error(`admin_api.auth.scopes.${action} must be one scope name (no spaces), got ${JSON.stringify(scope)}`);
    }
  }
  return Object.fromEntries(adminActions.map((a) => [a, configured[a] ?? a])) as Record<AdminAction, string>;
}

function checkPermissions(payload: JWTPayload, config: AdminAuthConfig, scope: string): void {
  if (config.required_roles?.length) {
    const roles = new Set(asList(claimAt(payload, config.role_claim ?? 'roles')));
    if (!config.required_roles.some((r) => roles.has(r))) {
      throw new AdminAuthError(403, `bearer token lacks a required role (one of: ${config.required_roles.join(', ')})`);
    }
  }
  const scopes = new Set([...asList(payload.scope), ...asList(payload.scp)]);
  if (!scopes.has(scope)) throw new AdminAuthError(403, `bearer token lacks the required scope: ${scope}`);
}

/** Middleware for one admin action; verified claims go to `res.locals.adminToken`. */
export type AdminGuard = (action: AdminAction) => RequestHandler;

/**
 * One verifier (one JWKS cache) for every admin route: `guard(action)` admits tokens allowed that action,
 * refusals answer OPA's envelope. Throws at once when the configuration is unusable.
 */
export function adminJwtAuth(config: AdminAuthConfig): AdminGuard {
  const verifier = createAdminTokenVerifier(config);
  return (action) => (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match) {
      refuse(res, new AdminAuthError(401, 'bearer token required'));
      return;
    }
    verifier.verify(match[1]!, action).then(
      (claims) => {
        res.locals.adminToken = claims;
        next();
      },
      (err: unknown) => refuse(res, err instanceof AdminAuthError ? err : new AdminAuthError(401, 'bearer token invalid')),
    );
  };
}

function refuse(res: Response, err: AdminAuthError): void {
  // RFC 6750 §3: tell the client which kind of failure, never the details.
  const error = err.status === 403 ? 'insufficient_scope' : 'invalid_token';
  res.status(err.status).set('WWW-Authenticate', `Bearer error="${error}"`).json({ code: 'unauthorized', message: err.message });
}
