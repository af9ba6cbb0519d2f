import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { runVerdict } from './cli/command-runs.js';

const verdict = (...args: string[]) => spawnSync(process.execPath, ['dist/src/main.js', ...args], { encoding: 'utf8' });

test('verdict version prints opa version\'s lines with its own values', () => {
  const out = verdict('version');
  assert.equal(out.status, 0);
  assert.match(out.stdout, /^Version: \d+\.\d+\.\d+\n/);
  assert.match(out.stdout, /\nRego Version: v1\n/);
  assert.match(out.stdout, /\nWebAssembly: available \(OPA wasm ABI 1\.2/);
  const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  const labels = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => l.split(':')[0]);
  for (const shared of ['Version', 'Platform', 'Rego Version', 'WebAssembly']) {
    assert.ok(labels(out.stdout).includes(shared) && labels(execFileSync(opa, ['version'], { encoding: 'utf8' })).includes(shared), shared);
  }
});

test('an unknown command exits 2 and names the command', () => {
  const out = verdict('frobnicate');
  assert.equal(out.status, 2);
  assert.match(out.stderr, /unknown command frobnicate/);
});

test('--help works on verdict and on every command, on stdout with exit code 0', async () => {
  const commands = [['--help'], ['help'], ['run', '--help'], ['eval', '--help'], ['test', '--help'], ['build', '--help'], ['sign', '--help'], ['decisions', '--help'], ['decisions', '-h']];
  const outs = await Promise.all(commands.map((args) => runVerdict(args)));
  outs.forEach((out, i) => {
    assert.equal(out.status, 0, commands[i]!.join(' '));
    assert.match(out.stdout, /usage: verdict/, commands[i]!.join(' '));
  });
});
