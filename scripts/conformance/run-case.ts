// Runs one conformance case end to end: artefact from the reference OPA, wasm from the chosen back end,
// evaluation under @open-policy-agent/opa-wasm with our host builtins, comparison with the expectations.
import { WasmPolicy, loadPolicy } from '../../src/engine/wasm-host.js';
import { SharedData, SharedDataPool } from '../../src/engine/shared-data.js';
import { acquireAreaNow } from '../../src/engine/program.js';
import { canShareMemory, sharedMemoryModule } from '../../src/wasm/shared-module.js';
import { hostBuiltins } from '../../src/builtins/index.js';
import { HttpSendClient } from '../../src/builtins/http-send/client.js';
import { evaluateWithHttpSend } from '../../src/engine/http-send-loop.js';
import { BINDINGS_ENTRYPOINT, buildCase, type BuildSettings } from './build.js';
import type { ConformanceCase } from './cases.js';
import { sameResultSet } from './compare.js';
import { inputTermText } from './input-term.js';
import { regoValueToJson } from './rego-value.js';
import { evalErrorDetail } from '../../src/engine/eval-error.js';

export type Backend = 'opa' | 'verdict';
export type Planner = 'opa' | 'verdict';

/** Our own front end and planner: the case's plan, or the compile errors (codes and messages). */
export type PlanCase = (c: ConformanceCase) => { plan: unknown } | { errors: Array<{ code: string; message: string }> };

/** Compiles an IR plan (the JSON of `opa build -t plan`) into a wasm module: our back end's contract. */
export type CompilePlan = (plan: unknown) => Uint8Array;

export type Outcome =
  | { status: 'pass' }
  | { status: 'skip'; reason: string }
  /** `cause` is short and groups failures; `detail` says what differed. */
  | { status: 'fail'; cause: string; detail: string };


function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? s).trim();
}

