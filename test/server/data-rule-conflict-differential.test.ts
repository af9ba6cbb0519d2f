// Data API writes that would put base data where a rule's values live (at the rule's path, under it, or a
// non-object above it) are refused as `opa run --server` refuses them; writes beside the rules go through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, startOpa, startVerdict, useOpaAndVerdict } from './harness.js';

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

test('with no bundle, a PATCH at the root replaces the whole document unless it conflicts with a rule, as OPA does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-patch-root-'));
  writeFileSync(join(dir, 'config.yaml'), '{}\n');
  const [opa, verdict] = await Promise.all([startOpa(join(dir, 'config.yaml'), []), startVerdict('{}', [])]);
  try {
    const steps: [string, string, string?][] = [
      ['PUT', '/v1/policies/pol', policies.pol],
      ['PATCH', '/v1/data', '[{"op":"add","path":"/","value":{"b":1}}]'],
      ['PATCH', '/v1/data', '[{"op":"add","path":"/","value":{"p":{"x":2}}}]'],
      ['PATCH', '/v1/data', '[{"op":"replace","path":"/","value":{"p":{"w":2}}},{"op":"add","path":"/e","value":3}]'],
      ['PATCH', '/v1/data', '[{"op":"add","path":"","value":[1]}]'],
      ['PATCH', '/v1/data', '[{"op":"remove","path":"/"}]'],
      ['GET', '/v1/data'],
    ];
    for (const [method, path, body] of steps) {
      const [theirs, ours] = await Promise.all([send(opa.url, method, path, body), send(verdict.url, method, path, body)]);
      const label = `${method} ${path} ${body ?? ''}`;
      assert.equal(ours.status, theirs.status, `${label}: ${ours.body.toString()}`);
      if (method === 'PATCH') assert.equal(ours.body.toString(), theirs.body.toString(), label);
      if (method === 'GET') assert.deepEqual((JSON.parse(ours.body.toString()) as { result: unknown }).result, (JSON.parse(theirs.body.toString()) as { result: unknown }).result);
    }
  } finally {
    await Promise.all([opa.stop(), verdict.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
});
