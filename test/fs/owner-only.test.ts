// Everything Verdict writes is readable by its owner only, whatever the umask: the decision log (database,
// WAL and SHM files, the directories made for it), exports, persisted bundles, the compile cache, built and
// signed bundles. Modes are read back from disk. The umask is 0 here, so nothing is left to it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { DecisionLogStore } from '../../src/decisionlog/store.js';
import { runDecisionsCommand } from '../../src/decisionlog/cli.js';
import { BundlePersistence } from '../../src/bundle/persist.js';
import { CachingCompiler } from '../../src/engine/compile-cache.js';
import { signBundle } from '../../src/bundle/sign-bundle.js';
import { buildCommand } from '../../src/cli/build.js';
import { sampleEvent, tempDir } from '../decisionlog/helpers.js';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
let umask: number;
before(() => {
  umask = process.umask(0);
});
after(() => {
  process.umask(umask);
});

const quiet = { stdout: { write: () => true }, stderr: { write: () => true } } as never;

test('the decision log: new directories 0700, database, WAL and SHM 0600 after writes', async () => {
  const root = tempDir();
  const file = join(root, 'var', 'verdict', 'decisions.db');
  const store = new DecisionLogStore({ file });
  try {
    for (let i = 0; i < 50; i++) await store.record(sampleEvent());
    await store.flush();
    // The writer thread holds the database open: its WAL and SHM files exist now.
    assert.ok(existsSync(`${file}-wal`) && existsSync(`${file}-shm`), 'WAL mode files exist while open');
    assert.equal(modeOf(join(root, 'var')), '0700');
    assert.equal(modeOf(join(root, 'var', 'verdict')), '0700');
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(path), '0600', path);
    await store.writerPragma('wal_checkpoint(TRUNCATE)');
    await store.record(sampleEvent());
    await store.flush();
    assert.equal(modeOf(`${file}-wal`), '0600', 'a WAL file started again after a checkpoint');
  } finally {
    await store.close();
  }
});

test('an existing decision log left readable by others is tightened; an existing directory is left as it is', async () => {
  const root = tempDir();
  const dir = join(root, 'shared');
  mkdirSync(dir, { mode: 0o755 });
  const file = join(dir, 'decisions.db');
  const first = new DecisionLogStore({ file });
  await first.record(sampleEvent());
  await first.close();
  chmodSync(file, 0o644);
  writeFileSync(`${file}-wal`, '', { mode: 0o666 });
  const again = new DecisionLogStore({ file });
  try {
    await again.record(sampleEvent());
    await again.flush();
    assert.equal(modeOf(file), '0600');
    assert.equal(modeOf(`${file}-wal`), '0600');
    assert.equal(modeOf(`${file}-shm`), '0600');
    assert.equal(modeOf(dir), '0755', 'a directory Verdict did not create keeps its mode');
  } finally {
    await again.close();
  }
});

const asRoot = process.getuid?.() === 0;
test('a decision log readable by others that cannot be tightened (another owner) stops verdict run with exit 6', { skip: asRoot ? false : 'needs root, to run verdict as another user than the file owner' }, async () => {
  // Another owner: the file is root's, and `verdict run` runs as nobody (setpriv, util-linux). 0666 lets nobody
  // open it, so only the mode check stands between the server and a world-readable audit log.
  const dir = tempDir();
  chmodSync(dir, 0o777);
  const file = join(dir, 'decisions.db');
  await new DecisionLogStore({ file }).close();
  chmodSync(file, 0o666);
  const config = join(dir, 'verdict.yaml');
  writeFileSync(config, `decision_logs:\n  store:\n    file: ${file}\n`, { mode: 0o644 });
  const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, resolve('dist/src/main.js'), 'run', '--addr', '127.0.0.1:0', '-c', config], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(run.error, undefined, 'setpriv (util-linux) runs');
  assert.equal(run.status, 6, run.stderr);
  assert.match(run.stderr, /decisions\.db is readable by other users \(mode 0666\) and cannot be made owner-only: EPERM/);
  assert.equal(modeOf(file), '0666', 'the file is not touched');
});

test('verdict decisions export --out writes an owner-only file, also over an existing one', async () => {
  const root = tempDir();
  const file = join(root, 'decisions.db');
  const store = new DecisionLogStore({ file });
  await store.record(sampleEvent());
  await store.close();
  const fresh = join(root, 'fresh.ndjson');
  assert.equal(await runDecisionsCommand(['export', '--db', file, '--out', fresh], quiet), 0);
  assert.equal(modeOf(fresh), '0600');
  const existing = join(root, 'existing.ndjson');
  writeFileSync(existing, 'old', { mode: 0o644 });
  assert.equal(await runDecisionsCommand(['export', '--db', file, '--out', existing], quiet), 0);
  assert.equal(modeOf(existing), '0600');
});

test('persisted bundles: directories 0700, bundle and metadata 0600', async () => {
  const root = join(tempDir(), '.opa');
  await new BundlePersistence(root).save('authz', Buffer.from('bytes'), { etag: '"e"' });
  assert.equal(modeOf(root), '0700');
  assert.equal(modeOf(join(root, 'bundles')), '0700');
  assert.equal(modeOf(join(root, 'bundles', 'authz')), '0700');
  assert.equal(modeOf(join(root, 'bundles', 'authz', 'bundle.tar.gz')), '0600');
  assert.equal(modeOf(join(root, 'bundles', 'authz', 'bundle.json')), '0600');
});

test('the compile cache: directory 0700, cached modules 0600', async () => {
  const dir = join(tempDir(), '.verdict', 'cache', 'compile');
  const emptyModule = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  const cache = new CachingCompiler({ compile: async () => ({ wasm: emptyModule, entrypoints: ['a/b'], packages: ['a'] }) }, 'test', dir);
  await cache.compile([{ path: 'a.rego', packagePath: ['a'], source: 'package a\nb := 1\n' }] as never, { regoVersion: 1 });
  assert.equal(modeOf(join(dir, '..', '..')), '0700');
  assert.equal(modeOf(dir), '0700');
  const files = readdirSync(dir);
  assert.equal(files.length, 2);
  for (const name of files) assert.equal(modeOf(join(dir, name)), '0600', name);
});

test('verdict build and verdict sign create owner-only bundles', async () => {
  const root = tempDir();
  const src = join(root, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'policy.rego'), 'package p\n\nallow := true\n');
  const built = join(root, 'bundle.tar.gz');
  assert.equal(await buildCommand(['-t', 'plan', '-e', 'p/allow', '-o', built, src]), 0);
  assert.equal(modeOf(built), '0600');
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(join(root, 'key.pem'), key, { mode: 0o600 });
  const signed = join(root, 'signed.tar.gz');
  await signBundle({ input: src, output: signed, signingKey: join(root, 'key.pem'), algorithm: 'ES256' });
  assert.equal(modeOf(signed), '0600');
});
