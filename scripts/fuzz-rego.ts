// Differential fuzzing of generated Rego against `opa eval` (scripts/fuzz/rego-programs.ts), bounded in count
// and time. Prints each module whose answer differs, then `N programs, M differ`; exits non-zero if any differ.
// With `--partial 1`, generated queries over an unknown input against `opa eval -p` instead
// (scripts/fuzz/partial-queries.ts), whose answers must be the same JSON.
//
//   npm run fuzz:rego -- [--seed N] [--count N] [--seconds N] [--partial 1]
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzzPartial } from './fuzz/partial-queries.js';
import { fuzzRego } from './fuzz/rego-programs.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const options = { seed: Date.now() % 1_000_000, count: 500, seconds: 300, partial: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const flag = argv[i]!.replace(/^--/, '');
  const n = Number(argv[i + 1]);
  if (!(flag in options) || !Number.isInteger(n) || n < 0) {
    console.error(`fuzz:rego: bad argument ${argv[i]} ${argv[i + 1] ?? ''}\nusage: npm run fuzz:rego -- [--seed N] [--count N] [--seconds N] [--partial 1]`);
    process.exit(2);
  }
  options[flag as keyof typeof options] = n;
}
const opa = execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
console.log(`fuzz:rego seed ${options.seed}, at most ${options.count} programs or ${options.seconds}s`);
const { ran, mismatches } = await (options.partial ? fuzzPartial : fuzzRego)(opa, options.seed, options.count, Date.now() + options.seconds * 1000);
for (const m of mismatches) {
  console.log(`\n--- ${m.pkg} differs\n${m.source}opa:     ${JSON.stringify(m.opa)}\nverdict: ${JSON.stringify(m.verdict)}`);
}
console.log(`${ran} programs, ${mismatches.length} differ`);
if (mismatches.length > 0) process.exit(1);
