// sprintf's %q (with the + and # flags and a precision) through src/compiler/format/go-quote.ts, the one Go
// quoting Verdict has, against what `opa eval` prints: non-ASCII letters and symbols as they are, control and
// format characters escaped, lone surrogates as U+FFFD (Go's strings hold U+FFFD there), integers as characters;
// in the interpreter and in policies compiled to wasm alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sprintfBuiltins } from '../../src/builtins/sprintf.js';
import { NumberText } from '../../src/builtins/rego-value.js';
import { goQuoteInner } from '../../src/compiler/format/go-quote.js';
import { referenceOpa } from '../engine/opa-fixture.js';

const STRINGS = ['héllo', '日本', 'a\u0007b', '\u00a0x', '\u200b', '😀', '\u{e0001}', '\u007f', '\u0085', '\ud800', 'x\udc00y', 'tab\there', 'quote"back\\', "it's", '\u2028', '\ufffd', 'e\u0301', 'a\u0000b', '\u00ad', '\ufeff', 'back`tick', 'ünïcödé'];
const NUMBERS = [10, 65, 233, 128512, 7, 39, 34, 92, 55296, 1114112, -1, 0, 127, 0xe0001];
const FORMATS = ['%q', '%+q', '%#q', '%#+q', '%.2q', '%8q', '%-8q|'];

const sprintf = sprintfBuiltins[0]!.host as (format: string, values: unknown[]) => string;

type Answers = { strings: string[][]; numbers: string[][] };

/** The answers of `<command> eval` for every string and number in every format. */
function evalAnswers(command: string[]): Answers {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-sprintf-q-'));
  try {
    // Lone surrogates travel as JSON escapes: a file of UTF-8 text could not hold them.
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ strings: STRINGS, numbers: NUMBERS, formats: FORMATS }));
    const query = 'strings := [[sprintf(f, [s]) | some f in input.formats] | some s in input.strings]; numbers := [[sprintf(f, [n]) | some f in ["%q", "%+q"]] | some n in input.numbers]';
    const [file, ...args] = command;
    const out = execFileSync(file!, [...args, 'eval', '--format', 'json', '-i', join(dir, 'input.json'), query], { encoding: 'utf8' });
    return (JSON.parse(out) as { result: [{ bindings: Answers }] }).result[0].bindings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const opaAnswers = (): Answers => evalAnswers([referenceOpa()]);

test('sprintf %q, %+q, %#q and a precision quote strings and characters as opa eval does', () => {
  const want = opaAnswers();
  // The cases must mean something: escapes, literal non-ASCII, backquotes and U+FFFD all occur in OPA's answers.
  assert.equal(want.strings[0]![0], '"héllo"');
  assert.equal(want.strings[9]![0], '"\ufffd"');
  assert.equal(want.strings[4]![0], '"\\u200b"');
  assert.equal(want.strings[0]![2], '`héllo`');
  STRINGS.forEach((s, i) => FORMATS.forEach((f, j) => assert.equal(sprintf(f, [s]), want.strings[i]![j], `${f} of ${JSON.stringify(s)}`)));
  NUMBERS.forEach((n, i) => ['%q', '%+q'].forEach((f, j) => assert.equal(sprintf(f, [new NumberText(String(n))]), want.numbers[i]![j], `${f} of ${n}`)));
});

test('policies compiled to wasm (verdict eval) quote as opa eval does: the runtime leaves %q to the host', () => {
  // sprintf with a %q verb in a compiled module is answered by the host's sprintf (b_sprintf_defers), the one
  // quoting Verdict has; formats and arguments come from input, so nothing is folded at compile time.
  assert.deepEqual(evalAnswers([process.execPath, 'dist/src/main.js']), opaAnswers());
});

test('opa fmt writes a lone surrogate in a template string as U+FFFD, which is printable', () => {
  // `opa fmt` of $"a\ud800b{1}" gives $"a�b1".
  assert.equal(goQuoteInner('a\ud800b'), 'a\ufffdb');
  assert.equal(goQuoteInner('a\u0007"{'), 'a\\a\\"{');
});
