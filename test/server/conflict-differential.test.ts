// Conflict errors against the real OPA: complete rules and functions that produce different values (across
// definitions, within one, with `else`, past the ten OPA lists, across files), object keys given two values (a
// rule and a rule below it, a comprehension), and the documents that contain them. `opa eval` and
// `verdict eval` must print the same error (code, message, location); `opa run --server` and Verdict's server
// must answer the Data API (POST /v1/data/...) and the Query API with the same status and body. OPA also
// sends a stack_trace of its evaluator's queries (query ids of topdown), which Verdict leaves out: it is
// removed before comparing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { referenceOpa } from '../engine/opa-fixture.js';
import { send, useOpaAndVerdict, writeTree } from './harness.js';

const many = Array.from({ length: 12 }, (_, i) => `many := ${i}\n`).join('\n');

const files: Record<string, string> = {
  'a.rego': 'package c\n\nacross := 1\n',
  'b.rego': 'package c\n\nacross := 2\n',
  'c.rego': `package c

p := 1
p := 2

three := 1
three := 1
three := 2
three := "two"
three := {"k": [1, "s"], "m": {1, 2}}

single := x if { some x in [1, 2, 1, 3] }

later := 1
later := x if { some x in [1, 2, 3] }

e := 1 if input.a
else := 2

e := 3 if input.b

r := x if { x := input.a }
r := x if { x := input.b }

f(x) := 1
f(x) := 2 if x > 0
q := f(1)

g(_) := y if { some y in [5, 7] }
h := g(0)

obj[k] := v if { some k, v in {"a": 1} }
obj["a"] := 3

comp := {k: v | some k in ["a", "a"]; some v in [1, 2]}

# Planned under a \`with\` whose value is computed, a rule takes that value as a parameter, as a function takes
# its arguments: it is still a rule.
mockable := 1
mockable := 2 if count([1, 2]) == 1
mocked := x if { v := 1; x := mockable with count as v }
mf(_) := 1
mf(a) := 2 if count([a, a]) == 1
mocked_f := x if { v := 1; x := mf(0) with count as v }
`,
  'many.rego': `package m\n\n${many}`,
};

const input = { a: 1, b: 2 };

const queries = [
  'data.c.p', 'data.c.three', 'data.c.single', 'data.c.later', 'data.c.e', 'data.c.r', 'data.c.q', 'data.c.h',
  'data.c.obj', 'data.c.comp', 'data.c.across', 'data.m.many', 'data.c', 'data.c.f(2)', 'data.c.mocked',
  'data.c.mocked_f',
];

const withoutStack = (errors: Array<Record<string, unknown>>) => errors.map(({ stack_trace: _s, ...rest }) => rest);

describe('opa eval and verdict eval print the same conflict error', () => {
  const dir = writeTree({ ...files, 'input.json': JSON.stringify(input) });
  const flags = ['-d', 'a.rego', '-d', 'b.rego', '-d', 'c.rego', '-d', 'many.rego', '-i', 'input.json'];
  for (const q of queries) {
    it(q, () => {
      const theirs = spawnSync(referenceOpa(), ['eval', ...flags, q], { cwd: dir, encoding: 'utf8' });
      const ours = spawnSync(process.execPath, [resolve('dist/src/main.js'), 'eval', ...flags, q], { cwd: dir, encoding: 'utf8' });
      assert.equal(ours.status, theirs.status, ours.stderr);
      const t = JSON.parse(theirs.stdout) as { errors: Array<Record<string, unknown>> };
      const o = JSON.parse(ours.stdout) as { errors: Array<Record<string, unknown>> };
      assert.equal(t.errors[0]!.code, 'eval_conflict_error');
      assert.deepEqual(o.errors, withoutStack(t.errors));
    });
  }
  it('files named in another order list the definitions in OPA order', () => {
    const argv = ['eval', '-d', join(dir, 'b.rego'), '-d', join(dir, 'a.rego'), 'data.c.across'];
    const theirs = spawnSync(referenceOpa(), argv, { encoding: 'utf8' });
    const ours = spawnSync(process.execPath, [resolve('dist/src/main.js'), ...argv], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(ours.stdout).errors, withoutStack(JSON.parse(theirs.stdout).errors));
  });
});

describe('the REST APIs answer a conflict as OPA does', () => {
  const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: [''] }), ...files } });

  const same = async (method: string, path: string, body?: string) => {
    const ask = async (base: string) => {
      const r = await send(base, method, path, body, body === undefined ? {} : { 'Content-Type': 'application/json' });
      return { status: r.status, body: JSON.parse(r.body.toString('utf8')) as { errors?: Array<Record<string, unknown>> } };
    };
    const [theirs, ours] = await Promise.all([ask(servers.opa.url), ask(servers.verdict.url)]);
    assert.equal(theirs.body.errors?.[0]?.code, 'eval_conflict_error', JSON.stringify(theirs.body));
    assert.equal(ours.status, theirs.status);
    assert.deepEqual(ours.body, { ...theirs.body, errors: withoutStack(theirs.body.errors!) });
  };

  for (const q of queries.filter((q) => !q.includes('('))) {
    const path = `/v1/data/${q.slice('data.'.length).replaceAll('.', '/')}`;
    it(`POST ${path}`, () => same('POST', path, JSON.stringify({ input })));
    it(`POST /v1/query ${q}`, () => same('POST', '/v1/query', JSON.stringify({ query: `x := ${q}`, input })));
  }
  it('GET /v1/query with a function conflict', () => same('GET', `/v1/query?q=${encodeURIComponent('x := data.c.f(2)')}`));
});

describe('opa test and verdict test report a conflict alike', () => {
  it('the message and its list of values, unindented past the first line', () => {
    const dir = writeTree({ 'c.rego': 'package tt\n\np := 1\np := 2\n\ntest_p if p == 1\n' });
    // Durations vary; OPA's Traceback (its evaluator's stack) is not kept by Verdict.
    const report = (text: string) => text.replace(/\(\d[^)]*\)/g, '(T)').replace(/ {2}Traceback:\n(?: {4}.*\n)*/g, '');
    const theirs = spawnSync(referenceOpa(), ['test', '.'], { cwd: dir, encoding: 'utf8' });
    const ours = spawnSync(process.execPath, [resolve('dist/src/main.js'), 'test', '.'], { cwd: dir, encoding: 'utf8' });
    assert.equal(ours.status, theirs.status);
    assert.match(theirs.stdout, /produced conflicting values:\n {2}1 at /);
    assert.equal(report(ours.stdout), report(theirs.stdout));
  });
});
