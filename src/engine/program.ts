// One compiled wasm module and its warm instance. Node runs evaluations one at a time per process, so one
// instance per module is enough; it is reused across decisions and rebuilt from the compiled module after a
// failed evaluation, so an abort mid-evaluation never leaks state into the next one.
//
// http.send aborts evaluations on purpose (NeedsResponse, see src/engine/http-send-loop.ts). Modules built by
// our back end survive that: the runtime keeps no state across the call stack (bump heap reset per
// evaluation, memo frames reset by eval), proven by test/builtins/http-send-abort.test.ts. Modules built by
// `opa build -t wasm` do not: their C runtime's shadow stack pointer is left where the abort unwound it, and
// after some thousands of aborts the stack overruns memory. Those are rebuilt after every abort.
import { NeedsResponse } from '../builtins/http-send/session.js';
import { loadPolicySync, type WasmPolicy } from './wasm-host.js';
import type { DataStore } from './store.js';
import { loadDataNow, type DataPiece, type DataTarget } from './data-load.js';

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

export class WasmProgram implements DataTarget {
  private instance: WasmPolicy;
  private dataVersion = -1;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly builtins: Builtins,
    private readonly store: DataStore,
    /** Entrypoint name → id inside the module. */
    readonly entrypoints: Record<string, number>,
    /** True when the instance stays sound after an http.send abort (our back end's modules). */
    private readonly survivesAborts: boolean,
  ) {
    this.instance = loadPolicySync(module, builtins);
  }

  /** `origin`: who built the module, which decides whether its instance survives an http.send abort. */
  static async load(bytes: Uint8Array, builtins: Builtins, store: DataStore, origin: 'verdict' | 'foreign' = 'foreign'): Promise<WasmProgram> {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    const probe = loadPolicySync(module, builtins);
    return new WasmProgram(module, builtins, store, probe.entrypoints, origin === 'verdict');
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
    try {
      rs = this.instance.evaluate(input === undefined ? undefined : toArrayBuffer(input), this.entrypoints[entrypoint]) as { result: unknown }[];
    } catch (err) {
      const aborted = err instanceof NeedsResponse;
      if (!aborted || !this.survivesAborts) {
        this.instance = loadPolicySync(this.module, this.builtins);
        this.dataVersion = -1;
      }
      if (aborted) throw err;
      throw new EvaluationError(err instanceof Error ? err.message : String(err), entrypoint);
    }
    const failure = strictBuiltinErrors ? this.instance.builtinError() : undefined;
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
    loadDataNow([this], this.store.document);
    this.dataVersion = this.store.version;
  }

  /** Records that the instance holds the store's data as of `version` (loaded through the DataTarget side). */
  markLoaded(version: number): void {
    this.dataVersion = version;
  }

  beginData(): void {
    this.dataVersion = -1;
    this.instance.beginData();
  }

  addData(piece: DataPiece): void {
    this.instance.addData(piece);
  }

  endData(): void {
    this.instance.endData();
  }

  /** Bytes of the instance's linear memory the data document takes. */
  get dataBytes(): number {
    return this.instance.dataBytes;
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  // A copy (Buffer#slice would not copy: it shares the pooled ArrayBuffer).
  return new Uint8Array(bytes).buffer;
}
