// Differential test of the Query API (GET and POST /v1/query) against `opa run --server` serving the same bundle:
// queries that read or iterate over all of data, input by POST, the parameters (pretty, metrics, instrument,
// explain), query strings as Go reads them, bodies Go's decoder refuses, and parse, compile and evaluation
// errors. Status and body must agree; metrics by their names (values are timings). OPA's
// timer_rego_external_resolve_ns (base data read outside the query) has no counterpart: Verdict's query reads
// data inside its module, part of timer_rego_query_eval_ns.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const bundle = {
  '.manifest': JSON.stringify({ roots: [''] }),
  'zeta/authz/policy.rego': 'package zeta.authz\n\nallow if input.user == "alice"\n\nx := 1\n',
  'alpha/policy.rego': 'package alpha\n\ny := [1, 2]\n',
  'mid/sub/policy.rego': 'package mid.sub\n\nz := "s"\n',
  't/policy.rego': 'package t\n\nc := 1 if input.c\n\nc := 2 if input.c\n\nf(x) := x\n',
  'system/extra/policy.rego': 'package system.extra\n\nr := 1\n',
  'data.json': JSON.stringify({ data_b: { k: 1 }, aaa: 2, zeta: { d: 3 } }),
};

const servers = useOpaAndVerdict({ files: bundle });

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

async function both(method: string, path: string, body?: string): Promise<[Answer, Answer]> {
  const ask = async (base: string): Promise<Answer> => {
    const r = await send(base, method, path, body, body === undefined ? {} : { 'Content-Type': 'application/json' });
    const text = r.body.toString('utf8');
    return { status: r.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), text };
  };
  return Promise.all([ask(servers.opa.url), ask(servers.verdict.url)]);
}

/** Metrics compared by name: their values are timings. */
function metricNames(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('metrics' in body)) return body;
  const { metrics, ...rest } = body as { metrics: Record<string, unknown> };
  return { ...rest, metrics: Object.keys(metrics).filter((k) => k !== 'timer_rego_external_resolve_ns').sort() };
}

async function same(method: string, path: string, body?: string): Promise<void> {
  const [theirs, ours] = await both(method, path, body);
  assert.equal(ours.status, theirs.status, `${method} ${path} ${body ?? ''}: ${ours.text} vs ${theirs.text}`);
  assert.deepEqual(metricNames(ours.body), metricNames(theirs.body), `${method} ${path} ${body ?? ''}`);
  // Rows and keys in the same order, not only the same values.
  if (!path.includes('metrics')) assert.equal(JSON.stringify(ours.body), JSON.stringify(theirs.body));
}

const get = (q: string, params = '') => `/v1/query?q=${encodeURIComponent(q)}${params}`;

/** Registers `q` asked by GET and by POST (with an input), each to be answered as OPA answers it. */
function sameByGetAndPost(q: string): void {
    it(`GET ${q}`, () => same('GET', get(q)));
    it(`POST ${q}`, () => same('POST', '/v1/query', JSON.stringify({ query: q, input: { user: 'alice' } })));
}

describe('queries over all of data', () => {
  const queries = [
    'data',
    'x := data',
    'data[k]',
    'x := [k | data[k]]',
    'x := [k | data.zeta[k]]',
    'x := [[k, j] | data[k][j]; k != "system"]',
    'data.zeta[k]',
    'x := data.zeta',
    'x := object.keys(data)',
    'x := {k | some k, _ in data}',
    'x := data.system.extra',
  ];
  for (const q of queries) sameByGetAndPost(q);
});

describe('expressions side by side on one line', () => {
  for (const q of ['1 1', 'x := 1 y := x', 'true false', 'x := data.alpha.y[_] x > 1', 'input.user == "alice" x := data.zeta.authz.x', '[x | x := 1 x > 0]']) sameByGetAndPost(q);
});

describe('expressions under `with` report their own value', () => {
  const queries = [
    '1 with input as 2',
    'input.user with input as {"user": "bob"}',
    '[x | x := input[_]] with input as [1, 2]',
    'count([1]) with input as 2',
    'x := 1 with input as 2',
    'data.zeta.authz.x with data.zeta.authz.x as 5',
    'data.zeta.authz.allow with input.user as "alice"',
    'input with input as false',
  ];
  for (const q of queries) sameByGetAndPost(q);
});

