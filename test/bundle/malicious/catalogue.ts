// A catalogue of broken and hostile bundles, generated at test time. Each entry builds the bytes a bundle
// server (or an admin upload) would deliver, the options it is loaded with, and the message its refusal must
// carry. Any loader `(bytes, options) => Promise<unknown>` can be run against it: the archive and signature
// checks here, the full bundle pipeline (parse, roots, compile, activate) in the server's tests.
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { CompactSign } from 'jose';
import type { BundleFile, BundleLimits } from '../../../src/bundle/files.js';
import { writeBundleArchive } from '../../../src/bundle/files.js';
import { hashBundleFile } from '../../../src/bundle/file-hash.js';
import { signBundleFiles, type VerificationConfig } from '../../../src/bundle/signing.js';

/** Where the refusal is expected: reading the archive, checking the signature, parsing content, or activating. */
export type Stage = 'archive' | 'signature' | 'content' | 'activation' | 'compile';

export interface LoadOptions {
  limits?: Partial<BundleLimits>;
  signing?: VerificationConfig;
}

export interface MaliciousBundle {
  name: string;
  stage: Stage;
  build(): Promise<{ bytes: Buffer; options: LoadOptions }>;
  /** The refusal's message must match: it names the problem. */
  expect: RegExp;
}

type RawEntry = { name: string; body?: string | Buffer; type?: tar.Header['type']; linkname?: string };

async function rawTarball(entries: RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.body ?? '') : undefined;
    const header = { name: e.name, type, linkname: e.linkname, size: body?.length ?? 0, devmajor: 1, devminor: 3 };
    if (body) pack.entry(header, body);
    else pack.entry(header).end(undefined);
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const file = (path: string, body: string): BundleFile => ({ path, data: Buffer.from(body) });
const policy = file('app/policy.rego', 'package app\n\nallow if input.user == "ana"\n');
const manifest = file('.manifest', '{"revision":"r1","roots":["app"]}');
const data = file('app/data.json', '{"users":["ana"]}');
const goodFiles = () => [manifest, data, policy];

