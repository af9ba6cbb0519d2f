// The host side of OPA's wasm ABI: instantiates a policy module, answers its builtin imports and runs
// opa_eval. It replaces @open-policy-agent/opa-wasm's loader for two reasons: the SDK passes builtin
// operands as JSON, so a set reaching a host builtin arrived as an array and a set passed through came back
// as an array (providers.aws.sign_req's body, json.patch on sets); and the SDK's own yaml.* builtins took
// precedence over ours. Here operands cross as Rego value text (opa_value_dump) and results with sets go
// back through opa_value_parse (see src/builtins/rego-value.ts). The surface (evaluate, setData,
// entrypoints, mem, dataAddr, dataHeapPtr, wasmInstance) matches the SDK's LoadedPolicy where we use it.
import { KEEPS_NUMBER_TEXT, needsValueText, parseRegoValue, regoValueText } from '../builtins/rego-value.js';
import { readJson } from '../json/reader.js';
import { takeBuiltinFailure, type BuiltinFailure } from '../builtins/failures.js';
import { faultMessage, HOST_FAULT } from '../wasm/fault-message.js';
import { writeJson } from '../json/writer.js';

export type HostFunctions = Record<string, (...args: any[]) => unknown>;

type Exports = {
  memory?: WebAssembly.Memory;
  opa_malloc(n: number): number;
  opa_json_parse(p: number, n: number): number;
  opa_value_parse(p: number, n: number): number;
  opa_json_dump(v: number): number;
  opa_value_dump(v: number): number;
  opa_heap_ptr_get(): number;
  opa_heap_ptr_set(p: number): void;
  opa_value_add_path(base: number, path: number, value: number): number;
  opa_eval(reserved: number, entrypoint: number, data: number, input: number, inputLen: number, heap: number, format: number): number;
  builtins(): number;
  entrypoints(): number;
  /** Verdict-built modules only (src/wasm/runtime/faults.ts). */
  verdict_builtin_error?(): number;
  verdict_builtin_fault?(code: number): void;
  /** Verdict-built modules only (src/wasm/runtime/json.ts parseDetached). */
  verdict_json_parse_detached?(p: number, n: number, limit: number): number;
  /** Verdict-built modules only (src/wasm/runtime/data.ts dataObject). */
  verdict_data_object?(keys: number, pairs: number, n: number): number;
};

/** An object of the data document being loaded whose members are still arriving (see addData). */
interface OpenObject {
  path: string[];
  keys: string[];
  values: number[];
}

/** The first builtin error of an evaluation; `location` is absent for modules that do not keep it. */
export interface BuiltinErrorReport extends BuiltinFailure {
  location?: { file: string; row: number; col: number };
}

