// Differential test: `verdict check` against the pinned `opa check` on good, broken, unsafe, v0 and missing
// inputs, with and without --strict, both formats: stdout, stderr and exit code byte for byte.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runVerdict, sideBySide } from './command-runs.js';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'verdict-check-'));
const unsafe = join(dir, 'unsafe.rego');
writeFileSync(unsafe, 'package z\nallow if { x }\np if { y }\n');

describe('verdict check matches opa check', sideBySide, () => {
  const strict = [['--strict', 'test/cli/strict-check/many'], ['--strict', 'test/cli/strict-check/mixed'], ['-S', '--v0-compatible', 'test/cli/strict-check/v0'],
    ['--strict', 'rego'], ['--strict', 'test/cli/test-suites'], ['--v0-compatible', 'test/cli/strict-check/v0']];
  const cases = [...strict, ['rego'], ['test/cli/test-suites'], [unsafe], ['/nonexistent/file.rego'], ['--v0-compatible', 'test/cli/test-suites/v0'], ['test/cli/test-suites/v0'], ['-b', 'test/cli/test-suites/passing']];
  for (const args of cases) {
    for (const format of ['pretty', 'json']) {
      it(`${format}: ${args.join(' ')}`, async () => {
        const [ours, theirs] = await Promise.all([runVerdict(['check', '-f', format, ...args]), runCommand(opa, ['check', '-f', format, ...args])]);
        assert.deepEqual(ours, theirs);
      });
    }
  }

});
