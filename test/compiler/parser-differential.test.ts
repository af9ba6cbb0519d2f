// Our AST against `opa parse --format json` on representative policies: package and imports, rule heads
// (refs, args, keys, values, :=), bodies, terms, and operators turned into calls (plus, eq, assign, ...).
// Both trees are reduced to the same canonical form; wildcard numbering and number spelling are normalised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegoVersion } from '../../src/compiler/ast.js';
import { parseModule } from '../../src/compiler/parse-module.js';
import { OpaParseOracle, opaPath } from './opa-oracle.js';

const POLICIES: { name: string; version: RegoVersion; source: string }[] = [
  { name: 'complete, partial, default and function rules', version: 'v1', source: `package authz.http
import rego.v1
import data.roles as r
import input.user

default allow := false
allow if {
  some role in r[user.name]
  role == "admin"
}
allow if input.method == "GET"
deny contains msg if {
  not allow
  msg := sprintf("%s denied", [user.name])
}
perms[name] := p if {
  some name, p in data.perms
}
f(x) := y if y := x * 2
f(x, _) := 0 if x < 0
g(_) := true
max_of(a, b) := a if a >= b
else := b
` },
  { name: 'operators, precedence and unary minus', version: 'v1', source: `package ops
p := 1 + 2 * 3 - 4 / 5 % 6 if true
q := (1 + 2) * -x if x := 3
r if { a := {1, 2} | {3}; b := a & {1}; c := a - b; count(c) > 0 }
s if { -1 < 2; 3 >= 2; "a" != "b"; 1 == 1.0; x = y; y := 2 }
t := -1.5e3
u := 123456789012345678901234567890
v := [1, "two", null, true, false, {"k": [1]}, set(), {}]
w := {x | some x in [1, 2]}
y := [z | x := [1, 2][_]; z := x * 2]
z := {k: v | some k, v in {"a": 1}}
in_test if { 1 in [1]; "a", 1 in {"a": 1}; not 3 in [1] }
` },
  { name: 'refs, ref heads, every, with, else chains', version: 'v1', source: `package refs
a.b.c := 1
a.b[x] := y if { some x, y in {"k": "v"} }
a.d contains z if some z in input.items
users[u.id] := u if some u in input.users
deep := input.a.b[0].c[input.k]["lit"]
call_ref := f(1).x[0] if true
f(x) := {"x": [x]}
ev if {
  every k, v in input.obj { k != v }
  every x in [1, 2] { x > 0 }
}
mocked if allow with input as {"user": "x"} with data.roles as {} with count as mycount
allow if input.user
mycount(_) := 7
level := "high" if input.score > 10
else := "mid" if input.score > 5
else := "low"
obj_key := {1: "one", [1]: "list"}
walrus if { [a, b] := [1, 2]; {"k": c} = {"k": a + b}; c == 3 }
` },
  { name: 'strings, raw strings, template strings, comprehension bodies', version: 'v1', source: `package strs
a := "esc\\"aped\\n\\u00e9"
b := \`raw \\n string\`
c := $"hello {input.name}, {1 + 2} and {"lit"}"
d := $\`multi {input.x}
line\`
e := [s | some s in ["a", "b"]; s != "a"]
` },
  { name: 'v0 syntax', version: 'v0', source: `package legacy
import future.keywords.in

p[x] { x := input.items[_] }
q[k] = v { v := input.obj[k] }
r = 1 { true }
s { input.a; not input.b }
t = x { x := 1 } else = 2 { true }
f(x) = y { y := x + 1 }
g(x) { x > 0 }
h := 5
i { 1 in [1] }
default j = false
a.b.c
` },
];

function canonicalNumber(v: unknown): string {
  return String(Number(v));
}

type J = Record<string, unknown>;

function term(t: unknown): unknown {
  const x = t as J;
  if (!x || typeof x !== 'object') return x;
  if ('terms' in x) return expr(x); // an Expr inside a template string
  const v = x.value as unknown;
  switch (x.type) {
    case 'null': return { null: null };
    case 'number': return { number: canonicalNumber(v) };
    case 'var': return { var: String(v).startsWith('$') ? '$' : v };
    case 'ref': case 'array': case 'set': case 'call': return { [x.type as string]: (v as unknown[]).map(term) };
    case 'object': return { object: (v as unknown[][]).map(([k, val]) => [term(k), term(val)]) };
    case 'arraycomprehension': case 'setcomprehension': {
      const c = v as J;
      return { [x.type as string]: { term: term(c.term), body: body(c.body) } };
    }
    case 'objectcomprehension': {
      const c = v as J;
      return { objectcomprehension: { key: term(c.key), value: term(c.value), body: body(c.body) } };
    }
    case 'templatestring': {
      const c = v as J;
      return { templatestring: { parts: (c.parts as unknown[]).map(term), multiLine: c.multi_line ?? c.multiLine } };
    }
    default: return { [String(x.type)]: v };
  }
}

function exprTerms(t: unknown): unknown {
  if (Array.isArray(t)) return t.map(term);
  const x = t as J;
  if ('symbols' in x) return { some: (x.symbols as unknown[]).map(term) };
  if ('domain' in x) return { every: { key: x.key ? term(x.key) : null, value: term(x.value), domain: term(x.domain), body: body(x.body) } };
  if (x.type === 'not') return { not: body(x.body) };
  if ('lhs' in x) return { [String(x.type).replace(/^logical/, '')]: [body(x.lhs), body(x.rhs)] };
  return term(x);
}

function expr(e: unknown): unknown {
  const x = e as J;
  return {
    negated: !!x.negated,
    terms: exprTerms(x.terms),
    with: ((x.with as J[] | undefined) ?? []).map((w) => [term(w.target), term(w.value)]),
  };
}

function body(b: unknown): unknown {
  return (b as unknown[]).map(expr);
}

function rule(r: unknown): unknown {
  const x = r as J;
  const h = x.head as J;
  return {
    default: !!x.default,
    head: {
      ref: (h.ref as unknown[]).map(term),
      args: ((h.args as unknown[] | undefined) ?? []).map(term),
      key: h.key ? term(h.key) : null,
      value: h.value ? term(h.value) : null,
      assign: !!h.assign,
    },
    body: body(x.body),
    else: x.else ? rule(x.else) : null,
  };
}

function canonicalModule(m: unknown): unknown {
  const x = m as J;
  return {
    package: ((x.package as J).path as unknown[]).map(term),
    imports: ((x.imports as J[] | undefined) ?? []).map((i) => ({ path: term(i.path), alias: i.alias ?? null })),
    rules: ((x.rules as unknown[] | undefined) ?? []).map(rule),
  };
}

test('our AST matches opa parse --format json on representative policies', { timeout: 120_000 }, async () => {
  const oracle = new OpaParseOracle(opaPath(), 'differential');
  try {
    const reference = await oracle.parseAll(POLICIES);
    POLICIES.forEach((p, i) => {
      assert.ok(reference[i].ok, `reference OPA rejects the "${p.name}" policy: ${JSON.stringify(reference[i].json)}`);
      const ours = parseModule('p.rego', p.source, { regoVersion: p.version });
      assert.deepEqual(ours.errors, [], p.name);
      assert.deepEqual(canonicalModule(ours.module), canonicalModule(reference[i].json), p.name);
    });
  } finally {
    oracle.close();
  }
});
