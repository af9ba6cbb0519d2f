import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BundleError, type BundleFile } from '../../../src/bundle/files.js';
import { checkBundlesDoNotOverlap, parseBundle, type Bundle } from '../../../src/bundle/bundle.js';
import { readVerifiedBundle } from '../../../src/bundle/load.js';
import { signBundleFiles } from '../../../src/bundle/signing.js';
import { writeBundleArchive } from '../../../src/bundle/files.js';
import { maliciousBundles, overlappingBundle, activeBundleForOverlap, type LoadOptions, type Stage } from './catalogue.js';

/** The loader under test: archive and signature checks, then the bundle's content (manifest, data, roots). */
async function loadBundle(bytes: Buffer, options: LoadOptions, name = 'intruder'): Promise<Bundle> {
  const { files } = await readVerifiedBundle(bytes, options);
  return parseBundle(name, files);
}

const runnable: Stage[] = ['archive', 'signature', 'content'];

test('the catalogue holds at least 20 hostile bundles with distinct names', () => {
  assert.ok(maliciousBundles.length >= 20);
  assert.equal(new Set(maliciousBundles.map((b) => b.name)).size, maliciousBundles.length);
});

test('the loader accepts well-formed bundles, signed and unsigned (the catalogue is not refusing everything)', async () => {
  const files: BundleFile[] = [
    { path: '.manifest', data: Buffer.from('{"revision":"r1","roots":["app"]}') },
    { path: 'app/data.json', data: Buffer.from('{"users":["ana"]}') },
    { path: 'app/policy.rego', data: Buffer.from('package app\n\nallow if input.user == "ana"\n') },
  ];
  await loadBundle(await writeBundleArchive(files), {});
  const { generateKeyPairSync } = await import('node:crypto');
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signed = await signBundleFiles(files, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { algorithm: 'ES256', keyId: 'k' });
  await loadBundle(await writeBundleArchive(signed), { signing: { keys: { k: { key: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithm: 'ES256' } } } });
});

for (const bundle of maliciousBundles.filter((b) => runnable.includes(b.stage))) {
  test(`refused with a message naming the problem: ${bundle.name}`, async () => {
    const { bytes, options } = await bundle.build();
    await assert.rejects(loadBundle(bytes, options), (err: unknown) => {
      assert.ok(err instanceof BundleError, `${bundle.name}: expected a BundleError, got ${String(err)}`);
      assert.match(err.message, bundle.expect);
      return true;
    });
  });
}

test('refused with a message naming the problem: roots overlapping an active bundle', async () => {
  const active = parseBundle(activeBundleForOverlap.name, activeBundleForOverlap.files);
  const { bytes, options } = await overlappingBundle.build();
  const intruder = await loadBundle(bytes, options);
  assert.throws(() => checkBundlesDoNotOverlap([active, intruder]), overlappingBundle.expect);
});
