// A module of our back end made to run on a memory shared with other instances (src/engine/shared-data.ts):
// the same module with its memory import declared shared (with the maximum a shared memory must state) and
// without its start function, which would place the plan's data where the module was laid out. The host
// calls verdict_instance_init with the region it gives the instance instead. Modules built by `opa build`
// have no such export and keep a memory of their own.
import { ByteReader, ByteWriter } from './encoding.js';
import { INSTANCE_INIT } from './instance-init.js';
import { runtimeImage } from './runtime-image.js';

const SECTION = { import: 2, export: 7, start: 8, data: 11 };
const KIND = { func: 0, table: 1, memory: 2, global: 3 };
/** Pages of the largest memory wasm32 addresses: a shared memory reserves its maximum up front, untouched. */
export const SHARED_MAX_PAGES = 65536;

/** Whether the module's bytes come from our back end (it has verdict_instance_init). */
export function canShareMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.exports(module).some((e) => e.name === INSTANCE_INIT && e.kind === 'function');
}

/**
 * The bytes of `bytes` (one of our modules) with a shared memory import and no start function, and the size
 * of the plan's data (its passive data segment, the last), which the instance's region must hold. Undefined
 * when the module's runtime is not this process's: every instance in a shared memory writes its runtime's
 * static data to the same addresses, so they must be the same bytes.
 */
export function sharedMemoryModule(bytes: Uint8Array): { bytes: Uint8Array<ArrayBuffer>; planDataBytes: number } | undefined {
  const r = new ByteReader(bytes);
  const out = new ByteWriter(bytes.length + 16);
  out.bytes(r.bytes(8));
  let rewritten = false;
  let planDataBytes = -1;
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const body = r.bytes(size);
    if (id === SECTION.start) continue;
    if (id === SECTION.data) {
      planDataBytes = lastPassiveSegment(body);
      if (!sameRuntimeData(body)) return undefined;
    }
    if (id !== SECTION.import) {
      out.section(id, body);
      continue;
    }
    const s = new ByteReader(body);
    const imports = new ByteWriter(body.length + 8);
    const n = s.u32();
    imports.u32(n);
    for (let i = 0; i < n; i++) {
      imports.name(s.name());
      imports.name(s.name());
      const kind = s.byte();
      imports.byte(kind);
      if (kind === KIND.func) imports.u32(s.u32());
      else if (kind === KIND.memory) {
        const flags = s.byte();
        const min = s.u32();
        if (flags & 1) s.u32();
        imports.byte(3); // shared, with a maximum
        imports.u32(min);
        imports.u32(SHARED_MAX_PAGES);
        rewritten = true;
      } else throw new Error(`unexpected import kind ${kind} in a module of our back end`);
    }
    out.section(id, imports);
  }
  if (!rewritten) throw new Error('the module imports no memory');
  if (planDataBytes < 0) throw new Error('the module has no passive data segment for its plan');
  return { bytes: out.finish(), planDataBytes };
}

/** Whether the data section starts with this process's runtime's static data segments, byte for byte. */
function sameRuntimeData(body: Uint8Array): boolean {
  const ours = runtimeImage().dataSegments;
  const s = new ByteReader(body);
  if (s.u32() !== ours.length + 1) return false;
  for (const segment of ours) {
    const theirs = s.bytes(segment.length);
    if (theirs.length !== segment.length || theirs.some((b, i) => b !== segment[i])) return false;
  }
  return true;
}

/** Length of the last data segment when it is passive (compile.ts writes the plan's data so), else -1. */
function lastPassiveSegment(body: Uint8Array): number {
  const s = new ByteReader(body);
  let last = -1;
  for (let n = s.u32(), i = 0; i < n; i++) {
    const flags = s.u32();
    if (flags === 1) {
      last = s.u32();
      s.bytes(last);
      continue;
    }
    if (flags !== 0) throw new Error(`unexpected data segment kind ${flags} in a module of our back end`);
    // Active: offset expression i32.const n end, then the bytes.
    s.byte();
    s.s32();
    s.byte();
    s.bytes(s.u32());
    last = -1;
  }
  return last;
}