const PAGE = 64 * 1024;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class WasmPolicy {
  readonly wasmInstance: WebAssembly.Instance;
  readonly mem: WebAssembly.Memory;
  readonly entrypoints: Record<string, number>;
  dataAddr: number;
  dataHeapPtr: number;
  private readonly baseHeapPtr: number;
  private readonly exports: Exports;
  /** Builtin id (as the module numbers its imports) → name. */
  private readonly builtinNames: string[] = [];
  /** The first host builtin error of the evaluation running or last run. */
  private hostFailure: BuiltinFailure | undefined;
  /** Objects of the data document being loaded, outermost first, made once their last member arrived. */
  private open: OpenObject[] = [];

  constructor(module: WebAssembly.Module, private readonly functions: HostFunctions) {
    this.mem = new WebAssembly.Memory({ initial: 5 });
    const call = (id: number, ...operands: number[]) => this.callBuiltin(id, operands);
    this.wasmInstance = new WebAssembly.Instance(module, {
      env: {
        memory: this.mem,
        opa_abort: (addr: number) => {
          throw this.readString(addr);
        },
        opa_println: (addr: number) => console.log(this.readString(addr)),
        opa_builtin0: (id: number) => call(id),
        opa_builtin1: (id: number, _ctx: number, a: number) => call(id, a),
        opa_builtin2: (id: number, _ctx: number, a: number, b: number) => call(id, a, b),
        opa_builtin3: (id: number, _ctx: number, a: number, b: number, c: number) => call(id, a, b, c),
        opa_builtin4: (id: number, _ctx: number, a: number, b: number, c: number, d: number) => call(id, a, b, c, d),
      },
    });
    this.exports = this.wasmInstance.exports as unknown as Exports;
    const abi = this.wasmInstance.exports.opa_wasm_abi_version as WebAssembly.Global | undefined;
    if (abi !== undefined && abi.value !== 1) throw new Error(`unsupported OPA wasm ABI version ${String(abi.value)}`);
    if (typeof this.exports.opa_eval !== 'function') throw new Error('the module has no opa_eval export (OPA wasm ABI 1.2 or later is required)');
    for (const [name, id] of Object.entries(this.dumpJson(this.exports.builtins()) as Record<string, number>)) this.builtinNames[id] = name;
    this.dataAddr = this.loadJson('{}');
    this.baseHeapPtr = this.exports.opa_heap_ptr_get();
    this.dataHeapPtr = this.baseHeapPtr;
    this.entrypoints = this.dumpJson(this.exports.entrypoints()) as Record<string, number>;
  }

  /**
   * Runs one entrypoint (id or name). `input`: JSON text as an ArrayBuffer, a JS value, or undefined for none.
   * Numbers in the result keep the text the module printed (NumberText where a JS number would change it).
   */
  evaluate(input: unknown, entrypoint: number | string = 0): unknown {
    return readJson(this.evaluateToText(input, entrypoint, 'json'), { maxDepth: Infinity });
  }

  /**
   * Runs one entrypoint and returns the result set as text: JSON, or Rego value text (opa_eval's format 1,
   * where sets stay sets), which only a caller that must tell sets from arrays needs.
   */
  evaluateToText(input: unknown, entrypoint: number | string, format: 'json' | 'rego'): string {
    const id = typeof entrypoint === 'number' ? entrypoint : this.entrypoints[entrypoint];
    if (id === undefined) throw new Error(`entrypoint ${String(entrypoint)} is not valid in this instance`);
    // Like the SDK, a falsy input means no input.
    const bytes = !input ? new Uint8Array(0) : input instanceof ArrayBuffer ? new Uint8Array(input) : encoder.encode(writeJson(input));
    const inputAddr = bytes.length > 0 ? this.dataHeapPtr : 0;
    const end = this.dataHeapPtr + bytes.length;
    if (end > this.mem.buffer.byteLength) this.mem.grow(Math.ceil((end - this.mem.buffer.byteLength) / PAGE));
    new Uint8Array(this.mem.buffer).set(bytes, this.dataHeapPtr);
    this.hostFailure = undefined;
    return this.readString(this.exports.opa_eval(0, id, this.dataAddr, inputAddr, bytes.length, end, format === 'json' ? 0 : 1));
  }

  /** Replaces the data document: a JS value or JSON text as an ArrayBuffer. */
  setData(data: unknown): void {
    this.beginData();
    this.addData({ path: [], json: data instanceof ArrayBuffer ? new Uint8Array(data) : encoder.encode(writeJson(data)) });
    this.endData();
  }

  /** Starts a new data document, empty, dropping the previous one (its memory is reused). */
  beginData(): void {
    this.exports.opa_heap_ptr_set(this.baseHeapPtr);
    this.dataAddr = this.loadJson('{}');
    this.open = [];
  }

  /**
   * Places one piece of the data document at its path (the root piece replaces the document), in the order
   * src/engine/data-load.ts gives them: an object cut into pieces comes as `{}` before its members. In a module
   * of our own, such an object is made once its members are all there (when a piece outside it comes, or at
   * endData), read-only and at its exact size; elsewhere it is filled member by member (opa_value_add_path).
   */
  addData(piece: { path: string[]; json: Uint8Array }): void {
    const { path, json } = piece;
    if (this.exports.verdict_data_object !== undefined) {
      while (this.open.length > 0 && !isParent(this.open[this.open.length - 1]!.path, path)) this.closeObject();
      if (json.length === 2 && json[0] === 0x7b && json[1] === 0x7d) {
        this.open.push({ path, keys: [], values: [] });
        return;
      }
    }
    this.place(path, this.loadDetached(json));
  }

  private place(path: string[], value: number): void {
    if (path.length === 0) {
      this.dataAddr = value;
      return;
    }
    const parent = this.open[this.open.length - 1];
    if (parent !== undefined) {
      if (!isParent(parent.path, path)) throw new Error(`data at /${path.join('/')} came after its parent's members were complete`);
      parent.keys.push(path[path.length - 1]!);
      parent.values.push(value);
      return;
    }
    if (typeof this.exports.opa_value_add_path !== 'function') throw new Error('the module has no opa_value_add_path export: data cannot be loaded in pieces');
    const status = this.exports.opa_value_add_path(this.dataAddr, this.loadJson(JSON.stringify(path)), value);
    if (status !== 0) throw new Error(`the module could not place data at /${path.join('/')} (opa_value_add_path error ${status})`);
  }

  /**
   * Makes the innermost open object from its members and places it. Its keys are parsed as one array; the
   * (key, value) pairs are written above the heap, far enough that all the module makes of them fits below.
   */
  private closeObject(): void {
    const { path, keys, values } = this.open.pop()!;
    const keyArray = this.loadDetached(encoder.encode(JSON.stringify(keys)));
    const n = keys.length;
    const top = this.exports.opa_heap_ptr_get();
    const pairs = (top + 32 * n + 8192 + 7) & ~7;
    this.reserve(pairs - top + 8 * n);
    const words = new Int32Array(this.mem.buffer, pairs, 2 * n);
    const keyAddrs = new Int32Array(this.mem.buffer, keyArray + 8, n);
    for (let i = 0; i < n; i++) {
      words[2 * i] = keyAddrs[i]!;
      words[2 * i + 1] = values[i]!;
    }
    this.place(path, this.exports.verdict_data_object!(keyArray, pairs, n));
  }

  /**
   * Parses a piece of data into values that keep nothing of its text, where the module can (our own runtime):
   * the text is written `room` bytes above the heap pointer, the values are allocated below it, and the text's
   * memory is then free for what comes next. Left in the heap, as opa_json_parse leaves it (strings pointing
   * into it), the text took as much memory again as the raw JSON. Where the values need more room than left,
   * the parse traps; it is tried again with twice the room.
   */
  private loadDetached(json: Uint8Array): number {
    const parse = this.exports.verdict_json_parse_detached;
    if (parse === undefined) {
      this.reserve(json.byteLength * 8);
      return this.loadJson(json);
    }
    const start = this.exports.opa_heap_ptr_get();
    for (let room = json.byteLength * 8 + PAGE; ; room *= 2) {
      const limit = (start + room + 7) & ~7;
      if (limit + json.byteLength > 2 ** 32) throw new Error(`the module has no room for a piece of data of ${json.byteLength} bytes`);
      this.reserve(limit - start + json.byteLength);
      new Uint8Array(this.mem.buffer).set(json, limit);
      let value: number;
      try {
        value = parse(limit, json.byteLength, limit);
      } catch (err) {
        if (!(err instanceof WebAssembly.RuntimeError)) throw err;
        this.exports.opa_heap_ptr_set(start);
        continue;
      }
      if (value === 0) throw new Error('the module could not parse a value from the host');
      return value;
    }
  }

  /**
   * Grows memory ahead of a piece, by a quarter of its size at least. Left to itself the module grows it a
   * megabyte at a time, and every growth hands JS a new buffer for the whole memory, which V8 answers with a
   * full garbage collection: for 100 MB of data loaded piece by piece, hundreds of them. Pages grown but
   * never written take no resident memory.
   */
  private reserve(bytes: number): void {
    const size = this.mem.buffer.byteLength;
    const free = size - this.exports.opa_heap_ptr_get();
    if (free >= bytes) return;
    try {
      this.mem.grow(Math.ceil(Math.max(bytes - free, size / 4) / PAGE));
    } catch {
      // At the 4 GiB limit: the module grows what it can itself, or fails the load.
    }
  }

  /** Ends the data document: evaluations allocate above it. */
  endData(): void {
    while (this.open.length > 0) this.closeObject();
    this.dataHeapPtr = this.exports.opa_heap_ptr_get();
  }

  /** Bytes of linear memory the data document takes (everything the module allocated while it was loaded). */
  get dataBytes(): number {
    return this.dataHeapPtr - this.baseHeapPtr;
  }

  private callBuiltin(id: number, operands: number[]): number {
    const name = this.builtinNames[id];
    const fn = name === undefined ? undefined : this.functions[name];
    if (fn === undefined) throw new Error(`not implemented: built-in function ${id}: ${name ?? '?'}`);
    const numberText = (fn as { [KEEPS_NUMBER_TEXT]?: boolean })[KEEPS_NUMBER_TEXT] === true;
    const args = operands.map((addr) => parseRegoValue(this.readString(this.exports.opa_value_dump(addr)), numberText));
    takeBuiltinFailure();
    const result = fn(...args);
    if (result === undefined) {
      const failure = takeBuiltinFailure();
      if (failure) {
        this.hostFailure ??= failure;
        this.exports.verdict_builtin_fault?.(HOST_FAULT);
      }
      return 0;
    }
    if (needsValueText(result)) return this.parseInModule(encoder.encode(regoValueText(result)), this.exports.opa_value_parse);
    return this.loadJson(JSON.stringify(result));
  }

  /**
   * The first builtin error of the last evaluation (read before the next call into the module), or undefined.
   * Modules built by `opa build` keep no builtin errors: only their host builtins' errors are known, without
   * a location.
   */
  builtinError(): BuiltinErrorReport | undefined {
    if (this.exports.verdict_builtin_error === undefined) return this.hostFailure;
    const at = this.exports.verdict_builtin_error();
    if (at === 0) return undefined;
    const [location, name, code, ...operands] = [...new Int32Array(this.mem.buffer, at, 7)];
    const values = operands.filter((addr) => addr !== 0).map((addr) => parseRegoValue(this.readString(this.exports.opa_value_dump(addr))));
    return { ...faultMessage(this.readString(name), code, values, this.hostFailure), location: JSON.parse(this.readString(location)) };
  }

  private loadJson(json: string | Uint8Array): number {
    return this.parseInModule(typeof json === 'string' ? encoder.encode(json) : json, this.exports.opa_json_parse);
  }

  private parseInModule(bytes: Uint8Array, parse: (p: number, n: number) => number): number {
    const addr = this.exports.opa_malloc(bytes.length);
    new Uint8Array(this.mem.buffer).set(bytes, addr);
    const value = parse(addr, bytes.length);
    if (value === 0) throw new Error('the module could not parse a value from the host');
    return value;
  }

  private dumpJson(addr: number): unknown {
    return JSON.parse(this.readString(this.exports.opa_json_dump(addr)));
  }

  private readString(addr: number): string {
    const mem = new Uint8Array(this.mem.buffer);
    const end = mem.indexOf(0, addr);
    return decoder.decode(mem.subarray(addr, end));
  }
}

/** Whether `path` is directly below `parent`. */
function isParent(parent: string[], path: string[]): boolean {
  return path.length === parent.length + 1 && parent.every((segment, i) => path[i] === segment);
}

export function loadPolicySync(module: WebAssembly.Module, functions: HostFunctions): WasmPolicy {
  return new WasmPolicy(module, functions);
}

export async function loadPolicy(wasm: WebAssembly.Module | Uint8Array, functions: HostFunctions): Promise<WasmPolicy> {
  const module = wasm instanceof WebAssembly.Module ? wasm : await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
  return new WasmPolicy(module, functions);
}
