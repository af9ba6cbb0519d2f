// Differential test: `verdict parse` against the pinned `opa parse` (JSON and pretty) on a sample of OPA's
// conformance modules (v1 and v0), the repository's rego/ policies, a broken file and a missing one.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { corpusModules } from '../../scripts/fmt/corpus.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-parse-'));

function run(command: string[], args: string[]) {
  const out = spawnSync(command[0], [...command.slice(1), 'parse', ...args], { encoding: 'utf8' });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

const verdict = [process.execPath, 'dist/src/main.js'];
const sample = corpusModules().filter((_, i) => i % 150 === 0).map((c, i) => {
  const file = join(dir, `m${i}.rego`);
  writeFileSync(file, c.source);
  return { file, flags: c.version === 'v0' ? ['--v0-compatible'] : [], name: c.name };
});
writeFileSync(join(dir, 'broken.rego'), 'package d\np {');
const ours = readdirSync('rego', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.rego')).sort()
  .map((f) => ({ file: join('rego', f), flags: [], name: f }));

describe('verdict parse matches opa parse', () => {
  for (const { file, flags, name } of [...sample, ...ours]) {
    it(`${name} (json)`, () => {
      assert.deepEqual(run(verdict, ['-f', 'json', ...flags, file]), run([opa], ['-f', 'json', ...flags, file]));
    });
  }
  for (const { file, flags, name } of sample.slice(0, 10)) {
    it(`${name} (pretty)`, () => {
      assert.deepEqual(run(verdict, [...flags, file]), run([opa], [...flags, file]));
    });
  }
  for (const args of [['--json-include', '-comments', '-f', 'json', ours[0]?.file ?? sample[0].file], [join(dir, 'broken.rego')], ['-f', 'json', join(dir, 'missing.rego')]]) {
    it(args.join(' '), () => {
      assert.deepEqual(run(verdict, args), run([opa], args));
    });
  }

  it('refuses --json-include locations by name', () => {
    const out = run(verdict, ['--json-include', 'locations', sample[0].file]);
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--json-include locations: not supported/);
  });
});
