// CheckTypes for builtin calls against `opa check`: the same rego_type_error (message, row, col, the operand
// types found and the declaration wanted) where OPA reports one that our compiler can see, and no error where
// OPA has none. The one deliberate difference: OPA's `want` carries prose descriptions, which we do not keep.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRego, RegoCompileError } from '../../../src/compiler/compile-rego.js';
import { formatRegoError } from '../../../src/compiler/errors.js';
import { verdictBuiltins, verdictDeprecated } from '../../../src/compiler/builtins.js';
import { builtinRegistry } from '../../../src/builtins/registry.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-check-types-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Policies OPA refuses with a type error our checker must report identically. */
const REFUSED: Record<string, string> = {
  'a literal of the wrong type in a rule value': 'a := count(1)',
  'a number where a collection of strings is wanted': 'b := concat(",", 1)',
  'a number where a string is wanted': 'c := startswith(1, "a")',
  'a local assigned a number': 'p if {\n  x := 1\n  count(x)\n}',
  'an array literal with a number among strings': 'p if {\n  x := [1, "a"]\n  concat(",", x)\n}',
  'an object where a string is wanted': 'p if {\n  y := {"a": 1}\n  startswith(y, "a")\n}',
  'an explicit output argument': 'p if {\n  count(1, n)\n  n > 1\n}',
  'a number where an array is wanted': 'p if sprintf("%v", 1)',
  'a nested call in a comparison': 'p if {\n  x := upper("a")\n  count(x) > lower(1)\n}',
  'a tuple of the wrong element types': 'p if {\n  x := time.diff(1, [1, 2])\n}',
  'an array comprehension of numbers where strings are wanted': 'd := concat("|", [(x * 2) | some x in [1]])',
  'a set comprehension of numbers where strings are wanted': 'e := concat("|", {x | some x in [1]})',
  'input beside a literal of the wrong type': 'p if trim(input.x, 1)',
  'the result of another builtin': 'p if upper(count([1]))',
  'a set of numbers where strings are wanted': 'p if concat(",", {1, 2})',
  'arithmetic on a string': 'p if {\n  x := "a"\n  y := x + 1\n}',
  'inside a comprehension': 'p := [y | some i in [1]; y := lower(i + 1)]',
  'an object with a composite key where strings are wanted': 'p if concat(",", {[1]: 2})',
  'an output variable already holding another type': 'p if {\n  x := "a"\n  count([1], x)\n}',
  'an object literal missing no keys but typed wrong': 'p if json.patch({}, [{"op": 1, "path": "/a"}])',
  'under not': 'p if {\n  not startswith(1, "a")\n}',
  'in an else branch': 's := 1 if {\n  false\n} else := upper(2)',
  'in a function body': 'f(x) := y if {\n  y := upper(1)\n}',
  'with a with modifier': 'p if {\n  count(1) with input as 1\n}',
  'an iteration variable over a literal array': 'p if {\n  some v in [1]\n  concat(",", v)\n}',
  'iteration keys and values of an object': 'p if {\n  some k, v in {"a": 1}\n  upper(k)\n  lower(v)\n}',
  'an iteration index': 'p if {\n  some i, x in ["a"]\n  upper(i)\n}',
  'iterating a local set': 'p if {\n  xs := {1, 2}\n  some x in xs\n  lower(x)\n}',
  'a call in the domain': 'p if {\n  some x in upper(1)\n}',
  'a static element of a local array': 'p if {\n  x := [1, "a"]\n  upper(x[0])\n}',
  'in an object comprehension key': 'p if {\n  x := {y: 1 | y := upper(4)}\n}',
  'iterating arrays of different element types (a union in OPA\'s order of types)': 'p if {\n  x := [["a"], [1]]\n  y := x[_]\n  z := y + 1\n}',
  'iterating objects of different keys': 'p if {\n  x := [{"b": 1}, {"a": "s"}]\n  y := x[_]\n  z := y + 1\n}',
  'the result of a function of the module': 'f(x) := 1\n\np if upper(f(1))',
  'a partial object rule\'s value': 'm[k] := 1 if some k in ["a"]\n\np if upper(m.a)',
  'a function argument a builtin in the value takes': 'f(x) := count(x)\n\np if f(1)',
  'a function argument its definitions compare with values': 'k(x) := 1 if x == {"a": 1}\n\nk(x) := "s" if x == "s"\n\np if k(1)',
  'a function argument arithmetic takes, in a nested call': 'f(x) := y if {\n  y := x + 1\n}\n\np := f("a")',
  'a function with a ref head': 'a.f(x, y) := x if startswith(y, "a")\n\np if a.f(1, 2)',
  'a refused call, whose output OPA leaves untyped': 'p if {\n  y := upper(1)\n  y == 1\n  y.a\n}',
  'a rule with a refused call, any where it is read': 'p := "s" if upper(1)\n\nq if p == 1',
  'a partial rule with a refused call, any where it is read': 'o[k] := "s" if {\n  k := "a"\n  upper(1)\n}\n\nq if o.a == 1\n\nr if o.b',
  'a function with a refused call, not checked where it is called': 'f(_) := "s" if upper(1)\n\nq if f(1) == 1\n\nr if f("a", "b")',
};

