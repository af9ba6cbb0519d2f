// Differential test: refs the type checker finds undefined are OPA's "undefined ref" type error. Refs that go on
// into a rule whose value is a scalar (`x := 1`, then `data.p.x.a`; `m.a[k] := 1`, then `m.a.b.c`), and refs
// below a literal, a local, a rule or a function result of known type with a key no such value has (`[1][1.5]`,
// `{"a": 1}.b`, `{1: "a"}["1"]`, `{[1]: 2}[1]`, `set().a`, `x["a"]` for `x := [1, 2]`, `g(1).b` for `g(x) := {"a": x}`).
// A ref below an array, object or set holding a call names the call by the local OPA's rewriting gives it
// (`{"a": __local1__}.a.b`). `verdict check` (text and JSON), `verdict eval` and the policy API against the
// pinned OPA, byte for byte: the message, the details (ref, pos, have, want, oneOf), the location (OPA's shared location for refs that were a
// rule's bare name), the order, the error limit; and policies OPA accepts, which must stay accepted.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, startOpa, startVerdict, writeTree, type OpaServer } from '../server/harness.js';
import type { RunningServer } from '../../src/server/start.js';
import { runCommand, runVerdict, sideBySide } from '../cli/command-runs.js';

const opa = resolve(execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim());
const dir = mkdtempSync(join(tmpdir(), 'verdict-check-refs-'));

const policies: Record<string, Record<string, string>> = {
  scalars: {
    'p.rego': `package p

x := 1

b if input.z

s := "str"
s := "other" if input.q

u := 1 if input.a
else := "two"

default d := 2
d := 3 if input.d

y if data.p.x.a == 1

w if x.a

v if x[_]

t := count(b.c)

z if { data.p.s.k with data.p.s as {"k": 1} }

n := data.p.u.k

e := data.p.d[0]

q := data.p.s["a b"]
`,
  },
  'head and body': {
    'p.rego': 'package p\n\nx := 1\n\nw if x.a\n\nh := x.c if {\n  x.d\n}\n',
  },
  'bare name last': {
    'p.rego': 'package p\n\nx := 1\n\nw if x.a\n\nb if input.b\n\nq if {\n  true\n  b\n}\n',
    'q.rego': 'package p\n\nk if {\n  true\n  true\n  b\n}\n',
  },
  'import alias': {
    'p.rego': 'package p\n\nimport data.q.x as y\n\nw if y.a\n',
    'q.rego': 'package q\n\nx := "s"\n\nh := 1 if {\n  x.d\n}\n',
  },
  accepted: {
    'p.rego': `package p

o := {"a": 1}

c contains 1

f(a) := a

r := input.r

m.n := 1

default k := 1
k := input.k

g := [data.p.o.a, data.p.c[1], data.p.r.s, data.p.m.n, data.p.k.l, f(1)]
`,
  },
  'literal keys': {
    'p.rego': `package p

a := [1][1.5]

b := {"a": 1}.b

c := [1][-1]

d := [1, 2][1.0]

e := {1}["a"]

f := [][0]

g := {}.a

h := {"a": {"b": 1}}.a.c

i := [1][0][0]

j := {"b c": 1, "a": 2}[1]
`,
  },
  'local keys': {
    'p.rego': `package p

a if {
  x := [1, 2]
  x["a"]
  y := "a"
  x[y]
}

b if {
  x := 1
  x.a
}

c if {
  x := [{"a": 1}, {"b": 2}]
  x[_].c
  x[_][0]
}

d if {
  x := {[1]}
  x[["a"]]
  y := [[1], ["a"]]
  y[_][0].b
}

e if {
  x := split(input.s, ",")
  x.a
  count(x).b
}

f if {
  x := {"a": 1}
  x.b with input as 1
  not x.c
}

g := [x | x := {"a": [1]}; x.a.b]

h if {
  some k, v in {"a": [1]}
  v.b
  k.c
}

i if {
  x := {k: 1 | some k in ["a"]}
  x[1]
}
`,
  },
  'rule keys': {
    'p.rego': `package p

o := {"a": 1}

arr := [1, 2]

c contains x if some x in [1, 2]

u := x if {
  x := [1]
}

u := "s" if input.u

default d := {"a": 1}

d := {"b": 1} if input.d

q1 if o.b

q2 if data.p.o.c

q3 := arr[1.5]

q4 if c["a"]

q5 if c[1].a

q6 if u[0].c

q7 if d.e

q8 := o.a.b

q9 if {
  x := {"a": 1}
  k := 1
  x[k]
}
`,
  },
  'function and object rule keys': {
    'p.rego': `package p

f(x) := [1]

g(x) := {"a": 1} if x > 1

g(x) := {"b": 1} if x <= 1

m[k] := 1 if some k in ["a"]

m[k] := "s" if some k in ["b"]

a if {
  y := f(1)
  y.a
}

b if {
  g(1, y)
  y.c
}

c if {
  y := [1]
  y[upper("a")].b
}

d if m.a.b

e if m[1]

h if {
  y := {"a": 1}
  y[count([])]
}

i if {
  x := [{["a"]}, {[1]}]
  y := x[_]
  y.s
}
`,
  },
  'ref head rules': {
    'p.rego': `package p

m.a[k] := 1 if some k in ["x"]

m.b contains x if some x in ["a"]

default n.c := "s"

n.c := "t" if input.t

n.d := 1

a if m.a.b.c

b if data.p.m.a[1]

c if m.b["a"].z

d if n.c[0]

e if n.c.d

f := [m.a.x, m.b.y, n.e, data.p.n, n.d]
`,
  },
  'non-string keys': {
    'p.rego': `package p

a := {1: "a"}["1"]

b := {1: "a", "b": 2}.c

c := {1: "a"}[1].x

d := {true: 1, null: 2}[0]

e if {
  x := {"s": 1, 2: "t"}
  x.u
}

f := [{1: "a"}[1], {null: 1}[null], {"a": 1, 2: 3}.a]
`,
  },
  'composite keys': {
    'p.rego': `package p

f := {[1]: 2, {"a": 1}: 3}[[1]].z

j := {[1]: 2}[1]

k := {[1]: 2, "a": 1}.b

l := {{"a": 1}: 2}[{"b": 1}]

m := {[1]: "s"}[[2]].z

n if {
  x := {[1]: "s", [2]: 1}
  x[[1]].b
}

o := {[input.x]: 1}.a

q := {set(): 1}.a

r := {{1}: 1}[1]

s := {[1, {"b": [true]}]: 1, [null]: 2}.a
`,
  },
  'calls in composites': {
    'p.rego': `package p

a := {"b": count([]), "a": count([])}.c.d

b if {
  some x in [1]
  count(input.x).b
  y := [count([]), x][0].c
}

c := [x | x := [count([])][0].e]

d if {
  x := [1]
  x[_] == [count([])][0].f with input as {"a": count([])}
  x[count([])].b
}

e if {
  not [count([])][0].g
  count([count([])]).d
}
`,
  },
  'calls in composites, after else and every': {
    'p.rego': `package p

g(x) := [count([])][0].h if x > count([])

h if {
  every x in object.keys({"a": {"a": count([])}.a.b}) {
    x
  }
  [{1, count([])}][0].i
}

i if object.keys({"a": {"a": 1}.a.b})

j := 1 if {
  false
} else := [upper("a")][0].k

l := {"a": [count([])][0].z}
`,
  },
  'calls in composites, in three files': {
    'q.rego': 'package p\n\na if {\n  x := 1\n  [count([])][0].c\n}\n',
    'p.rego': 'package p\n\nb if {\n  y := 1\n  {"a": count([])}.a.b\n}\n',
    'a.rego': 'package p\n\nc if {\n  z := 1\n  {"a": upper("a")}.a.b\n}\n',
  },
  'empty sets': {
    'p.rego': `package p

a := set()["a"]

b if set()[1]

c if {
  x := set()
  x.a
}

d := [x | some x in set()]

e if {
  x := set()
  x[_].a
}
`,
  },
  'function results': {
    'p.rego': `package p

g(x) := {"a": x}

h([a, b]) := {"a": a, "b": [b]}

s.f(x) := [x]

a if g(1).b

b if h([1, 2]).c

c if s.f(1).z

d if {
  y := g("s")
  y.c
}

e := [g(1).a.b, h([1, 2]).b[0].c, s.f(1)[0].d]
`,
  },
  'accepted keys': {
    'p.rego': `package p

o := {"a": 1}

a := {1}[2]

b if {
  x := {"a": 1}
  x[input.k]
}

c if {
  x := []
  x[_].a
  y := {}
  z := 1
  y[z]
}

d if every x in [1] {
  x.a
}

e if {
  o.b with data.p.o as {"b": 2}
}

f := input.a.b[1.5].c

g := data.q.r[1.5]

h if {
  x := [input.a, 1]
  x[0].b
}

id(x) := x

i if {
  y := id(1)
  y.a.b
}

r.s := 1

j if r.t
`,
  },
};
for (const [name, files] of Object.entries(policies)) {
  const at = join(dir, name.replace(/ /g, '-'));
  mkdirSync(at);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(at, file), text);
}

