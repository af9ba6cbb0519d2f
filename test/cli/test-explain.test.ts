// Differential test: the traces `verdict test` prints for failing tests (-v and --explain fails|notes) against
// the pinned `opa test`: each failing test's block of the FAILURES section line for line, durations left out.
// The order of tests is not compared (OPA runs them in parallel, so its order varies).
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

const opa = execFileSync('scripts/install-opa.sh', { encoding: 'utf8' }).trim();

function failures(command: string, args: string[]): { status: number | null; failures: string } {
  const out = spawnSync(command, args, { encoding: 'utf8' });
  const text = out.stdout.replace(/ \([\d.]+(ns|µs|ms|s)\)/g, '');
  const section = text.slice(text.indexOf('FAILURES'), text.lastIndexOf('-'.repeat(80)));
  return { status: out.status, failures: section.split(/\n(?=data\.)/).map((b) => b.trim()).sort().join('\n\n') };
}

describe('verdict test traces failing tests as opa test does', () => {
  for (const flags of [['-v'], ['--explain', 'fails'], ['--explain', 'notes'], ['-v', '--explain', 'fails']]) {
    it(flags.join(' '), () => {
      const args = ['test', ...flags, 'test/cli/explain-suite'];
      const ours = failures(process.execPath, ['dist/src/main.js', ...args]);
      assert.match(ours.failures, /^FAILURES/);
      assert.deepEqual(ours, failures(opa, args));
    });
  }

  it('refuses an unknown --explain mode by name', () => {
    const out = spawnSync(process.execPath, ['dist/src/main.js', 'test', '--explain', 'bogus', 'test/cli/explain-suite'], { encoding: 'utf8' });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /--explain bogus: expected fails, full, notes or debug/);
  });
});
