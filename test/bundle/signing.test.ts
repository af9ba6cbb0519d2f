import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompactSign } from 'jose';
import { readBundleArchive, writeBundleArchive, type BundleFile } from '../../src/bundle/files.js';
import { hashBundleFile } from '../../src/bundle/file-hash.js';
import {
  signBundleFiles, verifyBundleSignatures, verificationConfigFor, globToRegExp, BundleSignatureError, type SigningAlgorithm, type VerificationConfig,
} from '../../src/bundle/signing.js';
import { runOpa } from './reference-opa.js';
import { signBundle } from '../../src/bundle/sign-bundle.js';
import { tempDir } from './temp-dir.js';

type KeyPair = { privatePem: string; publicPem: string };

function keyPair(alg: SigningAlgorithm): KeyPair {
  const pair = alg.startsWith('RS') || alg.startsWith('PS')
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'EdDSA'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' }[alg as 'ES256'] });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const rsa = keyPair('RS256');

function sampleFiles(): BundleFile[] {
  return [
    { path: '.manifest', data: Buffer.from('{"revision":"r1","roots":["app"]}') },
    { path: 'app/data.json', data: Buffer.from('{"limits":{"max":1.0,"big":1e3},"users":["ana"]}') },
    { path: 'app/policy.rego', data: Buffer.from('package app\n\nallow if input.user == "ana"\n') },
  ];
}

const configFor = (publicKey: string, algorithm: SigningAlgorithm = 'RS256', extra: Partial<VerificationConfig> = {}): VerificationConfig => ({
  keys: { main: { key: publicKey, algorithm } },
  ...extra,
});

function rejectsWith(pattern: RegExp) {
  return (err: unknown) => err instanceof BundleSignatureError && pattern.test(err.message);
}

test('structured files hash over their parsed value: whitespace and key order do not matter, number text does', () => {
  const a = hashBundleFile('x/data.json', Buffer.from('{"b":1, "a":[true,null,"s"]}'), 'SHA-256');
  const b = hashBundleFile('x/data.json', Buffer.from('{\n  "a": [true, null, "s"],\n  "b": 1\n}'), 'SHA-256');
  assert.equal(a, b);
  assert.notEqual(hashBundleFile('data.json', Buffer.from('{"b":1.0}'), 'SHA-256'), hashBundleFile('data.json', Buffer.from('{"b":1}'), 'SHA-256'));
  assert.notEqual(hashBundleFile('other.json', Buffer.from('{"b":1}'), 'SHA-256'), hashBundleFile('other.json', Buffer.from('{ "b":1}'), 'SHA-256'));
  assert.equal(hashBundleFile('data.yaml', Buffer.from('b: 1\na: [x]\n'), 'SHA-256'), hashBundleFile('data.json', Buffer.from('{"a":["x"],"b":1}'), 'SHA-256'));
});

for (const alg of ['RS256', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const) {
  test(`signs and verifies with ${alg}`, async () => {
    const keys = alg === 'RS256' ? rsa : keyPair(alg);
    const signed = await signBundleFiles(sampleFiles(), keys.privatePem, { algorithm: alg, keyId: 'main' });
    const verified = await verifyBundleSignatures(signed, configFor(keys.publicPem, alg));
    assert.deepEqual(verified.files.map((f) => f.path), sampleFiles().map((f) => f.path));
    assert.equal(verified.signature?.keyId, 'main');
  });
}

test('signs and verifies with an HMAC secret (HS256, HS512)', async () => {
  for (const alg of ['HS256', 'HS512'] as const) {
    const signed = await signBundleFiles(sampleFiles(), 'sekrit-sekrit-sekrit-sekrit-sekrit', { algorithm: alg, keyId: 'main' });
    await verifyBundleSignatures(signed, configFor('sekrit-sekrit-sekrit-sekrit-sekrit', alg));
    await assert.rejects(verifyBundleSignatures(signed, configFor('another-secret', alg)), rejectsWith(/failed to verify the bundle signature/));
  }
});

test('every digest algorithm OPA knows verifies', async () => {
  for (const hashAlgorithm of ['MD5', 'SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512', 'SHA-512-224', 'SHA-512-256'] as const) {
    const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'main', hashAlgorithm });
    await verifyBundleSignatures(signed, configFor(rsa.publicPem));
  }
});

test('a signature made with another key is refused', async () => {
  const other = keyPair('RS256');
  const signed = await signBundleFiles(sampleFiles(), other.privatePem, { keyId: 'main' });
  await assert.rejects(verifyBundleSignatures(signed, configFor(rsa.publicPem)), rejectsWith(/failed to verify the bundle signature with key "main"/));
});

