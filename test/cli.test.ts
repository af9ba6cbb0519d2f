import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

test('verdict version prints its version', () => {
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'version'], { encoding: 'utf8' });
  assert.equal(out.status, 0);
  assert.match(out.stdout, /^verdict \d+\.\d+\.\d+/);
});

test('an unknown command exits 2 and names the command', () => {
  const out = spawnSync(process.execPath, ['dist/src/main.js', 'frobnicate'], { encoding: 'utf8' });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /unknown command frobnicate/);
});
