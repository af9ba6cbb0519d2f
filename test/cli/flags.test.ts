// The flag helpers' refusals name the flag, its value and what it takes; the commands' operand counts likewise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { choiceFlag, FlagError } from '../../src/cli/flags.js';

test('choiceFlag takes a listed value and refuses any other, naming the choices', () => {
  assert.equal(choiceFlag({ format: 'json' }, 'format', ['pretty', 'json']), 'json');
  assert.throws(() => choiceFlag({ format: 'yaml' }, 'format', ['pretty', 'json']), (err: unknown) => err instanceof FlagError && err.message === '--format yaml: expected pretty or json');
  assert.throws(() => choiceFlag({ format: 'yaml' }, 'format', ['pretty', 'json', 'gobench']), (err: unknown) => err instanceof FlagError && err.message === '--format yaml: expected one of pretty, json, gobench');
  assert.throws(() => choiceFlag({ format: 'yaml' }, 'format', ['json']), (err: unknown) => err instanceof FlagError && err.message === '--format yaml: expected one of json');
});

test('the commands that print pretty or json refuse another --format alike', () => {
  for (const command of ['check', 'deps', 'parse', 'inspect', 'test']) {
    const out = spawnSync(process.execPath, ['dist/src/main.js', command, '-f', 'yaml', 'x'], { encoding: 'utf8' });
    assert.equal(out.status, 2, `${command}: ${out.stderr}`);
    assert.match(out.stderr, new RegExp(`^verdict ${command}: --format yaml: expected pretty or json\\n`), command);
  }
});

test('the commands refuse a wrong number of operands, naming what they take', () => {
  const cases: Array<[string, string[], string]> = [
    ['check', [], 'specify at least one file'],
    ['test', [], 'specify at least one file'],
    ['parse', [], 'specify exactly one file'],
    ['parse', ['a.rego', 'b.rego'], 'specify exactly one file'],
    ['inspect', ['a', 'b'], 'specify exactly one path'],
    ['deps', [], 'specify exactly one query argument'],
  ];
  for (const [command, operands, message] of cases) {
    const out = spawnSync(process.execPath, ['dist/src/main.js', command, ...operands], { encoding: 'utf8' });
    assert.equal(out.status, 2, `${command}: ${out.stderr}`);
    assert.equal(out.stderr.split('\n')[0], `verdict ${command}: ${message}`, `${command} ${operands.join(' ')}`);
  }
});
