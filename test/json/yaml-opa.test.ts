// YAML scalars as OPA reads them (src/json/yaml.ts), against the pinned `opa eval`: an input file, a bundle's
// data.yaml, a -d data file and yaml.unmarshal all go through the one reader, and each answers as OPA does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { answer, both, withDir } from './yaml-opa-fixture.js';

// Go's ParseInt(s, 0, 64) after dropping underscores (octal 010, 0x, 0o, 0b, 1_000), uint64, floats by YAML's
// pattern, out-of-range floats as strings, YAML 1.2 booleans (yes/on stay strings), no timestamps or
// sexagesimals, explicit tags, and keys as their values' text.
const SCALARS = `
octal: 010
neg_octal: -010
not_octal: 09
octal_too_long: 012345678
zero_seven: 0777
hex: 0x1F
neg_hex: -0x1F
upper_hex: 0X1f
hex_under: 0x_1F
bare_hex: 0x
oct_o: 0o17
upper_o: 0O17
bin: 0b101
plus_bin: +0b11
bare_bin: 0b
under: 1_000
under_octal: 0_10
lead_under: _1
double_under: 1__0
trailing_under: 1_
under_float: 1_0.5
under_frac: 10_000.000_1
under_exp: 1e1_0
yes: yes
no: no
on: on
off: off
y: y
Yes: Yes
TRUE: TRUE
tRUE: tRUE
False: False
null_word: Null
tilde: ~
exp: 1e3
upper_exp: 1E3
plus_exp: 1e+03
point_one: 0.1e1
dot_five: .5
plus_dot: +.5
one_point: 1.
zero_point: 0.
neg_zero: -0.0
plus: +12
sexagesimal: 1:20
date: 2001-12-14
timestamp: 2001-12-14t21:59:43.10-05:00
int64_over: 9223372036854775808
hex_over: 0x8000000000000000
uint64_max: 18446744073709551615
uint64_over: 18446744073709551616
int64_under: -9223372036854775809
huge: 12345678901234567890123
out_of_range: 1e400
hex_float: 0x1p3
infinity_word: Infinity
nan_word: NaN
lone_dot: .
tagged_int: !!int "012"
tagged_float: !!float 1
tagged_str: !!str 012
quoted: '012'
010: octal key
1.0: float key
true: bool key
`;

test('YAML input, bundle data.yaml, -d data and yaml.unmarshal read scalars as opa eval does', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'input.yaml'), SCALARS);
    mkdirSync(join(dir, 'bundle/s'), { recursive: true });
    writeFileSync(join(dir, 'bundle/s/data.yaml'), SCALARS);
    const cases = [
      ['-i', 'input.yaml', 'input'],
      ['-b', 'bundle', 'data.s'],
      ['-d', 'bundle', 'data.s'],
      [`yaml.unmarshal(${JSON.stringify(SCALARS)})`],
    ];
    for (const args of cases) {
      const [opa, ours] = both(args, dir);
      assert.equal(opa.status, 0, `opa eval ${args.join(' ')}: ${opa.stdout}`);
      // The cases must mean something: OPA reads 010 as 8, keeps yes a string and 2^63 exact.
      assert.match(opa.stdout, /"octal": 8,/);
      assert.match(opa.stdout, /"yes": "yes",/);
      assert.match(opa.stdout, /"int64_over": 9223372036854775808,/);
      assert.equal(ours.stdout, opa.stdout, args.join(' '));
    }
  });
});

test('.inf and .nan, which JSON cannot carry, are refused in input and bundle data as opa refuses them', () => {
  withDir((dir) => {
    for (const value of ['.inf', '-.Inf', '.nan']) {
      writeFileSync(join(dir, 'input.yaml'), `a: ${value}\n`);
      mkdirSync(join(dir, 'bundle'), { recursive: true });
      writeFileSync(join(dir, 'bundle/data.yaml'), `a: ${value}\n`);
      for (const args of [['-i', 'input.yaml', 'input'], ['-b', 'bundle', 'data']]) {
        const [opa, ours] = both(args, dir);
        const reason = `json: unsupported value: ${value === '.nan' ? 'NaN' : value.startsWith('-') ? '-Inf' : '+Inf'}`;
        assert.notEqual(opa.status, 0, `opa ${args.join(' ')} with ${value}`);
        assert.notEqual(ours.status, 0, `verdict ${args.join(' ')} with ${value}: ${ours.stdout}`);
        // opa eval reports an input it cannot read alone on stderr; data errors go in the JSON output.
        if (args[0] === '-i') assert.equal(ours.stderr, opa.stderr, `${args.join(' ')} with ${value}`);
        const said = args[0] === '-i' ? ours.stderr : ours.stdout;
        assert.ok(said.includes(reason), `${args.join(' ')} with ${value}: ${said}`);
      }
    }
  });
});

