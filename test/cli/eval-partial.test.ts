// `verdict eval -p` against `opa eval -p --format json`: the same files, unknowns and query give equivalent
// residual queries and support modules (normalised as in test/compiler/partial/normalise.ts), the same error
// envelope for a query that does not compile, and flags that need -p are refused without it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { opaPath } from '../compiler/opa-oracle.js';
import { inOperandOrder, normaliseQueries, normaliseSupport } from '../compiler/partial/normalise.js';
import { runCommand, runVerdict, sideBySide, type Outcome } from './command-runs.js';

const opa = opaPath();
const dir = mkdtempSync(join(tmpdir(), 'verdict-eval-p-'));
after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(join(dir, 'p.rego'), `package tickets
default allow := false
allow if input.ticket.tenant == input.user.tenant
allow if {
  some tag in input.ticket.tags
  tag == "public"
}
`);
writeFileSync(join(dir, 'input.json'), JSON.stringify({ user: { tenant: 't1' } }));

type Evaluated = { code: number | null; json: Record<string, unknown> };

const asJson = ({ status, stdout }: Outcome): Evaluated => ({ code: status, json: JSON.parse(stdout || '{}') as Record<string, unknown> });

const verdict = async (args: string[]) => asJson(await runVerdict(['eval', ...args]));
const reference = async (args: string[]) => asJson(await runCommand(opa, ['eval', '--format', 'json', ...args]));

/** `verdict eval <args>` and `opa eval --format json <args>`, run side by side: [ours, theirs]. */
const evalBoth = (args: string[]) => Promise.all([verdict(args), reference(args)]);

/** The same command line run by `opa` and by Verdict, each's status and output as text. */
async function sourceOfBoth(args: string[]): Promise<{ theirs: Outcome; ours: Outcome }> {
  const [theirs, ours] = await Promise.all([runCommand(opa, args), runVerdict(args)]);
  return { theirs, ours };
}

/** `args` give Verdict OPA's exit status and OPA's output, byte for byte. */
async function sameSource(args: string[]): Promise<void> {
  const { theirs, ours } = await sourceOfBoth(args);
  assert.equal(ours.status, theirs.status, ours.stderr);
  assert.equal(ours.stdout, theirs.stdout);
}

type Json = Record<string, unknown>;

describe('verdict eval -p', sideBySide, () => {
  for (const query of ['data.tickets.allow == true', 'data.tickets.allow']) {
    it(query, async () => {
      const args = ['-p', '-d', join(dir, 'p.rego'), '-i', join(dir, 'input.json'), '--unknowns', 'input.ticket', query];
      const [ours, theirs] = await evalBoth(args);
      assert.equal(ours.code, 0);
      const o = ours.json.partial as Json;
      const t = theirs.json.partial as Json;
      assert.deepEqual(normaliseQueries((o.queries ?? []) as Json[][]), normaliseQueries((t.queries ?? []) as Json[][]));
      assert.deepEqual(normaliseSupport((o.modules ?? []) as Json[]), normaliseSupport((t.modules ?? []) as Json[]));
    });
  }
  // The operands of each `=` in OPA's order: as written where the query equates an unknown, a rule's value
  // first, the other operand first for base data, a reference to a rule kept residual first, and a rule's own
  // variable first where its equation is put back. Compared in operand order, without the other normalisation
  // (expressions, queries and support rules may still come in another order; generated names differ).
  writeFileSync(join(dir, 'order.rego'), `package order
p := "foo"
q := 2 if input.q == 1
default d := false
d if input.d == 1
r if {
  input.x = ["foo", a]
  input.y = a
}
`);
  writeFileSync(join(dir, 'order.json'), JSON.stringify({ base: [1, 2] }));
  const exact = ['input.x = data.order', 'data.order = input.x', 'input.x = data.order.p', 'data.order.p = input.x', 'data.base[i] = input.x', 'input.x = data.base[0]', 'input.x = y; y[0] = 1', 'x = input.x', 'input.x = x', 'data.order.d = x', 'x = data.order.d', 'data.order.r', 'data.order.q = input.x'];
  for (const query of exact) {
    it(`the order of operands: ${query}`, async () => {
      const args = ['-p', '-d', join(dir, 'order.rego'), '-d', join(dir, 'order.json'), query];
      const [ours, theirs] = await evalBoth(args);
      assert.equal(ours.code, 0);
      const o = ours.json.partial as Json;
      const t = theirs.json.partial as Json;
      inOperandOrder(() => {
        assert.deepEqual(normaliseQueries((o.queries ?? []) as Json[][]), normaliseQueries((t.queries ?? []) as Json[][]));
        assert.deepEqual(normaliseSupport((o.modules ?? []) as Json[]), normaliseSupport((t.modules ?? []) as Json[]));
      });
    });
  }
  it('a query that never succeeds prints an empty partial result', async () => {
    const [ours, theirs] = await evalBoth(['-p', '--unknowns', 'input.ticket', 'input.ticket.x == 1; 1 == 2']);
    assert.deepEqual(ours.json, theirs.json);
  });
  it('a query that does not compile prints the errors and exits 2', async () => {
    const [ours, theirs] = await evalBoth(['-p', 'x']);
    assert.equal(ours.code, 2);
    assert.deepEqual(ours.json, theirs.json);
  });
  it('--unknowns without -p is refused, not ignored', async () => {
    const out = await runVerdict(['eval', '--unknowns', 'input', 'true']);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--unknowns requires -p/);
  });
});