/** Groups an error message: drops positions, quoted values and numbers so alike failures count together. */
export function errorCause(prefix: string, message: string): string {
  const line = firstLine(message)
    .replace(/^[^:]*\.rego:\d+(:\d+)?:\s*/, '')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\b\d+\b/g, 'N');
  const builtin = /not implemented: built-in function \d+: (\S+)/.exec(firstLine(message));
  if (builtin) return `${prefix}: builtin ${builtin[1]} not implemented`;
  return `${prefix}: ${line.slice(0, 120)}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 400 ? `${s.slice(0, 400)}…` : s;
}

async function wasmFor(
  settings: BuildSettings,
  backend: Backend,
  compilePlan: CompilePlan | undefined,
  c: ConformanceCase,
  planCase?: PlanCase,
): Promise<{ wasm: Uint8Array } | Outcome> {
  if (planCase) return ourWasm(planCase, compilePlan!, c);
  const built = await buildCase(settings, backend === 'opa' ? 'wasm' : 'plan', c);
  if (!built.ok) {
    const expectsError = c.want_error_code !== undefined || c.want_error !== undefined;
    if (expectsError && !c.strict_error && c.want_error && built.error.includes(c.want_error)) return { status: 'pass' };
    return { status: 'fail', cause: errorCause('opa build failed', built.error), detail: built.error };
  }
  if (backend === 'opa') return { wasm: built.artefact };
  try {
    return { wasm: compilePlan!(JSON.parse(built.artefact.toString('utf8'))) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { status: 'fail', cause: errorCause('compilePlan failed', msg), detail: msg };
  }
}

function ourWasm(planCase: PlanCase, compilePlan: CompilePlan, c: ConformanceCase): { wasm: Uint8Array } | Outcome {
  let planned: ReturnType<PlanCase>;
  try {
    planned = planCase(c);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { status: 'fail', cause: errorCause('verdict planner failed', msg), detail: msg };
  }
  if ('errors' in planned) {
    const text = planned.errors.map((e) => `${e.code}: ${e.message}`).join('\n');
    if (c.want_error_code !== undefined && planned.errors.some((e) => e.code === c.want_error_code)) return { status: 'pass' };
    if (c.want_error_code === undefined && c.want_error !== undefined && !c.strict_error && text.includes(c.want_error)) return { status: 'pass' };
    return { status: 'fail', cause: errorCause('verdict compile failed', text), detail: text };
  }
  try {
    return { wasm: compilePlan(planned.plan) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { status: 'fail', cause: errorCause('compilePlan failed', msg), detail: msg };
  }
}

type Rows = Array<Record<string, unknown>>;

/**
 * `rows` is what the host's evaluate() returned (JSON: sets as arrays in the module's order);
 * `setSortedRows` re-reads the same evaluation as Rego value text with sets sorted, as OPA's own wasm
 * test reads results, for cases whose expected sets are written in sorted order.
 */
type Evaluation = { rows: Rows; setSortedRows: () => Rows | undefined } | { error: string };

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  const m = (e as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : JSON.stringify(e);
}

function resultRows(rs: unknown): Rows | undefined {
  const set = rs as Array<{ result?: unknown }>;
  return Array.isArray(set) && set.length === 1 && Array.isArray(set[0]?.result) ? (set[0].result as Rows) : undefined;
}

/** Go duration text ("10ms", "1s") in milliseconds, for test.sleep. */
function durationMs(text: string): number {
  const m = /^([0-9.]+)(ns|us|µs|ms|s|m|h)$/.exec(text);
  if (!m) return 0;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  return Number(m[1]) * scale[m[2]!]!;
}

/**
 * Our host builtins plus test.sleep, which OPA's wasm tests register for cases that check that time.now_ns
 * stays fixed within one evaluation. The SDK calls builtins synchronously, so the sleep blocks.
 */
const builtinsForCases = {
  ...hostBuiltins,
  'test.sleep': (d: unknown) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, durationMs(String(d)));
    return null;
  },
};

const CASE_HTTP_CLIENT = new HttpSendClient({ allowedHosts: ['localhost', '127.0.0.1', '[::1]'], defaultTimeoutMs: 2000 });

/**
 * VERDICT_CONFORMANCE_SHARED_MEMORY=1: modules of our back end run as the worker threads of a server run them,
 * in a memory shared with other instances, their data loaded into an area (src/engine/shared-data.ts).
 */
const sharedMemory = process.env.VERDICT_CONFORMANCE_SHARED_MEMORY === '1' ? new SharedData(new SharedDataPool().handle()) : undefined;
const SHARED_REGION = 512 << 20;

/** The case's policy with its data, and how to give back what it holds once the case is judged. */
async function instantiate(wasm: Uint8Array, data: unknown): Promise<{ policy: WasmPolicy; dispose: () => void }> {
  const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  const form = sharedMemory && canShareMemory(module) ? sharedMemoryModule(wasm) : undefined;
  if (!sharedMemory || !form) {
    const policy = await loadPolicy(module, builtinsForCases);
    if (data !== undefined && data !== null) policy.setData(data as object);
    return { policy, dispose: () => undefined };
  }
  const policy = new WasmPolicy(await WebAssembly.compile(form.bytes), builtinsForCases, { shared: sharedMemory, regionBytes: SHARED_REGION });
  if (data !== undefined && data !== null) {
    const area = acquireAreaNow(sharedMemory, policy, data as Record<string, unknown>);
    policy.attachArea(area);
    sharedMemory.release(area);
  }
  return { policy, dispose: () => policy.dispose() };
}

/** Gives back the previous case's instance (one case runs at a time; its rows may be read again until the next). */
let disposePrevious = (): void => undefined;

async function evaluate(wasm: Uint8Array, c: ConformanceCase): Promise<Evaluation> {
  try {
    disposePrevious();
    disposePrevious = () => undefined;
    const { policy, dispose } = await instantiate(wasm, c.data);
    disposePrevious = dispose;
    const input = c.input_term !== undefined ? regoValueInput(c.input_term) : c.input;
    // http.send runs through the engine's fetch-and-re-evaluate loop, limited to loopback: the cases that call
    // it expect request-checking errors, and a case must never reach beyond this machine.
    const rs = await evaluateWithHttpSend(CASE_HTTP_CLIENT, () => policy.evaluate(input, BINDINGS_ENTRYPOINT));
    const rows = resultRows(rs);
    if (!rows) return { error: `malformed result set ${show(rs)}` };
    const setSortedRows = () => {
      try {
        return resultRows(regoValueToJson(policy.evaluateToText(input, BINDINGS_ENTRYPOINT, 'rego')));
      } catch {
        return undefined;
      }
    };
    return { rows, setSortedRows };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/**
 * An `input_term` (a Rego value, which may hold sets) goes in as Rego value text, which opa_eval parses: what
 * OPA's wasm SDK does with an input term.
 */
function regoValueInput(term: string): ArrayBuffer {
  const bytes = new TextEncoder().encode(inputTermText(term));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

function judge(c: ConformanceCase, ev: Evaluation): Outcome {
  const wantsError = c.want_error_code !== undefined || c.want_error !== undefined;
  if ('error' in ev) {
    if (wantsError && !c.strict_error) {
      if (c.want_error_code === 'eval_conflict_error') {
        // Classified as the CLI and the server classify an evaluation error (our runtime's and OPA wasm's wording).
        if (evalErrorDetail(new Error(ev.error)).code === 'eval_conflict_error') return { status: 'pass' };
        return { status: 'fail', cause: errorCause('wrong error', ev.error), detail: `want a conflict error, got: ${ev.error}` };
      }
      if (c.want_error_code === undefined && c.want_error !== undefined && ev.error.includes(c.want_error)) {
        return { status: 'pass' };
      }
      return {
        status: 'fail',
        cause: `error ${c.want_error_code ?? 'message'} expected outside strict mode`,
        detail: `want ${c.want_error_code ?? ''} ${c.want_error ?? ''}, got: ${ev.error}`,
      };
    }
    return { status: 'fail', cause: errorCause('evaluation error', ev.error), detail: ev.error };
  }
  const rows = ev.rows;
  if (c.want_defined !== undefined) {
    if ((rows.length > 0) === c.want_defined) return { status: 'pass' };
    return { status: 'fail', cause: 'wrong definedness', detail: `want ${c.want_defined ? 'defined' : 'undefined'}, got ${show(rows)}` };
  }
  if (c.want_result !== undefined) {
    const sortBindings = c.sort_bindings === true;
    if (sameResultSet(c.want_result, rows, sortBindings)) return { status: 'pass' };
    const sorted = ev.setSortedRows();
    if (sorted && sameResultSet(c.want_result, sorted, sortBindings)) return { status: 'pass' };
    return { status: 'fail', cause: rows.length === 0 ? 'undefined result' : 'result mismatch', detail: `want ${show(c.want_result)}, got ${show(rows)}` };
  }
  if (wantsError) {
    // The wasm target has no strict builtin errors: such cases must come out undefined (OPA's wasm e2e test rule).
    if (c.strict_error) {
      if (rows.length === 0) return { status: 'pass' };
      return { status: 'fail', cause: 'strict error case defined', detail: `want undefined, got ${show(rows)}` };
    }
    return { status: 'fail', cause: 'expected error, got result', detail: `want ${c.want_error_code ?? c.want_error}, got ${show(rows)}` };
  }
  return { status: 'skip', reason: 'case states no expectation' };
}

export async function runCase(
  settings: BuildSettings,
  backend: Backend,
  compilePlan: CompilePlan | undefined,
  c: ConformanceCase,
  planCase?: PlanCase,
): Promise<Outcome> {
  const w = await wasmFor(settings, backend, compilePlan, c, planCase);
  if (!('wasm' in w)) return w;
  return judge(c, await evaluate(w.wasm, c));
}
