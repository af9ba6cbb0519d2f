// Numbers against the reference OPA: every expression in the table becomes a rule of one module, evaluated by
// Verdict's compiler and wasm runtime and by one `opa eval`; each answer's number text must be the same
// (OPA's arithmetic is exact for integers and uses 64-bit mantissas otherwise, so 0.1 + 0.2 is 0.3 and
// 1.1 + 2.2 is 3.3000000000000000002), and an expression OPA leaves undefined must be undefined here too.
// The same module goes through the partial evaluator (`verdict eval -p`, the Compile API), which folds every
// call on known values in JavaScript, against `opa eval -p`: its numbers must be the same digits as well.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostBuiltins } from '../../src/builtins/index.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { compileRego } from '../../src/compiler/compile-rego.js';
import { loadPolicy } from '../../src/engine/wasm-host.js';

const EXPRESSIONS = [
  // integers: exact at any size
  '2 + 3', '9223372036854775807 + 1', '-9223372036854775808 - 1', '18446744073709551617 * 18446744073709551617',
  '123456789012345678901234567890 - 123456789012345678901234567891', '9007199254740993 / 3', '10 / 4', '7 / 7',
  '-7 % 3', '7 % -3', '18446744073709551617 % 10', '-18446744073709551617 % 10', '5 % 55340232221128654848',
  '7 % 2.0', '1e2 % 3', '7.5 % 2', '1 % 0', '1 / 0', '1e30 % 7', '18446744073709551617 % 7',
  '100000000000000000000 - 1', '18446744073709551617 - 18446744073709551619',
  // an integral value is an integer however written
  '1e30 + 1', '1e40 + 1', '2.0 + 18446744073709551617', '1.5e1 + 1', '1e400 + 1', '10.00 * 1e30', '1e3000 - 1',
  'product([1e30, 3])', 'product([2.0, 3])', '1e30 / 3',
  // small dyadic values: the float64 fast path
  '0.5 + 0.25', '2.75 - 3', '1.5 * 2', '0.5 * 0.5', '3 / 0.5', '1 / 1024 + 0', '65535.5 + 0.25', '-0.5 + 0.5',
  // decimals: 64-bit mantissa, shortest text
  '0.1 + 0.2', '1.1 + 2.2', '0.3 - 0.1', '1 - 0.9', '0.1 * 3', '0.1 * 0.2', '10 / 3', '1 / 3', '2 / 3', '1 / 7',
  '100 / 7', '1 / 3 * 3', '3 - 1.1', '(0.1 + 0.2) * 10', '1e-7 + 0', '0.000001 + 0', '0.0001 + 0', '1e-5 + 0',
  '1234567.5 + 0', '999999.5 + 0', '100000.5 + 0', '123456789.123456789 * 1000', '123456789012345678 + 0.5',
  '9007199254740994 / 3', '12345678901234567890123 / 3', '18446744073709551617 / 2', '18446744073709551618 / 2',
  '3.0 + 0', '1e2 + 0', '2.5 * 2', '-0.5 * 0', '2.5 - 2.5', '1.5e300 * 1.5e300', '1e308 * 10', '1e400 * 2',
  '1e400 * 1.5', '1e400 / 3', '1e400 + 0.5', '1e400 - 1e400', '1e1000 / 1e999', '2.5e-400 + 0', '0.1 + 0.7',
  '4.35 * 100', '1.005 * 1000', '0.07 * 100', '-1.1 - 2.2', '1e21 + 0', '1e22 / 7', '5e-324 * 0.5',
  // comparisons and aggregates
  '0.1 + 0.2 == 0.3', '1.1 + 2.2 == 3.3', '1e400 > 1e399', 'sum([0.1, 0.2])', 'sum([0.1, 0.2, 0.3])', 'sum([1.1, 2.2])',
  'sum([9223372036854775807, 1])', 'product([0.1, 3])', 'product([0.1, 0.2])', 'product([1.1, 3])', 'product([2, 3, 4])',
  'product([18446744073709551617, 2])', 'product([1.5, 2])', 'max([1, 1.5, 1e400])', 'min([0.1 + 0.2, 0.3])',
  'abs(-0.1 - 0.2)', 'abs(-1.1 - 2.2)', 'abs(-1e400)', 'round(1.1 + 2.2)', 'round(-2.5)', 'ceil(1.2)', 'floor(-1.2)',
  // rounding: the operand at 64 bits, the integer in full; OPA's sign rule makes ceil(-0.5) 1 and floor(-0.5) 0
  'round(1e400 + 0.5)', 'floor(12345678901234567890.5)', 'floor(123456789012345678901234567890)', 'ceil(1e30 + 0.5)',
  'round(1e30 + 0.5)', 'ceil(9007199254740993.5)', 'floor(1e20)', 'round(12345678901234567890.5)', 'floor(1e400)',
  'floor(18446744073709551617)', 'round(18446744073709551615.0)', 'ceil(-0.5)', 'floor(-0.5)', 'round(-0.5)',
  'ceil(1e-400)', 'ceil(-1e-400)', 'floor(-1e-400)', 'round(0.49999999999999999999)', 'round(2.5e-1)', 'ceil(1.0)',
  'round(-0.4)', 'floor(-0.0)', 'ceil(-1.5)', 'floor(-1.5)', 'round(-2.5)', 'round(2.5)', 'floor(-0)', 'round(-1e400 - 0.5)',
  'ceil(-9223372036854775808.5)', 'floor(9223372036854775807.5)', 'round(-9223372036854775807)', 'ceil(1e-5)',
  'abs(-18446744073709551617)', 'abs(-9223372036854775808)', 'abs(1e-400)', 'abs(-0)', 'abs(123456789012345678901234567890)',
  // zero only when it is zero: 1e-400 is not
  '1 / 1e-400', '0 / 1e-400', '1e-400 * 1', '5 % 1e-400', '1e-400 / 1e-400', '0 / -5', '0 / 5', '-0 / 5', '0.0 / -2',
  '-0 * 1.5', '-0 + 0.5', '-0.0 * 1', '1 / 0.0', '1 / -0', '1 % 0.0', '-1e-400 / 1e-400',
  // conversions
  'format_int(18446744073709551617, 16)', 'format_int(-18446744073709551617, 2)', 'format_int(1e20, 16)',
  'format_int(-0.5, 10)', 'format_int(15.9, 16)', 'to_number("0.1") + to_number("0.2")', 'to_number("1e30103")',
  'json.unmarshal("1e30102")', 'json.unmarshal("1e30103")', 'json.unmarshal("5.01e-30104")', 'json.unmarshal("4.99e-30104")', 'json.unmarshal("9e-30104")',
  'json.unmarshal("123456789012345678901234567890")', 'json.marshal(0.1 + 0.2)', 'json.marshal(1.1 + 2.2)',
  'numbers.range(1, 5)', 'units.parse("1.5Ki")', 'units.parse_bytes("1.1KB")', 'numbers.range(1e20, 1e20 + 2)',
  'numbers.range_step(9007199254740993, 9007199254740995, 1)', 'numbers.range_step(1.0, 3, 1)', 'to_number("1e400") / 3',
  'count({1e400, 1e400 + 1})', 'sort([1e400, 1e399, 0.1 + 0.2, 0.3])', '{1e400 + 1, 1e400} == {1e400}',
  'max({0.30000000000000000001, 0.3})', 'min([1e-400, 0])', '1e400 > 1e399', '0.30000000000000000001 == 0.3',
  '1e400 in {1e399}', '1e-400 != 0', '[0.30000000000000000001] == [0.3]', 'numbers.range(18446744073709551617, 18446744073709551614)',
  'numbers.range(9223372036854775806, 9223372036854775808)', 'numbers.range(1.0, 3)', 'numbers.range(1.5, 3)',
  'numbers.range_step(1, 10, 3.0)', 'numbers.range_step(1.5, 10, 3)', 'numbers.range_step(1e20, 1e20 + 4, 2)',
  'to_number("1e-400")', 'to_number("1.7976931348623157e308")', 'to_number("1.7976931348623159e308")',
  'to_number("-1e309")', 'to_number("179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791")',
  'to_number("179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792")',
];

