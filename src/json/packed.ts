// Large parts of a loaded data document kept as their JSON text, compressed, parsed only when something reads
// them. Bundle data is held by the process twice: once in the wasm instances (which answer decisions) and once
// on the JS side, for the few readers that walk it (Data API GET, partial evaluation, explain, a new worker's
// state). As JS objects that second copy took three to four times the raw JSON; as text it took the raw size,
// outside the JS heap; deflated (level 1: about 10 ms per MB to compress, 3 ms to inflate) it takes a fraction
// of that: a tenth for typical records. A packed value is a read-only Proxy standing for an object or array:
// reading it inflates and parses its text (kept until the current turn of the event loop ends), the loader
// hands the inflated text to the wasm instances (src/engine/data-load.ts), so it is never parsed on the JS
// side there, and other workers receive the deflated bytes as they are (src/server/cluster/wire.ts).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { isJsonObject } from './kinds.js';
import { readJson } from './reader.js';
import { writeJson } from './writer.js';

/** Values per packed value, and per piece loaded into wasm: one parses in a few milliseconds. */
export const PIECE_VALUES = 20_000;

const DEFLATED = Symbol('packed JSON text, deflated');
const decoder = new TextDecoder();

/** Values at most this large (in JSON text) stay JS values: a packed value costs a few hundred bytes itself. */
const SMALLEST_PACKED = 512;

/** What a packed value holds: its JSON text deflated (raw deflate), the text's length, and whether it is an array. */
export interface PackedForm {
  deflated: Uint8Array;
  length: number;
  array: boolean;
}

/** The held form of a packed value, or undefined for any other value. */
export function packedForm(value: unknown): PackedForm | undefined {
  return typeof value === 'object' && value !== null ? ((value as { [DEFLATED]?: PackedForm })[DEFLATED] ?? undefined) : undefined;
}

/** Whether `value` is packed. */
export function isPacked(value: unknown): boolean {
  return packedForm(value) !== undefined;
}

/** The JSON text a packed value stands for (inflated anew on every call), or undefined for any other value. */
export function packedText(value: unknown): Uint8Array | undefined {
  const form = packedForm(value);
  return form && inflated(form);
}

/**
 * The document a packed value stands for, parsed afresh from its text and kept by nothing here; undefined for
 * any other value.
 */
export function packedDocument(value: unknown): unknown {
  const form = packedForm(value);
  return form && parsedForm(form);
}

function parsedForm(form: PackedForm): object {
  return readJson(decoder.decode(inflated(form))) as object;
}

function inflated(form: PackedForm): Uint8Array {
  // One output chunk a byte larger than the text: no chunks to join, and no second chunk, which zlib allocates
  // whenever the output fills the first one exactly.
  return inflateRawSync(form.deflated, { chunkSize: Math.max(64, form.length + 1) });
}

/** Text up to this size is encoded into one reused buffer before it is deflated, instead of a new one each. */
const SCRATCH_LIMIT = 1 << 20;
let scratch = Buffer.alloc(0);

/** A read-only value standing for the object or array whose JSON text is `text`. */
export function packedValue(text: Uint8Array | string): unknown {
  let bytes: Uint8Array;
  if (typeof text !== 'string') bytes = text;
  else if (text.length * 3 > SCRATCH_LIMIT) bytes = Buffer.from(text);
  else {
    if (scratch.length < text.length * 3) scratch = Buffer.allocUnsafe(SCRATCH_LIMIT);
    bytes = scratch.subarray(0, scratch.write(text));
  }
  // zlib writes its result into output chunks of `chunkSize` and hands back a view of them, keeping the whole
  // chunk alive: small chunks (a sixteenth of the text), and the result copied to a buffer of its own.
  const deflated = deflateRawSync(bytes, { level: 1, chunkSize: Math.max(1024, bytes.byteLength >> 4) });
  return packedFromForm({ deflated: kept(deflated), length: bytes.byteLength, array: bytes[0] === 0x5b });
}

/** Deflated texts up to this size share slabs of SLAB_BYTES; larger ones get a buffer of their own. */
const SLAB_BYTES = 1 << 20;
const SHARED_LIMIT = SLAB_BYTES >> 4;
let slab: Uint8Array = new Uint8Array(0);
let slabUsed = 0;

/**
 * A lasting copy of a deflated text. A large document packs into thousands of values of a few KiB; each in a
 * buffer of its own, they were as many lasting mallocs scattered among the load's short-lived buffers (zlib's
 * state, the text of each piece), which kept glibc's heap from shrinking after the load: 80 MiB of free
 * chunks it held for 100 MB of data. Copied into slabs of 1 MiB, they take a few large allocations instead. A
 * slab (and a larger text's buffer of its own) is shared memory, so that the other threads of a server read
 * the values where they are (src/server/cluster/payload.ts). It lives as long as one of its values does.
 */