/** Unifications OPA refuses as a "match error": two sides whose known types can never be equal. */
const REFUSED_MATCH: Record<string, string> = {
  'a number compared with a string': 'p if 1 == "a"',
  'a builtin result unified with a literal of another type': 'p if count([]) = "a"',
  'arrays of different element types': 'p if numbers.range(2, 0) == [-0.5, "x"]',
  'arrays of different lengths': 'p if [1] == [1, 2]',
  'objects with a property of another type': 'p if {"a": 1} == {"a": "x"}',
  'objects with different keys': 'p if {"a": 1} == {"b": 1}',
  'sets of different element types': 'p if {1} == {"a"}',
  'a local of known type': 'p if {\n  x := 1\n  x == "a"\n}',
  'under not': 'p if {\n  not null == false\n}',
  'inside a comprehension': 'p := [x | x := 1; x == "b"]',
  'an object with a number key': 'p if {1: "a"} == 1',
  'an empty set and a number': 'p if set() == 1',
  'an object with a key of known type': 'p if {\n  x := "a"\n  {x: 1} == 1\n}',
  'a function argument compared after a builtin typed it': 'f(x) := y if {\n  y := count(x)\n  x == 1\n}',
  'the result of a function returning its typed argument': 'f(x) := x if upper(x)\n\np if f("a") == 1',
  'an object with composite keys': 'p if {[1, "x"]: 2, {"a": [1]}: 3, {1}: 4} == 1',
  'an object with a composite key holding input': 'p if {[input.x]: 1} == 1',
  'membership of a string among numbers': 'p if "a" in {"k": 1}',
  'membership of a number among strings, in a set': 'p if 1 in {"a", "b"}',
  'membership with a key, of a value of another type': 'p if "k", 1 in {"k": "v"}',
  'membership as a rule value': 'p := "a" in [1]',
  'membership under not': 'p if not "a" in [1]',
  'membership of an array among arrays of other types': 'p if [1] in [[1, 2], ["a"]]',
  'two empty sets': 'p if set() == set()',
  'two empty sets, with =': 'p if set() = set()',
  'a local holding an empty set and an empty set': 'p if {\n  x := set()\n  x == set()\n}',
  'an empty set and a rule holding one': 'o := set()\n\np if set() == o',
  'arrays holding empty sets': 'p if [set(), 1] == [set(), 2]',
  // A side too wide for its line is printed to show where the two differ.
  'wide objects differing in one property': 'p if {"aaaaaaaaaa": 1, "bbbbbbbbbbbb": "x", "ccccccccccc": [1, 2, 3]} == {"aaaaaaaaaa": 1, "bbbbbbbbbbbb": "x", "ccccccccccc": [1, 2, "a"]}',
  'a wide object and a number': 'p if {"aaaaaaaaaaaaaaaaaaaaa": 1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbb": "s"} == 5',
  'wide arrays of one length': 'p if [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, "a"]',
  'a wide set and a set of booleans': 'p if {1, 2, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} == {true}',
  'sets holding empty sets': 'p if {set()} == {set()}',
  'objects holding empty sets': 'p if {"a": set()} == {"a": set()}',
  'an array comprehension of empty sets and an array of one': 'p if [y | y := set()] == [set()]',
  'an array pattern with a local holding an empty set': 'p if {\n  x := set()\n  [x, 1] = [set(), 1]\n}',
  'a rule refused for the type of another rule, any where it is read': 'p := "s"\n\nq := "t" if p == 1\n\nr if q == 1\n\nf(_) := "u" if p == 2\n\ns if f(1) == 1',
};