describe('verdict eval -p --format source and -b', sideBySide, () => {
  const policy = join(dir, 'src.rego');
  writeFileSync(policy, `package src
allow if input.x == 1
allow if {
  input.y > data.src.lim
  input.z == "a"
}
lim := 3
`);
  // Generated variables: shared ones printed under their own name (`_term_1_01`), lone ones as `_`.
  const generated = join(dir, 'generated.rego');
  writeFileSync(generated, `package gen
f(_, y) := 1 if {
  input.w
  y
}
p if f(1, true)
q if {[x | x = input.y[_]]}
`);
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'src'), { recursive: true });
  writeFileSync(join(bundle, '.manifest'), JSON.stringify({ roots: ['src'] }));
  writeFileSync(join(bundle, 'src', 'policy.rego'), 'package src\n\nallow if input.x == 1\n\nallow if {\n  input.y > data.src.lim\n  input.z == "a"\n}\n');
  writeFileSync(join(bundle, 'src', 'data.json'), JSON.stringify({ lim: 4 }));

  const same = async (args: string[]) => {
    const [ours, theirs] = await Promise.all([runVerdict(['eval', ...args]), runCommand(opa, ['eval', ...args])]);
    assert.equal(ours.status, theirs.status, ours.stderr);
    assert.equal(ours.stdout, theirs.stdout);
    return { ours, theirs };
  };
  const cases: Record<string, string[]> = {
    'residual queries, each followed by a blank line': ['-d', policy, 'data.src.allow'],
    'a query that never succeeds prints nothing': ['-d', policy, 'data.src.lim == 4'],
    'a query that always succeeds prints one empty query': ['-d', policy, 'data.src.lim == 3'],
    'side by side expressions': ['-d', policy, 'input.a == 1 input.b == 2'],
    'a support module': ['-d', policy, '--disable-inlining', 'data.src.allow', 'data.src.allow'],
    'a bundle (-b) directory': ['-b', bundle, 'data.src.allow'],
    'generated variables in a support function': ['-d', generated, '--disable-inlining', 'data.gen.f', 'data.gen.p'],
    'generated variables in a query': ['-d', generated, 'data.gen.q'],
  };
  for (const [name, args] of Object.entries(cases)) it(name, async () => void (await same(['-p', '--format', 'source', ...args])));
  it('-b with --format json', async () => {
    const [ours, theirs] = await evalBoth(['-p', '-b', bundle, 'data.src.allow']);
    assert.deepEqual(ours.json, theirs.json);
  });
  it('a query that does not compile: the errors on stderr, exit 2', async () => {
    const { ours, theirs } = await same(['-p', '--format', 'source', 'foo(1)']);
    assert.equal(ours.stderr, theirs.stderr);
  });
  it('--format source without -p is refused with a message naming it', async () => {
    const out = await runVerdict(['eval', '--format', 'source', 'true']);
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /--format source .*-p/);
  });
  it('-p with another format is refused with a message naming it', async () => {
    const out = await runVerdict(['eval', '-p', '--format', 'pretty', 'true']);
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /--format pretty/);
  });
});