test('a token choosing HS256 with the RSA public key as secret is refused (algorithm confusion)', async () => {
  const files = sampleFiles();
  const payload = { files: files.map((f) => ({ name: f.path, hash: hashBundleFile(f.path, f.data, 'SHA-256'), algorithm: 'SHA-256' })) };
  const token = await new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'HS256', kid: 'main' })
    .sign(Buffer.from(rsa.publicPem));
  const forged = [...files, { path: '.signatures.json', data: Buffer.from(JSON.stringify({ signatures: [token] })) }];
  await assert.rejects(verifyBundleSignatures(forged, configFor(rsa.publicPem)), rejectsWith(/failed to verify/));
});

test('a tampered, added or removed file is refused', async () => {
  const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'main' });
  const tampered = signed.map((f) => (f.path === 'app/policy.rego' ? { ...f, data: Buffer.from('package app\n\nallow := true\n') } : f));
  await assert.rejects(verifyBundleSignatures(tampered, configFor(rsa.publicPem)), rejectsWith(/app\/policy.rego: digest mismatch/));
  const added = [...signed, { path: 'app/extra.rego', data: Buffer.from('package app\n') }];
  await assert.rejects(verifyBundleSignatures(added, configFor(rsa.publicPem)), rejectsWith(/file app\/extra.rego not included in bundle signature/));
  const removed = signed.filter((f) => f.path !== 'app/data.json');
  await assert.rejects(verifyBundleSignatures(removed, configFor(rsa.publicPem)), rejectsWith(/app\/data.json specified in bundle signatures but not found/));
});

test('signed without signing configured, and configured without a signature, are both refused', async () => {
  const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'main' });
  await assert.rejects(verifyBundleSignatures(signed, undefined), rejectsWith(/signed .* no verification key is configured/));
  await assert.rejects(verifyBundleSignatures(sampleFiles(), configFor(rsa.publicPem)), rejectsWith(/missing .signatures.json/));
  assert.deepEqual((await verifyBundleSignatures(sampleFiles(), undefined)).signature, undefined);
});

test('key id: the configured keyid wins over the kid header, which wins over the keyid claim', async () => {
  const other = keyPair('ES256');
  const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'rsa' });
  const keys = { rsa: { key: rsa.publicPem }, ec: { key: other.publicPem, algorithm: 'ES256' as const } };
  assert.equal((await verifyBundleSignatures(signed, { keys })).signature?.keyId, 'rsa');
  await assert.rejects(verifyBundleSignatures(signed, { keys, keyId: 'ec' }), rejectsWith(/failed to verify the bundle signature with key "ec"/));
  await assert.rejects(verifyBundleSignatures(signed, { keys: { ec: keys.ec } }), rejectsWith(/verification key corresponding to ID rsa not found/));
  const unnamed = await signBundleFiles(sampleFiles(), rsa.privatePem, { claims: { keyid: 'rsa' } });
  assert.equal((await verifyBundleSignatures(unnamed, { keys })).signature?.keyId, 'rsa');
  const anonymous = await signBundleFiles(sampleFiles(), rsa.privatePem);
  await assert.rejects(verifyBundleSignatures(anonymous, { keys }), rejectsWith(/verification key ID is empty/));
});

test('scope: the bundle scope wins over the key scope, and must equal the signed scope', async () => {
  const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'main', scope: 'prod' });
  await verifyBundleSignatures(signed, { keys: { main: { key: rsa.publicPem, scope: 'prod' } } });
  await verifyBundleSignatures(signed, { keys: { main: { key: rsa.publicPem, scope: 'dev' } }, scope: 'prod' });
  await assert.rejects(verifyBundleSignatures(signed, { keys: { main: { key: rsa.publicPem } } }), rejectsWith(/scope mismatch/));
  await assert.rejects(verifyBundleSignatures(signed, { keys: { main: { key: rsa.publicPem, scope: 'prod' } }, scope: 'dev' }), rejectsWith(/scope mismatch/));
});

test('exclude_files leaves matching files out of verification', async () => {
  const signed = await signBundleFiles(sampleFiles(), rsa.privatePem, { keyId: 'main' });
  const withNotes = [...signed, { path: 'app/notes.txt', data: Buffer.from('unsigned') }];
  await assert.rejects(verifyBundleSignatures(withNotes, configFor(rsa.publicPem)), rejectsWith(/app\/notes.txt not included/));
  await verifyBundleSignatures(withNotes, configFor(rsa.publicPem, 'RS256', { excludeFiles: ['app/*.txt'] }));
  assert.ok(globToRegExp('*.txt').test('a.txt') && !globToRegExp('*.txt').test('app/a.txt'));
  assert.ok(globToRegExp('app/[a-m]*.rego').test('app/box.rego') && !globToRegExp('app/[^a-m]*.rego').test('app/box.rego'));
});

