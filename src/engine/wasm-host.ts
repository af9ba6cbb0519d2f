// The host side of OPA's wasm ABI: instantiates a policy module, answers its builtin imports and runs
// opa_eval. It replaces @open-policy-agent/opa-wasm's loader for two reasons: the SDK passes builtin
// operands as JSON, so a set reaching a host builtin arrived as an array and a set passed through came back
// as an array (providers.aws.sign_req's body, json.patch on sets); and the SDK's own yaml.* builtins took
// precedence over ours. Here operands cross as Rego value text (opa_value_dump) and results with sets go
// back through opa_value_parse (see src/builtins/rego-value.ts). The surface (evaluate, setData,
// entrypoints, mem, dataAddr, dataHeapPtr, wasmInstance) matches the SDK's LoadedPolicy where we use it.
// A module of our back end can also live in a memory shared with other instances (src/engine/shared-data.ts):
// then its heap is a bounded region of that memory and its data an area other instances read too.
import { KEEPS_NUMBER_TEXT, needsValueText, parseRegoValue, regoValueText } from '../builtins/rego-value.js';
import { readJson } from '../json/reader.js';
import type { DataTarget } from './data-load.js';
import { takeBuiltinFailure, type BuiltinFailure } from '../builtins/failures.js';
import { conflictErrorText, faultMessage, HOST_FAULT } from '../wasm/fault-message.js';
import { writeJson } from '../json/writer.js';
import { INSTANCE_INIT } from '../wasm/instance-init.js';
import type { ChunkSource, DataArea, InstanceHold, MemoryRange, SharedData } from './shared-data.js';

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
  verdict_conflict?(): number;
  verdict_builtin_fault?(code: number): void;
  /** Verdict-built modules only (src/wasm/runtime/json.ts parseDetached). */
  verdict_json_parse_detached?(p: number, n: number, limit: number): number;
  /** Verdict-built modules only (src/wasm/runtime/data.ts dataObject). */
  verdict_data_object?(keys: number, pairs: number, n: number): number;
  /** Verdict-built modules only (src/wasm/compile.ts, src/wasm/runtime/heap.ts). */
  verdict_instance_init?(start: number, end: number): void;
  verdict_heap_end_set?(end: number): void;
};

/** Where an instance lives in a shared memory: the memory, and the bytes of its region (the heap's bound). */
export interface SharedPlacement {
  shared: SharedData;
  regionBytes: number;
}

/** An evaluation (or its input) needed more than the instance's region on a shared memory. */
export class HeapRegionExhausted extends Error {
  override name = 'HeapRegionExhausted';
  constructor(readonly regionBytes: number) {
    super(`the evaluation needs more memory than the instance's heap region of ${regionBytes >> 20} MiB`);
  }
}

