// `verdict build` without -t builds a Rego bundle, as `opa build` does: the same files, sources and data.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readBundleArchive } from '../../src/bundle/files.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

async function contents(file: string): Promise<Record<string, unknown>> {
  const files = await readBundleArchive(await readFile(file));
  return Object.fromEntries(files.map((f) => [f.path, f.path.endsWith('.json') || f.path === '.manifest' ? JSON.parse(f.data.toString()) : f.data.toString()]));
}

describe('verdict build defaults to -t rego like opa build', () => {
  for (const paths of [['rego/kong'], ['rego/kong', 'rego/gateway'], ['test/cli/test-suites/passing']]) {
    it(paths.join(' '), async () => {
      const dir = mkdtempSync(join(tmpdir(), 'verdict-build-'));
      execFileSync(opa, ['build', '-o', join(dir, 'opa.tar.gz'), ...paths]);
      const ours = spawnSync(process.execPath, ['dist/src/main.js', 'build', '-o', join(dir, 'verdict.tar.gz'), ...paths], { encoding: 'utf8' });
      assert.equal(ours.status, 0, ours.stderr);
      assert.deepEqual(await contents(join(dir, 'verdict.tar.gz')), await contents(join(dir, 'opa.tar.gz')));
    });
  }

  it('refuses an optimised build by name', () => {
    const out = spawnSync(process.execPath, ['dist/src/main.js', 'build', '-O', '1', 'rego/kong'], { encoding: 'utf8' });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--optimize is not supported/);
  });

  it('takes --format json (the plan format opa build writes by default) and refuses proto by name', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'verdict-build-')), 'plan.tar.gz');
    const json = spawnSync(process.execPath, ['dist/src/main.js', 'build', '--format', 'json', '-t', 'plan', '-e', 'gateway/authz/allow', '-o', out, 'bundles/sample'], { encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    const proto = spawnSync(process.execPath, ['dist/src/main.js', 'build', '--format', 'proto', '-t', 'plan', '-e', 'gateway/authz/allow', 'bundles/sample'], { encoding: 'utf8' });
    assert.equal(proto.status, 2);
    assert.match(proto.stderr, /--format proto: the protobuf plan format is not written/);
  });
});
