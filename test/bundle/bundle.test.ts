import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBundle, checkBundlesDoNotOverlap, packageOf } from '../../src/bundle/bundle.js';
import type { BundleFile } from '../../src/bundle/files.js';

const file = (path: string, body: string | Uint8Array): BundleFile => ({ path, data: Buffer.from(body) });

test('reads the manifest, places data by directory and keeps modules as source', () => {
  const bundle = parseBundle('b', [
    file('.manifest', JSON.stringify({ revision: 'r1', roots: ['/app/'], metadata: { team: 'x' }, rego_version: 1, wasm: [{ entrypoint: 'app/allow', module: '/policy.wasm' }] })),
    file('app/data.json', '{"users":{"alice":1}}'),
    file('app/roles/data.yaml', 'admin:\n  - read\n'),
    file('data.json', '{"app":{"limits":{"max":3}}}'),
    file('app/authz.rego', '# comment\npackage app.authz\nallow := true\n'),
    file('policy.wasm', new Uint8Array([0, 97, 115, 109])),
    file('README.md', 'ignored'),
  ]);
  assert.equal(bundle.manifest.revision, 'r1');
  assert.deepEqual(bundle.manifest.roots, ['app']);
  assert.deepEqual(bundle.manifest.wasm, [{ entrypoint: 'app/allow', module: '/policy.wasm' }]);
  assert.deepEqual(bundle.data, { app: { users: { alice: 1 }, roles: { admin: ['read'] }, limits: { max: 3 } } });
  assert.deepEqual(bundle.modules.map((m) => [m.path, m.packagePath]), [['app/authz.rego', ['app', 'authz']]]);
  assert.equal(bundle.wasm[0]!.path, '/policy.wasm');
});

test('a bundle without manifest owns every root', () => {
  const bundle = parseBundle('b', [file('x/data.json', '1')]);
  assert.deepEqual(bundle.manifest.roots, ['']);
  assert.deepEqual(bundle.data, { x: 1 });
});

test('data outside the roots is refused with OPA\'s message', () => {
  assert.throws(() => parseBundle('b1', [file('.manifest', '{"roots":["a"]}'), file('x/data.json', '{}')]), {
    message: "bundle b1: manifest roots [a] do not permit data at path '/x' (hint: check bundle directory structure)",
  });
});

test('a package outside the roots is refused with OPA\'s message', () => {
  assert.throws(() => parseBundle('b2', [file('.manifest', '{"roots":["a"]}'), file('a/p.rego', 'package b\np := 1\n')]), {
    message: "bundle b2: manifest roots [a] do not permit 'package b' in module 'a/p.rego'",
  });
});

test('overlapping roots within one manifest and across bundles are refused', () => {
  assert.throws(() => parseBundle('b3', [file('.manifest', '{"roots":["a","a/b"]}')]), { message: "manifest has overlapped roots: 'a' and 'a/b'" });
  const c1 = parseBundle('c1', [file('.manifest', '{"roots":["a"]}')]);
  const c2 = parseBundle('c2', [file('.manifest', '{"roots":["a/b"]}')]);
  assert.throws(() => checkBundlesDoNotOverlap([c1, c2]), {
    message: 'detected overlapping roots in manifests for these bundles: [c1, c2] (a overlaps a/b)',
  });
});

test('bad manifests and data files get errors naming the file', () => {
  assert.throws(() => parseBundle('b', [file('.manifest', '{')]), /\.manifest is not valid JSON/);
  assert.throws(() => parseBundle('b', [file('.manifest', '{"roots":"a"}')]), /"roots" must be an array of strings/);
  assert.throws(() => parseBundle('b', [file('a/data.json', '{oops')]), /a\/data\.json: invalid JSON/);
  assert.throws(() => parseBundle('b', [file('a/data.yaml', 'a: [')]), /a\/data\.yaml: invalid YAML/);
  assert.throws(() => parseBundle('b', [file('.manifest', '{"wasm":[{"entrypoint":"a","module":"/policy.wasm"}]}')]), /no such file/);
});

test('package paths with quoted segments and a data prefix', () => {
  assert.deepEqual(packageOf('package data.a["b-c"].d\n', 'x.rego'), ['a', 'b-c', 'd']);
});
