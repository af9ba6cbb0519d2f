// A bundle built with `opa build -t wasm -e x/allow` ships the entrypoint rule only inside policy.wasm (the
// Rego it ships has the other rules). Served by OPA built with its WebAssembly engine
// (scripts/install-opa-wasm.sh; the reference build has none and refuses such bundles) and by Verdict, the
// Query API and the Data API must answer alike: the entrypoint through the wasm module, the other rules from
// the shipped Rego, base data as data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { send, startOpa, startVerdict, writeTree, type OpaServer } from './harness.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import type { RunningServer } from '../../src/server/start.js';

const policy = `package x

allow if input.user == "alice"

other := 7

both := [allow, other]
`;

let opa: OpaServer;
let verdict: RunningServer;

before(async () => {
  const opaWasm = execFileSync('scripts/install-opa-wasm.sh', { encoding: 'utf8' }).trim().split('\n').pop()!;
  const dir = writeTree({ 'src/x.rego': policy, 'src/data.json': '{"base":{"k":1}}', 'config.yaml': '{}\n' });
  const bundle = join(dir, 'bundle.tar.gz');
  execFileSync(referenceOpa(), ['build', '-t', 'wasm', '-e', 'x/allow', '-o', bundle, join(dir, 'src')]);
  [opa, verdict] = await Promise.all([startOpa(join(dir, 'config.yaml'), [bundle], undefined, opaWasm), startVerdict('{}', [bundle])]);
});

after(async () => {
  await Promise.all([opa?.stop(), verdict?.close()]);
});

const withoutDecisionId = (text: string) => text.replace(/"decision_id":"[^"]*",?/, '');

const cases: { name: string; method: string; path: string; body?: string }[] = [
  { name: 'the wasm-only rule, true for this input', method: 'POST', path: '/v1/query', body: '{"query":"x := data.x.allow","input":{"user":"alice"}}' },
  { name: 'the wasm-only rule as a bare query', method: 'POST', path: '/v1/query', body: '{"query":"data.x.allow","input":{"user":"alice"}}' },
  { name: 'the wasm-only rule, undefined for this input', method: 'POST', path: '/v1/query', body: '{"query":"x := data.x.allow","input":{"user":"bob"}}' },
  { name: 'the wasm-only rule without input (GET)', method: 'GET', path: `/v1/query?q=${encodeURIComponent('data.x.allow')}` },
  { name: 'the wasm-only rule compared in the query', method: 'POST', path: '/v1/query', body: '{"query":"data.x.allow == true; y := 1","input":{"user":"alice"}}' },
  { name: 'a rule built into the wasm beside the entrypoint', method: 'POST', path: '/v1/query', body: '{"query":"x := data.x.both","input":{"user":"alice"}}' },
  { name: 'the whole package', method: 'POST', path: '/v1/query', body: '{"query":"x := data.x","input":{"user":"alice"}}' },
  { name: 'a rule of the shipped Rego', method: 'POST', path: '/v1/query', body: '{"query":"x := data.x.other"}' },
  { name: 'base data', method: 'POST', path: '/v1/query', body: '{"query":"x := data.base"}' },
  { name: 'Data API: the entrypoint', method: 'POST', path: '/v1/data/x/allow', body: '{"input":{"user":"alice"}}' },
  { name: 'Data API: a rule of the shipped Rego', method: 'POST', path: '/v1/data/x/other', body: '{"input":{"user":"alice"}}' },
  { name: 'Data API: the rule built beside it', method: 'POST', path: '/v1/data/x/both', body: '{"input":{"user":"alice"}}' },
  { name: 'Data API: the package', method: 'POST', path: '/v1/data/x', body: '{"input":{"user":"alice"}}' },
];

for (const c of cases) {
  test(`wasm bundle, as OPA answers: ${c.name}`, async () => {
    const [theirs, ours] = await Promise.all([send(opa.url, c.method, c.path, c.body), send(verdict.url, c.method, c.path, c.body)]);
    assert.equal(ours.status, theirs.status, theirs.body.toString());
    assert.equal(withoutDecisionId(ours.body.toString()), withoutDecisionId(theirs.body.toString()));
  });
}
