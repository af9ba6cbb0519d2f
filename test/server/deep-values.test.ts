// Inputs nested 5,000 to 10,000 levels (OPA's limit is 10,000 with the request envelope) answered as
// `opa run --server` answers them, byte for byte: returned whole, compared, ordered, hashed into sets and
// object keys, walked and printed by json.marshal. The wasm runtime walks such values with explicit stacks
// (src/wasm/runtime/frames.ts); a recursive walk overflowed the engine's call stack from about 8,000 levels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const policy = `package deep

echo := input

copy := {"x": input.a}

same if input.a == input.a2

differ if input.a != input.b

less if input.a < input.b

in_set := count({input.a, input.b, input.a2})

as_key := [k | some k, _ in {input.a: 1, input.b: 2}]

sorted := sort([input.b, input.a])

marshal := count(json.marshal(input.a))

round_trip := json.unmarshal(json.marshal(input.a))

walked := count([p | walk(input.a, [p, _])])
`;

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['deep'] }), 'deep/policy.rego': policy } });

const nested = (depth: number, leaf = '') => '['.repeat(depth) + leaf + ']'.repeat(depth);
const withoutDecisionId = (text: string) => text.replace(/"decision_id":"[^"]*",?/, '');

// Input depths; the envelope {"input": ...} and the object around a and b add one level each.
for (const depth of [5_000, 8_000, 9_999]) {
  const two = `{"input":{"a":${nested(depth - 1, '1')},"a2":${nested(depth - 1, '1')},"b":${nested(depth - 1, '2')}}}`;
  const cases: [string, string][] = [
    ['echo', `{"input":${nested(depth)}}`],
    ...['copy', 'same', 'differ', 'less', 'in_set', 'as_key', 'sorted', 'marshal', 'round_trip', 'walked'].map((rule): [string, string] => [rule, two]),
  ];
  for (const [rule, body] of cases) {
    test(`${depth} levels: data.deep.${rule} as OPA answers it`, async () => {
      const [theirs, ours] = await Promise.all([send(servers.opa.url, 'POST', `/v1/data/deep/${rule}`, body), send(servers.verdict.url, 'POST', `/v1/data/deep/${rule}`, body)]);
      assert.equal(theirs.status, 200);
      assert.equal(ours.status, 200, ours.body.toString().slice(0, 300));
      assert.equal(withoutDecisionId(ours.body.toString()), withoutDecisionId(theirs.body.toString()));
    });
  }
}
