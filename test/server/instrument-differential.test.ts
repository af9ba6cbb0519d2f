// ?instrument=true on the Data and Query APIs compared with `opa run --server` serving the same bundle: the
// metrics' names, request by request (their values are timings and counts of each evaluator's own work). Left
// out, as docs/server.md says, the figures Verdict has no counterpart for: OPA's compiler stages, its
// comprehension index cache, the base-data cache hits of its re-reads of documents reached through variables,
// and timer_rego_external_resolve_ns where it times base data read inside a rule or a query.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const policy = `package authz

default allow := false

allow if {
	input.user == "alice"
	data.roles.alice[_] == "admin"
}

names contains n if {
	some n, _ in data.roles
}

v := count(names)
`;

const servers = useOpaAndVerdict({
  files: {
    '.manifest': JSON.stringify({ roots: ['authz', 'roles'] }),
    'authz/policy.rego': policy,
    'data.json': JSON.stringify({ roles: { alice: ['admin'], bob: ['dev'] } }),
  },
});

const noCounterpart = /^(timer_(query_)?compile_stage_.*|counter_eval_op_base_cache_hit|counter_eval_op_comprehension_cache_.*|timer_rego_external_resolve_ns)$/;

async function names(base: string, method: string, path: string, body?: string): Promise<string[]> {
  const r = await send(base, method, path, body, body === undefined ? {} : { 'Content-Type': 'application/json' });
  assert.equal(r.status, 200, r.body.toString());
  const metrics = (JSON.parse(r.body.toString()) as { metrics?: Record<string, unknown> }).metrics;
  assert.ok(metrics, `${method} ${path}: metrics`);
  return Object.keys(metrics).filter((k) => !noCounterpart.test(k)).sort();
}

async function sameNames(method: string, path: string, body?: string): Promise<void> {
  // Asked twice, so that both servers answer from their prepared queries (counter_server_query_cache_hit).
  for (const base of [servers.opa.url, servers.verdict.url]) await names(base, method, path, body);
  const [theirs, ours] = await Promise.all([names(servers.opa.url, method, path, body), names(servers.verdict.url, method, path, body)]);
  assert.deepEqual(ours, theirs, `${method} ${path} ${body ?? ''}`);
}

const input = JSON.stringify({ input: { user: 'alice' } });

describe('?instrument=true: the metrics OPA reports', () => {
  it('a rule reading base data (GET)', () => sameNames('GET', `/v1/data/authz/allow?instrument&input=${encodeURIComponent(JSON.stringify({ user: 'alice' }))}`));
  it('a rule reading base data (POST)', () => sameNames('POST', '/v1/data/authz/allow?instrument', input));
  it('a package', () => sameNames('POST', '/v1/data/authz?instrument', input));
  it('base data alone', () => sameNames('POST', '/v1/data/roles?instrument', input));
  it('a path with no document', () => sameNames('POST', '/v1/data/nothing/here?instrument', input));
  it('a query reading base data twice', () => sameNames('POST', '/v1/query?instrument', JSON.stringify({ query: 'x := data.roles.alice; y := data.roles.bob' })));
  it('a query reading a rule', () => sameNames('GET', `/v1/query?instrument&q=${encodeURIComponent('x := data.authz.v')}`));
});
