// The prebuilt runtime (dist/src/wasm/runtime.wasm, built by scripts/build-runtime.mjs), taken apart once per
// process into the pieces every generated module shares, with its function indices already moved to the
// layout compile.ts emits:
//
//   imports:  the runtime's host imports (env.opa_abort ...), then env.opa_builtin0..4 where the runtime lacks them
//   defined:  the runtime's own functions, then eval_plans (imported from `verdict` by the runtime; the generated
//             code defines it), then whatever the plan needs.
//
// Doing this at the byte level instead of reading the runtime into a wasm toolkit's IR on each compile is what
// makes plan → wasm cheap: per compile only the plan's own functions are encoded.
import { readFileSync } from 'node:fs';
import { ByteReader, ByteWriter } from './encoding.js';

const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, elem: 9, code: 10, data: 11, dataCount: 12 };
const KIND_FUNC = 0;
const KIND_GLOBAL = 3;
const KIND_MEMORY = 2;

export interface RuntimeExport {
  name: string;
  kind: number;
  index: number;
}

export class RuntimeImage {
  /** Function type entries as encoded, and their index by encoding. */
  readonly types: Uint8Array[] = [];
  private readonly typeIndex = new Map<string, number>();
  /** Function imports as encoded, in final order. */
  readonly funcImports: Uint8Array[] = [];
  readonly memoryImport: { module: string; name: string } = { module: 'env', name: 'memory' };
  /** Function index of env.opa_builtin<n>. */
  readonly builtinImport: number[] = [];
  abortFunc = -1;
  /** Type index of each runtime function, in order. */
  readonly funcTypes: number[] = [];
  readonly evalPlans: { index: number; type: number };
  /** Index of the first function free for the generated code. */
  readonly firstFree: number;
  /** Global entries as encoded; the heap base global's initializer is replaced per module. */
  readonly globals: Uint8Array[] = [];
  readonly heapBase: { index: number; type: Uint8Array };
  /** Exports with function indices in the final layout. */
  readonly exports: RuntimeExport[] = [];
  readonly dataSegments: Uint8Array[] = [];
  /** End of the runtime's static data in memory. */
  staticEnd = 0;
  /** The runtime's function bodies, each with its size prefix, calls renumbered. */
  readonly code: Uint8Array;

  constructor(bin: Uint8Array) {
    const r = new ByteReader(bin);
    const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
    if (header.some((b) => r.byte() !== b)) throw new Error('runtime.wasm is not a wasm module (version 1)');
    const oldImports: { module: string; name: string; type: number }[] = [];
    let bodies: Uint8Array[] = [];
    let evalPlansType = -1;
    let heapBaseName: number | undefined;
    const rawExports: RuntimeExport[] = [];
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const s = new ByteReader(bin, r.pos, r.pos + size);
      r.pos += size;
      switch (id) {
        case SECTION.custom:
          break; // names and producers: not needed in generated modules
        case SECTION.type:
          for (let n = s.u32(), i = 0; i < n; i++) {
            const start = s.pos;
            if (s.byte() !== 0x60) throw new Error('runtime.wasm: unsupported type entry');
            s.bytes(s.u32());
            s.bytes(s.u32());
            this.addType(bin.slice(start, s.pos));
          }
          break;
        case SECTION.import:
          for (let n = s.u32(), i = 0; i < n; i++) {
            const module = s.name();
            const name = s.name();
            const kind = s.byte();
            if (kind === KIND_FUNC) oldImports.push({ module, name, type: s.u32() });
            else if (kind === KIND_MEMORY) {
              Object.assign(this.memoryImport, { module, name });
              const flags = s.byte();
              s.u32();
              if (flags & 1) s.u32();
            } else throw new Error(`runtime.wasm: unsupported import ${module}.${name}`);
          }
          break;
        case SECTION.function:
          for (let n = s.u32(), i = 0; i < n; i++) this.funcTypes.push(s.u32());
          break;
        case SECTION.global:
          for (let n = s.u32(), i = 0; i < n; i++) {
            const start = s.pos;
            s.bytes(2);
            skipConstExpr(s);
            this.globals.push(bin.slice(start, s.pos));
          }
          break;
        case SECTION.export:
          for (let n = s.u32(), i = 0; i < n; i++) {
            const name = s.name();
            const kind = s.byte();
            const index = s.u32();
            rawExports.push({ name, kind, index });
            if (name === 'heapBase' && kind === KIND_GLOBAL) heapBaseName = index;
          }
          break;
        case SECTION.dataCount:
          break; // recomputed
        case SECTION.code:
          bodies = [];
          for (let n = s.u32(), i = 0; i < n; i++) bodies.push(s.bytes(s.u32()));
          break;
        case SECTION.data:
          for (let n = s.u32(), i = 0; i < n; i++) {
            const start = s.pos;
            if (s.u32() !== 0) throw new Error('runtime.wasm: only active data segments in memory 0 are supported');
            if (s.byte() !== 0x41) throw new Error('runtime.wasm: data segment offset is not an i32.const');
            const offset = s.s32();
            if (s.byte() !== 0x0b) throw new Error('runtime.wasm: data segment offset is not an i32.const');
            const len = s.u32();
            s.bytes(len);
            this.staticEnd = Math.max(this.staticEnd, offset + len);
            this.dataSegments.push(bin.slice(start, s.pos));
          }
          break;
        default:
          throw new Error(`runtime.wasm: unexpected section ${id} (table, start and element segments are not supported)`);
      }
    }

