// End to end: small policies through our parser, stages and planner, then our back end, evaluated under
// opa-wasm with our host builtins, compared with what the reference `opa eval` says for the same input.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { builtinTable, compileRego, deprecatedBuiltins, planRego, RegoCompileError } from '../../../src/compiler/compile-rego.js';
import { hostBuiltins } from '../../../src/builtins/index.js';
import { compilePlan } from '../../../src/wasm/compile.js';
import type { Policy } from '../../../src/ir/plan.js';
import { opaPath } from '../opa-oracle.js';

const opa = opaPath();
const capabilities = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 }));
const builtins = builtinTable(capabilities);
const deprecated = deprecatedBuiltins(capabilities);
const dir = mkdtempSync(join(tmpdir(), 'verdict-planner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `opa eval` of data.<path> → its value, or undefined. */
function opaEval(source: string, path: string, input: unknown, data: object = {}): unknown {
  const file = join(dir, 'p.rego');
  const inputFile = join(dir, 'input.json');
  const dataFile = join(dir, 'data.json');
  writeFileSync(file, source);
  writeFileSync(inputFile, JSON.stringify(input));
  writeFileSync(dataFile, JSON.stringify(data));
  const args = ['eval', '-f', 'json', '-d', file, '-d', dataFile, '-i', inputFile, `data.${path.replaceAll('/', '.')}`];
  const out = JSON.parse(execFileSync(opa, args, { encoding: 'utf8' })) as {
    result?: Array<{ expressions: Array<{ value: unknown }> }>;
  };
  return out.result?.[0]?.expressions[0]?.value;
}

async function ours(source: string, path: string, input: unknown, data: object = {}): Promise<unknown> {
  const wasm = compileRego([{ path: 'p.rego', source }], [path], { builtins, deprecated });
  const policy = await loadPolicy(wasm, undefined, hostBuiltins);
  policy.setData(data);
  const rs = policy.evaluate(input, path) as Array<{ result: unknown }>;
  return rs[0]?.result;
}

/** Sets come back from wasm as arrays; compare them order-free the way `opa eval` prints them (sorted). */
function normal(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null));
}

