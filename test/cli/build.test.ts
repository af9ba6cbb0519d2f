// `verdict build` against `opa build`: the bundle built by our compiler parses as a bundle (src/bundle) and its
// policy.wasm decides under opa-wasm like the one `opa build -t wasm` writes for the same sources and entrypoints.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { hostBuiltins } from '../../src/builtins/index.js';
import { parseBundle, type Bundle } from '../../src/bundle/bundle.js';
import { readBundleArchive } from '../../src/bundle/files.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-build-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const entrypoints = ['gateway/authz/allow', 'gateway/authz/deny', 'gateway/authz/roles'];
const inputs = ['gateway-allowed.json', 'gateway-expired.json'].map((f) => JSON.parse(readFileSync(`test/cli/inputs/${f}`, 'utf8')) as unknown);
inputs.push({ token: { claims: { iss: 'https://id.example.com/', sub: 'alice@example.com', aud: 'https://api.example.com', exp: 4102444800, nbf: 1 } }, request: { method: 'DELETE', path: '/v1/projects/1', time_ns: 1700000000000000000, headers: {} } });

async function bundleOf(file: string): Promise<Bundle> {
  return parseBundle(file, await readBundleArchive(readFileSync(file)));
}

async function decisions(bundle: Bundle): Promise<unknown[]> {
  const policy = await loadPolicy(bundle.wasm[0]!.bytes, undefined, hostBuiltins);
  policy.setData(bundle.data);
  return inputs.flatMap((input) => entrypoints.map((e) => policy.evaluate(input, e)));
}

describe('verdict build', () => {
  const args = ['-t', 'wasm', ...entrypoints.flatMap((e) => ['-e', e]), '-b', 'bundles/sample'];

  it('writes a bundle that decides like opa build -t wasm', async () => {
    const ours = join(dir, 'ours.tar.gz');
    const theirs = join(dir, 'theirs.tar.gz');
    const built = spawnSync(process.execPath, ['dist/src/main.js', 'build', ...args, '-o', ours], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    execFileSync(opa, ['build', ...args, '-o', theirs], { stdio: 'ignore' });
    const [a, b] = [await bundleOf(ours), await bundleOf(theirs)];
    // OPA's manifest also lists gateway/authz/granted, which no -e names (OPA adds it on its own; we list
    // exactly the entrypoints asked for), so the wasm lists are compared as: ours ⊆ OPA's, in OPA's order.
    const { wasm: ourWasm, ...ourManifest } = a.manifest;
    const { wasm: theirWasm, ...theirManifest } = b.manifest;
    assert.deepEqual(ourManifest, theirManifest);
    assert.deepEqual(ourWasm, entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' })));
    assert.deepEqual(theirWasm?.slice(0, entrypoints.length), ourWasm);
    assert.deepEqual(a.data, b.data);
    assert.deepEqual(a.modules.map((m) => m.path), b.modules.map((m) => m.path));
    const ourDecisions = await decisions(a);
    assert.deepEqual(ourDecisions, await decisions(b));
    // The inputs exercise both outcomes.
    assert.ok(JSON.stringify(ourDecisions).includes('"result":true') && JSON.stringify(ourDecisions).includes('"result":false'));
  });

  it('writes the plan for -t plan', async () => {
    const out = join(dir, 'plan.tar.gz');
    const built = spawnSync(process.execPath, ['dist/src/main.js', 'build', '-t', 'plan', '-e', 'gateway/authz/allow', 'bundles/sample', '-o', out], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const files = await readBundleArchive(readFileSync(out));
    const plan = JSON.parse(files.find((f) => f.path === 'plan.json')!.data.toString()) as { plans: { plans: Array<{ name: string }> } };
    assert.deepEqual(plan.plans.plans.map((p) => p.name), ['gateway/authz/allow']);
  });

  it('fails as opa build does on a broken policy: its errors on stdout and exit code 1', () => {
    const argv = ['build', '-t', 'wasm', '-e', 'broken/p', 'test/cli/broken', '-o', join(dir, 'x.tar.gz')];
    const built = spawnSync(process.execPath, ['dist/src/main.js', ...argv], { encoding: 'utf8' });
    const reference = spawnSync(opa, argv, { encoding: 'utf8' });
    assert.equal(built.status, 1);
    assert.match(built.stdout, /^error: load error: .*rego_parse_error/);
    assert.deepEqual([built.stdout, built.stderr], [reference.stdout, reference.stderr]);
  });
});
