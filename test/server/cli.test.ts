// `verdict run` as a user starts it: a real process on a free loopback port, stopped with a signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { send, writeTree } from './harness.js';
import { freePort } from '../free-port.js';
import { eventually } from '../eventually.js';

const input = readFileSync('rego/gateway/input.json', 'utf8');

async function waitFor(url: string): Promise<void> {
  // A loaded two-core machine can take a while to start several workers.
  await eventually('the server healthy', async () => (await send(url, 'GET', '/health').catch(() => undefined))?.status === 200);
}

for (const workers of ['1', '2']) {
  test(`verdict run --workers ${workers} serves a wasm bundle, shares data writes, and exits 0 on SIGTERM`, async () => {
    const bundle = resolve(buildWasmBundle('bundles/sample', ['gateway/authz/allow']));
    const port = await freePort();
    // Its own working directory: the decision log is on by default, at .verdict/decisions.db under it.
    const cwd = mkdtempSync(join(tmpdir(), 'verdict-run-'));
    const main = resolve('dist/src/main.js');
    const child = spawn(process.execPath, [main, 'run', '--addr', `127.0.0.1:${port}`, '--log-format', 'text', '--workers', workers, '-b', bundle], { stdio: ['ignore', 'ignore', 'pipe'], cwd });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(url);
    const res = await send(url, 'POST', '/v1/data/gateway/authz/allow', input);
    const answer = JSON.parse(res.body.toString());
    assert.equal(answer.result, true);
    assert.equal((await send(url, 'PUT', '/v1/data/flags/beta', 'true')).status, 204);
    // New connections may land on any worker: every one of them sees the write once it is answered.
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(JSON.parse((await send(url, 'GET', '/v1/data/flags', undefined, { Connection: 'close' })).body.toString()).result, { beta: true });
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(log, /INFO Server started\./);
    assert.doesNotMatch(log, /carol@example\.com/, 'inputs are never logged at info');
    // Every worker wrote to the same log, flushed on SIGTERM: the decision is there, found by the CLI.
    const shown = spawnSync(process.execPath, [main, 'decisions', 'show', answer.decision_id], { cwd, encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    const event = JSON.parse(shown.stdout);
    assert.equal(event.path, 'gateway/authz/allow');
    assert.equal(event.result, true);
  });
}

test('an invalid config file stops start-up with the JSON path and a non-zero exit', () => {
  const dir = writeTree({ 'c.yaml': 'server:\n  decoding:\n    max_length: "big"\n' });
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--config-file', `${dir}/c.yaml`, 'bundles/sample'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /at \/server\/decoding\/max_length: must be integer/);
});

test('a bad bundle stops start-up with the bundle error', () => {
  const dir = writeTree({ '.manifest': '{"roots":["a"]}', 'b/data.json': '{}' });
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--addr', '127.0.0.1:0', '-b', dir], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /manifest roots \[a\] do not permit data at path '\/b'/);
});

test('bad flags are refused with the usage line', () => {
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--log-format', 'xml'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /--log-format xml: expected one of json, json-pretty, text/);
});
