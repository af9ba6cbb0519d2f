// The reference OPA for interop tests: installed (idempotently) by scripts/install-opa.sh, which prints its path.
import { execFileSync, spawnSync } from 'node:child_process';

let cached: string | undefined;

export function referenceOpa(): string {
  cached ??= execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
  return cached;
}

/** Runs the reference OPA; returns exit status and output instead of throwing, so tests can assert failures. */
export function runOpa(args: string[], cwd?: string): { status: number; stdout: string; stderr: string } {
  const out = spawnSync(referenceOpa(), args, { encoding: 'utf8', cwd });
  return { status: out.status ?? -1, stdout: out.stdout, stderr: out.stderr };
}
