// `verdict capabilities` against `opa capabilities`: the same JSON for every builtin both have, the differences
// listed, and OPA itself accepting our document (`opa capabilities --file`, `opa check --capabilities`).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compileOptionsFor, loadCapabilities, unsupportedBuiltins, verdictCapabilities, type Capabilities } from '../../src/builtins/capabilities.js';
import { checkRego, RegoCompileError } from '../../src/compiler/compile-rego.js';
import { verdictVersion } from '../../src/version.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-capabilities-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** OPA builtins Verdict does not provide, and why. */
const NOT_PROVIDED: Record<string, string> = {
  'internal.test_case': 'used by opa test only; Verdict has no test runner builtin',
};

function verdict(...args: string[]) {
  return spawnSync(process.execPath, ['dist/src/main.js', 'capabilities', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function withoutDescriptions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDescriptions);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'description').map(([k, x]) => [k, withoutDescriptions(x)]));
}

describe('verdict capabilities', () => {
  const theirs = JSON.parse(execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Capabilities;
  const current = verdict('--current');

  it('--current prints every builtin both have as OPA does, less the prose descriptions', () => {
    const run = current;
    assert.equal(run.status, 0, run.stderr);
    const ours = JSON.parse(run.stdout) as Capabilities;
    const theirByName = new Map(theirs.builtins.map((b) => [b.name, b]));
    for (const b of ours.builtins) {
      // JSON text equality: key order included, as `opa capabilities` prints it.
      assert.equal(JSON.stringify(b), JSON.stringify(withoutDescriptions(theirByName.get(b.name))), b.name);
    }
    assert.deepEqual(ours.builtins.map((b) => b.name), [...ours.builtins.map((b) => b.name)].sort(), 'sorted by name');
    const missing = theirs.builtins.map((b) => b.name).filter((n) => !ours.builtins.some((b) => b.name === n));
    assert.deepEqual(missing, Object.keys(NOT_PROVIDED));
    assert.deepEqual(ours.future_keywords, theirs.future_keywords);
    assert.deepEqual(ours.features, theirs.features);
    assert.deepEqual(ours.wasm_abi_versions, [{ version: 1, minor_version: 2 }]);
  });

  it('OPA reads our document: opa capabilities --file and opa check --capabilities', () => {
    const file = join(dir, 'verdict.json');
    writeFileSync(file, current.stdout);
    const reread = JSON.parse(execFileSync(opa, ['capabilities', '--file', file], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Capabilities;
    assert.equal(reread.builtins.length, verdictCapabilities().builtins.length);
    const policy = join(dir, 'p.rego');
    writeFileSync(policy, 'package p\n\nallow if startswith(input.path, "/public")\n');
    execFileSync(opa, ['check', '--capabilities', file, policy]);
    writeFileSync(policy, 'package p\n\nallow if internal.test_case([])\n');
    const check = spawnSync(opa, ['check', '--capabilities', file, policy], { encoding: 'utf8' });
    assert.equal(check.status, 1);
    assert.match(check.stderr, /undefined function internal\.test_case/);
  });

  it('without a flag lists the versions; --version takes only our own', () => {
    assert.equal(verdict().stdout.trim(), `v${verdictVersion}`);
    assert.deepEqual(JSON.parse(verdict('--version', verdictVersion).stdout), JSON.parse(current.stdout));
    const other = verdict('--version', 'v0.50.0');
    assert.equal(other.status, 1);
    assert.match(other.stderr, /no capabilities for version v0\.50\.0/);
  });

  it('--file prints the file read; a missing or malformed file and a bad flag fail with exit 1 and a message', () => {
    const file = join(dir, 'small.json');
    writeFileSync(file, JSON.stringify({ builtins: [{ name: 'count', decl: { type: 'function' } }] }));
    assert.deepEqual(JSON.parse(verdict('--file', file).stdout), { builtins: [{ name: 'count', decl: { type: 'function' } }] });
    writeFileSync(file, '{bad');
    const malformed = verdict('--file', file);
    assert.match(malformed.stderr, /is not JSON/);
    assert.equal(malformed.status, 1);
    writeFileSync(file, JSON.stringify({ builtins: [{ name: 'count' }] }));
    assert.match(verdict('--file', file).stderr, /builtins\[0\] needs a "name" and a "decl"/);
    assert.equal(verdict('--file', join(dir, 'absent.json')).status, 1);
    const help = verdict('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: verdict capabilities/);
    const bad = verdict('--bogus');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--bogus/);
  });

  it('a capabilities file restricts what the compiler accepts (for check --capabilities)', () => {
    const file = join(dir, 'only-count.json');
    writeFileSync(file, JSON.stringify({ builtins: [{ name: 'count', decl: { type: 'function', args: [{ type: 'any' }], result: { type: 'number' } } }, { name: 'opa.future', decl: { type: 'function' } }], features: ['rego_v1'] }));
    const caps = loadCapabilities(file);
    assert.deepEqual(unsupportedBuiltins(caps), ['opa.future']);
    const options = compileOptionsFor(caps);
    checkRego([{ path: 'a.rego', source: 'package a\n\nn := count([1])\n' }], options);
    assert.throws(
      () => checkRego([{ path: 'b.rego', source: 'package b\n\nn := upper("a")\n' }], options),
      (err: unknown) => err instanceof RegoCompileError && /undefined function upper/.test(err.message),
    );
    assert.equal(loadCapabilities(verdictVersion).builtins.length, verdictCapabilities().builtins.length);
  });
});
