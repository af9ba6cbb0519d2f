// Values crossing between a policy module and the host builtins (src/engine/wasm-host.ts): sets must stay
// sets in both directions, numbers keep their text where sprintf needs it, and our builtins answer rather
// than opa-wasm's own (yaml.*, sprintf, regex.split). Each rule is evaluated in a module built by our
// back end and in one built by `opa build -t wasm`, and must give what `opa eval` gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBundle } from '../../src/bundle/bundle.js';
import { hostBuiltins } from '../../src/builtins/index.js';
import { PlanningCompiler } from '../../src/engine/compiler.js';
import { WasmProgram } from '../../src/engine/program.js';
import { DataStore } from '../../src/engine/store.js';
import { VerdictPlanner } from '../../src/engine/verdict-planner.js';
import { referenceOpa, wasmBundleFiles } from '../engine/opa-fixture.js';

const AWS = `{"aws_access_key": "k", "aws_secret_access_key": "s", "aws_service": "s3", "aws_region": "us-east-1"}`;
const SIGNED = `providers.aws.sign_req({"method": "get", "url": "http://example.com", "body": {"x": {1, 2}}}, ${AWS}, 1451311705000000000)`;

const RULES: Record<string, string> = {
  // Sets print in the module's own order (OPA's runtime keeps insertion order), so set results are sorted.
  patched: `patched := {k: sort(v) | some k, v in json.patch({"foo": {"a", "b", "c"}, "bar": {[1]}}, [
	{"op": "remove", "path": "foo/b"},
	{"op": "add", "path": "foo/d", "value": "d"},
	{"op": "add", "path": ["bar", [1], 1], "value": 2},
])}`,
  patched_keeps_sets: `patched_keeps_sets if json.patch({"foo": {"a", "b"}}, [{"op": "add", "path": "foo/d", "value": "d"}]) == {"foo": {"a", "b", "d"}}`,
  patch_set_key_mismatch: `patch_set_key_mismatch := json.patch({"foo": {"a"}}, [{"op": "add", "path": "foo/d", "value": "e"}])`,
  signed_body_is_set: `signed_body_is_set if ${SIGNED}.body == {"x": {1, 2}}`,
  signature: `signature := ${SIGNED}.headers.Authorization`,
  subset_nested_sets: `subset_nested_sets := [
	object.subset({"a": {"s": {1, 2, 3}}}, {"a": {"s": {3, 1}}}),
	object.subset({"a": {"s": {1, 2}}}, {"a": {"s": {3}}}),
	object.subset({"a": [1, 2, 3]}, {"a": {1, 3}}),
	object.subset([1, 2, 3], {3, 1}),
]`,
  set_matches: `set_matches := sort(net.cidr_contains_matches({"10.0.0.0/8", "192.168.0.0/16"}, {"10.1.2.3", "11.0.0.1", "192.168.1.1"}))`,
  expanded_member: `expanded_member if net.cidr_expand("10.0.0.0/30")["10.0.0.1"]`,
  yaml_valid: `yaml_valid := [yaml.is_valid("a: 1\\n---\\nb: 2\\n"), yaml.is_valid("  test:\\ntest1: hello\\n"), yaml.is_valid(input.n)]`,
  yaml_unmarshal: `yaml_unmarshal := yaml.unmarshal("a: [1, 2]\\nb: {c: x}\\n")`,
  time_exact: `time_exact := [
	time.format(1670006453141828752), time.format([1670006453141828752, "Asia/Kolkata"]), time.date(1670006453141828752),
	time.format(time.add_date(1670006453141828752, 0, 0, 1)), time.diff(1670006453141828752, 1670006453141828753),
]`,
  split: `split := [regex.split("^[a-z ]+$", "foobar baz"), regex.split("[a-z]+$", "foobar baz"), regex.split("x*", "ab"), regex.split("a", "")]`,
  formatted: `formatted := sprintf("%v|%d|%s|%s|%.2f|%x|%v|%d|%5.1f|%-4s|%q|%v|%e|%v", [
	[1.0, "a", {2}], 123456789123456789123, 5, 123456789123456789123, 2.0, 255, set(), 1.0, 3.14159, "ab", "q\\"", 1e21, 123456.789, 2e308,
])`,
};

const POLICY = `package t\n\n${Object.values(RULES).join('\n\n')}\n`;
const INPUT = { n: 1 };

function opaAnswers(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-boundary-'));
  try {
    writeFileSync(join(dir, 't.rego'), POLICY);
    writeFileSync(join(dir, 'input.json'), JSON.stringify(INPUT));
    const out = execFileSync(referenceOpa(), ['eval', '--format', 'json', '-d', join(dir, 't.rego'), '-i', join(dir, 'input.json'), 'data.t'], { encoding: 'utf8' });
    return (JSON.parse(out) as { result: Array<{ expressions: Array<{ value: Record<string, unknown> }> }> }).result[0]!.expressions[0]!.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function checkAgainstOpa(program: WasmProgram): Promise<void> {
  const want = opaAnswers();
  // The cases must mean something: OPA answers these, and leaves the mismatched set key undefined.
  assert.equal(want.patched_keeps_sets, true);
  assert.equal(want.signed_body_is_set, true);
  assert.equal(want.expanded_member, true);
  assert.equal('patch_set_key_mismatch' in want, false);
  const input = new TextEncoder().encode(JSON.stringify(INPUT));
  for (const rule of Object.keys(RULES)) {
    const got = program.evaluate(`t/${rule}`, input);
    assert.deepEqual(got, rule in want ? [{ result: want[rule] }] : [], rule);
  }
}

test('a module built by our back end passes sets, numbers and yaml/regex/sprintf calls through the host as OPA evaluates them', async () => {
  const compiled = await new PlanningCompiler(new VerdictPlanner()).compile([{ path: 't.rego', source: POLICY, packagePath: ['t'] }], { regoVersion: 1 });
  await checkAgainstOpa(await WasmProgram.load(compiled.wasm, hostBuiltins, new DataStore(), 'verdict'));
});

test('a module built by opa build -t wasm gets the same answers from our host builtins (sprintf included)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verdict-boundary-build-'));
  try {
    writeFileSync(join(dir, 't.rego'), POLICY);
    const bundle = parseBundle('b', await wasmBundleFiles(dir, Object.keys(RULES).map((r) => `t/${r}`)));
    await checkAgainstOpa(await WasmProgram.load(bundle.wasm[0]!.bytes, hostBuiltins, new DataStore(), 'foreign'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
