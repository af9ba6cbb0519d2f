// `verdict eval` evaluates http.send through the same fetch-and-re-evaluate loop as the server, and prints
// what `opa eval` prints for the same query against the loopback fixture service.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { evaluateQuery } from '../../src/cli/eval.js';
import { referenceOpa } from '../engine/opa-fixture.js';
import { sendJson, startFixtureService, type FixtureService } from '../pip/fixtures/http-service.js';
import { writeTree } from '../server/harness.js';

let svc: FixtureService;

before(async () => {
  svc = await startFixtureService();
  svc.route('GET', '/users/*', (req, res) => sendJson(res, 200, { id: req.url!.split('/').pop(), groups: ['ops'] }));
});
after(() => svc.close());

test('verdict eval answers http.send calls as opa eval does', async () => {
  const dir = writeTree({
    'p.rego': `package p\n\ngroups := http.send({"method": "GET", "url": concat("/", ["${svc.url}/users", input.user])}).body.groups\n\nops if "ops" in groups\n`,
    'input.json': '{"user": "carol"}',
  });
  const query = 'data.p.ops; x := data.p.groups';
  const ours = await evaluateQuery({ dataPaths: [join(dir, 'p.rego')], inputFile: join(dir, 'input.json'), query });
  const { stdout } = await promisify(execFile)(referenceOpa(), ['eval', '-f', 'json', '-d', join(dir, 'p.rego'), '-i', join(dir, 'input.json'), query]);
  assert.deepEqual(JSON.parse(JSON.stringify(ours)), JSON.parse(stdout));
  assert.deepEqual(ours.result?.[0]?.bindings, { x: ['ops'] });
});
