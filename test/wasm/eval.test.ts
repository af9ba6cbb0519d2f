import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { compilePlan } from '../../src/wasm/compile.js';
import { loadPolicy as loadHostPolicy } from '../../src/engine/wasm-host.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opaBinary, opaBuild } from './plan-helper.js';
import type { Policy } from '../../src/ir/plan.js';

/** Loads the module OPA builds and ours from the same policy, for differential checks. */
async function both(rego: string, entrypoints: string[]) {
  const ours = await loadPolicy(compilePlan(JSON.parse(opaBuild(rego, entrypoints, 'plan').toString('utf8'))));
  const theirs = await loadPolicy(opaBuild(rego, entrypoints, 'wasm'));
  return { ours, theirs };
}

const ordering = `package t
import rego.v1
mixed := sort([{"b": 1}, {2}, [1, 2], "b", 2.5, true, null, "a", [1], {1}, {"a": 2}, false, 1, {"a": 1, "b": 0}, "B", -3])
numbers if { 1 == 1.0; 2.5 > 2; -1 < 0; 10 > 9 }
strings_bytewise := sort(["b", "a", "ab", "B", "é", ""])
sets_equal if { {1, 2, 3} == {3, 2, 1} }
objects_equal if { {"a": [1, {"b": 2}]} == {"a": [1, {"b": 2}]} }
`;

test("values order as OPA orders them: null < booleans < numbers < strings < arrays < objects < sets", async () => {
  const { ours, theirs } = await both(ordering, ['t/mixed', 't/numbers', 't/strings_bytewise', 't/sets_equal', 't/objects_equal']);
  const mixed = ours.evaluate(null, 't/mixed');
  assert.deepEqual(mixed, [{ result: [null, false, true, -3, 1, 2.5, 'B', 'a', 'b', [1], [1, 2], { a: 1, b: 0 }, { a: 2 }, { b: 1 }, [1], [2]] }]);
  for (const ep of ['t/mixed', 't/numbers', 't/strings_bytewise', 't/sets_equal', 't/objects_equal']) {
    assert.deepEqual(ours.evaluate(null, ep), theirs.evaluate(null, ep), ep);
  }
});

const gateway = `package gw
import rego.v1
default allow := false
allow if { input.method == "GET"; some role in data.roles[input.user]; role in {"reader", "admin"} }
allow if { input.user == "root" }
reasons contains msg if { not input.user; msg := "no user" }
reasons contains msg if { input.method == "DELETE"; msg := sprintf_free("delete by %s", input.user) }
sprintf_free(f, u) := concat("", [f, ":", u])
headers[k] := lower(v) if { some k, v in input.headers; startswith(k, "x-") }
total := sum([n | some n in input.amounts]) + count(input.amounts)
path_ok if { parts := split(trim(input.path, "/"), "/"); parts[0] == "api"; count(parts) >= 2 }
mod_with := x if { x := allow with input.user as "root" }
`;

test('our module and OPA-built wasm agree on a gateway-style policy, through the fast path and setData', async () => {
  const eps = ['gw/allow', 'gw/reasons', 'gw/headers', 'gw/total', 'gw/path_ok', 'gw/mod_with'];
  const { ours, theirs } = await both(gateway, eps);
  const data = { roles: { alice: ['reader'], bob: ['writer'] } };
  ours.setData(data);
  theirs.setData(data);
  const inputs = [
    { method: 'GET', user: 'alice', path: '/api/v1/x', headers: { 'x-Trace': 'ABC', host: 'h' }, amounts: [1, 2.5, 3] },
    { method: 'DELETE', user: 'bob', path: 'api', headers: {}, amounts: [] },
    { method: 'GET', path: '/', headers: { 'x-a': 'Q' }, amounts: [10] },
  ];
  for (const input of inputs) for (const ep of eps) {
    assert.deepEqual(ours.evaluate(input, ep), theirs.evaluate(input, ep), `${ep} ${JSON.stringify(input)}`);
  }
});

