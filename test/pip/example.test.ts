// The worked example of docs/pip.md end to end: the documented pip config against a real slapd and JWKS
// endpoint, and the documented gateway policy evaluated on the enriched input by the reference OPA.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { parse as parseYaml } from 'yaml';
import { createEnricher, PipInputError, type Enricher } from '../../src/pip/index.js';
import { DIRECTORY_LDIF, READER_PASSWORD } from './fixtures/directory.js';
import { sendJson, startFixtureService, type FixtureService } from './fixtures/http-service.js';
import { startSlapd, type RunningSlapd } from './fixtures/services.js';

const EXAMPLE = 'test/pip/fixtures/gateway-groups';

describe('worked example: a gateway policy using directory groups', () => {
  let slapd: RunningSlapd;
  let idp: FixtureService;
  let signingKey: CryptoKey;
  let enricher: Enricher;
  let opa: string;
  const work = mkdtempSync(join(tmpdir(), 'verdict-pip-example-'));

  const tokenFor = (sub: string) =>
    new SignJWT({ sub })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer('https://idp.example.org')
      .setAudience('gateway')
      .setExpirationTime('5m')
      .sign(signingKey);

  /** Enrich as the server will, then let the reference OPA decide on the enriched input. */
  async function decide(request: Record<string, unknown>): Promise<{ allow: boolean; reason?: string; input: unknown }> {
    const { input } = await enricher.enrichInput('gateway/allow', { request });
    writeFileSync(join(work, 'input.json'), JSON.stringify(input));
    const out = execFileSync(opa, ['eval', '--format', 'json', '-d', join(EXAMPLE, 'policy.rego'), '-i', join(work, 'input.json'), 'data.gateway']);
    const value = JSON.parse(out.toString()).result[0].expressions[0].value as { allow: boolean; reason?: string };
    return { ...value, input };
  }

  before(async () => {
    opa = execFileSync('bash', ['scripts/install-opa.sh']).toString().trim();
    slapd = await startSlapd(DIRECTORY_LDIF);
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    signingKey = privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256' };
    idp = await startFixtureService();
    idp.route('GET', '/jwks', (_req, res) => sendJson(res, 200, { keys: [jwk] }));
    const text = readFileSync(join(EXAMPLE, 'pip.yaml'), 'utf8')
      .replace('${JWKS_URL}', `${idp.url}/jwks`)
      .replace('${LDAP_URL}', slapd.url)
      .replace('${LDAP_PASSWORD}', READER_PASSWORD);
    const config = parseYaml(text) as { pip: { adapters: Record<string, { timeout?: string }> } };
    // The documented 200 ms suits a directory on a LAN; a heavily shared CI machine can be slower than that.
    for (const adapter of Object.values(config.pip.adapters)) adapter.timeout = '5s';
    enricher = createEnricher(config.pip);
  });

  after(async () => {
    await enricher?.close();
    await idp?.close();
    await slapd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('lets staff read reports, but not delete them', async () => {
    const auth = { authorization: `Bearer ${await tokenFor('bob')}` };
    const read = await decide({ method: 'GET', path: '/reports/q3', headers: auth });
    assert.equal(read.allow, true);
    assert.deepEqual((read.input as { pip: { groups: string[] } }).pip.groups, ['staff']);
    const del = await decide({ method: 'DELETE', path: '/reports/q3', headers: auth });
    assert.deepEqual([del.allow, del.reason], [false, 'not in a group that may do this']);
  });

  it('lets admins do anything', async () => {
    const auth = { authorization: `Bearer ${await tokenFor('alice')}` };
    assert.equal((await decide({ method: 'DELETE', path: '/reports/q3', headers: auth })).allow, true);
  });

  it('denies without a valid token, whatever the request claims', async () => {
    const forged = await decide({ method: 'GET', path: '/reports/q3', headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.' } });
    assert.deepEqual([forged.allow, forged.reason], [false, 'no valid bearer token']);
    assert.equal((forged.input as { pip: Record<string, unknown> }).pip.groups, undefined, 'no subject, so no group lookup');
    const none = await decide({ method: 'GET', path: '/reports/q3', headers: {} });
    assert.equal(none.allow, false);
  });

  it('does not let a caller smuggle its own groups in input.pip', async () => {
    await assert.rejects(enricher.enrichInput('gateway/allow', { request: {}, pip: { groups: ['admins'], token: { valid: true } } }), PipInputError);
  });
});
