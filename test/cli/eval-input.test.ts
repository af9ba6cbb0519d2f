// Differential test: how `verdict eval` reads -i/-I input and -d JSON data against the pinned `opa eval`, comparing
// stdout, stderr and the exit code byte for byte: numbers a JS number would change (beyond 2^53, 1e400, 1.0,
// -0), numbers beyond OPA's range, YAML in a .json input, empty input, falsy inputs, unreadable files, input that
// is neither JSON nor YAML (Go's YAML messages), and data files with text after the document.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = resolve(execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim());
const dir = mkdtempSync(join(tmpdir(), 'verdict-eval-input-'));

const files: Record<string, string> = {
  'numbers.json': '{"big": 12345678901234567890, "over": 9007199254740993, "huge": 1e400, "one": 1.0, "neg0": -0, "small": 5e-324}',
  'too-big.json': '{"x": 1e200000}',
  'empty.json': '',
  'comment.json': '# nothing\n',
  'yaml-in.json': 'a: 12345678901234567890\nb: [1, 2]\n',
  'numbers.yaml': 'x: 12345678901234567890\ny: 1.0\nz: 1e400\n',
  'unclosed.json': '{"x": 1',
  'then-null.json': '{"a": 1} null',
  'then-number.json': '{"a": 1} 1.50',
  'then-string.json': '{"a": 1} "abc"',
  'then-bool.json': '{"a": 1} true',
  'then-array.json': '{"a": 1} [1,',
  'then-object.json': '{"a": 1}\n{"b": 2}',
  'then-brace.json': '{"a": 1}}',
  'then-junk.json': '{"a": 1} x',
  'then-open-string.json': '{"a": 1} "ab',
  'array.json': '[1]',
  'unclosed-lines.json': '{\n"a": 1,\n"b": 2\n',
  'unclosed-array.yaml': 'x: [1',
  'unclosed-map.yaml': 'x: {"a": 1',
  'cut-after-comma.yaml': 'x: [\n  1,\n',
  'cut-after-colon.json': '{"a":\n',
  'after-document.json': '{"a": 1}\n\nx',
  'mapping-in-value.yaml': 'a:\n  b: c: d\n',
  'tab-indent.yaml': 'a:\n\tb: 1',
  'open-quote.yaml': '"abc\n',
  'infinity.yaml': 'a: [1, .nan]',
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
mkdirSync(join(dir, 'a-directory'));

const cases: Array<{ args: string[]; stdin?: string }> = [
  { args: ['-i', 'numbers.json', 'input'] },
  { args: ['-i', 'numbers.json', 'input.big + 1'] },
  { args: ['-i', 'numbers.json', '-f', 'raw', 'input.big'] },
  { args: ['-f', 'raw', '{"a": "<&>", "b": [1.0, 1e400, -0]}'] },
  { args: ['-d', 'numbers.json', 'data.big'] },
  { args: ['-d', 'numbers.json', 'data.over - 1'] },
  { args: ['-p', '-i', 'numbers.json', 'input.big == data.x'] },
  { args: ['-i', 'too-big.json', 'input.x'] },
  { args: ['-d', 'too-big.json', 'data.x'] },
  { args: ['-i', 'empty.json', 'input'] },
  { args: ['-i', 'comment.json', 'input'] },
  { args: ['-i', 'yaml-in.json', 'input'] },
  { args: ['-i', 'numbers.yaml', 'input'] },
  { args: ['-i', 'missing.json', 'input'] },
  { args: ['-i', 'a-directory', 'input'] },
  { args: ['-f', 'pretty', '-i', 'missing.json', 'input'] },
  { args: ['-I', 'input'], stdin: 'false' },
  { args: ['-I', 'input'], stdin: '0' },
  { args: ['-I', 'input'], stdin: '""' },
  { args: ['-I', 'input'], stdin: 'null' },
  { args: ['-I', 'input.n'], stdin: '{"n": 123456789012345678901234567890}' },
  ...['unclosed.json', 'then-junk.json', 'then-brace.json', 'unclosed-lines.json', 'unclosed-array.yaml', 'unclosed-map.yaml', 'cut-after-comma.yaml', 'cut-after-colon.json', 'after-document.json', 'mapping-in-value.yaml', 'tab-indent.yaml', 'open-quote.yaml', 'infinity.yaml'].map((f) => ({ args: ['-i', f, 'input'] })),
];
for (const name of Object.keys(files).filter((f) => f.startsWith('then-') || f === 'unclosed.json' || f === 'empty.json' || f === 'array.json')) {
  cases.push({ args: ['-d', name, 'data.a'] });
}

describe('verdict eval reads input and data files as opa eval does', sideBySide, () => {
  for (const c of cases) {
    it(`${c.args.join(' ')}${c.stdin ? ` <<< ${c.stdin}` : ''}`, async () => {
      const options = { stdin: c.stdin, cwd: dir };
      const [ours, theirs] = await Promise.all([runVerdict(['eval', ...c.args], options), runCommand(opa, ['eval', ...c.args], options)]);
      assert.deepEqual(ours, theirs);
    });
  }
});
