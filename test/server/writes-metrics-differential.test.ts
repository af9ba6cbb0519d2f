// ?metrics on the Policy API's PUT and DELETE and on the Data API's writes, compared with `opa run --server`:
// the status, and the metrics' names (their values are timings). OPA's timer_rego_module_parse_ns has no
// counterpart (Verdict parses a module as part of recompiling the policy set, timer_rego_module_compile_ns).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['owned'] }), 'owned/policy.rego': 'package owned\n\nx := 1\n' } });

interface Shape {
  status: number;
  body: unknown;
}

function shape(status: number, text: string): Shape {
  if (text === '') return { status, body: undefined };
  const body = JSON.parse(text) as { metrics?: Record<string, unknown> };
  if (!body.metrics) return { status, body };
  return { status, body: { ...body, metrics: Object.keys(body.metrics).filter((k) => k !== 'timer_rego_module_parse_ns').sort() } };
}

/** Sends the same request to both (OPA first, as the writes build on each other) and compares. */
async function same(method: string, path: string, body?: string): Promise<Shape> {
  const theirs = await send(servers.opa.url, method, path, body);
  const ours = await send(servers.verdict.url, method, path, body);
  const [t, o] = [shape(theirs.status, theirs.body.toString()), shape(ours.status, ours.body.toString())];
  assert.deepEqual(o, t, `${method} ${path}`);
  return t;
}

describe('?metrics on writes', () => {
  it('Policy API: a new module, the same again, a changed one, its deletion', async () => {
    await same('PUT', '/v1/policies/a?metrics', 'package api\n\np := 1\n');
    // Sent again unchanged: nothing to compile.
    await same('PUT', '/v1/policies/a?metrics', 'package api\n\np := 1\n');
    await same('PUT', '/v1/policies/a?metrics&pretty', 'package api\n\np := 2\n');
    await same('PUT', '/v1/policies/a', 'package api\n\np := 3\n');
    await same('DELETE', '/v1/policies/a?metrics');
    await same('DELETE', '/v1/policies/a?metrics');
  });

  it('Data API: PUT, PATCH and DELETE', async () => {
    const put = await same('PUT', '/v1/data/w?metrics', '{"a": 1}');
    assert.equal(put.status, 200);
    await same('PATCH', '/v1/data/w?metrics', '[{"op": "add", "path": "/b", "value": 2}]');
    await same('GET', '/v1/data/w');
    await same('DELETE', '/v1/data/w?metrics');
    await same('PUT', '/v1/data/w', '{"a": 1}');
    await same('DELETE', '/v1/data/w?metrics=false');
  });
});