/** Seeded random decimals of every shape (short, long, tiny, huge) under each operator, for the shortest-text rule. */
function generated(count: number): string[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const operand = (): string => {
    const k = rnd();
    if (k < 0.3) return String(Math.floor(rnd() * 1000) / 100);
    if (k < 0.5) return (rnd() * 10 ** Math.floor(rnd() * 20 - 10)).toPrecision(1 + Math.floor(rnd() * 18));
    if (k < 0.6) return String(Math.floor(rnd() * 1e6));
    if (k < 0.7) return `${Math.floor(rnd() * 99) + 1}e${Math.floor(rnd() * 600 - 300)}`;
    return (rnd() * 1000).toFixed(Math.floor(rnd() * 12));
  };
  const ops = ['+', '-', '*', '/'];
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`${operand()} ${ops[Math.floor(rnd() * 4)]!} ${operand()}`);
  for (let i = 0; i < count / 8; i++) out.push(`sum([${operand()}, ${operand()}, ${operand()}])`, `product([${operand()}, ${operand()}])`);
  return out;
}

EXPRESSIONS.push(...generated(200));

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function module(): string {
  return `package numbers\n\n${EXPRESSIONS.map((e, i) => `r${i} := ${e}`).join('\n')}\n`;
}

/** JSON with every number token replaced by a string of its text, so no digit is lost in reading it. */
function numbersAsText(json: string): unknown {
  const marked = json.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|-?Infinity|NaN/g, (tok) => (tok.startsWith('"') ? tok : `"#${tok}"`));
  return JSON.parse(marked);
}

