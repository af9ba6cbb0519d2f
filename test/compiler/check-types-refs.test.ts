// Differential test: refs that go on into a rule whose value is a scalar (`x := 1`, then `data.p.x.a`) are OPA's
// "undefined ref" type error. `verdict check` (text and JSON) and `verdict eval` against the pinned OPA, byte for
// byte: the message, the details (ref, pos, have), the location (OPA's shared location for refs that were a
// rule's bare name), the order; and policies OPA accepts, which must stay accepted.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const opa = resolve(execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim());
const verdict = resolve('dist/src/main.js');
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
};
for (const [name, files] of Object.entries(policies)) {
  const at = join(dir, name.replace(/ /g, '-'));
  mkdirSync(at);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(at, file), text);
}

function run(command: string, args: string[]) {
  const out = spawnSync(command, args, { encoding: 'utf8', cwd: dir });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('refs into scalar rules are type errors as in OPA', () => {
  for (const name of Object.keys(policies)) {
    const at = name.replace(/ /g, '-');
    for (const args of [['check', at], ['check', '-f', 'json', at], ['eval', '-d', at, 'data.p']]) {
      it(`${name}: ${args.join(' ')}`, () => assert.deepEqual(run(process.execPath, [verdict, ...args]), run(opa, args)));
    }
  }
  it('a query ref into a scalar rule', () => {
    const args = ['eval', '-d', 'head-and-body/p.rego', 'data.p.x.a'];
    assert.deepEqual(run(process.execPath, [verdict, ...args]), run(opa, args));
  });
});
