// nd_builtin_cache: with it on, each Data API decision's event carries what the non-deterministic builtins
// answered (time.now_ns, rand.intn, uuid.rfc4122, http.send), keyed as OPA keys them (builtin name → the
// arguments as a JSON array); compared with the events `opa run` prints for the same policy and config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../decisionlog/helpers.js';
import { startOpa } from '../decisionlog/opa.js';
import { eventually } from '../eventually.js';

import { startVerdict } from './harness.js';
import type { DecisionEvent } from './../../src/server/context.js';

test('nd_builtin_cache records the same builtins and argument keys as OPA, with the values the decision used', { timeout: 60_000 }, async (t) => {
  const origin = createServer((_req, res) => res.setHeader('content-type', 'application/json').end('{"ok":true}'));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => origin.close());
  const url = `http://127.0.0.1:${(origin.address() as AddressInfo).port}/x`;

  const dir = tempDir();
  mkdirSync(join(dir, 'policy'));
  writeFileSync(
    join(dir, 'policy', 'nd.rego'),
    `package nd\n\nr := [time.now_ns(), rand.intn("k", 10), uuid.rfc4122("a"), http.send({"method": "GET", "url": "${url}"}).body, time.now_ns()]\n`,
  );
  writeFileSync(join(dir, 'config.yaml'), 'nd_builtin_cache: true\ndecision_logs: {console: true}\n');

  const opa = await startOpa(['--config-file', join(dir, 'config.yaml'), join(dir, 'policy')]);
  await fetch(`${opa.url}/v1/data/nd/r`, { method: 'POST', body: '{"input": {}}' });
  const opaEvent = await eventually("OPA's decision log line", () => opa.logLines.find((l) => l.msg === 'Decision Log'));

  const events: DecisionEvent[] = [];
  const verdict = await startVerdict('nd_builtin_cache: true\n', [join(dir, 'policy')], (e) => void events.push(e));
  t.after(() => verdict.close());
  const answer = (await (await fetch(`${verdict.url}/v1/data/nd/r`, { method: 'POST', body: '{"input": {}}' })).json()) as { result: unknown[] };
  const ours = events.at(-1)!.nd_builtin_cache as Record<string, Record<string, unknown>>;

  const theirs = opaEvent.nd_builtin_cache as Record<string, Record<string, unknown>>;
  const shape = (cache: Record<string, Record<string, unknown>>) => Object.fromEntries(Object.entries(cache).map(([b, calls]) => [b, Object.keys(calls).sort()])) as Record<string, string[]>;
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
  for (const builtin of ['time.now_ns', 'rand.intn', 'uuid.rfc4122']) assert.deepEqual(shape(ours)[builtin], shape(theirs)[builtin], builtin);
  // http.send's key is the request object; OPA's keys follow its own object order, ours sort keys: same objects.
  const requests = (cache: Record<string, Record<string, unknown>>) => Object.keys(cache['http.send']).map((k) => JSON.parse(k) as unknown);
  assert.deepEqual(requests(ours), requests(theirs));

  // The values are the ones the decision used.
  const [now, n, id, body] = answer.result;
  assert.equal(ours['time.now_ns']['[]'], now);
  assert.equal(ours['rand.intn']['["k",10]'], n);
  assert.equal(ours['uuid.rfc4122']['["a"]'], id);
  assert.deepEqual((Object.values(ours['http.send'])[0] as { body: unknown }).body, body);
  assert.equal((Object.values(ours['http.send'])[0] as { status_code: number }).status_code, (Object.values(theirs['http.send'])[0] as { status_code: number }).status_code);

  // Decisions of the other front ends (Envoy, gateway callouts) go through the same recorder.
  const viaDecide = await verdict.decide('nd/r', {});
  const envoyEvent = events.find((e) => e.decision_id === viaDecide.decisionId)!;
  assert.equal((envoyEvent.nd_builtin_cache as Record<string, Record<string, unknown>>)['time.now_ns']['[]'], (viaDecide.result as unknown[])[0]);
  assert.equal('ndBuiltinCache' in viaDecide, false, 'the front ends get the decision only');

  // Off by default: no nd_builtin_cache in the event.
  const plain: DecisionEvent[] = [];
  const off = await startVerdict('{}', [join(dir, 'policy')], (e) => void plain.push(e));
  t.after(() => off.close());
  await fetch(`${off.url}/v1/data/nd/r`, { method: 'POST', body: '{"input": {}}' });
  assert.equal('nd_builtin_cache' in plain.at(-1)!, false);
});