    // Final function index of each old one.
    const remap: number[] = [];
    const kept = oldImports.filter((imp) => imp.module !== 'verdict');
    for (const imp of oldImports) {
      if (imp.module === 'verdict') {
        if (imp.name !== 'eval_plans') throw new Error(`runtime.wasm: unknown import verdict.${imp.name}`);
        evalPlansType = imp.type;
      }
    }
    const builtinsMissing: number[] = [];
    for (let n = 0; n <= 4; n++) {
      if (!kept.some((imp) => imp.module === 'env' && imp.name === `opa_builtin${n}`)) builtinsMissing.push(n);
    }
    const importCount = kept.length + builtinsMissing.length;
    const evalPlansIndex = importCount + bodies.length;
    let next = 0;
    for (const imp of oldImports) {
      if (imp.module === 'verdict') {
        remap.push(evalPlansIndex);
        continue;
      }
      const at = next++;
      remap.push(at);
      this.funcImports.push(encodeFuncImport(imp.module, imp.name, imp.type));
      if (imp.module === 'env' && imp.name === 'opa_abort') this.abortFunc = at;
      const m = /^opa_builtin([0-4])$/.exec(imp.name);
      if (imp.module === 'env' && m) this.builtinImport[Number(m[1])] = at;
    }
    for (const n of builtinsMissing) {
      this.builtinImport[n] = next++;
      this.funcImports.push(encodeFuncImport('env', `opa_builtin${n}`, this.type(n + 2, true)));
    }
    for (let i = 0; i < bodies.length; i++) remap.push(importCount + i);
    if (evalPlansType < 0) throw new Error('runtime.wasm lacks the verdict.eval_plans import: rebuild it (npm run build:runtime)');
    if (this.abortFunc < 0) throw new Error('runtime.wasm lacks the env.opa_abort import: rebuild it (npm run build:runtime)');
    if (heapBaseName === undefined) throw new Error('runtime.wasm lacks the heapBase global: rebuild it (npm run build:runtime)');
    this.evalPlans = { index: evalPlansIndex, type: evalPlansType };
    this.firstFree = evalPlansIndex + 1;
    this.heapBase = { index: heapBaseName, type: this.globals[heapBaseName]!.subarray(0, 2) };
    for (const e of rawExports) this.exports.push({ ...e, index: e.kind === KIND_FUNC ? remap[e.index]! : e.index });

    const code = new ByteWriter(bin.length);
    for (const body of bodies) {
      const renumbered = renumberCalls(body, remap);
      code.u32(renumbered.length);
      code.bytes(renumbered);
    }
    this.code = code.finish();
  }

  private addType(entry: Uint8Array): number {
    const key = entry.join(',');
    let at = this.typeIndex.get(key);
    if (at === undefined) {
      at = this.types.length;
      this.types.push(entry);
      this.typeIndex.set(key, at);
    }
    return at;
  }

  /** Index of the function type taking `params` i32s and returning an i32 or nothing; added when new. */
  type(params: number, result: boolean): number {
    const entry = new Uint8Array(3 + params + (result ? 1 : 0));
    entry[0] = 0x60;
    entry[1] = params;
    entry.fill(0x7f, 2, 2 + params);
    entry[2 + params] = result ? 1 : 0;
    if (result) entry[3 + params] = 0x7f;
    return this.addType(entry);
  }

  /** A copy whose type table can grow without touching this one. */
  fork(): RuntimeImage {
    const copy = Object.create(RuntimeImage.prototype) as RuntimeImage;
    Object.assign(copy, this);
    Object.assign(copy, { types: [...this.types], typeIndex: new Map(this.typeIndex) });
    return copy;
  }
}

