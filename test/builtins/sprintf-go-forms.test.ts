// sprintf's less common Go forms against what `opa eval` prints: floats in hexadecimal (%x, %X) and binary
// exponent (%b) form, the # flag (0x/0b/0 prefixes, a float's kept point and zeros, also inside a bad verb's
// %!verb(float64=…)), strings' bytes cut by a precision and spaced by the space flag, big integers in other bases,
// and digits beyond the shortest ones (subnormals, precisions past 15). Checked in the host's sprintf and in
// policies compiled to wasm, whose runtime formats the common forms itself and leaves these to the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sprintfBuiltins } from '../../src/builtins/sprintf.js';
import { parseRegoValue } from '../../src/builtins/rego-value.js';
import { referenceOpa } from '../engine/opa-fixture.js';

// [format, values as JSON text]: the text keeps numbers as written (1.0 is a float, -0.0 keeps its sign).
const CASES: [string, string][] = [
  ['%x|%X|%x|%x', '[0.1, 0.1, -2.0, 1.5]'],
  ['%x|%x|%x|%x|%x', '[0.0, -0.0, 5e-324, 2.5e-310, 1.7976931348623157e308]'],
  ['%.3x|%.0x|%.0x|%.15x|%.12x|%.1x', '[0.1, 1.5, 1.9999, 0.1, 0.999999999999999, 1e-310]'],
  ['%+x|% x|%012x|%10.2x|%-12x|', '[3.0, 1.5, 1.5, 3.14, 1.5]'],
  ['%b|%b|%b|%b|%.3b', '[1.5, 5e-324, 0.0, -1.5, 1.5]'],
  ['%#x|%#x|%#.3x|%#X|%#x|%#b', '[1.0, 1.5, 1.0, 0.5, 5e-324, 1.5]'],
  ['%#.0e|%#.0f|%#g|%#g|%#g|%#.3g|%#G|%#8.2e|%#e|%#f', '[1.5, 1.5, 100000.0, 1e6, 0.0, 0.0001234, 1e-7, -1.0, 1.5, 1.5]'],
  ['%#.3o|%#q|%#.3d|%#s|%#10.3o|%#t|%#v|%#.3v', '[1.5, 1.5, 1.5, 1.5, 1.5, 2.0, 1.5, 1.5]'],
  ['%e|%E|%.3e|%.3g|%.17g|%g|%f', '[5e-324, 5e-324, 5e-324, 5e-324, 5e-324, 5e-324, 5e-324]'],
  ['%.20f|%.20e|%.20g|%.30g|%.2f|%.16e|%.330f', '[0.1, 0.1, 0.1, 1e-300, 1e23, 1e23, 5e-324]'],
  ['%#x|%#o|%#.3o|%#X|%#o|%#.0o|%#x|%#.0x|%#b|%#.3x|%#5.3o', '[255, 8, 8, -255, 0, 0, 0, 0, 5, 1, 1]'],
  ['%#08x|%#-8x|%#08.3x|%#+x|%# x|%#-08x|%#010b|%+#o|%#d|%#08v', '[255, 255, 255, 255, 255, -255, -5, 8, 5, 5]'],
  ['%x|%o|%b|%#08x|%#.40o|%#040x|%#-40x|%+40d', '[123456789012345678901234567890, 123456789012345678901234567890, -123456789012345678901234567890, 123456789012345678901234567890, 123456789012345678901234567890, 123456789012345678901234567890, 123456789012345678901234567890, 123456789012345678901234567890]'],
  ['%.2x|%08x|%#8x|% X|%# X|%#x|%#5x|', '["abcdef", "ab", "ab", "abc", "ab", "", ""]'],
  // One directive the runtime leaves to the host makes the host answer every directive of the call.
  ['%d %s %.2f %v %x %#x', '[7, "s", 2.675, [1, "b"], 255, 1.5]'],
];

const sprintf = sprintfBuiltins[0]!.host as (format: string, values: unknown[]) => string;

/** The answers of `<command> eval` for every case; formats and values come from input, so nothing is folded. */
function evalAnswers(command: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-sprintf-forms-'));
  try {
    writeFileSync(join(dir, 'input.json'), `{"cases": [${CASES.map(([f, v]) => `[${JSON.stringify(f)}, ${v}]`).join(', ')}]}`);
    const [file, ...args] = command;
    const out = execFileSync(file!, [...args, 'eval', '--format', 'json', '-i', join(dir, 'input.json'), 'x := [sprintf(c[0], c[1]) | some c in input.cases]'], { encoding: 'utf8' });
    return (JSON.parse(out) as { result: [{ bindings: { x: string[] } }] }).result[0].bindings.x;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the host sprintf prints hex and binary floats, # forms, cut and spaced string bytes and exact digits as opa eval does', () => {
  const want = evalAnswers([referenceOpa()]);
  // The cases mean something: OPA's answers hold hex floats, kept points and the digits of a subnormal.
  assert.equal(want[0], '0x1.999999999999ap-04|0X1.999999999999AP-04|-0x1p+01|0x1.8p+00');
  assert.match(want[7]!, /^%!o\(float64=1\.50\)/);
  assert.match(want[8]!, /^4\.940656e-324/);
  CASES.forEach(([f, v], i) => assert.equal(sprintf(f, parseRegoValue(v, true) as unknown[]), want[i], `${f} of ${v}`));
});

test('policies compiled to wasm (verdict eval) print the same forms as opa eval', () => {
  assert.deepEqual(evalAnswers([process.execPath, 'dist/src/main.js']), evalAnswers([referenceOpa()]));
});
