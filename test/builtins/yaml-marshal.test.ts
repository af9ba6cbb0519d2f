// Differential test: yaml.marshal against the pinned OPA on numbers (int64/uint64 bounds, 2^63, -0, 1e21, 1e400,
// Go's %g forms), strings in every style (plain, single- and double-quoted, literal blocks with their indicators),
// key order, nesting and sets, keys that must be complex (`? key`), line breaks other than LF, a leading
// byte-order mark, characters beyond U+FFFF and NEL (which Go's JSON leaves raw for the YAML decoder to fold).
// All calls are rules of one module, evaluated by `opa eval` and `verdict eval`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const opa = resolve(execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim());

/** Arguments as Rego terms. */
const terms = [
  String.raw`9223372036854775808`,
  String.raw`9223372036854775807`,
  String.raw`-9223372036854775808`,
  String.raw`-9223372036854775809`,
  String.raw`18446744073709551615`,
  String.raw`18446744073709551616`,
  String.raw`12345678901234567890`,
  String.raw`-0`,
  String.raw`-0.0`,
  String.raw`0`,
  String.raw`1e21`,
  String.raw`1e20`,
  String.raw`123456789012345678901`,
  String.raw`1.0`,
  String.raw`1.5`,
  String.raw`1e-7`,
  String.raw`0.000001`,
  String.raw`0.0001`,
  String.raw`1e400`,
  String.raw`-1e400`,
  String.raw`1e-400`,
  String.raw`100`,
  String.raw`3.14159`,
  String.raw`123456.7`,
  String.raw`2e-7`,
  String.raw`[1,{"a":-1.25}]`,
  String.raw`{"b":{"c":"yes","d":"1","e":"","f":null,"g":true}}`,
  String.raw`"multi\nline"`,
  String.raw`{"x":set()}`,
  String.raw`{1,2}`,
  String.raw`{"b","a",3}`,
  String.raw`"a: b"`,
  String.raw`"0x1F"`,
  String.raw`"- x"`,
  String.raw`1e6`,
  String.raw`1000000`,
  String.raw`1.0e+6`,
  String.raw`12345678.9`,
  String.raw`1e100`,
  String.raw`-1e-100`,
  String.raw`5e-324`,
  String.raw`1.7976931348623157e308`,
  String.raw`{"a10":1,"a2":2,"b":3,"B":4,"1":5,"10":6,"9":7,"_":8, "a":{"x":"multi\nline","l":[1,[2,3],{"q":1}], "e":{}, "f":[]}}`,
  String.raw`"1.0"`,
  String.raw`"true"`,
  String.raw`"on"`,
  String.raw`"null"`,
  String.raw`"~"`,
  String.raw`"1_000"`,
  String.raw`"0o17"`,
  String.raw`"2001-12-14"`,
  String.raw`"2001-13-14"`,
  String.raw`"2001-12-14T10:00:00Z"`,
  String.raw`"2001-12-14 10:00:00"`,
  String.raw`"1:20"`,
  String.raw`" lead"`,
  String.raw`"trail "`,
  String.raw`"tab\there"`,
  String.raw`"#x"`,
  String.raw`"x #y"`,
  String.raw`"x# y"`,
  String.raw`"é"`,
  String.raw`"\u0001"`,
  String.raw`"\u00a0x"`,
  String.raw`"x\ry"`,
  String.raw`"it's: x"`,
  String.raw`"word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word word"`,
  String.raw`""`,
  String.raw`"-"`,
  String.raw`"--- x"`,
  String.raw`"---"`,
  String.raw`"-x"`,
  String.raw`"[x"`,
  String.raw`"x]"`,
  String.raw`"x,y"`,
  String.raw`"*a"`,
  String.raw`"@x"`,
  String.raw`"?"`,
  String.raw`"?x"`,
  String.raw`":x"`,
  String.raw`"x:"`,
  String.raw`"x:y"`,
  String.raw`"x\n"`,
  String.raw`"\n"`,
  String.raw`"a\n\nb\n"`,
  String.raw`"a\n\n"`,
  String.raw`"  x\ny"`,
  String.raw`"x \ny"`,
  String.raw`"x\n y"`,
  String.raw`"\"q\""`,
  String.raw`"a\\b"`,
  String.raw`[]`,
  String.raw`{}`,
  String.raw`[[]]`,
  String.raw`[{}]`,
  String.raw`[{"a":[]}]`,
  String.raw`{"a: b":1}`,
  String.raw`{"":1}`,
  String.raw`{"yes":1}`,
  String.raw`[[[1]]]`,
  String.raw`["a\nb",{"c":"d\ne"}]`,
  String.raw`{"a":[{"b":"x\ny","c":[1]}]}`,
  String.raw`[{"a":1,"b":2},{"c":{"d":1}}]`,
  String.raw`null`,
  String.raw`true`,
  String.raw`"x"`,
  String.raw`{"a10":1,"a010":2,"a01":3,"a1":4,"a0":5, "a00":6}`,
  String.raw`{"x1y":1,"x1Y":2,"x10":3,"xa":4,"x_":5,"x":6,"é":7,"z":8}`,
  String.raw`{1: "a", 2.5: "b"}`,
  String.raw`{[1]: "a"}`,
  String.raw`{"a\nb": 1}`,
  String.raw`{"a\n": 1}`,
  String.raw`{"\nb": 1}`,
  String.raw`{"a\rb": 1}`,
  String.raw`{"a\u2028b": {}}`,
  String.raw`{"a\nb": [1, 2]}`,
  String.raw`{"a\nb": "x\ny"}`,
  String.raw`{"a\nb": []}`,
  String.raw`{"a\nb": null}`,
  String.raw`[{"a\nb": {"c": [1]}}]`,
  String.raw`{"l": {"a\nb": 1, "c": 2}}`,
  String.raw`{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1}`,
  String.raw`{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1}`,
  String.raw`"a\u2028b"`,
  String.raw`"\u2028a"`,
  String.raw`"a\u2028"`,
  String.raw`"a\u2028\u2029b"`,
  String.raw`"a: \u2028b"`,
  String.raw`{"k": "a\u2028b", "l": {"m": "a\u2028b"}}`,
  String.raw`["a\u2028b", ["c\u2029d"]]`,
  String.raw`"a\n\u2028b"`,
  String.raw`"a\u2028b\nc"`,
  String.raw`"\ufeffx"`,
  String.raw`"\ufeffa: b\n\"é€😀\u00a0"`,
  String.raw`"x\ufeff"`,
  String.raw`"\ufeff"`,
  String.raw`{"\ufeffk": 1}`,
  String.raw`"😀"`,
  String.raw`"a: 😀"`,
  String.raw`"a\u0085b"`,
  String.raw`"a: \u0085b"`,
  String.raw`"a \u0085  \u0085 b\u0085"`,
  String.raw`"\u0085a\u0085\u0085\u0085b"`,
  String.raw`{"a\u0085b": 1}`,
];

