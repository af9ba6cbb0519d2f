// OPA IR plan → WebAssembly module following OPA's wasm ABI 1.2. The runtime (value model, JSON,
// native builtins) is compiled once at build time (scripts/build-runtime.mjs); here binaryen reads
// it and adds the plan's functions, the `eval`/`builtins`/`entrypoints` exports, the plan's string
// constants as data segments and the imports of OPA's host interface.
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import type { Policy } from '../ir/plan.js';
import { PlanError, validatePlan } from '../ir/validate.js';
import { DataLayout } from './layout.js';
import { FunctionCompiler, type ModuleContext } from './function.js';

export { PlanError } from '../ir/validate.js';

const RUNTIME_URL = new URL('./runtime.wasm', import.meta.url);
let runtimeBytes: Uint8Array | undefined;

function runtime(): Uint8Array {
  runtimeBytes ??= readFileSync(RUNTIME_URL);
  return runtimeBytes;
}

/** Exports of the ABI the module keeps; every other runtime export is internal. */
const ABI_EXPORTS = new Set([
  'opa_wasm_abi_version', 'opa_wasm_abi_minor_version', 'opa_malloc', 'opa_free', 'opa_heap_ptr_get',
  'opa_heap_ptr_set', 'opa_json_parse', 'opa_value_parse', 'opa_json_dump', 'opa_value_dump',
  'opa_eval_ctx_new', 'opa_eval_ctx_set_input', 'opa_eval_ctx_set_data', 'opa_eval_ctx_set_entrypoint',
  'opa_eval_ctx_get_result', 'eval', 'opa_eval',
]);

const FEATURES =
  binaryen.Features.MutableGlobals | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt |
  binaryen.Features.SignExt | binaryen.Features.NontrappingFPToInt;

const PAGE = 65536;

/** Compiles an OPA plan (the JSON of `opa build -t plan`) to a wasm module. Throws PlanError. */
export function compilePlan(plan: Policy): Uint8Array {
  validatePlan(plan);
  const m = binaryen.readBinary(runtime());
  try {
    m.setFeatures(FEATURES);
    return build(m, plan);
  } finally {
    m.dispose();
  }
}