const cases: Array<{ name: string; source: string; path: string; inputs: unknown[]; data?: object }> = [
  {
    // OPA evaluates references among a call's arguments before the `not`: undefined ones make it undefined.
    name: 'not over calls with undefined reference arguments',
    source: `package t
claims := input.c
r := [a, b, e, h, i, j, k, l]
default a := false
default b := false
default e := false
default h := false
default i := false
default j := false
default k := false
default l := false
a := true if not claims.iss in ["a"]
b := true if not startswith(input.c.iss, "a")
e := true if not "a" == input.c.iss
h := true if not {"a": input.c.iss}["a"]
i := true if not input.c.iss == "a"
j := true if not input.c.iss
k := true if not count(input.c.iss) > 1
l := true if not [input.c.iss] == [1]`,
    path: 't/r',
    inputs: [{}, { c: {} }, { c: { iss: 'b' } }, { c: { iss: 'a' } }, { c: { iss: 1 } }],
  },
  {
    name: 'complete rules, default, else',
    source: `package t
default allow := false
allow if { input.role == "admin" }
allow if { input.user in {"alice", "bob"}; count(input.groups) > 1 }
level := "high" if input.n > 10
else := "mid" if input.n > 5
else := "low"`,
    path: 't',
    inputs: [{ role: 'admin', n: 11 }, { user: 'bob', groups: [1, 2], n: 6 }, { user: 'carol', groups: [], n: 1 }],
  },
  {
    name: 'partial sets and objects, iteration, comprehensions',
    source: `package t
names contains u.name if { some u in input.users; u.age >= 18 }
by_name[u.name] := u.age if { some u in input.users }
ages := [a | some u in input.users; a := u.age]
total := sum([a | a := input.users[_].age])
pairs := {[i, u.name] | some i, u in input.users}`,
    path: 't',
    inputs: [{ users: [{ name: 'a', age: 20 }, { name: 'b', age: 10 }, { name: 'c', age: 18 }] }, { users: [] }],
  },
  {
    name: 'functions, every, not, with, ref heads, template strings',
    source: `package t
double(x) := x * 2
greet(name) := $"hello {name}, you are {input.age}"
all_pos if { every x in input.xs { x > 0 } }
none_neg if { not any_neg }
any_neg if { some x in input.xs; x < 0 }
mocked if { double(input.n) == 42 with input.n as 21 }
a.b[k].c := v if { some k, v in input.o }
out := [double(3), greet("z")]`,
    path: 't',
    inputs: [{ xs: [1, 2], age: 3, o: { p: 1, q: 2 } }, { xs: [1, -2], age: 4, o: {} }],
  },
  {
    // Computed replacements are evaluated at the `with` and passed down to the functions planned under it.
    name: 'with replacing functions and builtins by computed values, nested, mocks never calling mocks',
    source: `package t
f(_) := 1
g(_) := 0
h(x) := count(x) + 100
k(x) := 7
by_local if { v := input.n; q with f as v }
q if f(1) == input.n
by_scan := {v | some v in numbers.range(1, 4); q with f as v}
by_comprehension if { count([1, 2, 3]) == 1 with count as [1 | true][0] }
nested if { v := 3; m with f as v }
m if { v := 300; g(10) == 0; n with g as v }
n if { f(input.n) == 3; g(input.n) == 300 }
args_still_evaluated if { count(input.missing) == 1 with count as 1 }
no_mock_in_mock := y if { y := sum([1]) with count as k with sum as h }`,
    path: 't',
    inputs: [{ n: 2 }, { n: 3 }],
  },
  {
    name: 'with on rules and documents holding rules, read whole or iterated; f() := 1 is a plain rule',
    source: `package t
sub.a := {"b": 1, "c": 2}
sub.q["a"] := 1
sub.q["b"] := 2
whole := x if { x := data.t.sub.a with data.t.sub.a as {"d": input.n} }
above := x if { x := data.t.sub with data.t.sub.a as {"d": 3} with data.t.sub.q as {} }
iterated[k] := v if { data.t.sub.q[k] = v with data.t.sub.q as {"a": 3, "c": input.n} }
f() := 1`,
    path: 't',
    inputs: [{ n: 4 }],
  },
  {
    name: 'rego.metadata.rule() and rego.metadata.chain() as opa eval gives them',
    source: `# METADATA
# title: pkg
# organizations:
# - acme
package t

# METADATA
# title: doc only
# scope: document
# authors:
# - Jane Doe <jane@example.com>
# - name: X
#   email: x@y
# related_resources:
# - https://example.com
# - ref: https://foo.com
#   description: foo
# custom:
#   k: [1, 2]
# schemas:
# - input: schema.request
p := "x" if false

# METADATA
# title: own
# description: the second
p := [rego.metadata.rule(), rego.metadata.chain()]

f(x) := [x, rego.metadata.chain()]
q := f(1)
r[x] := rego.metadata.chain() if x := "k"
s := [y | y := rego.metadata.rule()]
u := 1 if false
else := rego.metadata.chain()`,
    path: 't',
    inputs: [{}],
  },
  {
    name: 'rego.metadata.chain() with subpackages scope, as opa eval gives it',
    source: `# METADATA
# scope: subpackages
# title: sub
package t

# METADATA
# scope: document
# title: doc
p := 1 if false

# METADATA
# title: own
p := rego.metadata.chain()

q := rego.metadata.chain()`,
    path: 't',
    inputs: [{}],
  },
  {
    name: 'ref-head multi-value rules below an object rule set add to the same sets',
    source: `package t
p[q] contains r if { x := ["a", "b", "c"]; q := x[_]; r := x[_]; q != r }
p.b contains "foo"
s[q].r contains v if { some q, v in input.m }
s.b.r contains "foo"
deep := s.b.r.foo`,
    path: 't',
    inputs: [{ m: { a: 1, b: 2 } }, {}],
  },
  {
    name: 'template strings with `with` in a part, and as function arguments bound by the body',
    source: `package t
a := input.a
mocked := $"foo {a with input as {"a": 42}} {input.a}"
f($"{x} {input.y}") := 42 if x = "foo"
g([$"<{x}>", y]) := y if x := "k"
out := [f("foo bar"), g(["<k>", 1])]`,
    path: 't',
    inputs: [{ a: 1, y: 'bar' }, { y: 'baz' }],
  },
  {
    name: '`with` after an and/or applies to both operands',
    source: `package t
import future.keywords.and
import future.keywords.or
p if { input.x > 0 and input.y > 0 with input as {"x": 1, "y": 2} }
q if { input.x > 5 or input.y > 0 with input as {"x": 1, "y": 2} }
r if { not input.x > 5 and input.y > 0 with input as {"x": 1, "y": 2} }`,
    path: 't',
    inputs: [{}, { x: 9, y: 9 }],
  },
  {
    name: 'a not body sharing a var with the enclosing body runs after the var is bound',
    source: `package t
import future.keywords.not
f(x) := x
p := a if { not a = f(1); a = f(input.n) }
q := x if { not { x = 2 }; x = input.n }`,
    path: 't',
    inputs: [{ n: 1 }, { n: 2 }],
  },
  {
    name: 'base data and rules under the same document merge',
    source: `package t
sub.k := "bar"
sub.j := 1
doc := data.t.sub`,
    path: 't/doc',
    inputs: [{}],
    data: { t: { sub: { m: 2 } } },
  },
  {
    // Building all of data.t for data.t[x] would call p from inside p: only the document x names is read.
    name: 'a data reference with a key known at run time reads only the document it names',
    source: `package t
p := [data[first].primary.allow.see, data[first].other.allow, data[first].base] if first := "t"
primary.allow[action].something if action := "show"
primary.allow.see := 1
other.allow.see := 2`,
    path: 't/p',
    inputs: [{}],
    data: { t: { base: { allow: { see: 3 } } } },
  },
  {
    name: 'walk used as a term is a relation: one solution per [path, value] pair',
    source: `package t
p := {path: value | [path, value] := walk(input.x); count(value) == 2}
q := [pair | pair := walk(input.x)]`,
    path: 't',
    inputs: [{ x: { a: [{ b: 'BB' }, { c: 'CCC' }], d: 'DD' } }],
  },
];