/** Runs `command` with the module written to a file (its path is the last argument); its stdout. */
function withModule(command: string, args: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-numbers-'));
  try {
    writeFileSync(join(dir, 'numbers.rego'), module());
    return execFileSync(command, [...args, '-d', join(dir, 'numbers.rego')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opaBinary(): string {
  return execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
}

function opaAnswers(): Record<string, unknown> {
  const out = withModule(opaBinary(), ['eval', '--format', 'json', 'data.numbers']);
  const doc = numbersAsText(out) as { result?: Array<{ expressions: Array<{ value: Record<string, unknown> }> }> };
  return doc.result?.[0]?.expressions[0]?.value ?? {};
}

/** An AST term of `eval -p` JSON as a value (numbers as their marked text, from numbersAsText). */
function termValue(t: { type: string; value: unknown }): unknown {
  switch (t.type) {
    case 'array': case 'set': return (t.value as Array<{ type: string; value: unknown }>).map(termValue);
    case 'object': return Object.fromEntries((t.value as Array<[{ value: unknown }, { type: string; value: unknown }]>).map(([k, v]) => [String(k.value), termValue(v)]));
    default: return t.value;
  }
}

/** The rules' values from `eval -p` of `input.x = data.numbers`: the residual query's right-hand side. */
function partialAnswers(command: string, prefix: string[]): Record<string, unknown> {
  const out = withModule(command, [...prefix, 'eval', '-p', '--format', 'json', 'input.x = data.numbers']);
  const doc = numbersAsText(out) as { partial?: { queries?: Array<Array<{ terms: Array<{ type: string; value: unknown }> }>> }; errors?: unknown };
  const object = doc.partial?.queries?.[0]?.[0]?.terms[2];
  assert.ok(object?.type === 'object', `no residual object: ${out.slice(0, 2000)}`);
  return termValue(object) as Record<string, unknown>;
}

async function ourAnswers(): Promise<Record<string, unknown>> {
  const wasm = compileRego([{ path: 'numbers.rego', source: module() }], ['numbers'], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData({});
  const [row] = numbersAsText(policy.evaluateToText(undefined, 'numbers', 'json')) as Array<{ result?: Record<string, unknown> }>;
  return row?.result ?? {};
}

test('partial evaluation folds numbers as the reference OPA does, digit for digit', async (t) => {
  const want = partialAnswers(opaBinary(), []);
  const got = partialAnswers(process.execPath, [join(repoRoot, 'dist/src/main.js')]);
  for (const [i, expr] of EXPRESSIONS.entries()) {
    await t.test(expr, () => assert.deepEqual(got[`r${i}`], want[`r${i}`]));
  }
});

test('numbers agree with the reference OPA, digit for digit', async (t) => {
  const want = opaAnswers();
  const got = await ourAnswers();
  for (const [i, expr] of EXPRESSIONS.entries()) {
    await t.test(expr, () => assert.deepEqual(got[`r${i}`], want[`r${i}`]));
  }
});