test('malformed .signatures.json files are refused with what is wrong', async () => {
  const config = configFor(rsa.publicPem);
  const withSignatures = (body: string) => [...sampleFiles(), { path: '.signatures.json', data: Buffer.from(body) }];
  await assert.rejects(verifyBundleSignatures(withSignatures('{'), config), rejectsWith(/not valid JSON/));
  await assert.rejects(verifyBundleSignatures(withSignatures('{"signatures":[]}'), config), rejectsWith(/missing JWT/));
  await assert.rejects(verifyBundleSignatures(withSignatures('{"signatures":["a.b.c","d.e.f"]}'), config), rejectsWith(/multiple JWTs/));
  await assert.rejects(verifyBundleSignatures(withSignatures('{"signatures":["not-a-jwt"]}'), config), rejectsWith(/malformed|not valid/));
});

// --- interop with the reference OPA -------------------------------------------------------------------------

function writeDir(files: BundleFile[]): string {
  const dir = tempDir('verdict-sign-');
  for (const f of files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    writeFileSync(join(dir, f.path), f.data);
  }
  return dir;
}

for (const alg of ['RS256', 'PS512', 'ES256', 'ES384', 'EdDSA', 'HS256'] as const) {
  test(`a bundle signed by opa build --signing-alg ${alg} verifies with Verdict, and a tampered copy does not`, async () => {
    const keys = alg === 'HS256' ? { privatePem: 'shared-secret-for-hmac', publicPem: 'shared-secret-for-hmac' } : keyPair(alg);
    const work = tempDir('verdict-opa-sign-');
    const src = writeDir(sampleFiles());
    writeFileSync(join(work, 'key.pem'), keys.privatePem);
    const out = join(work, 'bundle.tar.gz');
    const built = runOpa(['build', '--signing-key', alg === 'HS256' ? keys.privatePem : join(work, 'key.pem'), '--signing-alg', alg, '-b', '.', '-o', out], src);
    assert.equal(built.status, 0, built.stdout + built.stderr);
    const files = await readBundleArchive(readFileSync(out));
    const verified = await verifyBundleSignatures(files, { keys: { default: { key: keys.publicPem, algorithm: alg } } });
    assert.equal(verified.signature?.keyId, 'default');
    const tampered = files.map((f) => (f.path === 'data.json' ? { ...f, data: Buffer.from('{"app":{"limits":{"max":2}}}') } : f));
    await assert.rejects(verifyBundleSignatures(tampered, { keys: { default: { key: keys.publicPem, algorithm: alg } } }), rejectsWith(/data.json: digest mismatch/));
  });
}

