// A real Decide for tests: the policy is compiled to wasm by the reference OPA (opa build -t wasm)
// and evaluated with @open-policy-agent/opa-wasm, the same runtime the engine uses.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { Decide } from '../../src/envoy/decide.js';

export function referenceOpa(): string {
  return execFileSync('bash', ['scripts/install-opa.sh'], { encoding: 'utf8' }).trim();
}

export async function wasmDecide(rego: string, entrypoints: string[]): Promise<Decide> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-envoy-'));
  try {
    writeFileSync(join(dir, 'policy.rego'), rego);
    execFileSync(referenceOpa(), ['build', '-t', 'wasm', ...entrypoints.flatMap((e) => ['-e', e]), '-o', 'bundle.tar.gz', 'policy.rego'], { cwd: dir });
    execFileSync('tar', ['-xzf', 'bundle.tar.gz', '/policy.wasm'], { cwd: dir });
    const policy = await loadPolicy(readFileSync(join(dir, 'policy.wasm')));
    return async (path, input) => {
      const results = policy.evaluate(input, path) as { result: unknown }[];
      return results.length === 0 ? {} : { result: results[0].result };
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