describe('input by POST', () => {
  const bodies = [
    { query: 'x := input.a', input: { a: [1, 2.50, 'x'] } },
    { query: 'x := data.zeta.authz.allow', input: { user: 'alice' } },
    { query: 'x := input' },
    { query: 'x := input', input: null },
    { query: 'x := input', input: 12345678901234567890123 },
    { Query: 'x := input', INPUT: { a: 1 } },
  ];
  for (const b of bodies) it(JSON.stringify(b), () => same('POST', '/v1/query', JSON.stringify(b)));
  it('the last of a repeated member counts', () => same('POST', '/v1/query', '{"query": "x := 1", "query": "y := 2"}'));
});

describe('parameters', () => {
  const cases = [
    get('x := data.alpha.y[_]', '&pretty'),
    get('x := data.alpha.y[_]', '&pretty=true'),
    get('x := 1', '&pretty=1'),
    get('x := 1', '&metrics'),
    get('x := 1', '&metrics=TrUe'),
    get('x := 1', '&metrics=1'),
    get('x := 1', '&metrics=false&metrics=true'),
    get('x := 1', '&metrics=&metrics='),
    get('x := data.alpha.y[_]', '&explain=notes'),
    get('x := data.alpha.y[_]', '&explain=fails'),
    get('x := 1', '&explain=full'),
    get('data.zeta.authz.allow', '&explain=full'),
    get('x := 1', '&explain=notes&pretty'),
    get('x := data.alpha.y[_]', '&explain=everything'),
    get('x := data.alpha.y[_]', '&explain=Notes&explain=fails'),
    get('x := 1', '&provenance'),
    get('x := to_number("a")', '&strict-builtin-errors'),
    '/v1/query?q=x:=1&q=y:=2',
    '/v1/query?q=x:=1;pretty',
    '/v1/query?q=x:=%zz',
    '/v1/query?q=x:=%221+1%22',
  ];
  for (const path of cases) it(`GET ${path}`, () => same('GET', path));
  it('POST with metrics', () => same('POST', '/v1/query?metrics', JSON.stringify({ query: 'x := input.a', input: { a: 1 } })));

  it('instrument adds the evaluator figures OPA adds', async () => {
    const [theirs, ours] = await both('GET', get('x := 1', '&instrument'));
    assert.equal(ours.status, theirs.status);
    const names = (a: Answer) => Object.keys((a.body as { metrics: object }).metrics).filter((k) => /^(timer|histogram)_eval_op_/.test(k) || k.startsWith('timer_rego_query_')).sort();
    assert.deepEqual(names(ours), names(theirs));
  });
});

describe('errors', () => {
  it('no q', () => same('GET', '/v1/query'));
  it('an empty query', () => same('GET', '/v1/query?q='));
  it('a parse error', () => same('GET', get('1 +')));
  // OPA's server reads the query as statements: a rule-shaped mistake also gets the rule parser's errors, and
  // text that reads as a rule or an import is not a body.
  for (const q of ['x := [1', 'x := {1:', 'x := 1\ny := +', 'x := "1', 'p if {', '[1,2', 'x := 1 }', 'some x in', 'p if { true }', 'import data.x']) {
    it(`a parse error: ${JSON.stringify(q)}`, () => same('GET', get(q)));
    it(`a parse error by POST: ${JSON.stringify(q)}`, () => same('POST', '/v1/query', JSON.stringify({ query: q })));
  }
  it('an undefined function, placed in the query', () => same('GET', get('x := 1\ny := foo(x)')));
  it('an undefined function of the policies', () => same('GET', get('x := data.t.f(1) + 1')));
  it('a conflict while evaluating', async () => {
    // All but OPA's stack trace (the query ids of its evaluator), which Verdict does not send.
    const [theirs, ours] = await both('POST', '/v1/query', JSON.stringify({ query: 'x := data.t.c', input: { c: true } }));
    assert.equal(ours.status, theirs.status);
    const b = theirs.body as { errors: Array<Record<string, unknown>> };
    assert.deepEqual(ours.body, { ...b, errors: b.errors.map(({ stack_trace: _s, ...rest }) => rest) });
  });
  it('a method other than GET and POST', async () => {
    const [theirs, ours] = await both('PUT', '/v1/query', '{}');
    assert.equal(ours.status, theirs.status);
    assert.equal(ours.text, theirs.text);
  });
  const bodies = ['', 'nope', '[]', '1', '"s"', 'true', 'null', '{}', '{"query": true}', '{"query": null}', '{"query": {}}', '{"query": [1]}', '{"query": 1e400}'];
  for (const b of bodies) it(`body ${JSON.stringify(b)}`, () => same('POST', '/v1/query', b));
});
