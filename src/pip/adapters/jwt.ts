// `jwt` adapter: verifies a bearer token taken from the input (param `token`, e.g. the Authorization header)
// against a JWKS URL (cached; refetched when a token names an unknown kid, at most once per cooldown) or static
// keys. A token that fails verification is a fact about the request, not a PIP failure: the result is
// {valid: false, error} and on_error does not apply. Only an unreachable or broken JWKS endpoint is an error.

import { createPublicKey } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTVerifyGetKey } from 'jose';
import { openedOnFirstLookup, type JsonValue, type LookupParams, type PipAdapter, type PipAdapterKind } from '../adapter.js';
import { durationMs } from '../config.js';
import { PipConfigError, PipLookupError } from '../errors.js';

interface JwtSettings {
  jwks_url?: string;
  keys?: (JWK | string)[];
  issuer?: string | string[];
  audience?: string | string[];
  algorithms: string[];
  clock_tolerance?: number | string;
  jwks_cooldown?: number | string;
  jwks_max_age?: number | string;
}

/** jose error codes that mean "this token is not acceptable" rather than "the key source failed". */
const TOKEN_REJECTIONS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWT_INVALID',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

export class JwtAdapter implements PipAdapter {
  readonly requiredParams = ['token'] as const;
  private readonly keys: JWTVerifyGetKey;
  private readonly options: { issuer?: string | string[]; audience?: string | string[]; algorithms: string[]; clockTolerance: number };

  constructor(name: string, settings: JwtSettings, timeoutMs: number) {
    const where = `pip.adapters.${name}.settings`;
    if (settings.jwks_url) {
      let url: URL;
      try {
        url = new URL(settings.jwks_url);
      } catch {
        throw new PipConfigError(`${where}.jwks_url: "${settings.jwks_url}" is not a URL`);
      }
      this.keys = createRemoteJWKSet(url, {
        cooldownDuration: durationMs(settings.jwks_cooldown, 30_000),
        cacheMaxAge: durationMs(settings.jwks_max_age, 600_000),
        timeoutDuration: timeoutMs,
      });
    } else {
      this.keys = staticKeySet((settings.keys ?? []).map((k, i) => staticKey(k, `${where}.keys[${i}]`)));
    }
    this.options = {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: settings.algorithms,
      clockTolerance: durationMs(settings.clock_tolerance, 0) / 1000,
    };
  }

  async lookup(params: LookupParams): Promise<JsonValue> {
    const raw = params.token;
    if (typeof raw !== 'string') return { valid: false, error: 'token is not a string' };
    const token = raw.replace(/^Bearer\s+/i, '').trim();
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.keys, this.options);
      return { valid: true, claims: payload as JsonValue, header: protectedHeader as JsonValue };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && TOKEN_REJECTIONS.has(code)) return { valid: false, error: (err as Error).message };
      throw new PipLookupError('unavailable', `verification keys unavailable: ${describe(err)}`);
    }
  }

  /** A verified token is cached no longer than it stays valid; a rejected one not at all (nbf may pass). */
  maxCacheAge(value: JsonValue): number | undefined {
    const result = value as { valid?: boolean; claims?: { exp?: unknown } };
    if (result.valid !== true) return 0;
    return typeof result.claims?.exp === 'number' ? result.claims.exp * 1000 - Date.now() : undefined;
  }
}

/** Keys with a kid serve tokens naming that kid; keys without one (typically PEM) serve any token. */
function staticKeySet(keys: JWK[]): JWTVerifyGetKey {
  const named = createLocalJWKSet({ keys: keys.filter((k) => k.kid !== undefined) });
  const unnamed = createLocalJWKSet({ keys: keys.filter((k) => k.kid === undefined) });
  const kids = new Set(keys.map((k) => k.kid));
  return (header, token) => (header.kid !== undefined && kids.has(header.kid) ? named(header, token) : unnamed({ ...header, kid: undefined }, token));
}

/** Static keys: JWK objects as they are, PEM public keys or certificates converted to JWK. Secrets are refused. */
function staticKey(key: JWK | string, where: string): JWK {
  if (typeof key !== 'string') {
    if (key.kty === 'oct' || key.d !== undefined) throw new PipConfigError(`${where}: only public keys are accepted`);
    return key;
  }
  try {
    const publicKey = createPublicKey(key);
    return publicKey.export({ format: 'jwk' }) as JWK;
  } catch (err) {
    throw new PipConfigError(`${where}: not a PEM public key or certificate (${(err as Error).message})`);
  }
}

function describe(err: unknown): string {
  if (err instanceof errors.JWKSTimeout) return 'JWKS request timed out';
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).message;
}

/** Building the adapter opens nothing: the JWKS is fetched when the first token is verified. */
export const jwtAdapter: PipAdapterKind = {
  prepare: (name, settings, context) => openedOnFirstLookup(new JwtAdapter(name, settings as unknown as JwtSettings, context.timeoutMs)),
};