/** A builtin replaced by another whose arguments cannot unify with its own: OPA's "NAME: arity mismatch". */
const REFUSED_WITH: Record<string, string> = {
  'a number builtin replaced by a string one': 'p if {\n  abs(1) with abs as lower\n}',
  'a collection builtin replaced by a number one, in an assignment': 'p := x if x := count([1]) with count as ceil',
  'nested calls under the replacement': 'p if {\n  x := abs(abs(-3)) with abs as lower\n}',
  'a replacement of another arity': 'p if {\n  abs(1) with abs as concat\n}',
};

/** Policies OPA accepts: none of them may be refused. */
const ACCEPTED: Record<string, string> = {
  'input is any': 'p if count(input.x) > 0',
  'data is any': 'p if startswith(data.x, "a")',
  'a union argument': 'p if count("abc") == 3',
  'a set where array or set is wanted': 'p if concat(",", {"a", "b"}) != ""',
  'a comprehension of strings': 'p if concat(",", [upper(x) | some x in ["a"]]) != ""',
  'a comprehension of input values': 'p if concat(",", {x | some x in input.xs}) != ""',
  'object.get with any key and default': 'p if object.get({"a": 1}, ["a"], 0) == 1',
  'a function argument': 'f(x) := upper(x)\np if f("a") == "A"',
  'an empty set and a set local': 'p if {\n  x := set()\n  y := {1}\n  x == y\n}',
  'a local compared with itself, holding an empty set': 'p if {\n  x := set()\n  x == x\n}',
  'an empty set and input': 'p if set() == input.x',
  'an empty set and a set comprehension': 'p if set() == {x | x := 1}',
  'locals holding arrays of empty sets': 'p if {\n  x := [set()]\n  y := [set()]\n  x == y\n}',
  'a local holding an empty set and an array of one': 'p if {\n  x := [set()]\n  [set()] == x\n}',
  'a pattern binding an empty set': 'p if {\n  [x, 1] = [set(), 1]\n  x\n}',
  'a local holding an object of empty sets and an object of one': 'p if {\n  x := {"a": set()}\n  x == {"a": set()}\n}',
  'arrays of an empty set and of a set': 'p if [[], set()] == [[], {1}]',
  'a composite key selected with input': 'p if {[1]: 2}[[input.x]]',
  'membership among mixed values': 'p if "a" in [1, "b"]',
  'membership in input': 'p if 1 in input.x',
  'membership in an empty set': 'p if "a" in set()',
  'objects with the same composite keys': 'p if {[1]: 2} == {[1]: 2}',
  'iterating an object with composite keys': 'p if {\n  some k, v in {[1]: 2, {1}: 3}\n  k[0] == 1\n}',
  'a composite key selected as written': 'p if {[1, 2]: "a"}[[1, 2]] == "a"',
  'iteration variables': 'p if {\n  some v in ["a"]\n  startswith(v, "a")\n}',
  'iterating a mixed array': 'p if {\n  some x in [1, "a"]\n  upper(x)\n}',
  'iterating input': 'p if {\n  some i, x in input.xs\n  upper(x)\n  i > 0\n}',
  'a missing key of a local object': 'p if {\n  x := {"a": "b"}\n  y := object.get(x, "c", "d")\n  upper(y)\n}',
  'a comprehension result': 'p if count([x | some x in input.xs]) > 0',
  'an empty array': 'p if count([]) == 0',
  'an array with unknown elements': 'p if concat(",", [input.a, "b"]) != ""',
  'minus on sets': 'p if count({1, 2} - {1}) == 1',
  'a tuple argument': 'p if time.diff([1, "UTC"], 0)',
  'print with anything': 'p if print(1, "a", [1])',
  'a template string': 'p if startswith($"a{1}", "a")',
  'walk output': 'p if {\n  walk({"a": 1}, [path, value])\n  count(path) >= 0\n}',
  'http.send with an object literal': 'p if http.send({"method": "get", "url": "http://127.0.0.1:1"}).status_code == 200',
  'mocked builtin': 'p if count([1]) with count as 2',
  'not-equal of different types': 'p if 1 != "a"',
  'a builtin replaced by one of another result type': 'p if {\n  count([1]) with count as upper\n}',
  'a builtin replaced by one of overlapping argument types': 'p if {\n  count([1]) with count as sum\n}',
  'a builtin replaced by a function of the module': 'm(_) := "s"\np := x if x := abs(1) with abs as m',
  'equality as a value (not rewritten to unification)': 'p := 1 == "a"',
  'equality with an unknown side': 'p if {\n  x := "a"\n  x == input.y\n}',
  'equality under with': 'p if {\n  count([]) == 1 with count as "a"\n}',
  'a local bound to data, compared, then read below': 'p if {\n  x := data.foo\n  x == 1\n  x.a\n}',
  'a local bound to a pair\'s element, compared, then read below': 'p if {\n  [x, y] = input.pair\n  x == 1\n  x.a\n}',
  'an empty set and a set': 'p if set() == {1}',
  'two locals holding empty sets': 'p if {\n  x := set()\n  y := set()\n  x = y\n}',
  'a function argument bound before it is compared': 'f(x) := y if {\n  y := x\n  y == 1\n}\n\np if f("s")',
  'a function returning its argument': 'f(x) := x\n\np if f(1) == "a"',
  'a function of a comprehension over its argument': 'f(x) := [y | some y in x]\n\np if f({"a"})[0] == 1',
  'a function with an array argument': 'f([x, y]) := x\n\np if f([1, 2]) == "a"',
  'an object with mixed keys read by an unknown key': 'p if {\n  x := {"a": 1, 1: 2}\n  x[input.k] == 1\n}',
  'inside every (OPA does not check the body)': 'p if {\n  every x in input.xs {\n    z := 1\n    startswith(z, x)\n  }\n}',
};