test('mapping keys JSON cannot name (empty, null, a sequence or a mapping) are refused as opa refuses them', () => {
  withDir((dir) => {
    const texts = [':', ': a', 'a: 1\n: b\n', '- : a', '{: a}', '[: a]', 'null: b', '~: b', '[1]: b', '{a: 1}: b', "'': kept",
      // `?` with nothing after it is a null key, not a missing one; Go names the value in Go syntax.
      '? \n: b', '?\n: b', '{? : b}', '? !!null\n: b', '? &x\n: b', '~:', '~: 1.5', '~: 1e20', '~: 010', '~: -0.0', '~: 123456789012345678901234567890',
      '~: 1e400', '? \n: [1, {x: 2, a: ~}]', '~: {b: 1, a: [true, null, "é\\t"]}', '~: [[]]', '~: {}', '? [a, ~]\n: b', '? {b: 2, a: [x]}\n: b',
      // Floats keep Go's float form in the value named (1e6 is 1e+06, not an integer); ±Inf and NaN under a
      // null key fail on the key, which the JSON conversion meets before the value.
      '~: 1e6', '~: [1e6, 2.5]', '~: {a: 1e6}', '[1e6]: b', '? [1e6, 1.0]\n: b', '~: 18446744073709551616', '~: .inf', '? \n: -.inf', 'a: 1\n~: .nan', '[.inf]: a',
      // `?` with no key in a flow sequence ends the entry where Go wants `,` or `]`; in a flow map it is a null key.
      '[? : b]', '[a, ? : b]', '[? \n: b]', '[{? : b}]',
      // Go's line for a missing key: where the enclosing collection starts, or on its first line the `:`'s.
      'x:\n  - a: 1\n  - : 2', 'a:\n  b: 1\n  c: 3\n  : 2', 'a: 1\nb: 2\n\n: b', '{a: 1,\n : b}', '[a,\n : b]',
      // Go takes the `]` after such a `?` for its key: the sequence fails at the token after, which names the line
      // when the sequence starts on the first one (the end of stream sits on a line of its own), even where the
      // YAML reader finds a later syntax error first.
      '[?]', '[?]\n\n', '[?]\nfoo', '[?]x', '[\n?]', '[1,\n?]', '[?,\n1]', '[?] # c', '[?]\n# c\n', '[[?]]', '[[?]\n]', '\n\n[?]', 'x: [?]\n', '{a: [?]}',
      // A missing key is the parser's error, found before any the JSON conversion would meet.
      '~: 1\n: b',
      // Keys and values reached through an alias are typed as where the anchor is.
      'a: &x 1e6\n~: *x', 'a: &x 1e6\n[*x]: 1', 'a: &y [1]\n*y : 1', 'a: &n ~\n*n : 1', 'a: &x 1e6\nb: [*x]\n~: [*x, *x]'];
    for (const text of texts) {
      const args = ['--strict-builtin-errors', `yaml.unmarshal(${JSON.stringify(text)})`];
      const [opa, ours] = both(args, dir);
      assert.deepEqual(answer(ours), answer(opa), JSON.stringify(text));
      writeFileSync(join(dir, 'input.yaml'), text);
      const [opaInput, ourInput] = both(['-i', 'input.yaml', 'input'], dir);
      assert.equal(ourInput.status === 0, opaInput.status === 0, `input ${JSON.stringify(text)}: ${ourInput.stdout}${ourInput.stderr}`);
    }
  });
});

test('mapping keys that are numbers or booleans are named as the JSON conversion names them: floats by their float32 text', () => {
  withDir((dir) => {
    const text = ['1e6: a', '3.14159265358979: b', '100000000000000000000: c', '1.5e-7: d', '123456789.0: e', '18446744073709551616: f', '9223372036854775808: g',
      'true: m', '1e400: p', 'x: {1e6: q}', 'specials: {.inf: h, -.inf: i, .nan: j, -0.0: o}', 'overflow: {1e39: k}',
      // A key that is an alias takes the text of what it names: a float's form survives it.
      'anchored: {a: &f 2e7}', 'aliased: {*f : r, b: &g 1.50, *g : s}',
      // Kept apart: eval lists integer keys first, as a JS object does, where OPA sorts them as text.
      'integers: {010: l, 1.0: n}'].join('\n');
    writeFileSync(join(dir, 'input.yaml'), text);
    for (const args of [[`yaml.unmarshal(${JSON.stringify(text)})`], ['-i', 'input.yaml', 'input']]) {
      const [opa, ours] = both(args, dir);
      assert.match(opa.stdout, /"1e\+06": "a"/);
      assert.equal(ours.stdout, opa.stdout, args.join(' '));
    }
  });
});

test('a YAML stream is valid as opa finds it: every document must parse, only the first must convert to JSON', () => {
  withDir((dir) => {
    // Later documents with a null or collection key or .inf parse, and Go converts only the first; a key left out
    // or an unclosed bracket is a syntax error in any document.
    const texts = ['a: 1\n---\n~: 2', 'a: 1\n---\n[1]: 2', 'a: 1\n---\nb: .inf', 'a: 1\n---\n: b', 'a: 1\n---\n[1]]', '~: 1\n---\na: 1', '? \n: b'];
    for (const text of texts) {
      for (const query of [`yaml.is_valid(${JSON.stringify(text)})`, `yaml.unmarshal(${JSON.stringify(text)})`]) {
        const [opa, ours] = both([query], dir);
        assert.equal(ours.stdout, opa.stdout, query);
      }
    }
    assert.match(both([`yaml.is_valid(${JSON.stringify(texts[0])})`], dir)[0].stdout, /"value": true/);
  });
});