type KeyPair = { privateKey: import('node:crypto').KeyObject; publicKey: import('node:crypto').KeyObject };
let keys: { privatePem: string; publicPem: string; otherPrivatePem: string } | undefined;
function signingKeys() {
  if (!keys) {
    const [a, b] = [0, 1].map(() => generateKeyPairSync('rsa', { modulusLength: 2048 })) as [KeyPair, KeyPair];
    keys = {
      privatePem: a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicPem: a.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      otherPrivatePem: b.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }
  return keys;
}
const signingConfig = (extra: Partial<VerificationConfig> = {}): VerificationConfig => ({ keys: { release: { key: signingKeys().publicPem } }, ...extra });
const signed = (files: BundleFile[], opts: Parameters<typeof signBundleFiles>[2] = {}) =>
  signBundleFiles(files, signingKeys().privatePem, { keyId: 'release', ...opts });

const archive = (bytes: Promise<Buffer> | Buffer, options: LoadOptions = {}) => async () => ({ bytes: await bytes, options });

export const maliciousBundles: MaliciousBundle[] = [
  // --- the archive itself ---------------------------------------------------------------------------------
  { name: 'path traversal', stage: 'archive', expect: /"\.\.\/\.\.\/etc\/cron.d\/evil" escapes the bundle root/, build: archive(rawTarball([{ name: '../../etc/cron.d/evil', body: 'x' }])) },
  { name: 'traversal inside a path', stage: 'archive', expect: /escapes the bundle root/, build: archive(rawTarball([{ name: 'app/../../evil.rego', body: 'package x' }])) },
  { name: 'absolute Windows path', stage: 'archive', expect: /is an absolute path/, build: archive(rawTarball([{ name: 'C:\\Windows\\evil.rego', body: 'package x' }])) },
  { name: 'absolute UNC path', stage: 'archive', expect: /"\/\/host\/share\/data.json" is an absolute path/, build: archive(rawTarball([{ name: '//host/share/data.json', body: '{}' }])) },
  { name: 'symbolic link', stage: 'archive', expect: /"app\/data.json" is a symlink; only regular files/, build: archive(rawTarball([{ name: 'app/data.json', type: 'symlink', linkname: '/etc/passwd' }])) },
  { name: 'hard link', stage: 'archive', expect: /is a link; only regular files/, build: archive(rawTarball([{ name: 'a.rego', body: 'package a' }, { name: 'b.rego', type: 'link', linkname: '/etc/shadow' }])) },
  { name: 'character device', stage: 'archive', expect: /"dev\/mem" is a character-device/, build: archive(rawTarball([{ name: 'dev/mem', type: 'character-device' }])) },
  { name: 'named pipe', stage: 'archive', expect: /is a fifo/, build: archive(rawTarball([{ name: 'app/pipe', type: 'fifo' }])) },
  { name: 'duplicate path', stage: 'archive', expect: /contains "app\/data.json" more than once/, build: archive(rawTarball([{ name: 'app/data.json', body: '{"a":1}' }, { name: './app/data.json', body: '{"a":2}' }])) },
  {
    name: 'gzip bomb (ratio)', stage: 'archive', expect: /expands more than 200 times its compressed size/,
    build: archive(rawTarball([{ name: 'data.json', body: Buffer.alloc(20_000_000, 0x20) }]), { limits: { ratioFloorBytes: 1_000_000 } }),
  },
  {
    name: 'gzip bomb (uncompressed size)', stage: 'archive', expect: /larger than 5000000 bytes uncompressed/,
    build: archive(rawTarball([{ name: 'data.json', body: Buffer.alloc(20_000_000, 0x20) }]), { limits: { maxUncompressedBytes: 5_000_000 } }),
  },
  {
    name: 'too many files', stage: 'archive', expect: /more than 100 files/,
    build: archive(rawTarball(Array.from({ length: 101 }, (_, i) => ({ name: `p${i}.rego`, body: `package p${i}` }))), { limits: { maxFiles: 100 } }),
  },
  { name: 'too deep', stage: 'archive', expect: /deeper than 64 levels/, build: archive(rawTarball([{ name: `${'d/'.repeat(70)}data.json`, body: '{}' }])) },
  { name: 'oversized file', stage: 'archive', expect: /"app\/data.json" is larger than 1000 bytes/, build: archive(rawTarball([{ name: 'app/data.json', body: JSON.stringify({ big: 'x'.repeat(2000) }) }]), { limits: { maxFileBytes: 1000 } }) },
  { name: 'oversized archive', stage: 'archive', expect: /over the limit of 100/, build: archive(writeBundleArchive(goodFiles()), { limits: { maxCompressedBytes: 100 } }) },
  { name: 'not gzip', stage: 'archive', expect: /not valid gzip/, build: archive(Buffer.from('PK\x03\x04 this is a zip file')) },
  { name: 'truncated gzip', stage: 'archive', expect: /not valid gzip/, build: async () => { const b = await writeBundleArchive(goodFiles()); return { bytes: b.subarray(0, b.length - 30), options: {} }; } },
  { name: 'gzip of garbage, not a tar', stage: 'archive', expect: /not a valid tar/, build: archive(gzipSync(Buffer.alloc(2048, 0x41))) },

  // --- signatures -----------------------------------------------------------------------------------------
  { name: 'unsigned when signing is required', stage: 'signature', expect: /missing \.signatures\.json/, build: archive(writeBundleArchive(goodFiles()), { signing: signingConfig() }) },
  { name: 'signed when no signing is configured', stage: 'signature', expect: /signed .* no verification key is configured/, build: async () => ({ bytes: await writeBundleArchive(await signed(goodFiles())), options: {} }) },
  {
    name: 'signed with the wrong key', stage: 'signature', expect: /failed to verify the bundle signature with key "release"/,
    build: async () => ({ bytes: await writeBundleArchive(await signBundleFiles(goodFiles(), signingKeys().otherPrivatePem, { keyId: 'release' })), options: { signing: signingConfig() } }),
  },
  { name: 'wrong scope', stage: 'signature', expect: /scope mismatch/, build: async () => ({ bytes: await writeBundleArchive(await signed(goodFiles(), { scope: 'staging' })), options: { signing: signingConfig({ scope: 'production' }) } }) },
  {
    name: 'tampered file', stage: 'signature', expect: /app\/policy.rego: digest mismatch/,
    build: async () => {
      const files = (await signed(goodFiles())).map((f) => (f.path === 'app/policy.rego' ? file(f.path, 'package app\n\nallow := true\n') : f));
      return { bytes: await writeBundleArchive(files), options: { signing: signingConfig() } };
    },
  },
  {
    name: 'unsigned file slipped in', stage: 'signature', expect: /file app\/backdoor.rego not included in bundle signature/,
    build: async () => ({ bytes: await writeBundleArchive([...(await signed(goodFiles())), file('app/backdoor.rego', 'package app\nallow := true\n')]), options: { signing: signingConfig() } }),
  },
  {
    name: 'signed file removed', stage: 'signature', expect: /app\/data.json specified in bundle signatures but not found/,
    build: async () => ({ bytes: await writeBundleArchive((await signed(goodFiles())).filter((f) => f.path !== 'app/data.json')), options: { signing: signingConfig() } }),
  },
  {
    name: 'two signatures files', stage: 'signature', expect: /multiple signatures files/,
    build: async () => {
      const files = await signed(goodFiles());
      return { bytes: await writeBundleArchive([...files, { path: 'app/.signatures.json', data: files.at(-1)!.data }]), options: { signing: signingConfig() } };
    },
  },
  { name: 'unknown key id', stage: 'signature', expect: /verification key corresponding to ID intruder not found/, build: async () => ({ bytes: await writeBundleArchive(await signed(goodFiles(), { keyId: 'intruder' })), options: { signing: signingConfig() } }) },
  {
    name: 'HS256 signature keyed with the public key', stage: 'signature', expect: /failed to verify the bundle signature/,
    build: async () => {
      const files = goodFiles();
      const payload = { files: files.map((f) => ({ name: f.path, hash: hashBundleFile(f.path, f.data, 'SHA-256'), algorithm: 'SHA-256' })) };
      const token = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'HS256', kid: 'release' }).sign(Buffer.from(signingKeys().publicPem));
      return { bytes: await writeBundleArchive([...files, file('.signatures.json', JSON.stringify({ signatures: [token] }))]), options: { signing: signingConfig() } };
    },
  },
  { name: 'signatures file not JSON', stage: 'signature', expect: /\.signatures\.json is not valid JSON/, build: archive(writeBundleArchive([...goodFiles(), file('.signatures.json', 'signatures: [x]')]), { signing: signingConfig() }) },

  // --- content (bundle.ts) --------------------------------------------------------------------------------
  { name: 'invalid JSON data', stage: 'content', expect: /app\/data.json: invalid JSON/, build: archive(writeBundleArchive([manifest, file('app/data.json', '{"users": [ana]}')])) },
  // Go's JSON nesting limit (10,000), which OPA's bundle reader inherits; refused before anything is activated.
  {
    name: 'data nested 200,000 levels', stage: 'content', expect: /app\/data.json: invalid JSON: invalid character '\[' exceeded max depth/,
    build: archive(writeBundleArchive([manifest, file('app/data.json', `{"users":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)])),
  },
  { name: 'invalid YAML data', stage: 'content', expect: /app\/data.yaml: invalid YAML/, build: archive(writeBundleArchive([manifest, file('app/data.yaml', 'users: [ana\n  - : :')])) },
  { name: 'manifest not JSON', stage: 'content', expect: /\.manifest is not valid JSON/, build: archive(writeBundleArchive([file('.manifest', 'revision: r1'), data])) },
  { name: 'manifest roots not a list', stage: 'content', expect: /"roots" must be an array of strings/, build: archive(writeBundleArchive([file('.manifest', '{"roots":"app"}'), data])) },
  { name: 'overlapping roots in one manifest', stage: 'content', expect: /overlapped roots: 'app' and 'app\/admin'/, build: archive(writeBundleArchive([file('.manifest', '{"roots":["app","app/admin"]}'), data])) },
  { name: 'data outside the roots', stage: 'content', expect: /manifest roots \[app\] do not permit data at path '\/other'/, build: archive(writeBundleArchive([manifest, data, file('other/data.json', '{"x":1}')])) },
  { name: 'policy outside the roots', stage: 'content', expect: /manifest roots \[app\] do not permit 'package other' in module 'other\/p.rego'/, build: archive(writeBundleArchive([manifest, data, file('other/p.rego', 'package other\n')])) },
  { name: 'data collision between files', stage: 'content', expect: /app\/data.json: key "users" conflicts with data from another file/, build: archive(writeBundleArchive([file('data.json', '{"app":{"users":["eve"]}}'), data])) },
  { name: 'Rego file without a package', stage: 'content', expect: /app\/p.rego: no package clause/, build: archive(writeBundleArchive([manifest, file('app/p.rego', 'allow := true\n')])) },

  // --- needs the engine ------------------------------------------------------------------------------------
  { name: 'invalid Rego', stage: 'compile', expect: /app\/policy.rego/, build: archive(writeBundleArchive([manifest, file('app/policy.rego', 'package app\n\nallow if {{ input.user ==\n')])) },
];

/** A bundle already active, for the overlapping-roots case: the catalogue bundle named "intruder" claims its root. */
export const activeBundleForOverlap = { name: 'active', files: [file('.manifest', '{"revision":"a","roots":["app"]}'), data] };
export const overlappingBundle: MaliciousBundle = {
  name: 'roots overlapping an active bundle', stage: 'activation', expect: /detected overlapping roots in manifests for these bundles: \[active, intruder\]/,
  build: archive(writeBundleArchive([file('.manifest', '{"revision":"i","roots":["app/admin"]}'), file('app/admin/data.json', '{"root":true}')])),
};
