// Differential testing of host builtins against the reference OPA: every call in a table is evaluated
// by our implementation and, in one batched `opa eval`, by OPA itself; the answers must be equal
// (both undefined when the call fails). Arguments are JSON values, which are valid Rego terms.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostBuiltins } from '../../src/builtins/index.js';

export interface Call {
  fn: string;
  args: unknown[];
  /** Compare only this path of the result (keys and indexes), for results OPA decorates with more detail. */
  pick?: Array<string | number>;
  /** OPA's answer is undefined (a builtin error); without this flag an undefined answer fails the test. */
  fails?: true;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function opaBinary(): string {
  return execFileSync(join(repoRoot, 'scripts/install-opa.sh'), { encoding: 'utf8' }).trim();
}

function regoRef(pick: Array<string | number> | undefined): string {
  return (pick ?? []).map((p) => `[${JSON.stringify(p)}]`).join('');
}

/** OPA's answer for every call (undefined where OPA's result is undefined), from one `opa eval`. */
function opaAnswers(calls: Call[]): unknown[] {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-builtins-'));
  try {
    const rules = calls.map((c, i) => `r${i} := ${c.fn}(${c.args.map((a) => JSON.stringify(a)).join(', ')})${regoRef(c.pick)}`);
    const file = join(dir, 'calls.rego');
    writeFileSync(file, `package differential\n\n${rules.join('\n')}\n`);
    const out = execFileSync(opaBinary(), ['eval', '--format', 'json', '-d', file, 'data.differential'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const value = (JSON.parse(out) as { result?: Array<{ expressions: Array<{ value: Record<string, unknown> }> }> }).result?.[0]
      ?.expressions[0]?.value ?? {};
    return calls.map((_, i) => value[`r${i}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ours(c: Call): unknown {
  const fn = hostBuiltins[c.fn];
  assert.ok(fn, `${c.fn} is not registered`);
  let v = fn(...c.args);
  // Round-trip through JSON as the SDK does, so big integers and key order compare like OPA's output.
  v = v === undefined ? undefined : JSON.parse(JSON.stringify(v));
  for (const p of c.pick ?? []) v = v === undefined || v === null ? undefined : (v as Record<string | number, unknown>)[p];
  return v;
}

function label(c: Call): string {
  const args = c.args.map((a) => JSON.stringify(a)).join(', ');
  const text = `${c.fn}(${args})${regoRef(c.pick)}`;
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Registers one test per call, all answered by a single OPA run. */
export function agreesWithOpa(suite: string, calls: Call[]): void {
  test(`${suite} agree with the reference OPA`, async (t) => {
    const want = opaAnswers(calls);
    for (const [i, c] of calls.entries()) {
      await t.test(label(c), () => {
        assert.equal(want[i] === undefined, c.fails === true, c.fails ? 'OPA answered a call marked as failing' : 'OPA gave no answer');
        assert.deepEqual(ours(c), want[i]);
      });
    }
  });
}
