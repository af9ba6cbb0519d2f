// What `verdict test --coverage` prints, as `opa test --coverage` does: when every test passed, the JSON
// coverage report (whatever --format says) and exit 0, or 2 with a message when --threshold is not met; when a
// test did not pass, the report is not printed: the tests that did not pass are listed (all as FAIL, with the
// counts over them), the first of them again on stderr, and the exit code is 1.
import type { CoverageReport } from './coverage.js';
import { goDuration, goJson } from './go-format.js';
import type { TestResult } from './test-runner.js';

export function coverageOutcome(
  results: TestResult[],
  coverage: CoverageReport,
  threshold: number,
  prettyReport: (results: TestResult[], verbose: boolean) => string,
): number {
  const notPassed = results.filter((r) => r.fail || r.error);
  if (notPassed.length > 0) {
    process.stdout.write(prettyReport(notPassed.map(({ error: _error, ...r }) => ({ ...r, fail: true })), false));
    const first = notPassed[0]!;
    process.stderr.write(`${first.package}.${first.name}: FAIL (${goDuration(first.duration)})\n\n`);
    return 1;
  }
  if (coverage.coverage < threshold) {
    process.stderr.write(`Code coverage threshold not met: got ${coverage.coverage.toFixed(2)} instead of ${threshold.toFixed(2)}\n`);
    return 2;
  }
  process.stdout.write(`${goJson(coverage, 2)}\n`);
  return 0;
}
