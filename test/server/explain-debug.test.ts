// ?explain=debug on the Data and Query APIs compared with `opa run --server` serving the same bundle: every
// event, Unify ones included (each pair the evaluator equates: an expression's operands, a reference's value
// with the other side, the keys it enumerates, array elements, a lone term with its own variable, a builtin's output operand with its result, a rule's
// value with the query's), in the same order, with the same node and locals; and ?explain=full without them,
// as OPA's, a rule's head marked `assign` where it has `:=`. The compilers number their generated variables differently (`__local14__`, `$1`), so those names
// are compared under one name.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const policy = `package t

names contains n if {
	some n, _ in data.roles
}

lst contains x if {
	x := input.arr[_]
}

bare if input.k

neg if not input.missing

sw if startswith("abc", "a")

pair if {
	[a, b] = [1, 2]
	a < b
}

outp if {
	plus(1, 2, z)
	z == 3
}

asg := 7
`;

const servers = useOpaAndVerdict({
  files: {
    '.manifest': JSON.stringify({ roots: ['t', 'roles'] }),
    't/policy.rego': policy,
    'data.json': JSON.stringify({ roles: { alice: ['admin'], bob: ['dev'] } }),
  },
});

type Body = { explanation?: unknown[] };

async function both(path: string): Promise<[Body, Body]> {
  const [theirs, ours] = await Promise.all([send(servers.opa.url, 'GET', path), send(servers.verdict.url, 'GET', path)]);
  assert.equal(ours.status, theirs.status, ours.body.toString());
  return [JSON.parse(theirs.body.toString()) as Body, JSON.parse(ours.body.toString()) as Body];
}

/** File names differ between the servers (OPA prefixes the bundle directory): compared from the bundle root. */
const lines = (b: Body) => (b.explanation as string[]).map((l) => l.replace(/^\S*?(t\/policy\.rego|query):(\d+)\s+/, '$1:$2 '));

/**
 * The JSON events, generated variables (`__local14__`, `$1`) under one name, and locals by name (OPA lists them
 * in its hash map's order).
 */
function events(b: Body): unknown[] {
  const list = JSON.parse(JSON.stringify(b.explanation).replace(/"(__local\d+__|\$\d+)"/g, '"generated"')) as Array<{ locals: unknown[] }>;
  return list.map((e) => ({ ...e, locals: e.locals.map((l) => JSON.stringify(l)).sort() }));
}

const input = encodeURIComponent(JSON.stringify({ k: 2, arr: [7, 8] }));
const paths = ['t/names', 't/lst', 't/bare', 't/neg', 't/sw', 't/pair', 't/outp', 't/asg'].map((p) => `/v1/data/${p}?input=${input}`);
const query = `/v1/query?q=${encodeURIComponent('x := data.t.lst; not input.z; [a, b] = [1, x]')}`;

describe('?explain=debug', () => {
  for (const path of [...paths, query]) {
    it(`${path}: the text form`, async () => {
      const [theirs, ours] = await both(`${path}&explain=debug&pretty`);
      assert.ok(lines(theirs).some((l) => / Unify /.test(l)), 'OPA reports Unify events');
      assert.deepEqual(lines(ours), lines(theirs));
    });
    if (path === query) continue;
    it(`${path}: the JSON events`, async () => {
      const [theirs, ours] = await both(`${path}&explain=debug`);
      assert.deepEqual(events(ours), events(theirs));
    });
  }
});

describe('?explain=full', () => {
  for (const path of paths) {
    it(`${path}: no Unify events`, async () => {
      const [theirs, ours] = await both(`${path}&explain=full`);
      assert.deepEqual(events(ours), events(theirs));
    });
  }
});

describe('an undefined decision', () => {
  // OPA keeps the explanation only in full mode; the others answer without one.
  for (const mode of ['debug', 'notes', 'fails', 'full']) {
    for (const method of ['GET', 'POST'] as const) {
      it(`${method} ?explain=${mode}`, async () => {
        const path = `/v1/data/t/nothing?explain=${mode}`;
        const body = method === 'POST' ? '{"input":{"k":1}}' : undefined;
        const [theirs, ours] = await Promise.all([send(servers.opa.url, method, path, body), send(servers.verdict.url, method, path, body)]);
        assert.equal(ours.status, theirs.status, ours.body.toString());
        const [t, o] = [JSON.parse(theirs.body.toString()) as Body, JSON.parse(ours.body.toString()) as Body];
        assert.equal('explanation' in o, 'explanation' in t, ours.body.toString().slice(0, 200));
        if (mode === 'full') assert.deepEqual(events(o), events(t));
      });
    }
  }
});
