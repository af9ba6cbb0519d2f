#!/usr/bin/env node
// Runs every compiled unit/integration test (dist/test/**/*.test.js) with node's test runner.
// Node 20's runner takes no globs, so the files are listed here. Extra arguments narrow the run:
//   npm test -- server        runs only tests whose path contains "server".
import { readdirSync, statSync } from 'node:fs';
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
const files = findTests('dist/test')
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
