// The worked example of the README and docs/pip.md, end to end: the documented config file (test/pip/fixtures/
// gateway-groups/pip.yaml, loaded as `verdict run` loads it, ${VAR}s from the environment) against a real slapd
// and JWKS endpoint, and the documented gateway policy decided by the reference OPA on the enriched input. The
// docs must show these very files: a test below fails when they drift apart. test/pip/run.test.ts serves the
// same example with `verdict run`.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config.js';
import { createEnricher, PipInputError, type Enricher } from '../../src/pip/index.js';
import { DIRECTORY_LDIF } from './fixtures/directory.js';
import { EXAMPLE_CONFIG as CONFIG_FILE, EXAMPLE_DIR, EXAMPLE_POLICY as POLICY_FILE, exampleEnvironment, startIdp, unsignedToken, type Idp } from './fixtures/example.js';
import { startSlapd, type RunningSlapd } from './fixtures/services.js';

/** The example's text as a pattern: ${VAR} placeholders stand for any value (docs show real-looking URLs). */
function documentedForm(text: string): RegExp {
  const escaped = text.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(escaped.replace(/\\\$\\\{[A-Z_]+\\\}/g, '[^"\\s]+'));
}

describe('the documented worked example is the tested one', () => {
  // docs/pip.md always; the README (and the snippet written for it) wherever they point at the fixture.
  const docs = ['docs/pip.md', 'README.md', 'docs-snippets/pip-audit.md'].filter(
    (file) => file === 'docs/pip.md' || (existsSync(file) && readFileSync(file, 'utf8').includes(EXAMPLE_DIR)),
  );
  for (const file of docs) {
    it(`${file} shows ${CONFIG_FILE} and ${POLICY_FILE} as they are`, () => {
      const text = readFileSync(file, 'utf8');
      assert.match(text, documentedForm(readFileSync(CONFIG_FILE, 'utf8')), `${file}: the pip config differs from ${CONFIG_FILE}`);
      assert.match(text, documentedForm(readFileSync(POLICY_FILE, 'utf8')), `${file}: the policy differs from ${POLICY_FILE}`);
    });
  }
});

describe('worked example: a gateway policy using directory groups', () => {
  let slapd: RunningSlapd;
  let idp: Idp;
  let enricher: Enricher;
  let opa: string;
  const work = mkdtempSync(join(tmpdir(), 'verdict-pip-example-'));

  /** Enrich as the server does, then let the reference OPA decide on the enriched input. */
  async function decide(request: Record<string, unknown>): Promise<{ allow: boolean; input: { pip: Record<string, unknown> } }> {
    const { input } = await enricher.enrichInput('gateway/allow', { request });
    writeFileSync(join(work, 'input.json'), JSON.stringify(input));
    const out = execFileSync(opa, ['eval', '--format', 'json', '-d', POLICY_FILE, '-i', join(work, 'input.json'), 'data.gateway.allow']);
    return { allow: JSON.parse(out.toString()).result[0].expressions[0].value as boolean, input: input as { pip: Record<string, unknown> } };
  }

  before(async () => {
    opa = execFileSync('bash', ['scripts/install-opa.sh']).toString().trim();
    slapd = await startSlapd(DIRECTORY_LDIF);
    idp = await startIdp();
    const config = parseConfig(readFileSync(CONFIG_FILE, 'utf8'), CONFIG_FILE, exampleEnvironment(idp, slapd));
    const pip = config.pip as { adapters: Record<string, { timeout?: string }> };
    // The default 500 ms suits a directory on a LAN; a heavily shared CI machine can be slower than that.
    for (const adapter of Object.values(pip.adapters)) adapter.timeout = '5s';
    enricher = createEnricher(pip);
  });

  after(async () => {
    await enricher?.close();
    await idp?.service.close();
    await slapd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('lets staff read, but not delete', async () => {
    const headers = { authorization: `Bearer ${await idp.tokenFor('bob')}` };
    const read = await decide({ method: 'GET', path: '/reports/q3', headers });
    assert.equal(read.allow, true);
    assert.deepEqual(read.input.pip.groups, ['staff']);
    assert.equal((read.input.pip.token as { claims: { sub: string } }).claims.sub, 'bob');
    assert.equal((await decide({ method: 'DELETE', path: '/reports/q3', headers })).allow, false);
  });

  it('lets admins do anything, and people in neither group nothing', async () => {
    assert.equal((await decide({ method: 'DELETE', path: '/reports/q3', headers: { authorization: `Bearer ${await idp.tokenFor('alice')}` } })).allow, true);
    const carol = await decide({ method: 'GET', path: '/reports/q3', headers: { authorization: `Bearer ${await idp.tokenFor('carol')}` } });
    assert.deepEqual([carol.allow, carol.input.pip.groups], [false, ['ops']]);
  });

  it('denies without a valid token, whatever the token claims', async () => {
    const forged = await decide({ method: 'GET', path: '/reports/q3', headers: { authorization: `Bearer ${unsignedToken('alice')}` } });
    assert.equal(forged.allow, false);
    assert.equal((forged.input.pip.token as { valid: boolean }).valid, false);
    assert.equal(forged.input.pip.groups, undefined, 'no verified subject, so no group lookup');
    assert.equal((await decide({ method: 'GET', path: '/reports/q3', headers: {} })).allow, false);
  });

  it('does not let a caller smuggle its own groups in input.pip', async () => {
    await assert.rejects(enricher.enrichInput('gateway/allow', { request: {}, pip: { groups: ['admins'], token: { valid: true } } }), PipInputError);
  });
});
