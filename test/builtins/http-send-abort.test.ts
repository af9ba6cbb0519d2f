// http.send aborts an evaluation from inside a host builtin whenever it needs a response it has not fetched
// yet. These tests pin that this is safe: an instance of a module built by our back end can be aborted
// thousands of times and then evaluates correctly without growing its memory; a module built by
// `opa build -t wasm` (whose C runtime keeps a shadow stack that an abort leaves unwound) keeps working
// because WasmProgram rebuilds it after each abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBundle } from '../../src/bundle/bundle.js';
import { hostBuiltins } from '../../src/builtins/index.js';
import { NeedsResponse } from '../../src/builtins/http-send/session.js';
import { parseRequest } from '../../src/builtins/http-send/request.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { OpaCliPlanner } from '../../src/engine/opa-compiler.js';
import { WasmProgram } from '../../src/engine/program.js';
import { DataStore } from '../../src/engine/store.js';
import { referenceOpa, wasmBundleFiles } from '../engine/opa-fixture.js';

// Work before the call (numbers.range, sprintf, string building) so the abort unwinds through a busy heap.
const POLICY = `package t

profile := http.send({"method": "GET", "url": concat("", ["http://pip.test/users/", input.user])}).body

allow if {
	some i in numbers.range(1, 40)
	count(sprintf("%d-%s", [i, input.user])) > 0
	profile.plan == "gold"
}
`;

const ABORTS = 10_000;
const encoder = new TextEncoder();

/** Host builtins whose http.send aborts until `answering` is set, then answers a fixed profile. */
function abortingBuiltins() {
  const state = { answering: false, calls: 0 };
  const builtins = {
    ...hostBuiltins,
    'http.send': (req: unknown) => {
      state.calls++;
      if (!state.answering) throw new NeedsResponse('k', parseRequest(req));
      return { status_code: 200, body: { plan: 'gold' } };
    },
  };
  return { state, builtins };
}

function abortMany(program: WasmProgram, input: Uint8Array, times = ABORTS): void {
  for (let i = 0; i < times; i++) {
    assert.throws(() => program.evaluate('t/allow', input), NeedsResponse);
  }
}

function memoryBytes(program: WasmProgram): number {
  return (program as unknown as { instance: { mem: WebAssembly.Memory } }).instance.mem.buffer.byteLength;
}

test(`a module built by our back end survives ${ABORTS} aborts in place: same memory, correct next evaluation`, async () => {
  const compiled = await new PlanningCompiler(new OpaCliPlanner(referenceOpa())).compile([{ path: 't.rego', source: POLICY, packagePath: ['t'] }], { regoVersion: 1 });
  const { state, builtins } = abortingBuiltins();
  const store = new DataStore();
  const program = await WasmProgram.load(compiled.wasm, builtins, store, 'verdict');
  const input = encoder.encode(JSON.stringify({ user: 'alice'.repeat(50) }));
  state.answering = true;
  assert.deepEqual(program.evaluate('t/allow', input), [{ result: true }]);
  const instance = (program as unknown as { instance: object }).instance;
  const before = memoryBytes(program);
  state.answering = false;
  abortMany(program, input);
  assert.equal(state.calls, ABORTS + 1);
  assert.equal((program as unknown as { instance: object }).instance, instance, 'the instance was not rebuilt');
  assert.equal(memoryBytes(program), before, 'memory did not grow');
  state.answering = true;
  assert.deepEqual(program.evaluate('t/allow', input), [{ result: true }]);
  assert.deepEqual(program.evaluate('t/profile', input), [{ result: { plan: 'gold' } }]);
});

// Without the rebuild, OPA v1.22's module overruns its memory after about 4,000 aborts of this policy.
const FOREIGN_ABORTS = 5_000;

test(`a module built by opa build -t wasm is rebuilt after each abort and still answers after ${FOREIGN_ABORTS}`, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-abort-'));
  writeFileSync(join(dir, 't.rego'), POLICY);
  const bundle = parseBundle('b', await wasmBundleFiles(dir, ['t/allow', 't/profile']));
  const { state, builtins } = abortingBuiltins();
  const program = await WasmProgram.load(bundle.wasm[0]!.bytes, builtins, new DataStore(), 'foreign');
  const input = encoder.encode(JSON.stringify({ user: 'bob' }));
  abortMany(program, input, FOREIGN_ABORTS);
  state.answering = true;
  assert.deepEqual(program.evaluate('t/allow', input), [{ result: true }]);
  assert.deepEqual(program.evaluate('t/profile', input), [{ result: { plan: 'gold' } }]);
});