test('the classic (ABI 1.1) call sequence evaluates the same module', async () => {
  const rego = 'package c\nimport rego.v1\nx := [input.a, data.b]\n';
  const wasm = compilePlan(JSON.parse(opaBuild(rego, ['c/x'], 'plan').toString('utf8')));
  const memory = new WebAssembly.Memory({ initial: 5 });
  const noop = () => 0;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm)), {
    env: { memory, opa_abort: () => { throw new Error('abort'); }, opa_builtin0: noop, opa_builtin1: noop, opa_builtin2: noop, opa_builtin3: noop, opa_builtin4: noop },
  });
  const e = instance.exports as Record<string, (...a: number[]) => number>;
  const write = (s: string) => {
    const b = new TextEncoder().encode(s);
    const at = e.opa_malloc(b.length);
    new Uint8Array(memory.buffer, at, b.length).set(b);
    return e.opa_json_parse(at, b.length);
  };
  const data = write('{"b": "from data"}');
  const ctx = e.opa_eval_ctx_new();
  e.opa_eval_ctx_set_input(ctx, write('{"a": 7}'));
  e.opa_eval_ctx_set_data(ctx, data);
  e.opa_eval_ctx_set_entrypoint(ctx, 0);
  e.eval(ctx);
  const out = e.opa_json_dump(e.opa_eval_ctx_get_result(ctx));
  const bytes = new Uint8Array(memory.buffer);
  let end = out;
  while (bytes[end] !== 0) end++;
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes.subarray(out, end))), [{ result: [7, 'from data'] }]);
});

const conflicts = `package k
import rego.v1
p := x if { x := input.a }
p := x if { x := input.b }
o[k] := v if { some k, v in input.m }
o["fixed"] := 1
`;

test("conflicts abort with the opening of OPA's message for any host, and the next evaluation on the same instance works", async () => {
  const policy = await loadPolicy(compilePlan(JSON.parse(opaBuild(conflicts, ['k/p', 'k/o'], 'plan').toString('utf8'))));
  assert.throws(() => policy.evaluate({ a: 1, b: 2 }, 'k/p'), /^rule data\.k\.p produced conflicting values$/);
  assert.deepEqual(policy.evaluate({ a: 1, b: 1 }, 'k/p'), [{ result: 1 }]);
  assert.throws(() => policy.evaluate({ m: { fixed: 2 } }, 'k/o'), /policy\.rego:\d+:\d+: object keys must be unique/);
  assert.deepEqual(policy.evaluate({ m: { other: 2 } }, 'k/o'), [{ result: { fixed: 1, other: 2 } }]);
});

