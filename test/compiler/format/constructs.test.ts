// The layouts opa fmt gives particular constructs, one case each: the expected text was produced by the pinned
// opa fmt (v1.22.4) from the same source. The corpus-wide comparison is fmt-differential.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSource } from '../../../src/compiler/format/format.js';

const cases: { name: string; version: 'v0' | 'v1'; source: string; expected: string }[] = [
  {
    name: "not { } on one row stays on one row",
    version: "v1",
    source: "package p\n\nimport future.keywords.not\n\nq if {\n  not { input.x; input.y }\n  not { input.a\n  }\n}\n",
    expected: "package p\n\nimport future.keywords.not\n\nq if {\n\tnot { input.x; input.y }\n\tnot { input.a }\n}\n",
  },
  {
    name: "not { } written over several rows gets one expression per line",
    version: "v1",
    source: "package p\n\nimport future.keywords.not\n\nq if {\n  not {\n    input.z }\n  not { input.x\n    input.y }\n}\n",
    expected: "package p\n\nimport future.keywords.not\n\nq if {\n\tnot {\n\t\tinput.z\n\t}\n\tnot {\n\t\tinput.x\n\t\tinput.y\n\t}\n}\n",
  },
  {
    name: "a comment after an opening brace stays on its row",
    version: "v1",
    source: "package p\n\nimport future.keywords.not\n\nr if { # d\n  input.x\n}\n\nq if {\n  not { # c\n    input.x\n  }\n}\n",
    expected: "package p\n\nimport future.keywords.not\n\nr if { # d\n\tinput.x\n}\n\nq if {\n\tnot { # c\n\t\tinput.x\n\t}\n}\n",
  },
  {
    name: "a comment on the brace row after expressions moves after the brace",
    version: "v1",
    source: "package p\n\nb if { input.x; input.y } # c2\n\nd if {\n  input.x } # c4\n",
    expected: "package p\n\nb if { # c2\n\tinput.x\n\tinput.y\n}\n\nd if {\n\tinput.x # c4\n}\n",
  },
  {
    name: "v0 body on the head row with a trailing comment",
    version: "v0",
    source: "package p\n\nf(x) = y { y := x } # note\ng(x) = count(x)\n",
    expected: "package p\n\nf(x) = y { # note\n\ty := x\n}\n\ng(x) = count(x)\n",
  },
  {
    name: "every with several expressions on one row",
    version: "v1",
    source: "package p\n\nq if {\n  every x in input { x; x > 1 }\n}\n",
    expected: "package p\n\nq if {\n\tevery x in input { x; x > 1}\n}\n",
  },
  {
    name: "template string: scalars become text, expressions printed canonically",
    version: "v1",
    source: "package p\n\na := $\"x\\ny\\t\\\"q\\\" \\u00e9 \\\\ \\{ } {1.50} {\"a\\nb\"} {`r`} {\"{\"} {true}{null}\"\nb := $\"{input.x  +  1} {[1,2]} {{\"a\":1}}\"\nd := $\"{ input.x }\"\n",
    expected: "package p\n\na := $\"x\\ny\\t\\\"q\\\" é \\\\ \\{ } 1.50 a\\nb r \\{ truenull\"\nb := $\"{input.x + 1} {[1, 2]} {{\"a\": 1}}\"\nd := $\"{input.x}\"\n",
  },
  {
    name: "multi-line template string keeps its text raw",
    version: "v1",
    source: "package p\n\nc := $`multi\nline {\"s\"} \\{ {\"x\\ty\"} {input.x}`\n",
    expected: "package p\n\nc := $`multi\nline s \\{ x\ty {input.x}`\n",
  },
  {
    name: "with written at the start of a line stays on its own line",
    version: "v1",
    source: "package p\n\na if {\n  x with input as 1 with data.y as 2\n    with data.z as 3 with data.w as 4\n  every x in y {\n    z with input as 1\n      with data.x as 2\n  }\n}\n\nb if x with input as 1\n     with data.a as 1\n",
    expected: "package p\n\na if {\n\tx with input as 1 with data.y as 2\n\t\twith data.z as 3 with data.w as 4\n\tevery x in y {\n\t\tz with input as 1\n\t\t\twith data.x as 2\n\t}\n}\n\nb if x with input as 1\n\twith data.a as 1\n",
  },
  {
    name: "elements break where one starts on a later row than the one before",
    version: "v1",
    source: "package p\n\na := [{\n  \"a\": 1}, 2]\nb := f(`x\ny`, 1)\nc := [`x\ny`, 1,\n  2, 3]\n",
    expected: "package p\n\na := [\n\t{\n\t\t\"a\": 1,\n\t},\n\t2,\n]\n\nb := f(\n\t`x\ny`,\n\t1,\n)\n\nc := [\n\t`x\ny`,\n\t1,\n\t2, 3,\n]\n",
  },
  {
    name: "elements holding a generated variable stay on one line",
    version: "v1",
    source: "package p\n\nd := [1,\n  2, __local0__]\ne := [1,\n  2, [__local0__]]\nf := [1,\n  2, _]\n",
    expected: "package p\n\nd := [1, 2, __local0__]\n\ne := [1, 2, [__local0__]]\n\nf := [\n\t1,\n\t2, _,\n]\n",
  },
  {
    name: "comments inside composites and calls",
    version: "v1",
    source: "package p\n\na := [\n  # first\n  1,\n  # second\n  2, 3, # trailing\n  4,\n  # last\n]\nb := f(\n  # x\n  1,\n  2 # y\n)\nc := {\n  \"a\": [1,\n    2], # c1\n  # c2\n  \"b\": 1 # c3\n}\n",
    expected: "package p\n\na := [\n\t# first\n\t1,\n\t# second\n\t2, 3, # trailing\n\t4,\n\t# last\n]\n\nb := f(\n\t# x\n\t1,\n\t2, # y\n)\n\nc := {\n\t\"a\": [\n\t\t1,\n\t\t2, # c1\n\t],\n\t# c2\n\t\"b\": 1, # c3\n}\n",
  },
  {
    name: "a value of true over a body is left out",
    version: "v1",
    source: "package p\n\na := true if input.x\nb.c := true if input.x\nd[\"e\"] := true if input.x\nd[\"f\"] := true\ng[x] := true if x := 1\nf(x) := true if input.x\nk := true\n",
    expected: "package p\n\na if input.x\nb[\"c\"] if input.x\nd[\"e\"] if input.x\nd[\"f\"] := true\ng[x] := true if x := 1\nf(x) if input.x\nk := true\n",
  },
  {
    name: "v0 heads with an implied or written true",
    version: "v0",
    source: "package p\n\na := true { input.x }\nb = true { input.x }\nc[x] = true { x := 1 }\n",
    expected: "package p\n\na {\n\tinput.x\n}\n\nb {\n\tinput.x\n}\n\nc[x] = true {\n\tx := 1\n}\n",
  },
  {
    name: "v0 with future.keywords.if keeps = for values",
    version: "v0",
    source: "package p\nimport future.keywords.if\np if true\nc.d.e if true\nf if { true }\na := true if input.x\nx := y {\n  y := 1\n}\n",
    expected: "package p\n\nimport future.keywords.if\n\np = true\nc.d.e = true\nf = true\na if input.x\nx := y if {\n\ty := 1\n}\n",
  },
  {
    name: "else after a body without braces",
    version: "v1",
    source: "package p\n\na := true if { input.x } else := false\nb := false if { input.x } else := true if { input.y }\n",
    expected: "package p\n\na if input.x\n\nelse := false\n\nb := false if input.x\n\nelse if input.y\n",
  },
  {
    name: "imports grouped by adjacent rows, each group sorted, comments kept",
    version: "v1",
    source: "package p\n\nimport data.z\nimport data.a\n\nimport data.b\nimport input.e\n# comment\nimport data.c\n\n\n# c2\n\nimport data.d # trailing\nimport data.f\n# c3\nimport data.g\n\np if input.a\n",
    expected: "package p\n\nimport data.a\nimport data.z\n\nimport data.b\nimport input.e\n\n# comment\nimport data.c\n\n# c2\n\nimport data.d # trailing\nimport data.f\n\n# c3\nimport data.g\n\np if input.a\n",
  },
  {
    name: "rego.v2 drops rego.v1 and future.keywords imports",
    version: "v1",
    source: "package p\n\nimport data.x\nimport rego.v1\nimport future.keywords.in\nimport future.keywords\nimport rego.v2\n\np if input.a\n",
    expected: "package p\n\nimport data.x\n\nimport rego.v2\n\np if input.a\n",
  },
  {
    name: "a set literal without repeated values",
    version: "v1",
    source: "package p\n\na := {3.5, 3.50, 35e-1, 0.35e1, 1, 1.0, 10, 1e1, 0, -0, 0.0, \"a\", \"a\", [1], [1.0], {\"x\": 1}, {\"x\": 1.0}, input.x, input.x, set(), {}}\n",
    expected: "package p\n\na := {3.5, 1, 10, 0, \"a\", [1], {\"x\": 1}, input.x, set(), {}}\n",
  },
  {
    name: "v0 set rules keep p[x] { } where only future.keywords.if is imported",
    version: "v0",
    source: "package p\nimport future.keywords.if\np[x] { x := 1 }\nd.e { true }\nq[x] { x := 1 }\na.b if true\na.c = true if true\na.d if input.x\n",
    expected: "package p\n\nimport future.keywords.if\n\np[x] {\n\tx := 1\n}\n\nd[\"e\"]\n\nq[x] {\n\tx := 1\n}\n\na[\"b\"]\na[\"c\"] = true\na[\"d\"] if input.x\n",
  },
];

for (const c of cases) {
  test(`fmt: ${c.name}`, () => {
    const r = formatSource('x.rego', c.source, c.version);
    assert.deepEqual(r.errors, []);
    assert.equal(r.text, c.expected);
  });
}
