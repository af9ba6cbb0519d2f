// The root document as `opa run --server` answers it: base data and rule values merged with every object's keys
// sorted, and `system` (its base data and the rules below it) left out, while paths below the root answer
// `system`'s parts as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const servers = useOpaAndVerdict({
  files: {
    '.manifest': JSON.stringify({ revision: 'root-1' }),
    'zeta/data.json': JSON.stringify({ x: 1, b: { z: 2, a: 1 } }),
    'system/data.json': JSON.stringify({ setting: 'kept below the root' }),
    'alpha/policy.rego': 'package alpha\n\np := 1\n',
    'zeta/b/policy.rego': 'package zeta.b\n\nm := {"y": 2, "c": 3}\n',
    'middle/policy.rego': 'package middle.inner\n\nq := true\n',
    'system/extra/policy.rego': 'package system.extra\n\nr := "only below system"\n',
  },
});

const withoutDecisionId = (text: string) => text.replace(/"decision_id":"[^"]*",?/, '');

for (const [method, path, body] of [
  ['GET', '/v1/data', undefined],
  ['POST', '/v1/data', '{"input":{}}'],
  ['GET', '/v1/data/zeta', undefined],
  ['GET', '/v1/data/system/extra', undefined],
  ['GET', '/v1/data/system/setting', undefined],
] as const) {
  test(`${method} ${path} answers as OPA does`, async () => {
    const [theirs, ours] = await Promise.all([send(servers.opa.url, method, path, body), send(servers.verdict.url, method, path, body)]);
    assert.equal(theirs.status, 200);
    assert.equal(ours.status, 200, ours.body.toString());
    assert.equal(withoutDecisionId(ours.body.toString()), withoutDecisionId(theirs.body.toString()));
  });
}