test('our host words a conflict from the runtime record: each value and where its definition is written', async () => {
  const policy = await loadHostPolicy(compilePlan(JSON.parse(opaBuild(conflicts, ['k/p'], 'plan').toString('utf8'))), {});
  const failure = (() => {
    try {
      policy.evaluate({ a: { x: [1, 'y'] }, b: 'z' }, 'k/p');
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  // opa build names the file by its temporary directory.
  assert.equal(String(failure).replace(/[^\s:]*\/policy\.rego/g, 'policy.rego'), 'policy.rego:4:1: rule data.k.p produced conflicting values:\n  {"x": [1, "y"]} at policy.rego:3\n  "z" at policy.rego:4');
  assert.deepEqual(policy.evaluate({ a: 1, b: 1 }, 'k/p'), [{ result: 1 }]);
});

test('memory stays bounded across 100,000 evaluations in one instance', async () => {
  const rego = 'package m\nimport rego.v1\nallow if { some r in input.roles; r == data.want }\nn := count([x | some x in input.roles; startswith(x, "a")])\n';
  const policy = await loadPolicy(compilePlan(JSON.parse(opaBuild(rego, ['m/allow', 'm/n'], 'plan').toString('utf8'))));
  policy.setData({ want: 'admin' });
  const input = { roles: ['a1', 'a2', 'b', 'admin'], padding: 'x'.repeat(2000) };
  policy.evaluate(input, 'm/allow');
  const after1 = policy.mem.buffer.byteLength;
  for (let i = 0; i < 100_000; i++) policy.evaluate(input, i % 2 ? 'm/allow' : 'm/n');
  assert.equal(policy.mem.buffer.byteLength, after1);
  assert.deepEqual(policy.evaluate(input, 'm/n'), [{ result: 3 }]);
});

test('a malformed plan gets a compile error naming the statement', () => {
  const plan = {
    static: { strings: [{ value: 'result' }] },
    plans: { plans: [{ name: 'p', blocks: [{ stmts: [{ type: 'BreakStmt', stmt: { index: 5 } }] }] }] },
    funcs: { funcs: [] },
  };
  assert.throws(() => compilePlan(plan as Policy), /plan p, block 0, stmt 0 \(BreakStmt\): break index 5 leaves the function/);
});

test('a failing host builtin surfaces as an error and the instance keeps working', async () => {
  const rego = 'package h\nimport rego.v1\nx := custom.pick(input.v) if input.v\ny := upper(input.s)\n';
  const dir = mkdtempSync(join(tmpdir(), 'verdict-caps-'));
  try {
    // Declare the custom builtin to OPA's compiler through a capabilities file.
    const caps = JSON.parse(execFileSync(opaBinary(), ['capabilities', '--current'], { encoding: 'utf8' })) as { builtins: unknown[] };
    caps.builtins.push({ name: 'custom.pick', decl: { type: 'function', args: [{ type: 'any' }], result: { type: 'any' } } });
    writeFileSync(join(dir, 'caps.json'), JSON.stringify(caps));
    writeFileSync(join(dir, 'p.rego'), rego);
    execFileSync(opaBinary(), ['build', '-t', 'plan', '--capabilities', join(dir, 'caps.json'), '-e', 'h/x', '-e', 'h/y', '-o', join(dir, 'b.tar.gz'), join(dir, 'p.rego')]);
    execFileSync('tar', ['-xzf', 'b.tar.gz', '/plan.json'], { cwd: dir });
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Policy;
    const policy = await loadPolicy(compilePlan(plan), undefined, {
      'custom.pick': (v: unknown) => {
        if (v === 'boom') throw new Error('custom.pick: boom');
        return `picked ${String(v)}`;
      },
    });
    assert.throws(() => policy.evaluate({ v: 'boom' }, 'h/x'), /custom\.pick: boom/);
    assert.deepEqual(policy.evaluate({ v: 'a' }, 'h/x'), [{ result: 'picked a' }]);
    assert.deepEqual(policy.evaluate({ s: 'abc' }, 'h/y'), [{ result: 'ABC' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a plan whose constants span more than the SDK default memory still loads and evaluates', async () => {
  const big = 'x'.repeat(400_000);
  const rego = `package big\nimport rego.v1\nn := count(s)\ns := "${big}"\n`;
  const policy = await loadPolicy(compilePlan(JSON.parse(opaBuild(rego, ['big/n'], 'plan').toString('utf8'))));
  assert.deepEqual(policy.evaluate({}, 'big/n'), [{ result: 400_000 }]);
  assert.deepEqual(policy.evaluate({}, 'big/n'), [{ result: 400_000 }]);
});

test('input given as Rego value text may hold sets, on our module as on OPA-built wasm (opa_eval parses it as opa_value_parse does)', async () => {
  const rego = 'package s\nimport rego.v1\nhit if input.foo[{1}][1] == 1\nkinds := {k | some x in input.bar; k := type_name(x)}\n';
  const plan = JSON.parse(opaBuild(rego, ['s/hit', 's/kinds'], 'plan').toString('utf8'));
  const policies = [await loadHostPolicy(compilePlan(plan), {}), await loadHostPolicy(opaBuild(rego, ['s/hit', 's/kinds'], 'wasm'), {})];
  const text = new TextEncoder().encode('{"foo": {{1}}, "bar": [set(), {"a"}, {"k": 1}]}');
  for (const policy of policies) {
    assert.deepEqual(policy.evaluate(text.buffer, 's/hit'), [{ result: true }]);
    assert.deepEqual(policy.evaluate(text.buffer, 's/kinds'), [{ result: ['object', 'set'] }]);
    assert.deepEqual(policy.evaluate({ foo: [[1]] }, 's/hit'), [], 'JSON input has arrays, not sets');
  }
});
