// POST /v1/compile against the reference `opa run --server` on the same bundle (residual queries and support
// modules equivalent after normalisation, error envelopes equal), and the data-filter route
// POST /v1/compile/{path} with its SQL and UCAST targets, also through the official client's getFilters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OPAClient } from '@open-policy-agent/opa';
import { send, useOpaAndVerdict } from './harness.js';
import { normaliseQueries, normaliseSupport, sortedJson } from '../compiler/partial/normalise.js';

const policy = `# METADATA
# scope: package
# custom:
#   unknowns:
#     - input.tickets
package filters

default allow := false

allow if "admin" in data.roles[input.user]

allow if {
  "reader" in data.roles[input.user]
  input.tickets.assignee == input.user
}

allow if {
  "resolver" in data.roles[input.user]
  input.tickets.assignee == null
  input.tickets.resolved == false
}

fuzzy if input.tickets.title

counted if count(input.tickets.tags) > 1
`;

const roles = { alice: ['admin'], bob: ['reader'], caesar: ['resolver'] };

const servers = useOpaAndVerdict({
  files: { '.manifest': JSON.stringify({ roots: ['filters', 'roles'] }), 'filters/policy.rego': policy, 'roles/data.json': JSON.stringify(roles) },
  verdictConfig: 'decision_logs:\n  store:\n    enabled: false\n',
});

type Json = Record<string, unknown>;

