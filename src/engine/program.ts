// One compiled wasm module and its warm instance. Node runs evaluations one at a time per process, so one
// instance per module is enough; it is reused across decisions and rebuilt from the compiled module after a
// failed evaluation, so an abort mid-evaluation never leaks state into the next one.
//
// http.send aborts evaluations on purpose (NeedsResponse, see src/engine/http-send-loop.ts). Modules built by
// our back end survive that: the runtime keeps no state across the call stack (bump heap reset per
// evaluation, memo frames reset by eval), proven by test/builtins/http-send-abort.test.ts. Modules built by
// `opa build -t wasm` do not: their C runtime's shadow stack pointer is left where the abort unwound it, and
// after some thousands of aborts the stack overruns memory. Those are rebuilt after every abort.
//
// Given a SharedData (worker threads of one server), a module of our back end gets its instance in the shared
// memory, where data is loaded once for every thread (shared-data.ts); `opa build` modules keep a memory of
// their own. Such an instance's heap is a bounded region: an evaluation that outgrows it is run again on an
// instance with a region twice as large, up to MAX_REGION_HEAP, past which it fails (HeapRegionExhausted).
import { NeedsResponse } from '../builtins/http-send/session.js';
import { HeapRegionExhausted, WasmPolicy, loadPolicySync } from './wasm-host.js';
import type { DataStore } from './store.js';
import { dataKey, loadDataNow, type DataPiece, type DataTarget } from './data-load.js';
import { canShareMemory, sharedMemoryModule } from '../wasm/shared-module.js';
import type { DataArea, SharedData } from './shared-data.js';

/**
 * An evaluation that failed inside the policy (opa_abort, a conflict), or, under strict builtin errors, the
 * first builtin error with OPA's code and the call's location.
 */
export class EvaluationError extends Error {
  override name = 'EvaluationError';
  constructor(
    message: string,
    readonly entrypoint: string,
    readonly builtin?: { code: string; location?: { file: string; row: number; col: number } },
  ) {
    super(message);
  }
}

type Builtins = Record<string, (...args: any[]) => unknown>;

/** The heap of an instance on a shared memory at first, and at most (each retry doubles it). */
export const FIRST_REGION_HEAP = 32 << 20;
export const MAX_REGION_HEAP = 1 << 30;
/** Room in a region for the runtime's scratch space, besides the plan's data and the heap. */
const REGION_SCRATCH = 1 << 20;

/** A module placed in a shared memory: the shared form of its bytes, compiled, and its plan data's size. */
interface SharedModule {
  shared: SharedData;
  module: WebAssembly.Module;
  planDataBytes: number;
}