/** verdict's and opa's answers to the same command line in `dir`, run side by side. */
async function assertSameAnswers(args: string[]): Promise<void> {
  const [ours, theirs] = await Promise.all([runVerdict(args, { cwd: dir }), runCommand(opa, args, { cwd: dir })]);
  assert.deepEqual(ours, theirs);
}

describe('refs into scalar rules are type errors as in OPA', sideBySide, () => {
  for (const name of Object.keys(policies)) {
    const at = name.replace(/ /g, '-');
    for (const args of [['check', at], ['check', '-f', 'json', at], ['eval', '-d', at, 'data.p']]) {
      it(`${name}: ${args.join(' ')}`, () => assertSameAnswers(args));
    }
  }
  it('a query ref into a scalar rule', () => assertSameAnswers(['eval', '-d', 'head-and-body/p.rego', 'data.p.x.a']));
});

describe('the policy API answers them as OPA does', () => {
  let opa: OpaServer;
  let verdictServer: RunningServer;
  before(async () => {
    const config = writeTree({ 'config.yaml': '{}\n' });
    [opa, verdictServer] = await Promise.all([startOpa(`${config}/config.yaml`, []), startVerdict('{}', [])]);
  });
  after(async () => {
    await Promise.all([opa?.stop(), verdictServer?.close()]);
  });
  for (const [name, files] of Object.entries(policies)) {
    if (Object.keys(files).length !== 1) continue;
    it(`${name}: PUT /v1/policies`, async () => {
      const path = `/v1/policies/${name.replace(/ /g, '-')}`;
      const theirs = await send(opa.url, 'PUT', path, files['p.rego']);
      const ours = await send(verdictServer.url, 'PUT', path, files['p.rego']);
      // A policy that compiles stays: take it out again, as the next one has the same package.
      await Promise.all([send(opa.url, 'DELETE', path), send(verdictServer.url, 'DELETE', path)]);
      assert.equal(ours.status, theirs.status);
      assert.equal(ours.body.toString('utf8'), theirs.body.toString('utf8'));
    });
  }
});