describe('POST /v1/compile matches opa run', () => {
  const bodies = [
    { query: 'data.filters.allow == true', input: { user: 'bob' }, unknowns: ['input.tickets'] },
    { query: 'data.filters.allow == true', input: { user: 'caesar' }, unknowns: ['input.tickets'] },
    { query: 'data.filters.allow == true', input: { user: 'alice' }, unknowns: ['input.tickets'] },
    { query: 'data.filters.allow == true', input: { user: 'nobody' }, unknowns: ['input.tickets'] },
    { query: 'data.filters.allow', input: { user: 'bob' }, unknowns: ['input.tickets'] },
    { query: 'data.filters.allow == true', input: { user: 'bob' }, unknowns: ['input.tickets'], options: { disableInlining: ['data.filters.allow'] } },
    { query: 'data.filters.allow == true', input: { user: 'bob', tickets: { assignee: 'bob' } }, unknowns: [] },
  ];
  for (const body of bodies) {
    it(JSON.stringify(body), async () => {
      const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', '/v1/compile', JSON.stringify(body)), send(servers.verdict.url, 'POST', '/v1/compile', JSON.stringify(body))]);
      assert.equal(ours.status, theirs.status);
      const t = (JSON.parse(theirs.body.toString()) as { result: Json }).result;
      const o = (JSON.parse(ours.body.toString()) as { result: Json }).result;
      assert.deepEqual(Object.keys(o).sort(), Object.keys(t).sort());
      assert.deepEqual(normaliseQueries((o.queries ?? []) as Json[][]), normaliseQueries((t.queries ?? []) as Json[][]));
      assert.deepEqual(normaliseSupport((o.support ?? []) as Json[]), normaliseSupport((t.support ?? []) as Json[]));
    });
  }

  it('an expression written twice is kept twice, as OPA keeps it', async () => {
    const body = JSON.stringify({ query: '"alice" = input.user; "alice" = input.user', unknowns: ['input'] });
    const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', '/v1/compile', body), send(servers.verdict.url, 'POST', '/v1/compile', body)]);
    assert.equal(sortedJson(JSON.parse(ours.body.toString())), sortedJson(JSON.parse(theirs.body.toString())));
  });

  const errors: [string, string][] = [
    ['missing query', JSON.stringify({ unknowns: ['input'] })],
    ['query that does not parse', JSON.stringify({ query: 'data.filters.allow = ' })],
    ['query shaped like a rule, with two errors', JSON.stringify({ query: 'x := [1' })],
    ['query that is a rule', JSON.stringify({ query: 'p if { true }' })],
    ['unsafe variable', JSON.stringify({ query: 'x', unknowns: ['input.tickets'] })],
    ['undefined function', JSON.stringify({ query: 'nope(1)' })],
  ];
  for (const [name, body] of errors) {
    it(`error: ${name}`, async () => {
      const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', '/v1/compile', body), send(servers.verdict.url, 'POST', '/v1/compile', body)]);
      assert.equal(ours.status, theirs.status);
      const [o, t] = [JSON.parse(ours.body.toString()), JSON.parse(theirs.body.toString())] as { code: string; message: string; errors?: { code: string; message: string }[] }[];
      assert.deepEqual([o!.code, o!.message, o!.errors?.[0]?.code, o!.errors?.[0]?.message], [t!.code, t!.message, t!.errors?.[0]?.code, t!.errors?.[0]?.message]);
      assert.deepEqual(o, t);
    });
  }

  // Metrics by name (their values are timings); an explain value that names no mode is off, as in OPA.
  // OPA's timer_rego_external_resolve_ns (its lookup of external resolvers before reading base data) has no
  // counterpart: Verdict reads base data directly, within timer_rego_partial_eval_ns.
  for (const params of ['?metrics', '?metrics&explain=off', '?explain=everything']) {
    it(`POST /v1/compile${params}`, async () => {
      const body = JSON.stringify(bodies[0]);
      const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', `/v1/compile${params}`, body), send(servers.verdict.url, 'POST', `/v1/compile${params}`, body)]);
      assert.equal(ours.status, theirs.status, ours.body.toString());
      const names = (b: Buffer) => Object.keys((JSON.parse(b.toString()) as { metrics?: Json }).metrics ?? {}).filter((k) => k !== 'timer_rego_external_resolve_ns').sort();
      assert.deepEqual(names(ours.body), names(theirs.body));
    });
  }

  // Go's encoding/json names the type it was filling; a null body or query is a missing query.
  for (const body of ['"s"', '[1]', 'null', '{"query": null}', '{"query": 1}', '{"query": "true", "unknowns": "input.x"}', '{"query": "true", "unknowns": ["input.x", 1]}',
    '{"query": "true", "options": 1}', '{"query": "true", "options": {"disableInlining": "a"}}', '{"query": "true", "options": {"disableInlining": [true]}}']) {
    it(`refuses ${body} as opa run does`, async () => {
      const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', '/v1/compile', body), send(servers.verdict.url, 'POST', '/v1/compile', body)]);
      assert.equal(theirs.status, 400);
      assert.equal(ours.status, theirs.status);
      assert.deepEqual(JSON.parse(ours.body.toString()), JSON.parse(theirs.body.toString()));
    });
  }

  it('refuses fields and options it does not implement, naming them', async () => {
    const field = await send(servers.verdict.url, 'POST', '/v1/compile', JSON.stringify({ query: 'true', bogus: 1 }));
    assert.equal(field.status, 400);
    assert.match(JSON.parse(field.body.toString()).message, /field bogus is not supported/);
    const option = await send(servers.verdict.url, 'POST', '/v1/compile', JSON.stringify({ query: 'true', options: { nondeterministicBuiltins: true } }));
    assert.equal(option.status, 400);
    assert.match(JSON.parse(option.body.toString()).message, /option nondeterministicBuiltins is not supported/);
    const param = await send(servers.verdict.url, 'POST', '/v1/compile?explain=full', JSON.stringify({ query: 'true' }));
    assert.equal(param.status, 400);
    assert.match(JSON.parse(param.body.toString()).message, /query parameter explain is not supported/);
  });
});

