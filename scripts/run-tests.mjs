#!/usr/bin/env node
// Runs every compiled unit/integration test (dist/test/**/*.test.js) with node's test runner.
// Node 20's runner takes no globs, so the files are listed here. Extra arguments narrow the run:
//   npm test -- server        runs only tests whose path contains "server".
// A hung test must fail the run, not stall it: node 20 applies --test-timeout to each test file (each runs in its
// own process), so a file that has not finished after VERDICT_TEST_TIMEOUT_MS (default 5 minutes) fails, and the
// runner goes on with the next. Tests that need a tighter bound set their own { timeout }.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  let found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) found = found.concat(findTests(full));
    else if (name.endsWith('.test.js')) found.push(full);
  }
  return found;
}

const filters = process.argv.slice(2);
// tsc never deletes outputs: a compiled test whose source was moved or removed is left out, not run stale.
const files = findTests('dist/test')
  .filter((f) => existsSync(f.replace(/^dist\//, '').replace(/\.js$/, '.ts')))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const timeoutMs = Number(process.env.VERDICT_TEST_TIMEOUT_MS ?? 300_000);
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`VERDICT_TEST_TIMEOUT_MS must be a positive whole number of milliseconds, not ${process.env.VERDICT_TEST_TIMEOUT_MS}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-timeout=${timeoutMs}`, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