for (const alg of ['RS256', 'ES512', 'EdDSA', 'HS512'] as const) {
  test(`a bundle signed by Verdict with ${alg} verifies with opa build --verification-key, and a tampered copy does not`, async () => {
    const keys = alg === 'HS512' ? { privatePem: 'shared-secret-for-hmac', publicPem: 'shared-secret-for-hmac' } : keyPair(alg);
    const work = tempDir('verdict-opa-verify-');
    writeFileSync(join(work, 'pub.pem'), keys.publicPem);
    const signed = await signBundleFiles(sampleFiles(), keys.privatePem, { algorithm: alg, keyId: 'ours', scope: 'prod' });
    writeFileSync(join(work, 'signed.tar.gz'), await writeBundleArchive(signed));
    const verificationKey = alg === 'HS512' ? keys.publicPem : join(work, 'pub.pem');
    const verifyArgs = ['build', '--verification-key', verificationKey, '--verification-key-id', 'ours', '--signing-alg', alg, '--scope', 'prod', '-o', join(work, 'out.tar.gz')];
    const ok = runOpa([...verifyArgs, '-b', join(work, 'signed.tar.gz')]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const wrongScope = runOpa([...verifyArgs.slice(0, -4), '--scope', 'dev', '-o', join(work, 'out.tar.gz'), '-b', join(work, 'signed.tar.gz')]);
    assert.notEqual(wrongScope.status, 0);
    assert.match(wrongScope.stdout + wrongScope.stderr, /scope mismatch/);
    const tampered = signed.map((f) => (f.path === 'app/data.json' ? { ...f, data: Buffer.from('{"limits":{"max":1.0,"big":1e4},"users":["ana"]}') } : f));
    writeFileSync(join(work, 'tampered.tar.gz'), await writeBundleArchive(tampered));
    const bad = runOpa([...verifyArgs, '-b', join(work, 'tampered.tar.gz')]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout + bad.stderr, /digest mismatch/);
  });
}

test('OPA and Verdict compute the same digest for awkward JSON (escapes, unicode, number forms)', async () => {
  const data = '{"z":"<&>\\u2028\\u0001\\t","é":[1.50,-0,1E+2,2e-7],"a":{"k\\ud83d\\ude00":null,"b":true}}';
  const files: BundleFile[] = [{ path: 'data.json', data: Buffer.from(data) }];
  const work = tempDir('verdict-opa-digest-');
  const signed = await signBundleFiles(files, 'secret-for-digest-check', { algorithm: 'HS256', keyId: 'k' });
  writeFileSync(join(work, 'b.tar.gz'), await writeBundleArchive(signed));
  const res = runOpa(['build', '--verification-key', 'secret-for-digest-check', '--verification-key-id', 'k', '--signing-alg', 'HS256', '-b', join(work, 'b.tar.gz'), '-o', join(work, 'o.tar.gz')]);
  assert.equal(res.status, 0, res.stdout + res.stderr);
});

test('the signing config joins the bundle block with the top-level keys as OPA does', () => {
  assert.equal(verificationConfigFor('authz', undefined, { k: { key: 'x' } }), undefined);
  assert.throws(() => verificationConfigFor('authz', {}, {}), /signing is configured but no verification keys are/);
  assert.throws(() => verificationConfigFor('authz', { keyid: 'nope' }, { k: { key: 'x' } }), /signing key id nope not found/);
  assert.throws(() => verificationConfigFor('authz', {}, { k: { key: 'x', algorithm: 'none' } }), /keys.k: unsupported algorithm "none"/);
  assert.deepEqual(verificationConfigFor('authz', { keyid: 'k', scope: 'prod', exclude_files: ['*.md'] }, { k: { key: 'x' } }), {
    keys: { k: { key: 'x', algorithm: 'RS256', scope: undefined } }, keyId: 'k', scope: 'prod', excludeFiles: ['*.md'], allowUnsignedDeltaBundles: undefined,
  });
});

test('signBundle (verdict sign) turns a bundle directory into a signed tarball that opa build verifies', async () => {
  const src = writeDir(sampleFiles());
  const work = tempDir('verdict-sign-cmd-');
  const keys = keyPair('ES384');
  writeFileSync(join(work, 'key.pem'), keys.privatePem);
  writeFileSync(join(work, 'pub.pem'), keys.publicPem);
  writeFileSync(join(work, 'claims.json'), '{"iss":"ci"}');
  const signedNames = await signBundle({ input: src, output: join(work, 'signed.tar.gz'), signingKey: join(work, 'key.pem'), algorithm: 'ES384', claimsFile: join(work, 'claims.json') });
  assert.deepEqual(signedNames.sort(), sampleFiles().map((f) => f.path).sort());
  const res = runOpa(['build', '--verification-key', join(work, 'pub.pem'), '--signing-alg', 'ES384', '-b', join(work, 'signed.tar.gz'), '-o', join(work, 'o.tar.gz')]);
  assert.equal(res.status, 0, res.stdout + res.stderr);
  const verified = await verifyBundleSignatures(await readBundleArchive(readFileSync(join(work, 'signed.tar.gz'))), { keys: { default: { key: keys.publicPem, algorithm: 'ES384' } } });
  assert.equal(verified.signature?.payload.iss, 'ci');
  await assert.rejects(signBundle({ input: src, output: join(work, 'x.tar.gz'), signingKey: join(work, 'key.pem'), algorithm: 'ES999' }), /unsupported signing algorithm ES999/);
});

test('OPA and Verdict compute the same digest for data.yaml (numbers, booleans, nesting, unicode)', async () => {
  const yaml = 'limits:\n  max: 1.50\n  min: -3\n  big: 1e3\n  tiny: 0.0000001\nflags: [true, false, null, yes]\nname: "é ✓ <tag>"\n"2": two\nnested:\n  - {b: 1, a: 2}\n  - plain text\n';
  const files: BundleFile[] = [{ path: 'app/data.yaml', data: Buffer.from(yaml) }];
  const work = tempDir('verdict-opa-yaml-');
  const signed = await signBundleFiles(files, 'secret-for-yaml-digest', { algorithm: 'HS256', keyId: 'k' });
  writeFileSync(join(work, 'b.tar.gz'), await writeBundleArchive(signed));
  const res = runOpa(['build', '--verification-key', 'secret-for-yaml-digest', '--verification-key-id', 'k', '--signing-alg', 'HS256', '-b', join(work, 'b.tar.gz'), '-o', join(work, 'o.tar.gz')]);
  assert.equal(res.status, 0, res.stdout + res.stderr);
});
