// Partial evaluation by Verdict and by the reference `opa eval -p --format json`, on our data-filtering
// policies: the residual queries and support modules must be equivalent once generated variable names,
// unification operand order and expression/query order are normalised (test/compiler/partial/normalise.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verdictBuiltins, verdictDeprecated } from '../../../src/compiler/builtins.js';
import { partialEvaluate, partialResultJson } from '../../../src/compiler/partial/index.js';
import { opaPath } from '../opa-oracle.js';
import { filterCases } from './cases.js';
import { normaliseQueries, normaliseSupport, sortedJson } from './normalise.js';

const opa = opaPath();
const dir = mkdtempSync(join(tmpdir(), 'verdict-partial-diff-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

interface Case {
  policy: string;
  data: unknown;
  input?: unknown;
  query: string;
  unknowns: string[];
  disableInlining?: string[];
}

export function opaPartial(c: Case): { queries: Json[][]; support: Json[] } {
  writeFileSync(join(dir, 'p.rego'), c.policy);
  writeFileSync(join(dir, 'data.json'), JSON.stringify(c.data));
  const args = ['eval', '-p', '--format', 'json', '-d', join(dir, 'p.rego'), '-d', join(dir, 'data.json')];
  if (c.input !== undefined) {
    writeFileSync(join(dir, 'input.json'), JSON.stringify(c.input));
    args.push('-i', join(dir, 'input.json'));
  }
  for (const u of c.unknowns) args.push('--unknowns', u);
  for (const d of c.disableInlining ?? []) args.push('--disable-inlining', d);
  const out = JSON.parse(execFileSync(opa, [...args, c.query], { encoding: 'utf8' })) as { partial?: { queries?: Json[][]; modules?: Json[] } };
  return { queries: out.partial?.queries ?? [], support: out.partial?.modules ?? [] };
}

export function verdictPartial(c: Case): { queries: Json[][]; support: Json[] } {
  const result = partialEvaluate([{ path: 'p.rego', source: c.policy }], { query: c.query, unknowns: c.unknowns, disableInlining: c.disableInlining, input: c.input, data: c.data }, { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  const json = JSON.parse(JSON.stringify(partialResultJson(result))) as { queries: Json[][]; support: Json[] };
  return json;
}

describe('partial evaluation matches opa eval -p', () => {
  for (const fc of filterCases) {
    it(fc.name, () => {
      const c: Case = { policy: fc.policy, data: fc.data, input: { user: fc.user }, query: fc.query, unknowns: fc.unknowns ?? ['input.ticket'], disableInlining: fc.disableInlining };
      const theirs = opaPartial(c);
      const ours = verdictPartial(c);
      if (fc.residualDiffers) {
        assert.notDeepEqual([normaliseQueries(ours.queries), normaliseSupport(ours.support)], [normaliseQueries(theirs.queries), normaliseSupport(theirs.support)], `now the same as OPA's: drop residualDiffers (${fc.residualDiffers})`);
        return;
      }
      assert.deepEqual(normaliseQueries(ours.queries), normaliseQueries(theirs.queries));
      assert.deepEqual(normaliseSupport(ours.support), normaliseSupport(theirs.support));
    });
  }
});

// Exactly OPA's answer, not only an equivalent one: the order of queries, expressions, operands and support
// rules, and the names of generated variables.
describe('partial evaluation gives exactly the JSON of opa eval -p', () => {
  const exact: { name: string; policy: string; query: string; unknowns?: string[]; data?: unknown; disableInlining?: string[] }[] = [
    {
      name: 'a default rule sorts before a rule of the same head with a greater value, after one of the same value',
      policy: 'package t\n\ndefault p := false\np if q\nq if input.x = 1\n\ndefault r := true\nr if input.y = 2\n',
      query: 'data.t.p = x; data.t.r = y',
    },
    { name: 'the data document, holding a rule that depends on unknowns, is kept as a reference', policy: 'package t\n\nallow if input.user == "alice"\n', query: 'data' },
    ...['data.t.r1 == 1', '1 == data.t.r2', 'data.t.r3 = x', 'x = data.t.r4', 'data.t.r1 = x', 'data.t.r3 == 1'].map((query) => ({
      name: `a rule's residual value after what it is equated with, unless its body wrote the reference first: ${query}`,
      policy: 'package t\n\nr1 := input.a\nr2 := x if x := input.a\nr3 := x if input.a = x\nr4 := x if x = input.a\n',
      query,
    })),
    { name: "the query's own wildcards keep their names", policy: 'package t\n', query: 'input.xs[_] == 2; some i; input.ys[i] = 1; input.x[_][_] = 1' },
    { name: 'an equation written twice stays twice', policy: 'package t\n', query: '"alice" = input.user; "alice" = input.user; input.x == 1; input.x == 1' },
    { name: 'a rule inlined twice keeps its equations twice', policy: 'package t\n\nb if {\n  input.y = y\n  y == 2\n}\n', query: 'data.t.b; data.t.b' },
    { name: 'a body unrolled twice by every keeps its expressions twice', policy: 'package t\n\np if {\n  y := 3\n  every x in [1, 2] { x != 0; input > y }\n}\n', query: 'data.t.p' },
    { name: 'equations reached again through a variable bound to an unknown are once', policy: 'package t\n\np := x if {\n  input = x\n  x = 100\n}\n', query: 'data.t.p == 100; input.a = y; y = 1; 1 = y; y = 1' },
    { name: "a rule's variables left residual are named after the rule body's query", policy: 'package t\n\np if {\n  input.x[i].foo = 1\n  input.y[j].bar = 2\n}\n', query: 'data.t.p' },
    {
      name: "a support rule's value read from an unknown is held in the rule's own variable, named after its body's query, equated as written",
      policy: 'package t\n\ns contains x if input.x = x\ns contains x if input.y = x\n',
      query: 'data.t.s = y',
    },
    ...['data.t.s = z; data.t.w = y; data.t.v = u', 'data.t.s[x]'].map((query) => ({
      name: `the locals of \`some … in\` are numbered as OPA numbers them (its key generated first, then each name declared in order): ${query}`,
      policy: 'package t\n\ns contains x if some x in input.xs\nw contains [a, b] if { some [b, a] in input.xs }\nv contains x if some _, x in input.ys\n',
      query,
    })),
    ...['data.t.s[_]', 'input.b = 1; data.t.s[_]; x = 7'].map((query) => ({
      name: `a query's wildcard bound to an unknown value stays, as a named variable does: ${query}`,
      policy: 'package t\n\ns contains x if some x in input.xs\n',
      query,
    })),
    ...['y = input.a; count(input.xs) > 1', 'some i; input.xs[i] = x; input.n < 1', 'x = input.c; y = 7; input.n < 1', 'y = data.t.r1; input.b == 1', 'x = input.b; x = input.n + 1; input.b == null with input.z as 1', 'x = 7; input.n == 2; y = data.t.r1'].map((query) => ({
      name: `a query variable bound to an unknown keeps its place among the expressions (known values last): ${query}`,
      policy: 'package t\n\nr1 := input.a\n',
      query,
    })),
    ...['data.t.q', 'y := input.y; data.t.q; w := input.w', Array.from({ length: 11 }, (_, i) => `a${i} := input.a${i}`).join('; ')].map((query) => ({
      name: `a variable bound to an unknown and used nowhere else keeps its equation, named after the rule body's query, last, names in descending text order: ${query}`,
      policy: 'package t\n\nq if {\n  m = input.foo1\n  input.b = 2\n  z = input.foo2\n  a = input.foo3\n  input.c = 3\n}\n',
      query,
    })),
    ...['data.t.in_comprehension', 'data.t.in_every'].map((query) => ({
      name: `\`a == b\` kept in a closure is written as a unification, as OPA's compiler leaves it: ${query}`,
      policy: 'package t\n\nin_comprehension if {\n  c := {y | y := input.y[_]; y == 1}\n  count(c) > 0\n}\n\nin_every if {\n  every a in input.z { a == 1 }\n}',
      query,
    })),
    ...['data.t.p[input.x]', 'data.t.p[x].r[y][input.x] = input.y', 'data.t.foo[input.a][input.b]'].map((query) => ({
      name: `a residual segment of a reference into rules is equated with each key the rules give, the key first: ${query}`,
      policy: 'package t\n\np[q].r[s] = {v: w} if {\n  q = {"foo", "bar"}[s]\n  v = "baz"\n  w = "bax"\n}\n\np.q.r.s := {1: 2}\n\nfoo.bar contains baz if baz := "baz"\n',
      query,
    })),
    ...['data.t.p = x', 'data.t.s = x'].map((query) => ({
      name: `a support rule's head terms read from an unknown are held in the body's own variables, in the order the body bound them: ${query}`,
      policy: 'package t\n\np[x] = y if {\n  x = input.x\n  y = input.y\n}\n\np[x] = y if {\n  x = input.z\n  y = input.a\n}\n\ns[x] contains y if {\n  y = {a: b}\n  a = "foo"\n  b = input.x\n  x := input.y\n}\n',
      query,
    })),
    ...['z = 1; c = 2; input.q = 1; a = 3', 'b = input.b; m = [b]; z = 1; c = 2; input.q = 1; a = [b]'].map((query) => ({
      name: `the query's other variables' values come last, those holding residual terms first, each in order of the names: ${query}`,
      policy: 'package t\n',
      query,
    })),
    ...['data.t.p', 'data.t.q', 'data.t.s = x'].map((query) => ({
      name: `a residual call's output keeps the rule's variable where it is indexed or is a support rule's head, and elsewhere the call takes each of its places: ${query}`,
      policy: 'package t\n\np if {\n  split(input.s, ":", parts)\n  first = parts\n  first[1] == "b"\n}\n\nq if {\n  z := lower(input.x)\n  w := upper(z)\n  count(w) > count(z)\n  not startswith(z, "a")\n  c := [y | y := input.y[_]; y == z]\n  count(c) > 0\n}\n\ns contains y if {\n  y := upper(input.name)\n  startswith(y, "A")\n}\n',
      query,
    })),
    ...['data.t.c', 'data.t.v[[x, y]]', 'data.t.r = [1]'].map((query) => ({
      name: `operands as OPA writes them: a call whose output is one of its operands, a reference bound variable first, a rule's comprehension value: ${query}`,
      policy: 'package t\n\nc if {\n  a = {x | x = input.a[_]}\n  b = {x | x = input.b[_]}\n  a | b == a\n}\n\nv contains [u, w] if {\n  input.u = u\n  z = input.v\n  z = w\n}\n\nr = x if {\n  x = [1 | q]\n}\n\nq if input.a\n',
      query,
    })),
    ...['input.c == 1 with input.z as 1; data.t.s[_]', 'input.n == 2 with input.z as 1; data.t.f(input.b) == 7'].map((query) => ({
      name: `a \`with\` kept on an expression keeps that expression's equations only, not the next ones': ${query}`,
      policy: 'package t\n\ns contains x if some x in input.xs\n\nf(x) := x + 1\n',
      query,
    })),
    ...['input.x = x; data.t.s[x]', 'data.t.o[input.k] = v'].map((query) => ({
      name: `a known partial set or object read at a key holding an unknown answers in its rules' order: ${query}`,
      policy: 'package t\n\ns contains "b"\ns contains "a"\n\no[k] := n if some n, k in ["z", "y"]\n',
      query,
    })),
    ...['data.t.q[1] = data.t.r[2]', 'data.t.q[1] == data.t.k[0]', 'data.t.k[0] = data.t.q[1]', 'data.t.q[1] = data.t.r', 'data.t.s[0] = data.t.r', 'data.t.q = data.t.r', 'data.t.q = data.t.r[2]', 'data.t.o.z = data.t.q[1]', 'data.t.o.z = data.t.o.y', 'data.t.q[1] = data.t.base.x', 'data.t.q[1] = input.c[2]', 'input.c[2] = data.t.q[1]'].map((query) => ({
      name: `two references read in turn, the second's value first unless both stop at a rule's value or the second is base data: ${query}`,
      policy: 'package t\n\nq := a if a = input.a\nr := b if b = input.b\nk := [5, 6]\ns := input.s\no[key] := v if v = input.o[key]\n',
      data: { t: { base: { x: 3 } } },
      query,
    })),
    {
      name: "a function's parameter bound to an unknown it does not use keeps its definedness, named after the function body's query",
      policy: 'package t\n\ng(a, b) if true\n\ns contains 1 if {\n  g(input.m, input.n)\n  input.z == 2\n}\n',
      disableInlining: ['data.t.s'],
      query: 'data.t.s',
    },
    {
      name: 'a support function keeps its residual lone terms equated with a variable, and its wildcard parameters as locals',
      policy: 'package t\n\nf(x) := 1 if {\n  input.w\n  x\n}\n\nh(_, _) := 2 if input.v\n\np if {\n  f(true)\n  h(1, 2)\n}\n',
      disableInlining: ['data.t.f', 'data.t.h'],
      query: 'data.t.p',
    },
  ];
  for (const c of exact) {
    it(c.name, () => {
      const args: Case = { policy: c.policy, data: c.data ?? {}, query: c.query, unknowns: c.unknowns ?? ['input'], disableInlining: c.disableInlining };
      assert.equal(sortedJson(verdictPartial(args)), sortedJson(opaPartial(args)));
    });
  }
});
