// Differential test: `verdict eval` (our compiler + wasm back end, no OPA) against the reference
// `opa eval --format json` on the example policies in rego/, byte for byte on the parsed JSON, locations included.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { evaluateQuery } from '../../src/cli/eval.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const inputsDir = 'test/cli/inputs';

const queries: Record<string, string[]> = {
  gateway: [
    'data.gateway.authz.allow',
    'data.gateway.authz.deny',
    'reason := data.gateway.authz.deny[_]',
    'count(data.gateway.authz.deny) > 0',
    'data.gateway.authz.allow == true; x := input.token.claims.sub',
  ],
  envoy: ['data.envoy.authz.allow', 'data.envoy.authz.allow.allowed', 'h := data.envoy.authz.decision.headers[k]'],
  kong: ['data.kong.authz.decision', 'data.kong.authz.decision.allow == false', 'data.kong.authz'],
  apisix: ['data.apisix.authz.decision', 'x := data.apisix.authz.token; n := count(x)', 'data.apisix.authz.decision.status_code'],
};

function opaEval(query: string, input: string, dataPaths: string[]): unknown {
  const args = ['eval', '--format', 'json', ...dataPaths.flatMap((d) => ['-d', d]), '-i', input, query];
  const out = spawnSync(opa, args, { encoding: 'utf8' });
  return JSON.parse(out.stdout);
}

describe('verdict eval matches opa eval on rego/', () => {
  for (const [policy, qs] of Object.entries(queries)) {
    const inputs = readdirSync(inputsDir).filter((f) => f.startsWith(`${policy}-`));
    for (const file of inputs) {
      for (const query of qs) {
        it(`${policy}: ${query} with ${file}`, async () => {
          const input = `${inputsDir}/${file}`;
          const ours = await evaluateQuery({ dataPaths: ['rego'], inputFile: input, query });
          assert.deepEqual(JSON.parse(JSON.stringify(ours)), opaEval(query, input, ['rego']));
        });
      }
    }
  }
});

describe('verdict eval of the whole data document', () => {
  // The query is compiled as a rule of its own, which must not be part of the data it reads (OPA's query is no rule).
  const input = `${inputsDir}/gateway-allowed.json`;
  for (const query of ['data', 'data = x', 'k := {k | data[k]}', 'data.gateway']) {
    it(`${query} matches opa eval`, async () => {
      const ours = await evaluateQuery({ dataPaths: ['rego'], inputFile: input, query });
      assert.deepEqual(JSON.parse(JSON.stringify(ours)), opaEval(query, input, ['rego']));
    });
  }

  it('data = x inside a package (--package) matches opa eval', async () => {
    const ours = await evaluateQuery({ dataPaths: ['rego'], inputFile: input, query: 'data = x', context: { package: 'gateway.authz' } });
    const out = spawnSync(opa, ['eval', '--format', 'json', '-d', 'rego', '-i', input, '--package', 'gateway.authz', 'data = x'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(JSON.stringify(ours)), JSON.parse(out.stdout));
  });
});

describe('verdict eval errors', () => {
  it('reports an undefined function as opa eval does', async () => {
    const ours = await evaluateQuery({ dataPaths: [], query: 'nosuch(1)' });
    const theirs = opaEval('nosuch(1)', `${inputsDir}/kong-read.json`, []) as { errors: Array<{ code: string; message: string }> };
    assert.equal(ours.errors?.[0]?.code, theirs.errors[0]!.code);
    assert.equal(ours.errors?.[0]?.message, theirs.errors[0]!.message);
  });

  it('reports a query cut short as opa eval does', async () => {
    for (const query of ['1 +', 'x := [1,']) {
      const ours = await evaluateQuery({ dataPaths: [], query });
      assert.deepEqual(JSON.parse(JSON.stringify(ours)), opaEval(query, `${inputsDir}/kong-read.json`, []));
    }
  });

  it('reports a parse error in a policy with its file and row', async () => {
    const ours = await evaluateQuery({ dataPaths: ['test/cli/broken'], query: 'data.broken' });
    const theirs = opaEval('data.broken', `${inputsDir}/kong-read.json`, ['test/cli/broken']) as { errors: Array<{ code: string; location: { file: string; row: number } }> };
    assert.equal(ours.errors?.[0]?.code, 'rego_parse_error');
    assert.equal(ours.errors?.[0]?.code, theirs.errors[0]!.code);
    assert.deepEqual(
      { file: ours.errors?.[0]?.location?.file, row: ours.errors?.[0]?.location?.row },
      { file: theirs.errors[0]!.location.file, row: theirs.errors[0]!.location.row },
    );
  });

  it('the CLI exits 2 on compile errors and 0 on success, printing JSON', () => {
    const bad = spawnSync(process.execPath, ['dist/src/main.js', 'eval', 'nosuch(1)'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(JSON.parse(bad.stdout).errors[0].code, 'rego_type_error');
    const good = spawnSync(process.execPath, ['dist/src/main.js', 'eval', '-d', 'rego', 'data.kong.authz.reading'], { encoding: 'utf8' });
    assert.equal(good.status, 0);
    assert.deepEqual(JSON.parse(good.stdout), {});
  });
});

describe('expressions side by side on one line are separate expressions, as in opa eval', () => {
  const input = `${inputsDir}/gateway-allowed.json`;
  const cases = [
    '1 1',
    '1 2 3',
    'x := 1 y := x + 1',
    'true false',
    'x := 1 x',
    'some x in [1, 2] x > 1',
    '1 1; 2',
    'not 1 2',
    '  # comment\n  1 2',
    'data.gateway.authz.allow x := input.token.claims.sub',
    // Bodies inside the query still need a newline or `;`: these are parse errors in both.
    '[x | x := 1 x > 0]',
    'every x in [1] { x x }',
  ];
  for (const query of cases) {
    it(JSON.stringify(query), async () => {
      const ours = await evaluateQuery({ dataPaths: ['rego'], inputFile: input, query });
      assert.deepEqual(JSON.parse(JSON.stringify(ours)), opaEval(query, input, ['rego']));
    });
  }
});
