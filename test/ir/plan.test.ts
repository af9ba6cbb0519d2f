import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, PlanError } from '../../src/ir/validate.js';
import type { Policy } from '../../src/ir/plan.js';
import { opaBuild } from '../wasm/plan-helper.js';

const rego = `package x
import rego.v1
default allow := false
allow if { input.user == "alice"; count(input.roles) > 1 }
names contains n if { some r in input.roles; n := upper(r) }
obj[k] := v if { some k, v in data.m; not startswith(k, "_") }
f(a) := a + 1
z := f(3) * 2.5
w := [x | x := data.items[_]] if { every i in data.items { i > 0 } }
v := y if { y := data.m with data.m as {"a": 1} }
`;

test('a plan from opa build -t plan parses as a Policy and serialises back to the same JSON', () => {
  const text = opaBuild(rego, ['x/allow', 'x/names', 'x/obj', 'x/z', 'x/w', 'x/v'], 'plan').toString('utf8');
  const plan: Policy = validatePlan(JSON.parse(text));
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), JSON.parse(text));
  assert.ok((plan.plans?.plans ?? []).some((p) => p.name === 'x/allow'));
  const types = new Set<string>();
  const walk = (blocks: { stmts: { type: string; stmt: Record<string, unknown> }[] }[]) => {
    for (const b of blocks) for (const s of b.stmts) {
      types.add(s.type);
      const st = s.stmt as { block?: { stmts: [] }; blocks?: [] };
      if (st.block) walk([st.block as never]);
      if (st.blocks) walk(st.blocks as never);
    }
  };
  for (const f of plan.funcs?.funcs ?? []) walk(f.blocks as never);
  for (const t of ['ScanStmt', 'NotStmt', 'WithStmt', 'CallStmt', 'DotStmt', 'ObjectInsertOnceStmt', 'SetAddStmt']) {
    assert.ok(types.has(t), `plan uses ${t}`);
  }
});

function minimal(stmts: unknown[]): unknown {
  return {
    static: { strings: [{ value: 'result' }] },
    plans: { plans: [{ name: 'p', blocks: [{ stmts }] }] },
    funcs: { funcs: [] },
  };
}

test('the validator names the plan, block and statement of a malformed statement', () => {
  assert.throws(
    () => validatePlan(minimal([{ type: 'MakeObjectStmt', stmt: { target: 2 } }, { type: 'DotStmt', stmt: { source: { type: 'local', value: 0 }, key: { type: 'string_index', value: 9 }, target: 3 } }])),
    (e: unknown) => e instanceof PlanError && /plan p, block 0, stmt 1 \(DotStmt\): field key: string index 9 out of range/.test(e.message),
  );
});

test('the validator rejects unknown statement types and calls to undeclared functions', () => {
  assert.throws(() => validatePlan(minimal([{ type: 'TeleportStmt', stmt: {} }])), /stmt 0 \(TeleportStmt\): unsupported statement type/);
  assert.throws(
    () => validatePlan(minimal([{ type: 'CallStmt', stmt: { func: 'nope', args: [], result: 2 } }])),
    /stmt 0 \(CallStmt\): calls "nope", which is neither a plan function nor a declared builtin/,
  );
  assert.throws(() => validatePlan(minimal([{ type: 'AssignVarStmt', stmt: { source: { type: 'local', value: 'x' }, target: 2 } }])), /field source: bad local "x"/);
  assert.throws(() => validatePlan([]), /plan: expected a JSON object/);
});