function build(m: binaryen.Module, plan: Policy): Uint8Array {
  // Runtime exports by name → internal function/global names.
  const exported = new Map<string, string>();
  const exportNames: string[] = [];
  for (let i = 0; i < m.getNumExports(); i++) {
    const info = binaryen.getExportInfo(m.getExportByIndex(i));
    exported.set(info.name, info.value);
    exportNames.push(info.name);
  }
  for (const name of exportNames) if (!ABI_EXPORTS.has(name)) m.removeExport(name);

  const memoryName = 'mimport$0';
  const segments: binaryen.MemorySegment[] = [];
  let staticEnd = 0;
  // binaryen.js has these at run time; its typings lag behind.
  const dataApi = m as unknown as {
    getNumDataSegments(): number;
    getDataSegmentByIndex(i: number): number;
    getDataSegmentInfo(ref: number): { offset: number; data: ArrayBuffer };
  };
  for (let i = 0; i < dataApi.getNumDataSegments(); i++) {
    const info = dataApi.getDataSegmentInfo(dataApi.getDataSegmentByIndex(i));
    segments.push({ offset: m.i32.const(info.offset), data: new Uint8Array(info.data), passive: false });
    staticEnd = Math.max(staticEnd, info.offset + info.data.byteLength);
  }
  const layout = new DataLayout(staticEnd);

  const strings = (plan.static?.strings ?? []).map((s) => layout.string(s.value));
  const funcs = plan.funcs?.funcs ?? [];
  const plans = plan.plans?.plans ?? [];

  // Builtins: native ones are runtime exports `b_<name with dots as _>`; the rest go to the host.
  const external = new Map<string, { id: number; hasResult: boolean }>();
  const native = new Map<string, string>();
  for (const b of plan.static?.builtin_funcs ?? []) {
    const nat = exported.get(`b_${b.name.replace(/\./g, '_')}`);
    if (nat !== undefined) native.set(b.name, nat);
    else external.set(b.name, { id: external.size, hasResult: b.decl?.result !== undefined });
  }

  // Dynamic dispatch: functions with a path sit in a table; the mapping object leads to them.
  const tableFuncs: string[] = [];
  const mapping: Record<string, unknown> = {};
  for (const f of funcs) {
    if (!f.path || f.path.length === 0) continue;
    tableFuncs.push(funcName(f.name));
    let node = mapping;
    for (const seg of f.path.slice(0, -1)) {
      const next = node[seg];
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = node[seg] = {};
    }
    node[f.path[f.path.length - 1]] = tableFuncs.length; // table index 0 stays empty
  }

  const i32 = binaryen.i32;
  for (let n = 0; n <= 4; n++) {
    m.addFunctionImport(`opa_builtin${n}`, 'env', `opa_builtin${n}`, binaryen.createType(new Array(n + 2).fill(i32)), i32);
  }

  const ctx: ModuleContext = {
    m,
    layout,
    strings,
    plan,
    runtime: (name) => {
      const f = exported.get(name);
      if (f === undefined) throw new Error(`runtime function ${name} is missing: rebuild the runtime`);
      return f;
    },
    funcIndex: new Map(funcs.map((f, i) => [f.name, i])),
    funcArity: new Map(funcs.map((f) => [f.name, f.params.length])),
    native,
    external,
    mapping: layout.text(JSON.stringify(mapping)),
    abortFn: findImport(m, 'env', 'opa_abort') ?? missing('env.opa_abort import'),
    trueAddr: layout.bool(true),
    falseAddr: layout.bool(false),
    memoCount: funcs.length,
  };

  for (const [i, f] of funcs.entries()) {
    const fc = new FunctionCompiler(ctx, f.params);
    const body = fc.compileFunc(f, i);
    m.addFunction(funcName(f.name), binaryen.createType(f.params.map(() => i32)), i32, fc.varTypes(), body);
  }

  // eval_plans(ctx) replaces the runtime's import of the same name.
  const evalImport = findImport(m, 'verdict', 'eval_plans') ?? missing('verdict.eval_plans import');
  m.removeFunction(evalImport);
  const fc = new FunctionCompiler(ctx, [-1]);
  const evalBody = fc.compileEval(plans);
  m.addFunction(evalImport, binaryen.createType([i32]), binaryen.none, fc.varTypes(), evalBody);

  addJsonGetter(m, ctx, 'builtins', Object.fromEntries([...external].map(([name, e]) => [name, e.id])));
  addJsonGetter(m, ctx, 'entrypoints', Object.fromEntries(plans.map((p, i) => [p.name, i])));

  if (tableFuncs.length > 0) {
    m.addTable('dispatch', tableFuncs.length + 1, tableFuncs.length + 1);
    m.addActiveElementSegment('dispatch', 'dispatch_elems', tableFuncs, m.i32.const(1));
  }

  // The heap starts after the plan's data; the runtime reads this global on first allocation.
  const heapGlobal = exported.get('heapBase') ?? missing('heapBase global');
  m.removeGlobal(heapGlobal);
  const dataEnd = layout.end();
  m.addGlobal(heapGlobal, i32, true, m.i32.const(dataEnd));

  segments.push({ offset: m.i32.const(layout.start), data: layout.bytes(), passive: false });
  const pages = Math.max(2, Math.ceil(dataEnd / PAGE));
  m.setMemory(pages, -1, null, segments, false, false, memoryName);
  m.addMemoryImport(memoryName, 'env', 'memory');
  m.addMemoryExport(memoryName, 'memory');

  if (process.env.VERDICT_WASM_VALIDATE === '1' && !m.validate()) throw new PlanError('generated module failed validation');
  return m.emitBinary();
}

function funcName(name: string): string {
  return `plan:${name}`;
}

function findImport(m: binaryen.Module, module: string, base: string): string | undefined {
  for (let i = 0; i < m.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(m.getFunctionByIndex(i));
    if (info.module === module && info.base === base) return info.name;
  }
  return undefined;
}

function missing(what: string): never {
  throw new Error(`runtime lacks the ${what}: rebuild it (npm run build:runtime)`);
}

/** `builtins()` / `entrypoints()`: parse a JSON constant into a fresh value on each call. */
function addJsonGetter(m: binaryen.Module, ctx: ModuleContext, name: string, value: unknown): void {
  const text = ctx.layout.text(JSON.stringify(value));
  m.addFunction(name, binaryen.none, binaryen.i32, [],
    m.call(ctx.runtime('opa_json_parse'), [m.i32.const(text.ptr), m.i32.const(text.len)], binaryen.i32));
  m.addFunctionExport(name, name);
}
