// ?strict-builtin-errors=true compared with `opa run --server` serving the same bundle: the first builtin
// error fails the decision with OPA's 500, error code (eval_builtin_error, or eval_type_error for an operand
// of the wrong type), message and the call's location; without the parameter the call stays undefined. Both
// the runtime's own builtins (div, to_number, json.unmarshal, upper, concat) and the host's (time.*,
// http.send) are covered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';
import type { DecisionEvent } from '../../src/server/context.js';

const policy = `package t

n := to_number(input.s) if input.case == "to_number"

j := json.unmarshal(input.s) if input.case == "json"

d := input.a / input.b if input.case == "div"

r := input.a % input.b if input.case == "rem"

t := time.parse_rfc3339_ns(input.s) if input.case == "time"

h := http.send({"method": "get", "url": "http://127.0.0.1:1/"}) if input.case == "http"

c := concat(",", input.s) if input.case == "concat"

u := upper(input.s) if input.case == "upper"

p := input.a + input.b if input.case == "plus"

m := input.a - input.b if input.case == "minus"

s := replace(input.a, "q", input.b) if input.case == "replace"

sub := substring(input.a, input.b, 1) if input.case == "substring"

ok := 1
`;

const events: DecisionEvent[] = [];

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['t'] }), 't/policy.rego': policy }, onDecision: (e) => void events.push(e) });

interface Detail {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
}

/** OPA's messages that Verdict words the same; the rest must agree on code, location and "builtin: " prefix. */
const cases: { input: unknown; sameMessage: boolean }[] = [
  { input: { case: 'to_number', s: 'x' }, sameMessage: true },
  { input: { case: 'to_number', s: [1] }, sameMessage: true },
  { input: { case: 'json', s: '{' }, sameMessage: false },
  { input: { case: 'json', s: 7 }, sameMessage: true },
  { input: { case: 'div', a: 1, b: 0 }, sameMessage: true },
  { input: { case: 'div', a: '1', b: 2 }, sameMessage: true },
  { input: { case: 'rem', a: 1, b: 0 }, sameMessage: true },
  { input: { case: 'time', s: 'bad' }, sameMessage: false },
  { input: { case: 'http' }, sameMessage: false },
  { input: { case: 'concat', s: 1 }, sameMessage: true },
  { input: { case: 'upper', s: 1 }, sameMessage: true },
  { input: { case: 'upper', s: { a: 1 } }, sameMessage: true },
  { input: { case: 'plus', a: 1, b: 'x' }, sameMessage: true },
  { input: { case: 'minus', a: 'x', b: 1 }, sameMessage: true },
  { input: { case: 'minus', a: 1, b: [1] }, sameMessage: true },
  { input: { case: 'rem', a: 1.5, b: 1 }, sameMessage: true },
  { input: { case: 'replace', a: 1, b: 'x' }, sameMessage: true },
  { input: { case: 'replace', a: 'x', b: 2 }, sameMessage: true },
  { input: { case: 'substring', a: 'x', b: 'y' }, sameMessage: true },
];

async function both(method: string, path: string, body?: string) {
  const [theirs, ours] = await Promise.all([send(servers.opa.url, method, path, body), send(servers.verdict.url, method, path, body)]);
  return { theirs: { status: theirs.status, body: JSON.parse(theirs.body.toString()) }, ours: { status: ours.status, body: JSON.parse(ours.body.toString()) } };
}

for (const c of cases) {
  const input = JSON.stringify(c.input);
  test(`strict: ${input} fails as OPA's does`, async () => {
    const { theirs, ours } = await both('POST', '/v1/data/t?strict-builtin-errors=true', `{"input":${input}}`);
    assert.equal(theirs.status, 500, JSON.stringify(theirs.body));
    assert.equal(ours.status, 500, JSON.stringify(ours.body));
    assert.equal(ours.body.code, theirs.body.code);
    assert.equal(ours.body.message, theirs.body.message);
    const want = theirs.body.errors[0] as Detail;
    const got = ours.body.errors[0] as Detail;
    assert.equal(got.code, want.code);
    assert.deepEqual(got.location, want.location);
    if (c.sameMessage) assert.equal(got.message, want.message);
    else assert.equal(got.message.split(': ')[0], want.message.split(': ')[0], `${got.message} / ${want.message}`);
    // The decision log keeps the evaluation's own error, as OPA stores it.
    assert.equal(events.at(-1)!.error?.message, got.message);
  });

  test(`non-strict: ${input} leaves the call undefined, as OPA`, async () => {
    const { theirs, ours } = await both('POST', '/v1/data/t', `{"input":${input}}`);
    assert.equal(ours.status, 200);
    assert.deepEqual(withoutId(ours.body), withoutId(theirs.body));
  });
}

test('strict: a GET with ?input fails the same way', async () => {
  const { theirs, ours } = await both('GET', `/v1/data/t/d?strict-builtin-errors=true&input=${encodeURIComponent('{"case":"div","a":1,"b":0}')}`);
  assert.equal(ours.status, theirs.status);
  assert.deepEqual(stripTrace(ours.body), stripTrace(theirs.body));
});

test('strict: a decision without builtin errors answers as usual', async () => {
  const { theirs, ours } = await both('POST', '/v1/data/t?strict-builtin-errors=true', '{"input":{"case":"to_number","s":"12"}}');
  assert.equal(ours.status, 200);
  assert.deepEqual(withoutId(ours.body), withoutId(theirs.body));
});

test('the Query API and the v0 Data API evaluate non-strict whatever the parameter says, as OPA', async () => {
  for (const [method, path, body] of [
    ['POST', '/v1/query?strict-builtin-errors=true', '{"query":"x := to_number(input.s)","input":{"s":"a"}}'],
    ['POST', '/v0/data/t?strict-builtin-errors=true', '{"case":"div","a":1,"b":0}'],
  ] as const) {
    const { theirs, ours } = await both(method, path, body);
    assert.equal(ours.status, theirs.status, path);
    assert.deepEqual(ours.body, theirs.body, path);
  }
});

function withoutId(body: Record<string, unknown>) {
  const { decision_id: _id, ...rest } = body;
  return rest;
}

/** OPA adds its evaluator's stack trace (query ids), which a compiled policy has no equivalent of. */
function stripTrace(body: { errors?: Record<string, unknown>[] }) {
  return { ...body, errors: body.errors?.map(({ stack_trace: _trace, ...rest }) => rest) };
}
