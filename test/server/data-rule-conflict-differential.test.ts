// Data API writes that would put base data where a rule's values live (at the rule's path, under it, or a
// non-object above it) are refused as `opa run --server` refuses them; writes beside the rules go through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from './harness.js';

const servers = useOpaAndVerdict({ files: { '.manifest': JSON.stringify({ roots: ['bundled'] }) } });

const policies = {
  pol: 'package p\n\nx := 1\n\ny.z := 2\n',
  pol2: 'package q.r\n\ndefault allow := false\n\nf(x) := 1\n\ns contains 1\n',
};

async function loadPolicies(): Promise<void> {
  for (const base of [servers.opa.url, servers.verdict.url]) {
    for (const [id, source] of Object.entries(policies)) {
      const res = await send(base, 'PUT', `/v1/policies/${id}`, source);
      assert.equal(res.status, 200, res.body.toString());
    }
  }
}

const writes: [string, string, string?][] = [
  ['PUT', '/v1/data/p/x', '1'],
  ['PUT', '/v1/data/p/x/q', '1'],
  ['PUT', '/v1/data/p', '{"x":1}'],
  ['PUT', '/v1/data/p', '1'],
  ['PUT', '/v1/data', '{"p":{"x":1,"y":{"z":3}}}'],
  ['PUT', '/v1/data/p/y', '5'],
  ['PUT', '/v1/data/p/y', '{"z":{}}'],
  ['PUT', '/v1/data/p/y', '{}'],
  ['PUT', '/v1/data/p/w', '{"a":1}'],
  ['PUT', '/v1/data/q', '{"r":{"allow":1,"s":2}}'],
  ['PUT', '/v1/data/q/r/f', '1'],
  ['PATCH', '/v1/data/p', '[{"op":"add","path":"/x","value":1}]'],
  ['PATCH', '/v1/data/p', '[{"op":"add","path":"/y","value":{"z":1}}]'],
  ['PATCH', '/v1/data/p/w', '[{"op":"add","path":"/b","value":1}]'],
  ['DELETE', '/v1/data/p/x'],
  ['DELETE', '/v1/data/p/w'],
  ['GET', '/v1/data/p'],
];

test('writes over rule paths answer as OPA does, in order', async () => {
  await loadPolicies();
  for (const [method, path, body] of writes) {
    const [theirs, ours] = await Promise.all([send(servers.opa.url, method, path, body), send(servers.verdict.url, method, path, body)]);
    const label = `${method} ${path} ${body ?? ''}`;
    assert.equal(ours.status, theirs.status, `${label}: ${ours.body.toString()}`);
    if (theirs.status === 400) {
      // OPA lists several conflicts in no set order.
      const lines = (text: string) => { const { code, message } = JSON.parse(text) as { code: string; message: string }; return [code, ...message.split('\n').sort()]; };
      assert.deepEqual(lines(ours.body.toString()), lines(theirs.body.toString()), label);
    } else {
      assert.equal(ours.body.toString(), theirs.body.toString(), label);
    }
  }
});
