// Package paths (/v1/data/<package>) are one evaluation of one entrypoint planned for the package, and the
// document it builds is OPA's: the same bundle served by `opa run --server` and by Verdict, the same requests,
// byte-identical bodies. Covered: partial sets and objects, functions (left out), defaults, undefined rules,
// nested packages, base data under and beside the package (numbers kept as written), and the root of data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { send, useOpaAndVerdict } from '../server/harness.js';
import { Engine } from '../../src/engine/engine.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';
import { parseBundle } from '../../src/bundle/bundle.js';
import { WasmProgram } from '../../src/engine/program.js';

const files: Record<string, string> = {
  'gateway/authz/policy.rego': `package gateway.authz

default allow := false

allow if input.user == "alice"

deny contains msg if {
  input.user == "bob"
  msg := "bob denied"
}

deny contains "always"

f(x) := x + 1

uses_f := f(1)

never if input.nothing

roles[k] := v if some k, v in {"b": 2, "a": 1}

num := 1.10

obj := {"z": 1, "a": {"y": 2, "b": 3}}
`,
  'gateway/authz/sub/policy.rego': `package gateway.authz.sub

x := 1

default fallback := "none"
`,
  'gateway/empty/policy.rego': `package gateway.empty

nothing if input.never
`,
  'gateway/authz/data.json': '{"base": {"z": 1, "a": 1e400, "n": 1.50, "list": [3, 1.0, {"b": 1, "a": 2}]}, "sub": {"d": 2}}',
  'gateway/data.json': '{"other": 5, "deep": {"k": "v"}}',
};

const paths = ['gateway/authz', 'gateway/authz/sub', 'gateway', 'gateway/empty', 'gateway/authz/base', 'gateway/authz/deny', 'gateway/authz/never'];
const inputs = [undefined, { user: 'alice' }, { user: 'bob', nothing: true, never: true }];

const servers = useOpaAndVerdict({ files });

test('package paths answer exactly as opa run --server does', async () => {
  for (const path of paths) {
    for (const input of inputs) {
      const body = input === undefined ? undefined : JSON.stringify({ input });
      const method = input === undefined ? 'GET' : 'POST';
      const [want, got] = await Promise.all([send(servers.opa.url, method, `/v1/data/${path}`, body), send(servers.verdict.url, method, `/v1/data/${path}`, body)]);
      const what = `${method} /v1/data/${path} with ${body ?? 'no input'}`;
      assert.equal(got.status, want.status, what);
      assert.equal(got.body.toString(), want.body.toString(), what);
    }
  }
});

test('a package path is one evaluation of one entrypoint, not one per rule', async () => {
  const engine = new Engine(new PlanningCompiler(new VerdictPlanner()));
  const bundleFiles = Object.entries(files).map(([path, text]) => ({ path, data: Buffer.from(text) }));
  await engine.activate([parseBundle('pkg', bundleFiles)]);
  const calls: string[] = [];
  const evaluate = WasmProgram.prototype.evaluate;
  WasmProgram.prototype.evaluate = function (this: WasmProgram, entrypoint: string, input: Uint8Array | undefined) {
    calls.push(entrypoint);
    return evaluate.call(this, entrypoint, input);
  };
  try {
    const outcome = engine.evaluate(['gateway', 'authz'], new TextEncoder().encode('{"user":"alice"}'));
    assert.ok(!(outcome instanceof Promise));
    assert.equal(outcome.defined, true);
    assert.equal((outcome.result as Record<string, unknown>).allow, true);
    assert.deepEqual(calls, ['gateway/authz']);
  } finally {
    WasmProgram.prototype.evaluate = evaluate;
  }
});