describe('verdict eval -p: `with` on a part of an unknown input', sideBySide, () => {
  const policy = join(dir, 'with.rego');
  writeFileSync(policy, 'package w\n\nallow if input.x == 1\n\nk := 5\n');
  // The input stays unknown (OPA does not read the replacement into it) and what is left keeps the `with`.
  const queries = [
    'input.x == 1 with input.y as 2',
    'input.y == 2 with input.y as 2',
    'data.w.k == 5 with input.y as 2',
    'input.x == data.w.k with input.y as 2',
    'input.x[_] == 1 with input.x.y as 2',
    'not input.x with input.y as 2',
    'x := 2; input.a == x with input.y as x',
    'input.x.a == 1 with input.x.b as 2',
    // An equation binding a variable keeps its `with` (a binding alone would lose it).
    'input.x = y with input.y as 2',
    'y = input.x with input.y as 2; y > 1',
  ];
  for (const q of queries) {
    it(q, () => sameSource(['eval', '-p', '--format', 'source', '-d', policy, q]));
  }
  it('beside a `with` that replaces the unknown whole', async () => {
    const args = ['eval', '-p', '--format', 'source', '--unknowns', 'input.y', 'input.z == 1 with input.y as 2 with input as {"z": 1}'];
    const { theirs, ours } = await sourceOfBoth(args);
    assert.equal(ours.stdout, theirs.stdout);
  });
  it('over a rule that depends on unknowns is refused, naming it (OPA keeps the rule whole, as a support rule)', async () => {
    const ours = await verdict(['-p', '-d', policy, 'data.w.allow with input.y as 2']);
    assert.equal(ours.code, 2);
    assert.match(JSON.stringify(ours.json), /`with` on a part of an unknown input over a rule that depends on unknowns/);
  });
});

describe('verdict eval -p: the query\'s own variables bound to what stays residual', sideBySide, () => {
  // Kept as equations of the query's locals (`__localq0__ = input.y`) after the other expressions, latest
  // first; a known value equated with a variable bound to a residual reference is written first.
  const queries = [
    'y := input.y',
    'y := input.y; z := input.z; w := input.w',
    'y := input.y; input.a == 1; z := input.z',
    'y := input.y; not input.z',
    'y := input.y[0]',
    'x := input.a; x == 1',
    'x := input.a; x = "s"',
    'x = input.a; x == [1]',
    'input.a = x; x == 1',
    'y := input.y; z := input.z; z == 1',
    // A call's output the query names stays the query's variable, not nested into where it is used.
    'z = input.x + 1; z > 2',
    'z = input.x + 1; y = z * 2; y > 2',
  ];
  for (const q of queries) {
    it(q, () => sameSource(['eval', '-p', '--format', 'source', q]));
  }
});

describe('verdict eval -p: a conflict', () => {
  it('is worded and located as OPA words it', async () => {
    const policy = join(dir, 'conflict.rego');
    writeFileSync(policy, 'package cf\n\np := 1\np := 2\n');
    const [ours, theirs] = await evalBoth(['-p', '-d', policy, 'data.cf.p == 1']);
    assert.equal(ours.code, theirs.code);
    const errors = (theirs.json.errors as Array<Record<string, unknown>>).map(({ stack_trace: _s, ...rest }) => rest);
    assert.deepEqual(ours.json.errors, errors);
  });
});