describe('POST /v1/compile/{path}: data filters', () => {
  const filter = (accept: string, body: unknown) => send(servers.verdict.url, 'POST', '/v1/compile/filters/allow', JSON.stringify(body), { Accept: accept, 'Content-Type': 'application/json' });

  it('SQL for each dialect, unknowns from the package metadata', async () => {
    const expected: Record<string, string> = {
      postgresql: "WHERE (tickets.assignee IS NULL AND tickets.resolved = FALSE)",
      mysql: "WHERE (tickets.assignee IS NULL AND tickets.resolved = FALSE)",
      sqlite: "WHERE (tickets.assignee IS NULL AND tickets.resolved = FALSE)",
      sqlserver: "WHERE (tickets.assignee IS NULL AND tickets.resolved = 0)",
    };
    for (const [dialect, where] of Object.entries(expected)) {
      const res = await filter(`application/vnd.opa.sql.${dialect}+json`, { input: { user: 'caesar' } });
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(JSON.parse(res.body.toString()), { result: { query: where } });
    }
    const bob = await filter('application/vnd.opa.sql.postgresql+json', { input: { user: "o'brien" } });
    assert.deepEqual(JSON.parse(bob.body.toString()), { result: {} }, 'no row passes: no query');
    const admin = await filter('application/vnd.opa.sql.postgresql+json', { input: { user: 'alice' } });
    assert.deepEqual(JSON.parse(admin.body.toString()), { result: { query: '' } }, 'every row passes: an empty filter');
  });

  it('UCAST with table mappings, and multitarget', async () => {
    const res = await filter('application/vnd.opa.ucast.all+json', { input: { user: 'bob' }, options: { targetSQLTableMappings: { ucast: { tickets: { $self: 't', assignee: 'owner' } } } } });
    assert.deepEqual(JSON.parse(res.body.toString()), { result: { query: { type: 'field', operator: 'eq', field: 't.owner', value: 'bob' } } });
    const multi = await filter('application/vnd.opa.multitarget+json', { input: { user: 'bob' }, options: { targetDialects: ['ucast+minimal', 'sql+sqlite'] } });
    assert.deepEqual(JSON.parse(multi.body.toString()), { result: { ucast: { query: { type: 'field', operator: 'eq', field: 'tickets.assignee', value: 'bob' } }, sqlite: { query: "WHERE tickets.assignee = 'bob'" } } });
  });

  it('refuses what a target cannot express, naming the expression', async () => {
    const res = await send(servers.verdict.url, 'POST', '/v1/compile/filters/fuzzy', JSON.stringify({}), { Accept: 'application/vnd.opa.sql.postgresql+json' });
    assert.equal(res.status, 400);
    const body = JSON.parse(res.body.toString()) as { code: string; errors: Array<{ code: string; message: string; location: { row: number } }> };
    assert.equal(body.code, 'invalid_parameter');
    assert.equal(body.errors[0]!.code, 'pe_fragment_error');
    assert.match(body.errors[0]!.message, /invalid statement "input\.tickets\.title"/);
    assert.equal(body.errors[0]!.location.row, 23);
    const counted = await send(servers.verdict.url, 'POST', '/v1/compile/filters/counted', JSON.stringify({}), { Accept: 'application/vnd.opa.sql.postgresql+json' });
    assert.equal(counted.status, 400);
    assert.match(JSON.parse(counted.body.toString()).errors[0].message, /invalid builtin count/);
    const accept = await filter('text/csv', {});
    assert.equal(accept.status, 400);
    assert.match(JSON.parse(accept.body.toString()).message, /unsupported Accept header "text\/csv"/);
  });

  it('works with the official client getFilters', async () => {
    const client = new OPAClient(servers.verdict.url);
    const { query } = await client.getFilters('filters/allow', { user: 'caesar' }, { target: 'postgresql', tableMappings: { tickets: { $self: 'tbl_t' } } } as never);
    assert.equal(query, 'WHERE (tbl_t.assignee IS NULL AND tbl_t.resolved = FALSE)');
    const prisma = await client.getFilters('filters/allow', { user: 'bob' }, 'tickets');
    assert.deepEqual(prisma.query, { assignee: { equals: 'bob' } });
  });
});