/** An error as both report it; details as JSON text, so that key order counts too. */
interface Reported { message: string; row: number; col: number; details?: string; text?: string }

function withoutDescriptions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDescriptions);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'description').map(([k, x]) => [k, withoutDescriptions(x)]));
}

function reported(e: { message: string; location: { row: number; col: number }; details?: unknown }, text?: string): Reported {
  return { message: e.message, row: e.location.row, col: e.location.col, ...(e.details ? { details: JSON.stringify(withoutDescriptions(e.details)) } : {}), ...(text !== undefined ? { text } : {}) };
}

/** `opa check` on each policy (one process for all, JSON and text), errors by policy name. */
function opaErrors(policies: Record<string, string>): Map<string, Reported[]> {
  const files = Object.entries(policies).map(([name, source], i) => {
    const file = join(dir, `case${i}.rego`);
    writeFileSync(file, source);
    return [file, name] as const;
  });
  const run = spawnSync(opa, ['check', '--max-errors', '-1', '--format', 'json', ...files.map(([f]) => f)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const out = run.status === 0 ? { errors: [] } : (JSON.parse(run.stdout.trim() || run.stderr) as { errors: Array<{ location: { file: string; row: number; col: number }; message: string; details?: unknown }> });
  const byFile = new Map<string, Reported[]>(files.map(([f]) => [f, []]));
  for (const e of out.errors) byFile.get(e.location.file)?.push(reported(e));
  // The text form: "N errors occurred:" then each error from its "file:row:" line up to the next.
  const text = spawnSync(opa, ['check', '--max-errors', '-1', ...files.map(([f]) => f)], { encoding: 'utf8', maxBuffer: 1 << 26 }).stderr;
  const texts = text.replace(/^\d+ errors? occurred:\s*/, '').split(new RegExp(`\n(?=${dir}/)`));
  for (const [file, errors] of byFile) {
    const own = texts.filter((t) => t.startsWith(`${file}:`));
    errors.forEach((e, i) => (e.text = own[i]?.trimEnd().replace(`${file}:`, 'p.rego:')));
  }
  return new Map(files.map(([f, name]) => [name, byFile.get(f)!]));
}

function verdictErrors(path: string, source: string): Reported[] {
  try {
    checkRego([{ path, source }], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
    return [];
  } catch (err) {
    if (!(err instanceof RegoCompileError)) throw err;
    return err.errors.map((e) => reported(e, formatRegoError(e)));
  }
}

describe('CheckTypes: builtin calls against opa check', () => {
  it('reports what OPA reports, where OPA refuses', () => {
    const policies = Object.fromEntries(Object.entries(REFUSED).map(([name, rules], i) => [name, `package c${i}\n\n${rules}\n`]));
    const theirs = opaErrors(policies);
    for (const [name, source] of Object.entries(policies)) {
      const expected = theirs.get(name)!;
      assert.ok(expected.length > 0 && expected.every((e) => e.message.endsWith('invalid argument(s)')), `${name}: OPA reports ${JSON.stringify(expected)}`);
      assert.deepEqual(verdictErrors('p.rego', source), expected, name);
    }
  });

  const refusedAs = (cases: Record<string, string>, message: RegExp) => () => {
    const policies = Object.fromEntries(Object.entries(cases).map(([name, rules], i) => [name, `package m${i}\n\n${rules}\n`]));
    const theirs = opaErrors(policies);
    for (const [name, source] of Object.entries(policies)) {
      const expected = theirs.get(name)!;
      assert.ok(expected.length > 0 && expected.every((e) => message.test(e.message)), `${name}: OPA reports ${JSON.stringify(expected)}`);
      assert.deepEqual(verdictErrors('p.rego', source), expected, name);
    }
  };

  it('reports a match error as OPA does, where a unification can never succeed', refusedAs(REFUSED_MATCH, /^match error$/));

  it('reports an arity mismatch as OPA does, where `with` replaces a builtin by an unfit one', refusedAs(REFUSED_WITH, /^\w+: arity mismatch$/));

  it('reports nothing where OPA accepts', () => {
    const policies = Object.fromEntries(Object.entries(ACCEPTED).map(([name, rules], i) => [name, `package a${i}\n\n${rules}\n`]));
    const theirs = opaErrors(policies);
    for (const [name, source] of Object.entries(policies)) {
      assert.deepEqual(theirs.get(name), [], `${name}: OPA refuses it`);
      assert.deepEqual(verdictErrors('p.rego', source), [], name);
    }
  });

  it('every builtin called with null arguments: the same error as OPA, or none as OPA', () => {
    const calls = builtinRegistry.filter((b) => !b.planner && !b.deprecated && !b.infix && !b.name.startsWith('internal.') && (b.decl.args?.length ?? 0) > 0);
    const policies = Object.fromEntries(calls.map((b, i) => [b.name, `package n${i}\n\np if ${b.name}(${b.decl.args!.map(() => 'null').join(', ')})\n`]));
    const theirs = opaErrors(policies);
    let refused = 0;
    for (const [name, source] of Object.entries(policies)) {
      const expected = theirs.get(name)!;
      refused += expected.length > 0 ? 1 : 0;
      assert.deepEqual(verdictErrors('p.rego', source), expected, name);
    }
    assert.ok(refused > 100, `only ${refused} of ${calls.length} calls refused: the comparison would prove little`);
  });
});
