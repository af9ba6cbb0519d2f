// The one printer of Rego terms and expressions from the AST, in the styles its three users ask for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModule } from '../../src/compiler/parse-module.js';
import type { Expr } from '../../src/compiler/ast.js';
import { INFIX_OPERATORS, isIdentifier, nameSegment, RegoText } from '../../src/compiler/rego-text.js';

function body(source: string, imports = ''): Expr[] {
  const { module, errors } = parseModule('t.rego', `package t\n${imports}\np if {\n${source}\n}\n`, { regoVersion: 'v1' });
  assert.deepEqual(errors, []);
  return module!.rules[0]!.body;
}

const source = new RegoText({ infix: { ...INFIX_OPERATORS, 'internal.member_2': 'in', 'internal.member_3': 'in' }, nestedInfix: true });
const message = new RegoText({ varText: (name) => name, infix: { eq: '=', 'internal.member_2': 'in' }, short: true });

test('identifiers and ref segments', () => {
  assert.ok(isIdentifier('_a1') && !isIdentifier('1a') && !isIdentifier('a-b') && !isIdentifier(''));
  assert.equal(nameSegment('x'), '.x');
  assert.equal(nameSegment('a b'), '["a b"]');
});

test('infix operators, nested and parenthesised where the style writes them so, else calls', () => {
  const [e] = body('x := input.a["b c"][0] + (1 * 2)');
  // The formatter that reads it back drops the parentheses it does not need.
  assert.equal(source.expr(e!), 'x := (input.a["b c"][0] + (1 * 2))');
  assert.equal(message.expr(e!), 'assign(x, plus(input.a["b c"][0], mul(1, 2)))');
  const [member] = body('some k, v in {"a": [1, {2}, set()]}');
  assert.equal(source.expr(member!), 'some k, v in {"a": [1, {2}, set()]}');
  assert.equal(message.expr(member!), 'some');
});

test('wildcards, comprehensions, every, not and with: printed, or in the short form named by their kind', () => {
  const exprs = body('_ = [y | y := input.z[_]]\nnot input.q with input.r as {"s": true}\nevery w in input.v { w > 1 }');
  assert.deepEqual(exprs.map((e) => source.expr(e)), ['_ = [y | y := input.z[_]]', 'not input.q with input.r as {"s": true}', 'every w in input.v { w > 1 }']);
  assert.deepEqual(exprs.map((e) => message.expr(e)), [`${(exprs[0]!.terms as [unknown, { value: string }])[1].value} = arraycomprehension`, 'not input.q', 'every']);
});

test('what a style cannot print is refused, or spelled as the style says', () => {
  const [logical] = body('input.a == 1 or input.b == 2', 'import future.keywords.or\n');
  assert.throws(() => source.expr(logical!), /a logicalor expression cannot be printed as Rego/);
  assert.equal(new RegoText({ logical: true }).expr(logical!), 'equal(input.a, 1) or equal(input.b, 2)');
});