function kept(deflated: Uint8Array): Uint8Array {
  const size = deflated.byteLength;
  if (size > SHARED_LIMIT) return shared(deflated);
  if (slabUsed + size > slab.byteLength) {
    slab = new Uint8Array(new SharedArrayBuffer(SLAB_BYTES));
    slabUsed = 0;
  }
  const view = slab.subarray(slabUsed, slabUsed + size);
  view.set(deflated);
  slabUsed += size;
  return view;
}

/** A copy of `bytes` in shared memory of its own. */
function shared(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  copy.set(bytes);
  return copy;
}

/** A read-only value standing for the object or array a packed value's held form (packedForm) stands for. */
export function packedFromForm(form: PackedForm): unknown {
  const target = form.array ? [] : {};
  Object.defineProperty(target, STATE, { value: { form, parsed: undefined } satisfies PackedState, writable: true, configurable: true });
  return new Proxy(target, packedHandler);
}

/** What a packed value's proxy target holds: the form, and the document parsed from it for the current turn. */
interface PackedState {
  form: PackedForm;
  parsed: object | undefined;
}

const STATE = Symbol('packed value state');

function opened(target: object): object {
  const state = (target as { [STATE]: PackedState })[STATE];
  if (state.parsed === undefined) {
    state.parsed = parsedForm(state.form);
    setImmediate(() => (state.parsed = undefined));
  }
  return state.parsed;
}

function readOnly(): never {
  throw new TypeError('packed data is read-only');
}

// One handler for every packed value: a handler and closures of its own took 750 bytes of V8 heap per value,
// 7 MiB for the ten thousand values 100 MB of data packs into.
const packedHandler: ProxyHandler<object> = {
  get: (target, key) => (key === DEFLATED ? (target as { [STATE]: PackedState })[STATE].form : Reflect.get(opened(target), key)),
  has: (target, key) => Reflect.has(opened(target), key),
  ownKeys: (target) => Reflect.ownKeys(opened(target)),
  getOwnPropertyDescriptor: (target, key) => Reflect.getOwnPropertyDescriptor(opened(target), key),
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
  setPrototypeOf: readOnly,
};

/**
 * `data` with its parts packed: objects above `depth` (the shallowest bundle root's depth, at least 1, so that
 * the store, which copies objects above the roots, never has to open a packed value) and objects with more
 * than `cut` values below them are kept as objects; anything else of at least SMALLEST_PACKED bytes of text
 * is packed whole. Small documents come back unchanged.
 */
export function packData(data: Record<string, unknown>, depth: number, cut = PIECE_VALUES): Record<string, unknown> {
  return packPiece(data, 0, depth, cut) as Record<string, unknown>;
}

/**
 * packData's rule for a value `level` objects deep in the document, for a reader that hands over a large
 * document piece by piece (readJsonYielding's PieceHook): each piece is packed as it is read, so the document
 * is never held whole as objects (three to four times its text) before being packed.
 */
export function packPiece(value: unknown, level: number, depth: number, cut = PIECE_VALUES): unknown {
  const steps = packing(value, level, depth, cut);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/** packData giving the event loop a turn after about every megabyte of text, for a server answering decisions. */
export async function packDataYielding(data: Record<string, unknown>, depth: number, cut = PIECE_VALUES): Promise<Record<string, unknown>> {
  const steps = packing(data, 0, depth, cut);
  let bytes = 0;
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value as Record<string, unknown>;
    bytes += step.value;
    if (bytes >= 1 << 20) {
      bytes = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

/** packData's walk: yields the bytes of text each packed part took, returns the packed value. */
function* packing(value: unknown, level: number, depth: number, cut: number): Generator<number, unknown> {
  if ((!isJsonObject(value) && !Array.isArray(value)) || isPacked(value)) return value;
  if (isJsonObject(value) && (level < depth || exceeds(value, cut))) {
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const child = yield* packing(value[key], level + 1, depth, cut);
      if (child === value[key]) continue;
      copy ??= { ...value };
      copy[key] = child;
    }
    return copy ?? value;
  }
  const text = writeJson(value);
  if (text.length < SMALLEST_PACKED) return value;
  yield text.length;
  return packedValue(text);
}

/** Whether more than `limit` values lie in `value` (counting stops there; packed values are not opened). */
export function exceeds(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  let count = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (++count > limit) return true;
    if (isPacked(next)) return true;
    if (Array.isArray(next)) for (const item of next) stack.push(item);
    else if (isJsonObject(next)) for (const key in next) stack.push(next[key]);
  }
  return false;
}
