// The official OPA TypeScript client (@open-policy-agent/opa) works against Verdict unchanged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPAClient } from '@open-policy-agent/opa';
import { OpaApiClient } from '@open-policy-agent/opa/sdk/index.js';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { startVerdict } from './harness.js';
import type { RunningServer } from '../../src/server/start.js';

const input = JSON.parse(readFileSync('rego/gateway/input.json', 'utf8')).input;
let verdict: RunningServer;

before(async () => {
  const bundle = buildWasmBundle('bundles/sample', ['gateway/authz/allow', 'gateway/authz/deny']);
  verdict = await startVerdict('default_decision: /gateway/authz/allow\n', [bundle]);
});

after(() => verdict?.close());

test('evaluate a rule with input', async () => {
  const opa = new OPAClient(verdict.url);
  assert.equal(await opa.evaluate('gateway/authz/allow', input), true);
  const denied = { ...input, request: { ...input.request, method: 'DELETE' } };
  assert.equal(await opa.evaluate('gateway/authz/allow', denied), false);
  assert.deepEqual(await opa.evaluate('gateway/authz/deny', denied), ['no role of carol@example.com grants DELETE /v1/projects/verdict/builds']);
});

test('evaluate the default decision', async () => {
  const opa = new OPAClient(verdict.url);
  assert.equal(await opa.evaluateDefault(input), true);
});

test('an undefined decision comes back as undefined, as from OPA', async () => {
  const opa = new OPAClient(verdict.url);
  assert.equal(await opa.evaluate('gateway/authz/nothing', input), undefined);
});

test('health', async () => {
  const client = new OpaApiClient({ serverURL: verdict.url });
  const res = await client.health(true, true);
  assert.deepEqual(res.healthyServer, {});
});