export class WasmProgram implements DataTarget {
  private instance: WasmPolicy | undefined;
  private dataVersion = -1;
  private regionHeap = FIRST_REGION_HEAP;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly builtins: Builtins,
    private readonly store: DataStore,
    /** Entrypoint name → id inside the module. */
    readonly entrypoints: Record<string, number>,
    /** True when the instance stays sound after an http.send abort (our back end's modules). */
    private readonly survivesAborts: boolean,
    private readonly sharing: SharedModule | undefined,
  ) {}

  /**
   * `origin`: who built the module, which decides whether its instance survives an http.send abort. `shared`:
   * the process's shared memory, where a module this process's back end compiled is placed. A bundle's
   * policy.wasm keeps a memory of its own even when `verdict build` made it: every instance in the shared
   * memory writes its runtime's static data to the same addresses, so only modules of this very runtime may.
   */
  static async load(bytes: Uint8Array, builtins: Builtins, store: DataStore, origin: 'verdict' | 'foreign' = 'foreign', shared?: SharedData): Promise<WasmProgram> {
    let sharing: SharedModule | undefined;
    const form = shared && origin === 'verdict' ? sharedMemoryModule(bytes) : undefined;
    if (form) {
      const module = await WebAssembly.compile(form.bytes);
      if (canShareMemory(module)) sharing = { shared: shared!, module, planDataBytes: form.planDataBytes };
    }
    const module = sharing?.module ?? (await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
    const program = new WasmProgram(module, builtins, store, {}, origin === 'verdict', sharing);
    Object.assign(program, { entrypoints: program.current().entrypoints });
    return program;
  }

  /** Whether the instance lives in the process's shared memory (its data is an area every thread reads). */
  get sharesMemory(): boolean {
    return this.sharing !== undefined;
  }

  private current(): WasmPolicy {
    this.instance ??= this.newInstance();
    return this.instance;
  }

  private newInstance(): WasmPolicy {
    if (!this.sharing) return loadPolicySync(this.module, this.builtins);
    const { shared, module, planDataBytes } = this.sharing;
    return new WasmPolicy(module, this.builtins, { shared, regionBytes: planDataBytes + REGION_SCRATCH + this.regionHeap });
  }

  /**
   * A fresh instance after a failed evaluation. On a shared memory it reads the area the old one read, so
   * nothing is loaded again.
   */
  private rebuild(): void {
    const old = this.instance;
    this.instance = this.newInstance();
    const area = old?.area;
    if (area) this.instance.attachArea(area);
    else this.dataVersion = -1;
    old?.dispose();
  }

  /** Gives back the instance's region and data area in a shared memory; a later evaluation makes a new one. */
  dispose(): void {
    this.instance?.dispose();
    this.instance = undefined;
    this.dataVersion = -1;
  }

  /**
   * Evaluates one entrypoint. `input` is the input document as JSON text (undefined: no input), which skips
   * a JSON round trip inside opa-wasm. Returns the result set: [] when undefined, [{result}] otherwise.
   * `strictBuiltinErrors`: a builtin error fails the evaluation (OPA's strict mode) instead of making the call
   * undefined.
   */
  evaluate(entrypoint: string, input: Uint8Array | undefined, strictBuiltinErrors = false): { result: unknown }[] {
    this.loadData();
    let rs: { result: unknown }[];
    for (;;) {
      try {
        rs = this.current().evaluate(input === undefined ? undefined : toArrayBuffer(input), this.entrypoints[entrypoint]) as { result: unknown }[];
        break;
      } catch (err) {
        const aborted = err instanceof NeedsResponse;
        if (!aborted || !this.survivesAborts) this.rebuild();
        if (aborted) throw err;
        if (err instanceof HeapRegionExhausted && this.regionHeap < MAX_REGION_HEAP) {
          this.regionHeap *= 2;
          this.rebuild();
          continue;
        }
        throw new EvaluationError(err instanceof Error ? err.message : String(err), entrypoint);
      }
    }
    const failure = strictBuiltinErrors ? this.current().builtinError() : undefined;
    if (failure) throw new EvaluationError(failure.message, entrypoint, { code: failure.code, location: failure.location });
    return rs;
  }

  /**
   * Loads the store's current data into the instance unless it already has it. Activations load data
   * before the new policy set serves (see Engine), so this only does work after a Data API write or a
   * rebuilt instance.
   */
  loadData(): void {
    if (this.dataVersion === this.store.version) return;
    const version = this.store.version;
    if (this.sharing) {
      const area = acquireAreaNow(this.sharing.shared, this.current(), this.store.document);
      this.attachArea(area);
      this.sharing.shared.release(area);
    } else loadDataNow([this], this.store.document);
    this.dataVersion = version;
  }

  /** Reads the document of a shared area (see shared-data.ts). */
  attachArea(area: DataArea): void {
    this.current().attachArea(area);
  }

  /** The instance that loads a document into a shared area for every program of a set (Engine). */
  get loader(): WasmPolicy {
    return this.current();
  }

  /** Records that the instance holds the store's data as of `version` (loaded through the DataTarget side). */
  markLoaded(version: number): void {
    this.dataVersion = version;
  }

  beginData(): void {
    this.dataVersion = -1;
    this.current().beginData();
  }

  addData(piece: DataPiece): void {
    this.current().addData(piece);
  }

  endData(): void {
    this.current().endData();
  }

  /** Bytes of the instance's linear memory the data document takes (0 on a shared memory: see SharedData.areas). */
  get dataBytes(): number {
    return this.instance?.dataBytes ?? 0;
  }
}

/** The area of `root` in the shared memory, loaded by `loader` unless a thread has it (one reference held). */
export function acquireAreaNow(shared: SharedData, loader: WasmPolicy, root: Record<string, unknown>): DataArea {
  const { key, jsonBytes } = dataKey(root);
  return shared.acquireNow(key, expectedBytes(jsonBytes), (chunks) => loader.loadAreaNow(chunks, (target) => loadDataNow([target], root)));
}

/** About what a document of `jsonBytes` of JSON takes loaded (usually less: see src/wasm/runtime/data.ts). */
export function expectedBytes(jsonBytes: number): number {
  return jsonBytes + (jsonBytes >> 2) + (1 << 20);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  // A copy (Buffer#slice would not copy: it shares the pooled ArrayBuffer).
  return new Uint8Array(bytes).buffer;
}
