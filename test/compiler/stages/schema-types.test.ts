// Type checking with JSON schemas, against the pinned OPA byte for byte: `--schema FILE` (the input schema) and
// `--schema DIR` (documents annotations refer to as schema.NAME) on check, eval (and eval -p), test and bench; inline schema
// annotations at rule, document, package and subpackages scope, on input and data; the keywords that shape types
// and those that do not; entries that are neither a schema nor a reference to one, paths with a variable key, and `schemas` values that are no list of maps (Go's decoder's words); later annotations replacing earlier ones; refs under `with`; rules whose values the schemas type. Schemas Verdict does not
// type as OPA does are refused naming the keyword, and policies that fit their schemas stay accepted.
import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkRego, RegoCompileError } from '../../../src/compiler/compile-rego.js';
import { verdictBuiltins, verdictDeprecated } from '../../../src/compiler/builtins.js';
import { writeTree } from '../../server/harness.js';
import { sideBySide } from '../../cli/command-runs.js';

const opa = resolve(execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim());
const verdict = resolve('dist/src/main.js');

const INPUT_SCHEMA = JSON.stringify({
  type: 'object',
  properties: { user: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['user'],
});

/** A rule whose `input.x` has the inline schema, and a body that reads it. */
function inline(schema: string, body: string): string {
  return `package t\n\n# METADATA\n# schemas:\n#   - input.x: ${schema}\np if {\n  ${body}\n}\n`;
}

const dir = writeTree({
  'schemas/input.json': INPUT_SCHEMA,
  'schemas/sub/a.b.json': JSON.stringify({ type: 'object', properties: { x: { type: 'number' } } }),
  'schemas/y.yaml': 'type: object\nproperties: {a: {type: string}}\n',
  'schemas/notes.txt': 'not a schema',
  'bad/bad.json': '{bad',
  // A variable key in a schema's path: an error once the schema is read (not for an undefined or unread schema).
  'var-keys/p.rego': `package vk

# METADATA
# schemas:
#   - input.a[x]: {type: string}
#   - data.d[y].z: schema.sub["a.b"]
r if input.a.b == 1

# METADATA
# schemas:
#   - input[k]: schema.nope
s if input.q == 1

# METADATA
# schemas:
#   - input.c[_]: {type: string}
#   - input.c: {type: number}
t if input.c == "x"
`,
  // A number key in a path names that key, not the string "0".
  'number-keys/p.rego': `package nk

# METADATA
# schemas:
#   - input.a[0]: {type: string}
#   - input.b[10].c: {type: string}
r if input.a[0] == 1

# METADATA
# schemas:
#   - input.a[0]: {type: string}
s if input.a["0"] == 1

# METADATA
# schemas:
#   - input.a[0]: {type: string}
t if input.a[0].b == 1

# METADATA
# schemas:
#   - input.b[10].c: {type: string}
u if input.b[10].c == 1
`,
  'input/p.rego': 'package p\n\nallow if input.usr == "a"\n\nq if input.age == "x"\n\nr if input.tags[0] == 1\n\nok if input.user == "a"\n',
  'input/p_test.rego': 'package p\n\ntest_ok if ok with input as {"user": "a"}\n',
  'refs/p.rego': `package refs

# METADATA
# schemas:
#   - input: schema.input
allow if input.usr == "a"

# METADATA
# schemas:
#   - input: schema.sub["a.b"]
q if input.y == 1

# METADATA
# schemas:
#   - data.foo: schema.input
r if data.foo.zz == 1

# METADATA
# schemas:
#   - input: schema.nope
s if input.y == 1

# METADATA
# schemas:
#   - input: schema.y
u if input.b
`,
  'scopes/a.rego': `# METADATA
# scope: subpackages
# schemas:
#   - input.s: {type: string}
package a

# METADATA
# schemas:
#   - input.s: {type: number}
r1 if input.s == "x"

r2 if input.s == 1

# METADATA
# scope: document
# schemas:
#   - input.d: {type: string}
doc if input.d == 1
`,
  'scopes/b.rego': '# METADATA\n# schemas:\n#   - input.p: {type: string}\npackage a.b\n\nx if input.s == 1\n\ny if input.p == 1\n',
  'scopes/c.rego': 'package a\n\ndoc if input.d == 2\n\nz if input.p == 1\n',
  'override/p.rego': `package ov

# METADATA
# schemas:
#   - input.o: {type: object, properties: {k: {type: string}}}
#   - input.o.k: {type: boolean}
#   - input.o.n: {type: boolean}
r1 if {
  input.o.k == 1
  input.o.n == 1
  input.o.zz == 1
}

# METADATA
# schemas:
#   - input.user: {type: boolean}
#   - input.newk: {type: boolean}
r2 if {
  input.user == 1
  input.newk == 1
  input.age == "a"
}

# METADATA
# schemas:
#   - input.o.k: {type: boolean}
#   - input.o: {type: object, properties: {k: {type: string}}}
r3 if input.o.k == 1
`,
  // A path below input no schema types yet: the objects on the way are open to any key; a closed input schema
  // gains the path as closed objects; a property typed otherwise becomes an object.
  'intermediate/p.rego': `package im

# METADATA
# schemas:
#   - input.a.b: {type: string}
q if {
  input.a == 1
  input == 1
  input.a.b == 1
}

# METADATA
# schemas:
#   - input.a.b.c: {type: string}
#   - input.a.d: {type: number}
r if input.a == 1

# METADATA
# schemas:
#   - input.user.c: {type: string}
#   - input.tags.n: {type: string}
s if input == 1

# METADATA
# schemas:
#   - input: {type: string}
#   - input.y: {type: string}
t if input == 1
`,
  'with/p.rego': `# METADATA
# schemas:
#   - data.d: {type: object, properties: {a: {type: string}}}
#   - input.i: {type: object, properties: {a: {type: string}}}
package w

p1 if data.d.b1 with data.d as {}
p2 if data.d.b2 with data.other as {}
p5 if input.i.b5 with data.other as {}
p6 if input.i.b6 with input as {}
p9 if input.i.a == 1 with input as {}
p10 if data.d.a == 1 with input as {}
`,
  // Match errors under `with`, with rules read there and replaced there.
  'with/rules.rego': 'package m\n\nr := "s"\n\np1 if { x := r; x == 1 with data.m.r as 2 }\n\np2 if count([1]) == "a" with input as {}\n\np3 if { y := count([1]); y == "a" with data.m.r as 1 }\n\np4 if r == 1 with data.m.r as 1\n',
  // Rules whose values are read from input or data typed by a schema have the types the schema gives.
  'rule-values/p.rego': `package rv

u := input.user

ages contains input.age

first(_) := input.tags[0]

a if u == 1

b if {
  some x in ages
  x == "a"
}

c if first(1) == 2

d if ages[_] == "a"

# METADATA
# schemas:
#   - input.o: {type: object, properties: {k: {type: boolean}}}
k := input.o.k

e if k == "s"
`,
  // Only a block at column 1 is an annotation: these schemas type nothing.
  'indented/p.rego': `package indented

p if {
  # METADATA
  # schemas:
  #   - input: {type: string}
  input.x == 1
}

  # METADATA
  # schemas:
  #   - input.y: {type: string}
q if input.y == 1
`,
  // Membership under `with` is checked as elsewhere.
  'with/membership.rego': `package wm

r := ["s"]

o := {"k": "v"}

p1 if "a" in [1] with input as {}

p2 if 1 in r with input as {}

p3 if 1 in r with data.wm.r as [1]

p4 if "k", 1 in {"k": "v"} with input as {}

p5 if "k", 1 in o with input as {}

p6 if 1 in o with data.wm.o as {}

p7 if {
  x := "a"
  x in [1] with input as {}
}

p8 if {
  some v in r with input as {}
  v == 1
}

p9 if 1 in input.xs with input as {"xs": ["a"]}

p10 if r[_] == 1 with input as {}

p11 if o.b == 1 with input as {}
`,
  // A rule `with` replaces has its type merged with the value's (objects key by key, else a union).
  'with/replaced.rego': `package wr

r := ["s"]

o := {"k": "v"}

a if o.k == 1 with data.wr.o as {"j": 1}

b if o.j == "a" with data.wr.o as {"j": 1}

c if 1 in o with data.wr.o as {"j": 1}

d if o == "a" with data.wr.o as 5

e if r == "a" with data.wr.r as 5

g if r[0] == 1 with input as {}

h if {
  x := r
  x[0] == 1 with data.wr.r as [1]
}

i if o.k == 1 with data.wr.o as {"k": true}

j if {
  r[0] == 1 with data.wr.r as [1]
  r[0] == 2
}
`,
  'with/replaced-membership.rego': `package wrm

r := ["s"]

o := {"k": "v"}

p3 if 1 in r with data.wrm.r as [1]

p3b if 1 in r with data.wrm.r as ["x"]

p3c if 1 in r with data.wrm.o as ["x"]

p6 if 1 in o with data.wrm.o as {}

p6b if 1 in o with data.wrm.o as {"k": 1}

p6c if "k", 1 in o with data.wrm.o as {"k": 1}

p7 if r[0] == 1 with data.wrm.r as ["x"]
`,
  'fits/p.rego': `package fits

# METADATA
# schemas:
#   - input: {type: object, properties: {user: {type: string}, roles: {type: array, items: {type: string}}}}
#   - data.users: {type: object, additionalProperties: {type: object, properties: {admin: {type: boolean}}}}
allow if {
  some role in input.roles
  role == "admin"
  data.users[input.user].admin
  startswith(input.user, "a")
}
`,
  'keywords/string.rego': inline('{type: string}', 'input.x.y == 1'),
  'keywords/integer.rego': inline('{type: integer}', 'input.x == "a"'),
  'keywords/null.rego': inline('{type: "null"}', 'input.x == 1'),
  'keywords/enum.rego': inline('{type: string, enum: [a]}', 'input.x == 1'),
  'keywords/validation-only.rego': inline('{enum: [1, 2], minimum: 3, pattern: "a"}', 'input.x == "a"'),
  'keywords/oneOf-not-ignored.rego': inline('{oneOf: [{type: string}], not: {type: number}}', 'input.x == true'),
  'keywords/open-object.rego': inline('{type: object, additionalProperties: {type: string}}', 'input.x.y == 1'),
  'keywords/closed-object.rego': inline('{type: object, properties: {a: {type: string}}, additionalProperties: true}', 'input.x.b == 1'),
  'keywords/untyped-properties.rego': inline('{properties: {a: {type: string}}}', 'input.x.b == "a"'),
  'keywords/tuple.rego': inline('{type: array, items: [{type: string}, {type: number}]}', 'input.x[1] == "a"; input.x[2]'),
  'keywords/items.rego': inline('{type: array, items: {type: object, properties: {a: {type: string}}}}', 'input.x[_].b == 1'),
  'keywords/some-in.rego': inline('{type: array, items: {type: object, properties: {a: {type: string}}}}', 'some e in input.x; e.b == 1'),
  'keywords/untyped-items.rego': inline('{items: {type: string}}', 'input.x[0] == 1'),
  'keywords/ref.rego': inline('{type: object, properties: {a: {$ref: "#/definitions/d"}, b: {$ref: "#/$defs/d"}}, definitions: {d: {type: string}}, $defs: {d: {type: number}}}', 'input.x.a == 1; input.x.b == "s"'),
  'keywords/ref-missing.rego': inline('{$ref: "#/definitions/nope"}', 'input.x.a == 1'),
  'keywords/anyOf.rego': inline('{anyOf: [{type: object, properties: {a: {type: string}}}, {type: object, properties: {b: {type: number}}}]}', 'input.x.c == 1'),
  'keywords/anyOf-scalars.rego': inline('{anyOf: [{type: string}, {type: number}]}', 'input.x == true'),
  'keywords/allOf.rego': inline('{allOf: [{type: object, properties: {a: {type: string}}}, {type: object, properties: {a: {type: number}, b: {type: number}}}]}', 'input.x.a == true; input.x.c'),
  'keywords/allOf-open.rego': inline('{allOf: [{type: object}, {type: object, properties: {a: {type: string}}}]}', 'input.x.b == true'),
  'keywords/allOf-mismatch.rego': inline('{allOf: [{type: string}, {type: number}]}', 'input.x == true'),
  'keywords/allOf-untyped.rego': inline('{allOf: [{type: object, properties: {a: {type: string}}}, {required: [a]}]}', 'input.x.b == 1'),
  'keywords/allOf-items.rego': inline('{allOf: [{type: array, items: {type: string}}, {type: array, items: {type: number}}]}', 'input.x[0] == 1'),
  'keywords/locals.rego': inline('{type: object, properties: {a: {type: string}}}', 'y := input.x; y.b; input.x[k] == 1; k == 2'),
  'parse/reference.rego': 'package t\n\n# METADATA\n# schemas:\n#   - input: input.x\np if input.q\n',
  'parse/declaration.rego': 'package t\n\n# METADATA\n# schemas:\n#   - input.a: true\np if input.q\n',
  'parse/entry.rego': 'package t\n\n# METADATA\n# schemas:\n#   - input.q\np if input.q\n',
  'parse/list.rego': 'package t\n\n# METADATA\n# schemas: 3\np if input.q\n',
  'parse/values.rego': 'package t\n\n# METADATA\n# schemas:\n#   - input.qqqqqqqqqqq\n#   - true\n#   - 1.5\n#   - input.a: {type: string}\n#   - [x]\n#   - {}\np if input.q\n',
  'parse/map.rego': 'package t\n\n# METADATA\n# title: t\n# schemas:\n#   a: b\np if input.q\n',
  'parse/flow.rego': 'package t\n\n# METADATA\n# schemas: [{input.a: {type: string}}, x]\np if input.q\n',
  'parse/null-entry.rego': 'package t\n\n# METADATA\n# schemas:\n#   - ~\np if input.q\n',
  'parse/name.rego': 'package t\n\n# METADATA\n# schemas:\n#   - x: {type: string}\np if input.q\n',
  'parse/number.rego': 'package t\n\n# METADATA\n# schemas:\n#   - input.a: {type: string}\n#   - 1: {type: string}\np if input.q\n',
  'parse/roots.rego': 'package t\n\n# METADATA\n# schemas:\n#   - data: {type: object}\n#   - input: {type: object}\np if input.q\n',
  'refused/type-list.rego': inline('{type: [string, number]}', 'input.x == true'),
  'refused/remote-ref.rego': inline('{$ref: "https://example.com/s.json"}', 'input.x.a == 1'),
  'refused/anyOf-beside-type.rego': inline('{type: string, anyOf: [{type: number}]}', 'input.x == true'),
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd: dir }, (err, stdout, stderr) => done({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }));
  });
}