/** What the runtime aborts with when an allocation passes the region's end (src/wasm/runtime/heap.ts). */
const HEAP_EXHAUSTED = 'verdict: heap region exhausted';

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
  /** The root of the document being loaded. */
  private loadingRoot = 0;
  /** On a shared memory: the instance's region, and the area it reads (held for it, see SharedData.hold). */
  private readonly hold: InstanceHold | undefined;
  /** On a shared memory, while a document loads into an area: where its chunks come from, and the current one's end. */
  private chunks: ChunkSource | undefined;
  private chunkEnd = 0;
  /**
   * On a shared memory: a view of it covering the instance's region, made once (a shared memory's buffer only
   * grows, and a view per call cost a tenth of a small evaluation). Loading into an area, which may lie
   * beyond, takes a fresh one.
   */
  private regionView: Buffer | undefined;

  /** `placement`: put the instance in a shared memory (the module must be one of sharedMemoryModule's). */
  constructor(module: WebAssembly.Module, private readonly functions: HostFunctions, private readonly placement?: SharedPlacement) {
    this.mem = placement?.shared.memory ?? new WebAssembly.Memory({ initial: 5 });
    const call = (id: number, ...operands: number[]) => this.callBuiltin(id, operands);
    this.wasmInstance = new WebAssembly.Instance(module, {
      env: {
        memory: this.mem,
        opa_abort: (addr: number) => {
          const conflict = this.conflictText(addr);
          if (conflict !== undefined) throw conflict;
          const message = this.readString(addr);
          if (message === HEAP_EXHAUSTED && this.hold) throw new HeapRegionExhausted(this.hold.region.end - this.hold.region.start);
          throw message;
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
    if (placement) {
      const init = this.exports[INSTANCE_INIT];
      if (init === undefined) throw new Error('only modules of our own back end can share a memory');
      const region = placement.shared.allocRegion(placement.regionBytes);
      this.hold = placement.shared.hold(this, region);
      this.regionView = Buffer.from(this.mem.buffer);
      if (this.regionView.byteLength < region.end) throw new Error('internal: the shared memory does not cover the region it gave');
      init(region.start, region.end);
    }
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
    const bytes = !input ? undefined : input instanceof ArrayBuffer ? new Uint8Array(input) : undefined;
    const text = input && !bytes ? writeJson(input) : undefined;
    const length = bytes ? bytes.length : text === undefined ? 0 : Buffer.byteLength(text);
    const inputAddr = length > 0 ? this.dataHeapPtr : 0;
    const end = this.dataHeapPtr + length;
    if (this.hold) {
      if (end > this.hold.region.end) throw new HeapRegionExhausted(this.hold.region.end - this.hold.region.start);
    } else if (end > this.mem.buffer.byteLength) this.mem.grow(Math.ceil((end - this.mem.buffer.byteLength) / PAGE));
    // Buffer's native write: a TypedArray copy into a shared memory goes a byte at a time when unaligned.
    if (text !== undefined) this.view().write(text, this.dataHeapPtr, length, 'utf8');
    else if (bytes) this.view().set(bytes, this.dataHeapPtr);
    this.hostFailure = undefined;
    return this.readString(this.exports.opa_eval(0, id, this.dataAddr, inputAddr, length, end, format === 'json' ? 0 : 1));
  }

  /** Replaces the data document: a JS value or JSON text as an ArrayBuffer. */
  setData(data: unknown): void {
    this.beginData();
    this.addData({ path: [], json: data instanceof ArrayBuffer ? new Uint8Array(data) : encoder.encode(writeJson(data)) });
    this.endData();
  }

  /**
   * Starts a new data document, empty, dropping the previous one (its memory is reused). On a shared memory
   * the document goes into an area (loadArea), never into the instance's own heap.
   */
  beginData(): void {
    if (this.hold) throw new Error('internal: an instance on a shared memory loads data into an area (loadArea)');
    this.exports.opa_heap_ptr_set(this.baseHeapPtr);
    this.dataAddr = this.loadingRoot = this.loadJson('{}');
    this.open = [];
  }

  /**
   * Loads a document into the chunks of a shared area (what `load` places through the DataTarget it is given)
   * and returns its root's address; the instance's own heap and data are left as they were.
   */
  async loadArea(chunks: ChunkSource, load: (target: DataTarget) => Promise<void> | void): Promise<number> {
    this.beginArea(chunks);
    try {
      await load(this.areaTarget());
      return this.endArea();
    } finally {
      this.leaveArea();
    }
  }

  /** loadArea, synchronously. */
  loadAreaNow(chunks: ChunkSource, load: (target: DataTarget) => void): number {
    this.beginArea(chunks);
    try {
      load(this.areaTarget());
      return this.endArea();
    } finally {
      this.leaveArea();
    }
  }

  private beginArea(chunks: ChunkSource): void {
    if (!this.hold) throw new Error('internal: only an instance on a shared memory loads data into an area');
    this.chunks = chunks;
    this.chunkEnd = 0;
    this.reserve(PAGE);
    this.loadingRoot = this.loadJson('{}');
    this.open = [];
  }

  private areaTarget(): DataTarget {
    return { beginData: () => undefined, addData: (piece) => this.addData(piece), endData: () => undefined };
  }

  private endArea(): number {
    this.closeObjects();
    this.chunks!.done(this.exports.opa_heap_ptr_get());
    return this.loadingRoot;
  }

  /** Back to the instance's own heap and bound, whether the load succeeded or not. */
  private leaveArea(): void {
    this.chunks = undefined;
    this.open = [];
    this.exports.opa_heap_ptr_set(this.baseHeapPtr);
    this.exports.verdict_heap_end_set!(this.hold!.region.end);
  }

  /** Reads the document of a shared area (released with the next area, or when the instance is disposed of). */
  attachArea(area: DataArea): void {
    const { shared } = this.placement!;
    shared.retain(area);
    const previous = this.hold!.area;
    this.hold!.area = area;
    this.dataAddr = area.dataAddr;
    if (previous) shared.release(previous);
  }

  /** The shared area the instance reads, if any. */
  get area(): DataArea | undefined {
    return this.hold?.area;
  }

  /** Gives back what the instance holds in a shared memory (its region, its area reference). Unusable after. */
  dispose(): void {
    if (this.hold) this.placement!.shared.disposeHold(this.hold);
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
      this.loadingRoot = value;
      if (!this.chunks) this.dataAddr = value;
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
    const status = this.exports.opa_value_add_path(this.loadingRoot, this.loadJson(JSON.stringify(path)), value);
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
    this.reserve(40 * n + 8192 + 8);
    const top = this.exports.opa_heap_ptr_get();
    const pairs = (top + 32 * n + 8192 + 7) & ~7;
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
    for (let room = json.byteLength * 8 + PAGE; ; room *= 2) {
      this.reserve(room + 8 + json.byteLength);
      const start = this.exports.opa_heap_ptr_get();
      const limit = (start + room + 7) & ~7;
      if (limit + json.byteLength > 2 ** 32) throw new Error(`the module has no room for a piece of data of ${json.byteLength} bytes`);
      new Uint8Array(this.mem.buffer).set(json, limit);
      let value: number;
      try {
        value = parse(limit, json.byteLength, limit);
      } catch (err) {
        if (!(err instanceof WebAssembly.RuntimeError) && !(err instanceof HeapRegionExhausted)) throw err;
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
   * never written take no resident memory. Loading into a shared area, a piece that does not fit in the
   * current chunk starts the next one.
   */
  private reserve(bytes: number): void {
    if (this.chunks) {
      if (this.chunkEnd - this.exports.opa_heap_ptr_get() >= bytes) return;
      const chunk: MemoryRange = this.chunks.next(bytes + PAGE);
      this.exports.opa_heap_ptr_set(chunk.start);
      this.exports.verdict_heap_end_set!(chunk.end);
      this.chunkEnd = chunk.end;
      return;
    }
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
    this.closeObjects();
    this.dataHeapPtr = this.exports.opa_heap_ptr_get();
  }

  private closeObjects(): void {
    while (this.open.length > 0) this.closeObject();
  }

  /**
   * Bytes of linear memory the data document takes (everything the module allocated while it was loaded); 0
   * on a shared memory, whose areas are counted once for all instances (SharedData.areas).
   */
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

  /**
   * The conflict the evaluation aborted on, worded from the runtime's record (src/wasm/runtime/conflicts.ts), or
   * undefined when the abort is not a conflict's.
   */
  private conflictText(abortedWith: number): string | undefined {
    const at = this.exports.verdict_conflict?.() ?? 0;
    if (at === 0) return undefined;
    const [head, count, more] = [...new Int32Array(this.mem.buffer, at, 3)];
    // Aborted with the opening of the record's message: the conflict the record holds.
    if (count === 0 || head !== abortedWith) return undefined;
    const pairs = new Int32Array(this.mem.buffer, at + 12, count * 2);
    const entries = [];
    for (let i = 0; i < count; i++) {
      const [file, row, col] = JSON.parse(this.readString(pairs[2 * i]!)) as [string, number, number];
      entries.push({ site: { file, row, col }, value: parseRegoValue(this.readString(this.exports.opa_value_dump(pairs[2 * i + 1]!)), true) });
    }
    return conflictErrorText(this.readString(head), entries, more !== 0);
  }

  private loadJson(json: string | Uint8Array): number {
    return this.parseInModule(typeof json === 'string' ? encoder.encode(json) : json, this.exports.opa_json_parse);
  }

  private parseInModule(bytes: Uint8Array, parse: (p: number, n: number) => number): number {
    const addr = this.exports.opa_malloc(bytes.length);
    this.view().set(bytes, addr);
    const value = parse(addr, bytes.length);
    if (value === 0) throw new Error('the module could not parse a value from the host');
    return value;
  }

  private dumpJson(addr: number): unknown {
    return JSON.parse(this.readString(this.exports.opa_json_dump(addr)));
  }

  /** The memory's bytes, as far as the instance reads and writes them (see regionView). */
  private view(): Buffer {
    return this.regionView !== undefined && this.chunks === undefined ? this.regionView : Buffer.from(this.mem.buffer);
  }

  /**
   * A NUL-terminated string of the module's. Buffer's indexOf and toString run natively over the memory, shared
   * or not; TypedArray's indexOf and TextDecoder take slow paths over a SharedArrayBuffer.
   */
  private readString(addr: number): string {
    const mem = this.view();
    const end = mem.indexOf(0, addr);
    return mem.toString('utf8', addr, end);
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
