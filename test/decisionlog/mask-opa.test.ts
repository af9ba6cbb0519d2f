// Differential test: the same mask and drop policy run in the reference OPA (console decision logs) and
// through our applyMask/shouldDrop must give the same erased, masked, input and result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyMask, shouldDrop } from '../../src/decisionlog/mask.js';
import { formatTimestamp, nowNs, type DecisionEvent } from '../../src/decisionlog/event.js';
import { tempDir } from './helpers.js';
import { eventually } from '../eventually.js';
import { startOpa } from './opa.js';

const baseInput = {
  user: 'alice',
  password: 'hunter2',
  a: { b: 1, c: 2 },
  items: [{ name: 'x', qty: 1 }, { name: 'y' }, 'z'],
  scalar: 'text',
  'key with space': 1,
  'a%20b': 2,
  'email@host': 3,
  'semi;colon': 4,
  empty: {},
  nul: null,
};

// Mask rule results, one per case. The mask policy returns cases[input.input.case].
const cases: Record<string, unknown[]> = {
  erase_key: ['/input/password'],
  erase_missing: ['/input/missing', '/input/a/missing', '/input/password/deeper', '/result/nope'],
  erase_nested_and_result: ['/input/a/b', '/result/secret'],
  erase_array_element: ['/input/items/1'],
  erase_in_array_object: ['/input/items/0/name', '/input/items/7/name', '/input/items/-1'],
  erase_whole_input: ['/input'],
  erase_whole_result: ['/result'],
  erase_null_value: ['/input/nul'],
  erase_then_missing_again: ['/input/password', '/input/password'],
  upsert_existing: [{ op: 'upsert', path: '/input/password', value: '***' }],
  upsert_creates_levels: [{ op: 'upsert', path: '/input/new/deep/key', value: { n: 1 } }],
  upsert_array_in_range: [{ op: 'upsert', path: '/input/items/2', value: 'Z' }],
  upsert_array_out_of_range: [{ op: 'upsert', path: '/input/items/5', value: 'x' }, { op: 'upsert', path: '/input/items/9/k', value: 1 }],
  upsert_into_scalar: [{ op: 'upsert', path: '/input/scalar/x', value: 1 }],
  upsert_no_value: [{ op: 'upsert', path: '/input/user' }],
  upsert_whole_result: [{ op: 'upsert', path: '/result', value: { masked: true } }],
  remove_op: [{ op: 'remove', path: '/input/a' }, { op: 'remove', path: '/input/gone' }],
  mixed_order: [{ op: 'upsert', path: '/input/password', value: 'x' }, '/input/password', { op: 'upsert', path: '/result/allow', value: false }],
  escaped_keys: ['/input/key with space', '/input/a%20b', '/input/email@host', '/input/semi;colon', '/input/'],
  empty_key_upsert: [{ op: 'upsert', path: '/input/empty/', value: 5 }],
  nd_builtin_cache_absent: ['/nd_builtin_cache/x'],
};

// Mask results OPA refuses as a whole (it then logs nothing); applyMask must refuse them too.
const invalidCases: Record<string, unknown> = {
  bad_prefix: ['/data/x'],
  no_slash: ['input/password'],
  bad_op: [{ op: 'replace', path: '/input/password', value: 1 }],
  missing_op: [{ path: '/input/password' }],
  bad_escape: ['/input/%zz'],
  not_a_list: { path: '/input/password' },
  number_rule: [7],
};

const policy = `package system.log

mask := data.cases[input.input.case] if input.input.case

drop if input.input.drop == true
`;

const authz = `package test

decision := {"allow": true, "secret": "s3cr3t", "who": input.user, "list": [1, 2, 3]}
`;

test('applyMask and shouldDrop agree with the reference OPA on a shared set of mask cases', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const policyDir = join(dir, 'policy');
  mkdirSync(policyDir);
  writeFileSync(join(policyDir, 'log.rego'), policy);
  writeFileSync(join(policyDir, 'authz.rego'), authz);
  writeFileSync(join(policyDir, 'data.json'), JSON.stringify({ cases: { ...cases, ...invalidCases } }));
  const opa = await startOpa(['--set', 'decision_logs.console=true', policyDir]);

  const ask = async (input: Record<string, unknown>) => {
    const response = await fetch(`${opa.url}/v1/data/test/decision`, { method: 'POST', body: JSON.stringify({ input }) });
    assert.equal(response.status, 200);
    return (await response.json()) as { decision_id: string; result: unknown };
  };
  const logged = (id: string) => opa.logLines.find((l) => l.msg === 'Decision Log' && l.decision_id === id);

  const asked: { name: string; input: Record<string, unknown>; decisionId: string; result: unknown; valid: boolean; drop?: boolean }[] = [];
  for (const [name, valid] of [...Object.keys(cases).map((n) => [n, true] as const), ...Object.keys(invalidCases).map((n) => [n, false] as const)]) {
    const input = { ...structuredClone(baseInput), case: name };
    const { decision_id, result } = await ask(input);
    asked.push({ name, input, decisionId: decision_id, result, valid });
  }
  for (const drop of [true, false]) {
    const input = { ...structuredClone(baseInput), drop };
    const { decision_id, result } = await ask(input);
    asked.push({ name: `drop=${drop}`, input, decisionId: decision_id, result, valid: true, drop });
  }
  // A last, ordinary decision: once it is logged, every earlier one that will be logged has been.
  const sentinel = await ask({ user: 'sentinel' });
  await eventually('the sentinel decision log line', () => logged(sentinel.decision_id));

  for (const c of asked) {
    const opaEvent = logged(c.decisionId);
    const ours: DecisionEvent = { labels: { id: 'x', version: 'y' }, decision_id: c.decisionId, timestamp: formatTimestamp(nowNs()), input: c.input, result: c.result };
    if (c.drop !== undefined) {
      assert.equal(shouldDrop(c.drop), opaEvent === undefined, `${c.name}: drop decision`);
      continue;
    }
    if (!c.valid) {
      assert.equal(opaEvent, undefined, `${c.name}: OPA logged an event despite an invalid mask`);
      assert.throws(() => applyMask(ours, invalidCases[c.name]), { code: 'invalid_mask' }, c.name);
      continue;
    }
    assert.ok(opaEvent, `${c.name}: OPA logged no event`);
    const masked = applyMask(ours, cases[c.name]);
    const pick = (e: Record<string, unknown>) => ({ input: e.input, result: e.result, erased: e.erased, masked: e.masked });
    assert.deepEqual(pick(masked as unknown as Record<string, unknown>), pick(opaEvent), c.name);
  }
  // applyMask leaves the caller's event alone (the engine may still be using input and result).
  assert.deepEqual(asked[0].input, { ...baseInput, case: asked[0].name });
});
