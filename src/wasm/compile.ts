// OPA IR plan → WebAssembly module following OPA's wasm ABI 1.2. The runtime (value model, JSON,
// native builtins) is compiled once at build time (scripts/build-runtime.mjs) and taken apart once per
// process (runtime-image.ts); each compile encodes only the plan's functions, the `eval`/`builtins`/
// `entrypoints` exports, the plan's string constants as a data segment and the imports of OPA's host
// interface, and writes them out next to the runtime's sections.
import type { Policy } from '../ir/plan.js';
import { funcArgs } from '../ir/func-arity.js';
import { PlanError, validatePlan } from '../ir/validate.js';
import { encodeBody, wasm as w, type Expr } from './code.js';
import { ByteWriter } from './encoding.js';
import { DataLayout } from './layout.js';
import { FunctionCompiler, type ModuleContext } from './function.js';
import { runtimeImage } from './runtime-image.js';
import { runtimeDeferralOf, runtimeExportOf } from '../builtins/registry.js';
import { INSTANCE_INIT } from './instance-init.js';

export { PlanError } from '../ir/validate.js';

/** Exports of the ABI the module keeps; every other runtime export is internal. */
const ABI_EXPORTS = new Set([
  'opa_wasm_abi_version', 'opa_wasm_abi_minor_version', 'opa_malloc', 'opa_free', 'opa_heap_ptr_get',
  'opa_heap_ptr_set', 'opa_json_parse', 'opa_value_parse', 'opa_json_dump', 'opa_value_dump',
  'opa_eval_ctx_new', 'opa_eval_ctx_set_input', 'opa_eval_ctx_set_data', 'opa_eval_ctx_set_entrypoint',
  'opa_eval_ctx_get_result', 'eval', 'opa_eval', 'opa_value_add_path', 'opa_value_remove_path', 'opa_value_free',
  // Verdict's own: the first builtin error of an evaluation (src/wasm/runtime/faults.ts), and data loading
  // that keeps nothing of the JSON text (src/wasm/runtime/json.ts parseDetached, data.ts dataObject).
  'verdict_builtin_error', 'verdict_builtin_fault', 'verdict_conflict', 'verdict_json_parse_detached', 'verdict_data_object',
  // And instances on a memory shared with others (src/engine/shared-data.ts): the heap's bound while data loads.
  'verdict_heap_end_set',
]);

const PAGE = 65536;
const SECTION = { type: 1, import: 2, function: 3, table: 4, global: 6, export: 7, start: 8, elem: 9, code: 10, data: 11, dataCount: 12 };
const KIND = { func: 0, table: 1, memory: 2, global: 3 };

interface NewFunction {
  type: number;
  extraLocals: number;
  body: Expr[];
}

