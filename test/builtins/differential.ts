// Differential testing of builtins against the reference OPA: every call in a table becomes a rule of one module,
// compiled by Verdict's compiler and evaluated in its wasm runtime with the host builtins behind the real
// boundary (sets stay sets), and evaluated by one `opa eval`; the answers must be equal (both undefined when the
// call fails). Arguments are JSON values, which are valid Rego terms.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hostBuiltins } from '../../src/builtins/index.js';
import { verdictBuiltins, verdictDeprecated } from '../../src/compiler/builtins.js';
import { compileRego } from '../../src/compiler/compile-rego.js';
import { loadPolicy } from '../../src/engine/wasm-host.js';
import { regoValueToJson } from '../../scripts/conformance/rego-value.js';

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

/** The module holding one rule per call. */
function callsModule(calls: Call[]): string {
  const rules = calls.map((c, i) => `r${i} := ${c.fn}(${c.args.map((a) => JSON.stringify(a)).join(', ')})${regoRef(c.pick)}`);
  return `package differential\n\n${rules.join('\n')}\n`;
}

/** OPA's answer for every call (undefined where OPA's result is undefined), from one `opa eval`. */
export function opaAnswers(calls: Call[]): unknown[] {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-builtins-'));
  try {
    const file = join(dir, 'calls.rego');
    writeFileSync(file, callsModule(calls));
    let out: string;
    try {
      out = execFileSync(opaBinary(), ['eval', '--format', 'json', '-d', file, 'data.differential'], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      throw new Error(`opa eval rejected the table: ${stdout ?? ''}${stderr ?? ''}`);
    }
    const value = (JSON.parse(out) as { result?: Array<{ expressions: Array<{ value: Record<string, unknown> }> }> }).result?.[0]
      ?.expressions[0]?.value ?? {};
    return calls.map((_, i) => value[`r${i}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Verdict's answer for every call: the same module compiled by our compiler and evaluated once. The result is
 * read as Rego value text with sets sorted, as `opa eval` prints them.
 */
async function ourAnswers(calls: Call[]): Promise<unknown[]> {
  const wasm = compileRego([{ path: 'calls.rego', source: callsModule(calls) }], ['differential'], { builtins: verdictBuiltins, deprecated: verdictDeprecated });
  const policy = await loadPolicy(wasm, hostBuiltins);
  policy.setData({});
  const [row] = regoValueToJson(policy.evaluateToText(undefined, 'differential', 'rego')) as Array<{ result?: Record<string, unknown> }>;
  return calls.map((_, i) => row?.result?.[`r${i}`]);
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
    const got = await ourAnswers(calls);
    for (const [i, c] of calls.entries()) {
      await t.test(label(c), () => {
        assert.equal(want[i] === undefined, c.fails === true, c.fails ? 'OPA answered a call marked as failing' : 'OPA gave no answer');
        assert.deepEqual(got[i], want[i]);
      });
    }
  });
}