function encodeFuncImport(module: string, name: string, type: number): Uint8Array {
  const w = new ByteWriter(32);
  w.name(module);
  w.name(name);
  w.byte(KIND_FUNC);
  w.u32(type);
  return w.finish();
}

function skipConstExpr(s: ByteReader): void {
  for (;;) {
    const op = s.byte();
    if (op === 0x0b) return;
    if (op === 0x41 || op === 0x42 || op === 0x23) s.skipLeb();
    else if (op === 0x43) s.bytes(4);
    else if (op === 0x44) s.bytes(8);
    else throw new Error(`runtime.wasm: unsupported constant expression opcode 0x${op.toString(16)}`);
  }
}

/**
 * A function body with the index of every `call` replaced through `remap`. Walks the instructions of the
 * features the runtime is built with (MVP, sign extension, saturating conversions, bulk memory), skipping
 * immediates; anything else is refused rather than copied unexamined.
 */
function renumberCalls(body: Uint8Array, remap: number[]): Uint8Array {
  const s = new ByteReader(body);
  const out = new ByteWriter(body.length + 16);
  const copyFrom = (start: number) => out.bytes(body.subarray(start, s.pos));
  let start = 0;
  for (let n = s.u32(), i = 0; i < n; i++) {
    s.u32();
    s.byte();
  }
  while (!s.done) {
    const op = s.byte();
    if (op === 0x10) {
      copyFrom(start);
      const target = remap[s.u32()];
      if (target === undefined) throw new Error('runtime.wasm: call to an unknown function');
      out.u32(target);
      start = s.pos;
      continue;
    }
    skipImmediates(s, op);
  }
  copyFrom(start);
  return out.finish();
}

function skipImmediates(s: ByteReader, op: number): void {
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b) return;
  if (op >= 0x45 && op <= 0xc4) return; // numeric instructions, sign extension included
  if (op >= 0x02 && op <= 0x04) {
    const t = s.buf[s.pos]!;
    if (t === 0x40 || (t >= 0x7b && t <= 0x7f) || t === 0x70 || t === 0x6f) s.pos++;
    else s.skipLeb();
    return;
  }
  if (op === 0x0c || op === 0x0d || (op >= 0x20 && op <= 0x24)) return s.skipLeb();
  if (op === 0x0e) {
    for (let n = s.u32(), i = 0; i <= n; i++) s.skipLeb();
    return;
  }
  if (op === 0x11) {
    s.skipLeb();
    s.skipLeb();
    return;
  }
  if (op >= 0x28 && op <= 0x3e) {
    s.skipLeb();
    s.skipLeb();
    return;
  }
  if (op === 0x3f || op === 0x40) return void s.byte();
  if (op === 0x41 || op === 0x42) return s.skipLeb();
  if (op === 0x43) return void s.bytes(4);
  if (op === 0x44) return void s.bytes(8);
  if (op === 0xfc) {
    const sub = s.u32();
    if (sub <= 7) return;
    if (sub === 8) {
      s.skipLeb();
      s.byte();
      return;
    }
    if (sub === 9) return s.skipLeb();
    if (sub === 10) return void s.bytes(2);
    if (sub === 11) return void s.byte();
    throw new Error(`runtime.wasm: unsupported instruction 0xfc ${sub}`);
  }
  throw new Error(`runtime.wasm: unsupported instruction 0x${op.toString(16)}`);
}

let image: RuntimeImage | undefined;

/** The runtime next to this file, read and taken apart on first use. */
export function runtimeImage(): RuntimeImage {
  image ??= new RuntimeImage(readFileSync(new URL('./runtime.wasm', import.meta.url)));
  return image;
}
