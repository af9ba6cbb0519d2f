// Test fixture helpers that need the reference OPA: find it (installing on first use) and build bundles.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBundleArchive, type BundleFile } from '../../src/bundle/files.js';

let opaPath: string | undefined;

/** Path of the pinned reference OPA, installed by scripts/install-opa.sh (idempotent). */
export function referenceOpa(): string {
  opaPath ??= execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim().split('\n').pop()!;
  return opaPath;
}

/** Builds `dir` with `opa build -b -t wasm` for the given entrypoints and returns the tarball path. */
export function buildWasmBundle(dir: string, entrypoints: string[]): string {
  const out = join(mkdtempSync(join(tmpdir(), 'verdict-test-')), 'bundle.tar.gz');
  execFileSync(referenceOpa(), ['build', '-b', '-t', 'wasm', ...entrypoints.flatMap((e) => ['-e', e]), '-o', out, dir]);
  return out;
}

export async function wasmBundleFiles(dir: string, entrypoints: string[]): Promise<BundleFile[]> {
  return readBundleArchive(readFileSync(buildWasmBundle(dir, entrypoints)));
}
