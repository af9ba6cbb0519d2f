// What each stage does to a rule, pinned on small examples (stages run in order up to the one under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileModules } from '../../../src/compiler/compile.js';
import { parseModule } from '../../../src/compiler/parse-module.js';
import type { Stage } from '../../../src/compiler/stages/context.js';
import { STAGES } from '../../../src/compiler/stages/index.js';
import { showRule } from './show.js';

function rulesAfter(stageName: string, ...sources: string[]): string[] {
  const upTo: Stage[] = STAGES.slice(0, STAGES.findIndex((s) => s.name === stageName) + 1);
  assert.equal(upTo[upTo.length - 1].name, stageName);
  const modules = sources.map((s, i) => {
    const r = parseModule(`m${i}.rego`, s);
    assert.deepEqual(r.errors, []);
    return r.module!;
  });
  const { modules: out, errors } = compileModules(modules, {}, upTo);
  assert.deepEqual(errors, []);
  return out.flatMap((m) => m.rules.map(showRule));
}

test('ResolveRefs: rule names and imports become data refs; args and locals shadow them', () => {
  const rules = rulesAfter('ResolveRefs', `package app
import data.lib.roles
import input.user as u
allow if admin[u.name]
admin[name] := true if some name in roles.admins
f(roles) := roles[0]
g(x) := y if { allow := x; y := allow }
`, 'package app\nextra := 1\n');
  assert.deepEqual(rules.slice(0, 4), [
    'allow = true { data.app.admin[input.user.name] }',
    'admin[name] = true { some internal.member_2(name, data.lib.roles.admins) }',
    'f(roles) = roles[0] { true }',
    'g(x) = y { assign(allow, x); assign(y, allow) }',
  ]);
});

test('ResolveRefs: a rule of the same package in another module is resolved too', () => {
  const rules = rulesAfter('ResolveRefs', 'package app\np if extra > 0\n', 'package app\nextra := 1\n');
  assert.equal(rules[0], 'p = true { gt(data.app.extra, 0) }');
});

test('RewriteRuleHeadRefs: non-scalar head segments are bound to locals in the body', () => {
  const rules = rulesAfter('RewriteRuleHeadRefs', 'package h\na.b[input.k].c := 1 if input.on\n');
  assert.deepEqual(rules, ['a.b[__local0__].c = 1 { input.on; eq(__local0__, input.k) }']);
});

test('RewriteLocalVars: declared vars get unique names and := becomes =', () => {
  const rules = rulesAfter('RewriteLocalVars', `package l
p := y if { x := 1; y := x + 1 }
f(a, [b, _]) := a + b
`);
  assert.deepEqual(rules, [
    'p = __local1__ { eq(__local0__, 1); eq(__local1__, plus(__local0__, 1)) }',
    // A wildcard argument is numbered like the others (OPA's `opa eval -p` support functions show it so).
    'f(__local2__, [__local3__, __local4__]) = plus(__local2__, __local3__) { true }',
  ]);
});

test('RewriteLocalVars: some/in is desugared into a ref lookup; plain some disappears', () => {
  const rules = rulesAfter('RewriteLocalVars', `package l
p contains v if { some k, v in input.m; k != "x" }
q contains x if { some x in [1, 2] }
r if { some i; input.xs[i] > 0 }
`);
  assert.deepEqual(rules, [
    'p contains __local1__ { eq(__local1__, input.m[__local0__]); neq(__local0__, "x") }',
    // `some x in xs` generates its key before declaring it (and x): __local2__ goes unused, as in OPA.
    'q contains __local4__ { eq(__local4__, [1, 2][__local3__]) }',
    'r = true { gt(input.xs[__local5__], 0) }',
  ]);
});

test('RewriteLocalVars: every, comprehensions and not-bodies open their own scope', () => {
  const rules = rulesAfter('RewriteLocalVars', `package l
p if {
  x := 1
  every k, v in input.o { v > x; k != "" }
  ys := [x | x := input.zs[_]]
  count(ys) > 0
}
`);
  assert.deepEqual(rules, [
    'p = true { eq(__local0__, 1); every __local1__, __local2__ in input.o { gt(__local2__, __local0__); neq(__local1__, "") }; eq(__local4__, [__local3__ | eq(__local3__, input.zs[$0])]); gt(count(__local4__), 0) }',
  ]);
});

test('CheckRecursion: dependencies without a cycle are fine, a cycle names its path', () => {
  rulesAfter('CheckRecursion', 'package a\np if data.b.q\n', 'package b\nq if data.c.r\n', 'package c\nr := 1\n');
  const modules = ['package a\np if data.b.q\n', 'package b\nq if data.a.p\n'].map((s, i) => parseModule(`m${i}.rego`, s).module!);
  const { errors } = compileModules(modules);
  assert.deepEqual(errors.map((e) => [e.code, e.message]), [
    ['rego_recursion_error', 'rule data.a.p is recursive: data.a.p -> data.b.q -> data.a.p'],
    ['rego_recursion_error', 'rule data.b.q is recursive: data.b.q -> data.a.p -> data.b.q'],
  ]);
});

test('a stage with errors ends the run and the input modules are left unchanged', () => {
  const parsed = parseModule('m.rego', 'package s\np if { x := 1; x := 2 }\n').module!;
  const before = JSON.stringify(parsed);
  const { errors, timings } = compileModules([parsed]);
  assert.equal(errors[0].message, 'var x assigned above');
  assert.ok('RewriteLocalVars' in timings);
  assert.ok(!('CheckRecursion' in timings));
  assert.equal(JSON.stringify(parsed), before);
});

test('CheckSafetyRuleBodies: bodies are reordered so bindings come before reads', () => {
  const rules = rulesAfter('CheckSafetyRuleBodies', `package s
p if {
  y > 1
  count(ys) > 0
  ys = [v | some v in input.vs; v > y]
  y = input.x
}
`);
  assert.deepEqual(rules, [
    'p = true { eq(y, input.x); gt(y, 1); eq(ys, [__local2__ | eq(__local2__, input.vs[__local1__]); gt(__local2__, y)]); gt(count(ys), 0) }',
  ]);
});