const dir = mkdtempSync(join(tmpdir(), 'verdict-yaml-marshal-'));
const file = join(dir, 't.rego');
writeFileSync(file, `package t\n\n${terms.map((term, i) => `r${i} := yaml.marshal(${term})`).join('\n')}\n`);

function answers(command: string, args: string[]): Record<string, string> {
  const out = execFileSync(command, [...args, 'eval', '-f', 'json', '-d', file, 'data.t'], { encoding: 'utf8' });
  return (JSON.parse(out) as { result: Array<{ expressions: Array<{ value: Record<string, string> }> }> }).result[0]!.expressions[0]!.value;
}

describe('yaml.marshal agrees with the reference OPA', () => {
  const theirs = answers(opa, []);
  const ours = answers(process.execPath, [resolve('dist/src/main.js')]);
  for (const [i, term] of terms.entries()) {
    it(term, () => assert.equal(ours[`r${i}`], theirs[`r${i}`]));
  }
});

describe('yaml.marshal fails as the reference OPA does on a key it cannot read back', () => {
  const terms = [
    String.raw`{"a\u0085b": 1}`,
    String.raw`["x\u0085y\u0085z", {"c\u0085": 1}]`,
    String.raw`{"a": "\u0085\u0085\u0085", "b": {"c\u0085": 1}}`,
    String.raw`{"b": {"x": "\u0085\u0085", "c\u0085": 1}}`,
    String.raw`{"b": {"x": "\u0085\u0085", "y": {"c\u0085": 1}}}`,
  ];
  for (const term of terms) {
    it(term, () => {
      const one = join(dir, 'strict.rego');
      writeFileSync(one, `package s\n\nr := yaml.marshal(${term})\n`);
      const error = (command: string, args: string[]) => {
        const run = spawnSync(command, [...args, 'eval', '--strict-builtin-errors', '-f', 'json', '-d', one, 'data.s.r'], { encoding: 'utf8' });
        return (JSON.parse(run.stdout) as { errors: Array<{ message: string; code: string }> }).errors.map(({ message, code }) => ({ message, code }));
      };
      const theirs = error(opa, []);
      assert.match(theirs[0]!.message, /^yaml\.marshal: yaml: line \d+: /);
      assert.deepEqual(error(process.execPath, [resolve('dist/src/main.js')]), theirs);
    });
  }
});
