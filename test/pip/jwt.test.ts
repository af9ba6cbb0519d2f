import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createEnricher, PipDenyError, type Enricher } from '../../src/pip/index.js';
import { closedPortUrl, sendJson, startFixtureService, type FixtureService } from './fixtures/http-service.js';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'verdict';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
  pem: string;
}

async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, pem: await exportSPKI(publicKey) };
}

function token(key: SigningKey, claims: Record<string, unknown> = {}, opts: { exp?: string | number; nbf?: string | number; aud?: string; alg?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'alice', groups: ['staff'], ...claims })
    .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(now)
    .setNotBefore(opts.nbf ?? now - 5)
    .setExpirationTime(opts.exp ?? now + 600)
    .sign(key.privateKey);
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('jwt adapter against a loopback JWKS endpoint', () => {
  let svc: FixtureService;
  let current: SigningKey;
  let rotated: SigningKey;
  let published: JWK[] = [];
  let jwksFetches = 0;
  let e: Enricher;
  const enrichers: Enricher[] = [];

  const verify = async (enricher: Enricher, authorization: string) => {
    const { input } = await enricher.enrichInput('gateway/allow', { headers: { authorization } });
    return (input as { pip: { token: { valid: boolean; error?: string; claims?: Record<string, unknown> } } }).pip.token;
  };
  const jwtEnricher = (settings: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const made = createEnricher({
      adapters: { token: { type: 'jwt', timeout: '5s', settings: { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'], ...settings }, ...extra } },
      enrich: [{ paths: ['gateway'], adapter: 'token', inputs: { token: 'input.headers.authorization' } }],
    });
    enrichers.push(made);
    return made;
  };

  before(async () => {
    current = await signingKey('k1');
    rotated = await signingKey('k2');
    published = [current.jwk];
    svc = await startFixtureService();
    svc.route('GET', '/jwks', (_req, res) => {
      jwksFetches++;
      sendJson(res, 200, { keys: published });
    });
    e = jwtEnricher({ jwks_url: `${svc.url}/jwks`, jwks_cooldown: 0 });
  });

  after(async () => {
    await Promise.all(enrichers.map((x) => x.close()));
    await svc.close();
  });

  it('verifies a bearer token from the Authorization header and exposes its claims', async () => {
    const result = await verify(e, `Bearer ${await token(current)}`);
    assert.equal(result.valid, true);
    assert.equal(result.claims?.sub, 'alice');
    assert.deepEqual(result.claims?.groups, ['staff']);
  });

  it('picks up a rotated key (new kid) by refetching the JWKS', async () => {
    const before = jwksFetches;
    published = [current.jwk, rotated.jwk];
    const result = await verify(e, `Bearer ${await token(rotated, { sub: 'bob' })}`);
    assert.equal(result.valid, true);
    assert.equal(result.claims?.sub, 'bob');
    assert.equal(jwksFetches, before + 1);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const rejected: [string, () => Promise<string>, RegExp][] = [
    ['an expired token', () => token(current, {}, { exp: now() - 60 }), /"exp" claim timestamp check failed/],
    ['a not-yet-valid token', () => token(current, {}, { nbf: now() + 600 }), /"nbf" claim timestamp check failed/],
    ['a token for another audience', () => token(current, {}, { aud: 'someone-else' }), /unexpected "aud" claim value/],
    ['a token from another issuer', () => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('https://evil.test').setAudience(AUDIENCE).setExpirationTime('5m').sign(current.privateKey), /unexpected "iss" claim value/],
    ['an unsigned token (alg: none)', async () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.`, /"alg" .*not allowed|Unsecured/i],
    [
      'an HS256 token keyed with the public key',
      async () => {
        const signingInput = `${b64url({ alg: 'HS256', kid: 'k1' })}.${b64url({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}`;
        return `${signingInput}.${createHmac('sha256', current.pem).update(signingInput).digest('base64url')}`;
      },
      /"alg" \(Algorithm\) Header Parameter value not allowed/,
    ],
    ['a token with a tampered payload', async () => {
      const [h, , s] = (await token(current)).split('.');
      return `${h}.${b64url({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.${s}`;
    }, /signature verification failed/],
    ['a token signed by an unknown key', async () => token(await signingKey('k-unknown')), /no applicable key found/],
    ['garbage', async () => 'not.a.jwt', /Invalid|JWS/],
  ];
  for (const [what, make, reason] of rejected) {
    it(`rejects ${what} as {valid: false, error} without failing the decision`, async () => {
      const result = await verify(e, `Bearer ${await make()}`);
      assert.equal(result.valid, false);
      assert.match(result.error ?? '', reason);
    });
  }

  it('verifies with static keys given as PEM, and refuses an algorithm not in the allow-list', async () => {
    const es = await signingKey('e1', 'ES256');
    const staticKeys = jwtEnricher({ keys: [current.pem, es.jwk], algorithms: ['RS256'] });
    assert.equal((await verify(staticKeys, `Bearer ${await token(current)}`)).valid, true);
    const esResult = await verify(staticKeys, await token(es, {}, { alg: 'ES256' }));
    assert.equal(esResult.valid, false);
    assert.match(esResult.error ?? '', /not allowed/);
  });

  it('refuses symmetric or private static keys, and HS* or none as allowed algorithms, at start-up', () => {
    assert.throws(() => jwtEnricher({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }), /only public keys are accepted/);
    assert.throws(() => jwtEnricher({ keys: [{ ...current.jwk, d: 'a-private-exponent' }] }), /only public keys are accepted/);
    for (const alg of ['HS256', 'none']) {
      assert.throws(() => jwtEnricher({ keys: [current.pem], algorithms: [alg] }), /pip\.adapters\.token\.settings\.algorithms\.0 must be equal to one of the allowed values/, alg);
    }
  });

  it('treats an unreachable JWKS endpoint as a PIP failure that follows on_error', async () => {
    const down = jwtEnricher({ jwks_url: `${await closedPortUrl()}/jwks` });
    const err = await down.enrichInput('gateway/allow', { headers: { authorization: `Bearer ${await token(current)}` } }).catch((x: unknown) => x);
    assert.ok(err instanceof PipDenyError);
    assert.match(err.reason, /^unavailable: verification keys unavailable: ECONNREFUSED$/);
  });

  it('caches a verified token but never beyond its expiry', async () => {
    const cached = jwtEnricher({ jwks_url: `${svc.url}/jwks` }, { cache: { ttl: '1h' } });
    const exp = now() + 2;
    const short = await token(current, {}, { exp });
    assert.equal((await verify(cached, short)).valid, true);
    assert.equal((await cached.enrichInput('gateway/allow', { headers: { authorization: short } })).report.adapters[0].cache, 'hit');
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const later = await cached.enrichInput('gateway/allow', { headers: { authorization: short } });
    assert.equal(later.report.adapters[0].cache, 'miss');
    assert.equal((later.input as { pip: { token: { valid: boolean } } }).pip.token.valid, false);
  });
});