describe('planner end to end (our compile vs opa eval)', () => {
  for (const c of cases) {
    it(c.name, async () => {
      for (const input of c.inputs) {
        const want = opaEval(c.source, c.path, input, c.data);
        const got = await ours(c.source, c.path, input, c.data);
        assert.deepEqual(normal(got), normal(want), `input ${JSON.stringify(input)}`);
      }
    });
  }

  // `opa eval` refuses base data that conflicts with a rule, but evaluation against a store that has it is
  // defined (OPA's conformance case baseandvirtualdocs "conflicts"): compare with OPA's own plan for it.
  it('base data wins over a rule at the same key, as in OPA\'s plan', async () => {
    const source = 'package t\nsub.k := "bar"\nsub.j := 1\ndoc := data.t.sub';
    const data = { t: { sub: { k: 'foo', m: 2 } } };
    const file = join(dir, 'conflict.rego');
    writeFileSync(file, source);
    execFileSync(opa, ['build', '-t', 'plan', '-e', 't/doc', '-o', join(dir, 'plan.tar.gz'), file]);
    const opaPlan = JSON.parse(execFileSync('tar', ['-xzOf', join(dir, 'plan.tar.gz'), '/plan.json'], { encoding: 'utf8' })) as Policy;
    const evaluate = async (wasm: Uint8Array) => {
      const policy = await loadPolicy(wasm, undefined, hostBuiltins);
      policy.setData(data);
      return (policy.evaluate({}, 't/doc') as Array<{ result: unknown }>)[0]?.result;
    };
    const want = await evaluate(compilePlan(opaPlan));
    assert.deepEqual(want, { k: 'foo', j: 1, m: 2 });
    assert.deepEqual(await evaluate(compileRego([{ path: 'p.rego', source }], ['t/doc'], { builtins, deprecated })), want);
  });

  it('reports compile errors with OPA codes instead of planning', () => {
    assert.throws(
      () => planRego([{ path: 'bad.rego', source: 'package t\np if { x }' }], ['t/p'], { builtins, deprecated }),
      (e: unknown) => e instanceof RegoCompileError && e.errors[0]?.code === 'rego_unsafe_var_error',
    );
  });

  it('writes plans the back end accepts with a function per rule set reached', () => {
    const plan = planRego([{ path: 'p.rego', source: 'package t\np := q + 1\nq := 2\nunused := 3' }], ['t/p'], { builtins, deprecated });
    assert.deepEqual(plan.funcs?.funcs?.map((f) => f.name).sort(), ['g0.data.t.p', 'g0.data.t.q']);
    assert.deepEqual(plan.static?.builtin_funcs?.map((b) => b.name), ['plus']);
  });
});
