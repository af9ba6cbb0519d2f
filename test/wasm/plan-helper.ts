// Plans for test policies from the reference OPA (`opa build -t plan`), so tests exercise the back
// end on exactly what OPA's planner produces.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Policy } from '../../src/ir/plan.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let opaPath: string | undefined;

export function opaBinary(): string {
  opaPath ??= execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
  return opaPath;
}

/** Builds `target` (plan or wasm) for a Rego module with the given entrypoints (like "x/allow"). */
export function opaBuild(rego: string, entrypoints: string[], target: 'plan' | 'wasm'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-plan-'));
  try {
    writeFileSync(join(dir, 'policy.rego'), rego);
    const args = ['build', '-t', target, ...entrypoints.flatMap((e) => ['-e', e]), '-o', join(dir, 'bundle.tar.gz'), join(dir, 'policy.rego')];
    execFileSync(opaBinary(), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const member = target === 'plan' ? '/plan.json' : '/policy.wasm';
    execFileSync('tar', ['-xzf', 'bundle.tar.gz', member], { cwd: dir, stdio: 'ignore' });
    return readFileSync(join(dir, member.slice(1)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function planFor(rego: string, entrypoints: string[]): Policy {
  return JSON.parse(opaBuild(rego, entrypoints, 'plan').toString('utf8')) as Policy;
}