async function both(args: string[]): Promise<[Run, Run]> {
  return Promise.all([run(process.execPath, [verdict, ...args]), run(opa, args)]);
}

describe('type checking with JSON schemas, as OPA', sideBySide, () => {
  const cases: string[][] = [
    ['check', '-f', 'json', '-s', 'schemas/input.json', 'input/p.rego'],
    ['check', '-s', 'schemas/input.json', 'input/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas', 'refs/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas/input.json', 'refs/p.rego'],
    ['check', '-f', 'json', 'refs/p.rego'],
    ['check', '-f', 'json', 'scopes'],
    ['check', '-f', 'json', 'override/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas/input.json', 'override/p.rego'],
    ['check', '-f', 'json', 'intermediate/p.rego'],
    ['check', '-s', 'schemas/input.json', 'intermediate/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas/input.json', 'intermediate/p.rego'],
    ['check', '-f', 'json', 'with/p.rego'],
    ['check', '-f', 'json', 'with/rules.rego'],
    ['check', '-f', 'json', 'with/membership.rego'],
    ['check', '-f', 'json', 'with/replaced.rego'],
    ['check', '-f', 'json', 'with/replaced-membership.rego'],
    ['check', '-f', 'json', 'fits/p.rego'],
    ['check', '-f', 'json', 'indented/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas/input.json', 'rule-values/p.rego'],
    ['check', '-f', 'json', 'rule-values/p.rego'],
    ['check', '-s', 'bad', 'refs/p.rego'],
    ['check', '-f', 'json', '-s', 'schemas', 'var-keys/p.rego'],
    ['check', 'var-keys/p.rego'],
    ['check', '-f', 'json', 'number-keys/p.rego'],
    ['check', 'number-keys/p.rego'],
    ['check', '-f', 'json', 'parse/reference.rego'],
    ['check', 'parse/declaration.rego'],
    ...['entry', 'list', 'values', 'map', 'flow', 'null-entry', 'name', 'number', 'roots'].flatMap((name) => [['check', '-f', 'json', `parse/${name}.rego`], ['check', `parse/${name}.rego`]]),
    ['check', '-s', 'bad/bad.json', 'input/p.rego'],
    ['check', '-s', 'nonexistent', 'input/p.rego'],
    ['eval', '-s', 'schemas/input.json', '-d', 'input/p.rego', 'data.p'],
    ['eval', '-s', 'schemas/input.json', 'input.usr == 1'],
    ['eval', '-d', 'override/p.rego', 'data.ov'],
    ['eval', '-p', '-d', 'override/p.rego', 'data.ov.r1'],
    ['eval', '-p', '-s', 'schemas/input.json', '-d', 'input/p.rego', 'data.p.allow'],
    ['test', '-s', 'schemas/input.json', 'input'],
    ['test', 'input', 'override'],
    ['bench', '-s', 'schemas/input.json', '-d', 'input/p.rego', '-f', 'json', 'data.p'],
    ...['string', 'integer', 'null', 'enum', 'validation-only', 'oneOf-not-ignored', 'open-object', 'closed-object', 'untyped-properties', 'tuple', 'items', 'some-in', 'untyped-items', 'ref', 'ref-missing', 'anyOf', 'anyOf-scalars', 'allOf', 'allOf-open', 'allOf-mismatch', 'allOf-untyped', 'allOf-items', 'locals']
      .map((name) => ['check', '-f', 'json', `keywords/${name}.rego`]),
  ];
  for (const args of cases) {
    it(args.join(' '), async () => {
      const [ours, theirs] = await both(args);
      assert.deepEqual(ours, theirs);
    });
  }

  it('refuses, naming it, a schema it does not type as OPA does', async () => {
    const refused = {
      'type-list': 'a type list (type: ["string","number"]) is not supported by Verdict',
      'remote-ref': '$ref "https://example.com/s.json": references to other schema documents are not supported by Verdict',
      'anyOf-beside-type': 'anyOf beside type in one schema is not supported by Verdict',
    };
    for (const [name, message] of Object.entries(refused)) {
      const ours = await run(process.execPath, [verdict, 'check', '-f', 'json', `refused/${name}.rego`]);
      assert.equal(ours.status, 1, name);
      assert.deepEqual(JSON.parse(ours.stderr), { errors: [{ message, code: 'rego_type_error', location: { file: `refused/${name}.rego`, row: 6, col: 1 } }] });
    }
  });

  it('leaves annotations alone where OPA does not type-check with them (opa run, opa build)', async () => {
    const source = inline('{type: string}', 'input.x == 1');
    const theirs = await run(opa, ['build', '-o', join(dir, 'b.tar.gz'), 'keywords/integer.rego']);
    assert.equal(theirs.status, 0, theirs.stderr);
    const compile = (schemas?: object) => {
      try {
        checkRego([{ path: 'p.rego', source }], { builtins: verdictBuiltins, deprecated: verdictDeprecated, schemas });
        return [];
      } catch (err) {
        if (!(err instanceof RegoCompileError)) throw err;
        return err.errors.map((e) => e.message);
      }
    };
    assert.deepEqual(compile(), []);
    assert.deepEqual(compile({}), ['match error']);
  });
});
