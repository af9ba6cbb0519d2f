// The AST shapes the planner relies on, pinned on small examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Module, Term } from '../../src/compiler/ast.js';
import { parseModule } from '../../src/compiler/parse-module.js';

function parse(source: string): Module {
  const { module, errors } = parseModule('t.rego', source);
  assert.deepEqual(errors, []);
  return module!;
}

function strip(x: unknown): unknown {
  return JSON.parse(JSON.stringify(x, (k, v) => (k === 'loc' ? undefined : v)));
}

test('numbers keep their literal text, however large', () => {
  const m = parse('package p\nx := 123456789012345678901234567890.000001e-5\n');
  assert.deepEqual(strip(m.rules[0].head.value), { type: 'number', value: '123456789012345678901234567890.000001e-5' });
});

test('infix operators become calls named like OPA builtins, with OPA precedence', () => {
  const m = parse('package p\nx := a + b * c == d | e & f if true\n');
  const v = strip(m.rules[0].head.value) as Term;
  const show = (t: Term): string => t.type === 'call'
    ? `${(t.value[0] as { value: { value: string }[] }).value.map((s) => s.value).join('.')}(${t.value.slice(1).map(show).join(', ')})`
    : t.type === 'var' ? t.value : t.type;
  assert.equal(show(v), 'equal(plus(a, mul(b, c)), or(d, and(e, f)))');
});

test('ref heads with variables keep the whole ref; rule locations point at the rule', () => {
  const m = parse('package p\n\na.b[x].c := v if {\n  some x, v in input.m\n}\n');
  const rule = m.rules[0];
  assert.deepEqual(strip(rule.head.ref), [
    { type: 'var', value: 'a' }, { type: 'string', value: 'b' }, { type: 'var', value: 'x' }, { type: 'string', value: 'c' },
  ]);
  assert.deepEqual(rule.loc.row, 3);
  assert.deepEqual(rule.body[0].loc.row, 4);
  assert.deepEqual(rule.body[0].loc.col, 3);
});

test('wildcards are renamed per module and else branches keep the function head', () => {
  const m = parse('package p\nf(_, y) := 1 if y > 0\nelse := 2\n');
  const r = m.rules[0];
  assert.equal((r.head.args![0] as { value: string }).value, '$0');
  assert.ok(r.else);
  assert.equal(r.else.head.args!.length, 2);
  assert.notEqual((r.else.head.args![0] as { value: string }).value, '$0');
});

test('METADATA blocks are kept on the module and on the rule they precede', () => {
  const m = parse('# METADATA\n# title: pkg\npackage p\n\n# METADATA\n# title: Allow\n# custom:\n#   severity: high\nallow := true\n');
  assert.deepEqual(m.annotations.map((a) => [a.scope, a.title]), [['package', 'pkg'], ['rule', 'Allow']]);
  assert.deepEqual(m.rules[0].annotations?.[0].custom, { severity: 'high' });
});

test('template strings keep literal chunks and expressions', () => {
  const m = parse('package p\nx := $"a{input.n}b{1}\\{c"\n');
  const t = strip(m.rules[0].head.value) as { value: { parts: Record<string, unknown>[] } };
  const [a, ref, b, one, rest] = t.value.parts;
  assert.deepEqual(a, { type: 'string', value: 'a' });
  assert.deepEqual(ref.terms, { type: 'ref', value: [{ type: 'var', value: 'input' }, { type: 'string', value: 'n' }] });
  assert.deepEqual(b, { type: 'string', value: 'b' });
  assert.deepEqual(one, { type: 'number', value: '1' });
  assert.deepEqual(rest, { type: 'string', value: '{c' });
});
