// ?explain on the Data and Query APIs compared with `opa run --server` serving the same bundle: the text form
// (?pretty=true) of notes and fails line for line, the JSON events' op, query_id, parent_id, type and message
// for notes, the result untouched; a value that names no mode is off, as in OPA; a construct the explain
// evaluator does not follow (`with` on data) is refused with 400 naming it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';
import { rolesPolicy } from '../compiler/explain/policies.js';

const policy = rolesPolicy;

const wrapping = `package w

wrapped if data.x.allow with data.roles as {}
`;

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['x', 'w'] }), 'x/policy.rego': policy, 'w/policy.rego': wrapping } });

type Body = { result?: unknown; explanation?: unknown[] };

async function both(method: string, path: string, body?: string): Promise<[Body, Body, number, number]> {
  const [theirs, ours] = await Promise.all([send(servers.opa.url, method, path, body), send(servers.verdict.url, method, path, body)]);
  return [JSON.parse(theirs.body.toString()) as Body, JSON.parse(ours.body.toString()) as Body, theirs.status, ours.status];
}

/** File names differ between the servers (OPA prefixes the bundle directory): compared from the bundle root. */
const lines = (b: Body) => (b.explanation as string[]).map((l) => l.replace(/^\S*?(x\/policy\.rego|query):(\d+)\s+/, '$1:$2 '));

const input = JSON.stringify({ input: { role: 'dev', user: 'bob', roles: ['a', 'admin'] } });

describe('?explain', () => {
  for (const mode of ['notes', 'fails']) {
    it(`POST /v1/data/x?explain=${mode}&pretty=true`, async () => {
      const [theirs, ours, s1, s2] = await both('POST', `/v1/data/x?explain=${mode}&pretty=true`, input);
      assert.equal(s2, s1);
      assert.deepEqual(ours.result, theirs.result);
      assert.deepEqual(lines(ours), lines(theirs));
    });
    it(`GET /v1/query?explain=${mode}&pretty=true`, async () => {
      const [theirs, ours] = await both('GET', `/v1/query?q=${encodeURIComponent('x := 1; x > 2')}&explain=${mode}&pretty=true`);
      assert.deepEqual(lines(ours), lines(theirs));
    });
  }

  it('JSON events for notes', async () => {
    const [theirs, ours] = await both('POST', '/v1/data/x/allow?explain=notes', input);
    const shape = (b: Body) => (b.explanation as Record<string, unknown>[]).map((e) => [e.op, e.query_id, e.parent_id, e.type, e.message, Object.keys(e).sort().join(',')]);
    assert.deepEqual(ours.result, theirs.result);
    assert.deepEqual(shape(ours), shape(theirs));
  });

  // OPA takes the first value that names a mode (case-sensitive), and no explanation when none does.
  for (const params of ['explain=everything', 'explain=', 'explain=off', 'explain=NOTES', 'explain=everything&explain=notes', 'explain=notes&explain=full']) {
    it(`POST /v1/data/x?${params}`, async () => {
      const [theirs, ours, s1, s2] = await both('POST', `/v1/data/x?${params}&pretty=true`, input);
      assert.equal(s2, s1);
      assert.deepEqual(ours, { ...theirs, ...(theirs.explanation ? { explanation: ours.explanation } : {}) });
      if (theirs.explanation) assert.deepEqual(lines(ours), lines(theirs));
    });
  }

  it('refuses what it cannot follow', async () => {
    const withed = await send(servers.verdict.url, 'POST', '/v1/data/w/wrapped?explain=notes', input);
    assert.equal(withed.status, 400);
    assert.match(withed.body.toString(), /`with` on data.roles is not supported by explain \(only input\)/);
    const instrumented = await send(servers.verdict.url, 'POST', '/v1/data/w/wrapped?instrument=true', input);
    assert.equal(instrumented.status, 400);
    assert.match(instrumented.body.toString(), /instrument=true is not supported for this evaluation: `with` on data.roles is not supported by the evaluator that instruments \(only input\)/);
    const plain = await send(servers.verdict.url, 'POST', '/v1/data/w/wrapped', input);
    assert.equal(plain.status, 200);
  });
});
