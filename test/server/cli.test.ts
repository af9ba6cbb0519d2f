// `verdict run` as a user starts it: a real process on a free loopback port, stopped with a signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildWasmBundle } from '../engine/opa-fixture.js';
import { freePort, send, writeTree } from './harness.js';

const input = readFileSync('rego/gateway/input.json', 'utf8');

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await send(url, 'GET', '/health')).status === 200) return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('server did not start');
}

for (const workers of ['1', '2']) {
  test(`verdict run --workers ${workers} serves a wasm bundle, shares data writes, and exits 0 on SIGTERM`, async () => {
    const bundle = buildWasmBundle('bundles/sample', ['gateway/authz/allow']);
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/src/main.js', 'run', '--addr', `127.0.0.1:${port}`, '--log-format', 'text', '--workers', workers, bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    await waitFor(url);
    const res = await send(url, 'POST', '/v1/data/gateway/authz/allow', input);
    assert.deepEqual(JSON.parse(res.body.toString()), { result: true });
    assert.equal((await send(url, 'PUT', '/v1/data/flags/beta', 'true')).status, 204);
    // New connections may land on any worker: every one of them must see the write. The relay through the
    // primary is asynchronous, so a worker gets a short grace period before it counts as having missed it.
    for (let i = 0; i < 6; i++) {
      let seen: unknown;
      for (let attempt = 0; attempt < 20; attempt++) {
        seen = JSON.parse((await send(url, 'GET', '/v1/data/flags', undefined, { Connection: 'close' })).body.toString());
        if (JSON.stringify(seen) === '{"result":{"beta":true}}') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.deepEqual(seen, { result: { beta: true } });
    }
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(log, /INFO Server started\./);
    assert.doesNotMatch(log, /carol@example\.com/, 'inputs are never logged at info');
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
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--addr', '127.0.0.1:0', dir], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /manifest roots \[a\] do not permit data at path '\/b'/);
});

test('bad flags are refused with the usage line', () => {
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'run', '--log-format', 'xml'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /--log-format xml: expected json or text/);
});
