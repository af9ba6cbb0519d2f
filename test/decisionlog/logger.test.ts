import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DecisionLogger, type Decide } from '../../src/decisionlog/logger.js';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { requestContextHeaders, type DecisionEvent } from '../../src/decisionlog/event.js';
import { sampleEvent, tempDir } from './helpers.js';

// Stands in for the engine: answers system/log/drop and system/log/mask from the event, as a Rego
// policy would, and records what it was asked.
function policyEngine(calls: [string, unknown][], behaviour: { fail?: 'drop' | 'mask'; mask?: unknown } = {}): Decide {
  return async (path, input) => {
    calls.push([path, input]);
    if (behaviour.fail && path.endsWith(behaviour.fail)) throw new Error(`${path} exploded`);
    const event = input as DecisionEvent;
    if (path === 'system/log/drop') return { result: (event.input as { health?: boolean }).health === true ? true : undefined };
    return { result: behaviour.mask ?? ['/input/password', { op: 'upsert', path: '/result/token', value: '***' }] };
  };
}

function stored(store: DecisionLogStore): DecisionEvent[] {
  return (store.db.prepare('SELECT event FROM decisions ORDER BY seq').all() as { event: string }[]).map((r) => JSON.parse(r.event));
}

test('the drop and mask policies see the event, dropped events are counted, and only masked data is written', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const calls: [string, unknown][] = [];
  const logger = new DecisionLogger(store, { evaluate: policyEngine(calls) });
  const kept = sampleEvent({ input: { user: 'alice', password: 'pw' }, result: { allow: true, token: 'secret' } });
  assert.equal(await logger.log(kept), 'committed');
  assert.equal(await logger.log(sampleEvent({ input: { health: true } })), 'dropped_by_policy');
  assert.deepEqual(calls.map(([p]) => p), ['system/log/drop', 'system/log/mask', 'system/log/drop']);
  assert.equal(calls[0][1], kept);
  const [row] = stored(store);
  assert.deepEqual(row.input, { user: 'alice' });
  assert.deepEqual(row.result, { allow: true, token: '***' });
  assert.deepEqual(row.erased, ['/input/password']);
  assert.deepEqual(row.masked, ['/result/token']);
  assert.equal(stored(store).length, 1);
  assert.equal(logger.status().dropped_by_policy, 1);
  await store.close();
});

test('custom policy paths are used', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db') });
  const calls: [string, unknown][] = [];
  const logger = new DecisionLogger(store, { evaluate: async (p) => (calls.push([p, null]), {}), dropPath: 'ops/drop', maskPath: 'ops/mask' });
  assert.equal(await logger.log(sampleEvent()), 'queued');
  assert.deepEqual(calls.map(([p]) => p), ['ops/drop', 'ops/mask']);
  await store.close();
});

test('a failing drop policy keeps the event; a failing or malformed mask keeps it with input and result erased', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  await new DecisionLogger(store, { evaluate: policyEngine([], { fail: 'drop' }) }).log(sampleEvent({ input: { password: 'pw', user: 'a' } }));
  const maskFails = new DecisionLogger(store, { evaluate: policyEngine([], { fail: 'mask' }) });
  await maskFails.log(sampleEvent({ input: { password: 'pw' }, result: true }));
  const maskGarbage = new DecisionLogger(store, { evaluate: policyEngine([], { mask: ['/data/secret'] }) });
  await maskGarbage.log(sampleEvent({ input: { password: 'pw' }, result: undefined }));
  const [first, second, third] = stored(store);
  assert.deepEqual(first.input, { user: 'a' });
  assert.equal(second.input, undefined);
  assert.equal(second.result, undefined);
  assert.deepEqual(second.erased, ['/input', '/result']);
  assert.deepEqual(third.erased, ['/input']);
  assert.equal(maskFails.status().mask_policy_failures, 1);
  assert.match(maskFails.status().last_policy_error ?? '', /system\/log\/mask: system\/log\/mask exploded/);
  assert.match(maskGarbage.status().last_policy_error ?? '', /must start with \/input, \/result or \/nd_builtin_cache/);
  await store.close();
});

test('without a policy every event goes straight to the store', async () => {
  const store = new DecisionLogStore({ file: join(tempDir(), 'd.db'), durability: 'sync' });
  const event = sampleEvent();
  assert.equal(await new DecisionLogger(store).log(event), 'committed');
  assert.deepEqual(stored(store), [event]);
  await store.close();
});

test('request_context keeps only the configured headers, all their values, under the configured names', () => {
  const headers = { 'x-request-id': 'r1', 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'], authorization: 'Bearer t' };
  assert.deepEqual(requestContextHeaders(headers, ['X-Request-Id', 'X-Forwarded-For', 'X-Missing']), {
    http: { headers: { 'X-Request-Id': ['r1'], 'X-Forwarded-For': ['10.0.0.1', '10.0.0.2'] } },
  });
  assert.equal(requestContextHeaders(headers, ['X-Missing']), undefined);
});
