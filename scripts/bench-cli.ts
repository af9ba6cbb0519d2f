// Command-line benchmark: `verdict eval` start-up and `verdict test` on a 500-test suite, against the pinned
// `opa`, each the median wall time of N runs (processes started one after another).
//
//   npm run bench:cli -- [--runs N]   (default 5)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive whole number');

const opa = execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8', cwd: repoRoot }).trim();
const verdict = [process.execPath, join(repoRoot, 'dist/src/main.js')];

/** 500 tests over a small policy: half check allowed requests, half denied ones, a few with function mocks. */
function writeSuite(dir: string): void {
  writeFileSync(join(dir, 'policy.rego'), 'package bench\n\nallow if {\n\tinput.role in data.benchdata.roles\n\tnot blocked(input.user)\n}\n\nblocked(u) if u in data.benchdata.blocked\n');
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ benchdata: { roles: ['admin', 'reader'], blocked: ['mallory'] } }));
  const tests: string[] = ['package bench_test', '', 'import data.bench', ''];
  for (let i = 0; i < 500; i++) {
    if (i % 10 === 9) tests.push(`test_${i} if bench.allow with input as {"role": "admin", "user": "mallory"} with bench.blocked as false`);
    else if (i % 2 === 0) tests.push(`test_${i} if bench.allow with input as {"role": "reader", "user": "u${i}"}`);
    else tests.push(`test_${i} if not bench.allow with input as {"role": "guest", "user": "u${i}"}`);
  }
  writeFileSync(join(dir, 'policy_test.rego'), `${tests.join('\n')}\n`);
}

function median(command: string[], args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    const out = spawnSync(command[0]!, [...command.slice(1), ...args], { encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (out.status !== 0) throw new Error(`${command.join(' ')} ${args.join(' ')} exited ${out.status}: ${out.stderr}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'verdict-bench-cli-'));
try {
  writeSuite(dir);
  const rows = [
    ['eval start-up (eval 1)', median(verdict, ['eval', '1']), median([opa], ['eval', '1'])],
    ['eval with -d rego', median(verdict, ['eval', '-d', join(repoRoot, 'rego'), 'data.kong.authz.public']), median([opa], ['eval', '-d', join(repoRoot, 'rego'), 'data.kong.authz.public'])],
    ['test, 500 tests', median(verdict, ['test', dir]), median([opa], ['test', dir])],
  ] as const;
  console.log(`median of ${runs} runs, milliseconds`);
  console.log(`${'command'.padEnd(28)}${'verdict'.padStart(10)}${'opa'.padStart(10)}`);
  for (const [name, ours, theirs] of rows) console.log(`${name.padEnd(28)}${ours.toFixed(0).padStart(10)}${theirs.toFixed(0).padStart(10)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
