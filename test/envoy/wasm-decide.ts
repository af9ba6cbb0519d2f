// A real Decide for tests: the policy is compiled to wasm by the reference OPA (opa build -t wasm)
// and evaluated with @open-policy-agent/opa-wasm, the same runtime the engine uses. Compiled modules
// are kept in .cache/ by a hash of OPA version, policy and entrypoints, so test runs stay quick.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { Decide } from '../../src/engine/engine.js';

let opaPath: string | undefined;

export function referenceOpa(): string {
  opaPath ??= execFileSync('bash', ['scripts/install-opa.sh'], { encoding: 'utf8' }).trim();
  return opaPath;
}

function compile(rego: string, entrypoints: string[]): Buffer {
  const opa = referenceOpa();
  const version = execFileSync(opa, ['version'], { encoding: 'utf8' }).split('\n')[0];
  const key = createHash('sha256').update(JSON.stringify([version, rego, entrypoints])).digest('hex');
  const cached = join('.cache', 'envoy-wasm', `${key}.wasm`);
  if (existsSync(cached)) return readFileSync(cached);
  const dir = mkdtempSync(join(tmpdir(), 'verdict-envoy-'));
  try {
    writeFileSync(join(dir, 'policy.rego'), rego);
    execFileSync(opa, ['build', '-t', 'wasm', ...entrypoints.flatMap((e) => ['-e', e]), '-o', 'bundle.tar.gz', 'policy.rego'], { cwd: dir });
    execFileSync('tar', ['-xzf', 'bundle.tar.gz', '/policy.wasm'], { cwd: dir, stdio: 'ignore' });
    const wasm = readFileSync(join(dir, 'policy.wasm'));
    mkdirSync(join('.cache', 'envoy-wasm'), { recursive: true });
    writeFileSync(join(dir, 'out.wasm'), wasm);
    renameSync(join(dir, 'out.wasm'), cached);
    return wasm;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function wasmDecide(rego: string, entrypoints: string[]): Promise<Decide> {
  const policy = await loadPolicy(compile(rego, entrypoints));
  return async (path, input) => {
    const results = policy.evaluate(input, path) as { result: unknown }[];
    return results.length === 0 ? {} : { result: results[0].result };
  };
}