/** Compiles an OPA plan (the JSON of `opa build -t plan`) to a wasm module. Throws PlanError. */
export function compilePlan(plan: Policy): Uint8Array<ArrayBuffer> {
  validatePlan(plan);
  const rt = runtimeImage().fork();
  const layout = new DataLayout(rt.staticEnd);
  const exported = new Map(rt.exports.filter((e) => e.kind === KIND.func).map((e) => [e.name, e.index]));

  const strings = (plan.static?.strings ?? []).map((s) => layout.string(s.value));
  const funcs = plan.funcs?.funcs ?? [];
  const plans = plan.plans?.plans ?? [];

  // Builtins: the registry names the runtime export that answers each native one; the rest go to the host.
  const external = new Map<string, { id: number; hasResult: boolean }>();
  const native = new Map<string, number>();
  const deferred = new Map<string, number>();
  const runtimeFunction = (exportName: string, builtin: string): number => {
    const index = exported.get(exportName);
    if (index === undefined) throw new Error(`runtime function ${exportName} (builtin ${builtin}) is missing: rebuild the runtime`);
    return index;
  };
  for (const b of plan.static?.builtin_funcs ?? []) {
    const exportName = runtimeExportOf(b.name);
    if (exportName === undefined) {
      external.set(b.name, { id: external.size, hasResult: b.decl?.result !== undefined });
      continue;
    }
    native.set(b.name, runtimeFunction(exportName, b.name));
    const deferral = runtimeDeferralOf(b.name);
    if (deferral !== undefined) {
      deferred.set(b.name, runtimeFunction(deferral, b.name));
      external.set(b.name, { id: external.size, hasResult: b.decl?.result !== undefined });
    }
  }

  // Function indices after the runtime's: eval_plans, the plan's functions, builtins(), entrypoints(),
  // verdict_instance_init, the start function.
  const planFuncBase = rt.firstFree;
  const builtinsFunc = planFuncBase + funcs.length;
  const entrypointsFunc = builtinsFunc + 1;
  const instanceInitFunc = entrypointsFunc + 1;
  const startFunc = instanceInitFunc + 1;
  // Where the instance's copy of the plan's data begins: a global after the runtime's.
  const planBase = rt.globals.length;
  const addr = (at: number): Expr => w.i32Add(w.globalGet(planBase), w.i32Const(at - layout.start));

  // Dynamic dispatch: functions with a path sit in a table; the mapping object leads to them.
  const tableFuncs: number[] = [];
  const mapping: Record<string, unknown> = {};
  for (const [i, f] of funcs.entries()) {
    if (!f.path || f.path.length === 0) continue;
    tableFuncs.push(planFuncBase + i);
    let node = mapping;
    for (const seg of f.path.slice(0, -1)) {
      const next = node[seg];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[seg] = {};
    }
    node[f.path[f.path.length - 1]] = tableFuncs.length; // table index 0 stays empty
  }

  const ctx: ModuleContext = {
    layout,
    strings,
    plan,
    runtime: (name) => {
      const f = exported.get(name);
      if (f === undefined) throw new Error(`runtime function ${name} is missing: rebuild the runtime`);
      return f;
    },
    funcIndex: new Map(funcs.map((f, i) => [f.name, i])),
    planFuncBase,
    funcArity: new Map(funcs.map((f) => [f.name, f.params.length])),
    funcArgs: funcArgs(plan),
    native,
    deferred,
    external,
    mapping: layout.text(JSON.stringify(mapping)),
    abortFn: rt.abortFunc,
    builtinImport: rt.builtinImport,
    funcType: (params) => rt.type(params, true),
    trueAddr: layout.bool(true),
    falseAddr: layout.bool(false),
    addr,
    memoCount: funcs.length,
  };

  const added: NewFunction[] = [];
  // eval_plans(ctx) stands where the runtime imported it.
  const evalCompiler = new FunctionCompiler(ctx, [-1]);
  const evalBody = evalCompiler.compileEval(plans);
  added.push({ type: rt.evalPlans.type, extraLocals: evalCompiler.extraLocals(), body: [evalBody] });
  for (const [i, f] of funcs.entries()) {
    const fc = new FunctionCompiler(ctx, f.params);
    const body = fc.compileFunc(f, i);
    added.push({ type: rt.type(f.params.length, true), extraLocals: fc.extraLocals(), body: [body] });
  }
  // builtins() / entrypoints(): parse a JSON constant into a fresh value on each call.
  for (const value of [Object.fromEntries([...external].map(([name, e]) => [name, e.id])), Object.fromEntries(plans.map((p, i) => [p.name, i]))]) {
    const text = layout.text(JSON.stringify(value));
    added.push({ type: rt.type(0, true), extraLocals: 0, body: [w.call(ctx.runtime('opa_json_parse'), [addr(text.ptr), w.i32Const(text.len)])] });
  }

  // The plan's data is a passive segment, copied by verdict_instance_init(base, end) to `base`, where the
  // instance's region begins (the string records' byte pointers moved with it), followed by the runtime's
  // scratch space and the heap, which ends at `end` (0: unbounded). On a memory of its own the start function
  // calls it with the address the data was laid out at, after growing the memory as far as the data needs,
  // so the memory import asks only for what the runtime's own data spans and hosts' default memories (the
  // SDK's is 5 pages) fit any plan size. On a memory shared with other instances (sharedMemoryModule) there
  // is no start function: the host calls it with the region it gave the instance.
  const dataEnd = layout.end();
  const planData = layout.bytes();
  const planSegment = rt.dataSegments.length;
  const needPages = Math.ceil(dataEnd / PAGE);
  const [base, end] = [0, 1];
  const moved = w.i32Sub(w.localGet(base), w.i32Const(layout.start));
  added.push({
    type: rt.type(2, false),
    extraLocals: 0,
    body: [
      w.memoryInit(planSegment, w.localGet(base), w.i32Const(0), w.i32Const(planData.length)),
      w.dataDrop(planSegment),
      w.globalSet(planBase, w.localGet(base)),
      w.if(
        w.i32Ne(w.localGet(base), w.i32Const(layout.start)),
        w.seq(layout.pointers.map((at) => w.i32Store(0, addr(at), w.i32Add(w.i32Load(0, addr(at)), moved)))),
      ),
      w.call(ctx.runtime('regionInit'), [w.i32Add(w.localGet(base), w.i32Const(dataEnd - layout.start)), w.localGet(end)]),
    ],
  });
  added.push({
    type: rt.type(0, false),
    extraLocals: 0,
    body: [
      w.if(w.i32LtU(w.memorySize(), w.i32Const(needPages)), w.drop(w.memoryGrow(w.i32Sub(w.i32Const(needPages), w.memorySize())))),
      w.call(instanceInitFunc, [w.i32Const(layout.start), w.i32Const(0)]),
    ],
  });
  if (rt.evalPlans.index + added.length - 1 !== startFunc) throw new Error('internal: function layout out of step');

  const out = new ByteWriter(rt.code.length + 64 * 1024);
  out.bytes(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  out.section(SECTION.type, vector(rt.types));

  const imports = new ByteWriter();
  imports.u32(rt.funcImports.length + 1);
  for (const imp of rt.funcImports) imports.bytes(imp);
  imports.name(rt.memoryImport.module);
  imports.name(rt.memoryImport.name);
  imports.byte(KIND.memory);
  imports.byte(0); // minimum only
  imports.u32(Math.max(1, Math.ceil(rt.staticEnd / PAGE)));
  out.section(SECTION.import, imports);

  const functions = new ByteWriter();
  functions.u32(rt.funcTypes.length + added.length);
  for (const t of rt.funcTypes) functions.u32(t);
  for (const f of added) functions.u32(f.type);
  out.section(SECTION.function, functions);

  if (tableFuncs.length > 0) {
    const table = new ByteWriter();
    table.u32(1);
    table.byte(0x70); // funcref
    table.byte(1);
    table.u32(tableFuncs.length + 1);
    table.u32(tableFuncs.length + 1);
    out.section(SECTION.table, table);
  }

  // The heap starts after the plan's data; the runtime reads this global on first allocation.
  const globals = new ByteWriter();
  globals.u32(rt.globals.length + 1);
  for (const [i, g] of rt.globals.entries()) {
    if (i !== rt.heapBase.index) {
      globals.bytes(g);
      continue;
    }
    globals.bytes(rt.heapBase.type);
    globals.byte(0x41);
    globals.s32(dataEnd);
    globals.byte(0x0b);
  }
  globals.bytes(new Uint8Array([0x7f, 0x01, 0x41, 0x00, 0x0b])); // planBase: mutable i32, 0
  out.section(SECTION.global, globals);

  const exports = new ByteWriter();
  const kept = rt.exports.filter((e) => ABI_EXPORTS.has(e.name));
  exports.u32(kept.length + 4);
  for (const e of kept) {
    exports.name(e.name);
    exports.byte(e.kind);
    exports.u32(e.index);
  }
  const own = [['builtins', KIND.func, builtinsFunc], ['entrypoints', KIND.func, entrypointsFunc], [INSTANCE_INIT, KIND.func, instanceInitFunc], ['memory', KIND.memory, 0]] as const;
  for (const [name, kind, index] of own) {
    exports.name(name);
    exports.byte(kind);
    exports.u32(index);
  }
  out.section(SECTION.export, exports);

  const start = new ByteWriter(8);
  start.u32(startFunc);
  out.section(SECTION.start, start);

  if (tableFuncs.length > 0) {
    const elems = new ByteWriter();
    elems.u32(1);
    elems.u32(0); // active, table 0, funcref indices
    elems.byte(0x41);
    elems.s32(1);
    elems.byte(0x0b);
    elems.u32(tableFuncs.length);
    for (const f of tableFuncs) elems.u32(f);
    out.section(SECTION.elem, elems);
  }

  const dataCount = new ByteWriter(8);
  dataCount.u32(rt.dataSegments.length + 1);
  out.section(SECTION.dataCount, dataCount);

  const code = new ByteWriter(rt.code.length + 64 * 1024);
  code.u32(rt.funcTypes.length + added.length);
  code.bytes(rt.code);
  for (const f of added) encodeBody(code, f.extraLocals, f.body);
  out.section(SECTION.code, code);

  const data = new ByteWriter(planData.length + 16);
  data.u32(rt.dataSegments.length + 1);
  for (const seg of rt.dataSegments) data.bytes(seg);
  data.u32(1); // passive
  data.u32(planData.length);
  data.bytes(planData);
  out.section(SECTION.data, data);

  const bytes = out.finish();
  if (process.env.VERDICT_WASM_VALIDATE === '1' && !WebAssembly.validate(bytes)) throw new PlanError('generated module failed validation');
  return bytes;
}

function vector(entries: Uint8Array[]): ByteWriter {
  const w = new ByteWriter();
  w.u32(entries.length);
  for (const e of entries) w.bytes(e);
  return w;
}
