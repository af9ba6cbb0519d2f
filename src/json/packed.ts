// Large parts of a loaded data document kept as their JSON text, parsed only when something reads them.
// Bundle data is held by the process twice: once in the wasm instances (which answer decisions) and once on
// the JS side, for the few readers that walk it (Data API GET, partial evaluation, explain, a new worker's
// state). As JS objects that second copy took three to four times the raw JSON; as text it takes the raw
// size, outside the JS heap. A packed value is a read-only Proxy standing for an object or array: reading it
// parses its text (kept until the current turn of the event loop ends), and the loader hands its text
// to the wasm instances as it is (src/engine/data-load.ts), so it is never parsed there at all.
import { isJsonObject } from './kinds.js';
import { readJson } from './reader.js';
import { writeJson } from './writer.js';

/** Values per packed value, and per piece loaded into wasm: one parses in a few milliseconds. */
export const PIECE_VALUES = 20_000;

const TEXT = Symbol('packed JSON text');
const decoder = new TextDecoder();

/** Values at most this large (in JSON text) stay JS values: a packed value costs a few hundred bytes itself. */
const SMALLEST_PACKED = 512;

/** The JSON text a packed value stands for, or undefined for any other value. */
export function packedText(value: unknown): Uint8Array | undefined {
  return typeof value === 'object' && value !== null ? ((value as { [TEXT]?: Uint8Array })[TEXT] ?? undefined) : undefined;
}

/** A read-only value standing for the object or array whose JSON text is `text`. */
export function packedValue(text: Uint8Array): unknown {
  let parsed: object | undefined;
  const value = (): object => {
    if (parsed === undefined) {
      parsed = readJson(decoder.decode(text)) as object;
      setImmediate(() => (parsed = undefined));
    }
    return parsed;
  };
  const readOnly = () => {
    throw new TypeError('packed data is read-only');
  };
  return new Proxy(text[0] === 0x5b ? [] : {}, {
    get: (_, key) => (key === TEXT ? text : Reflect.get(value(), key)),
    has: (_, key) => Reflect.has(value(), key),
    ownKeys: () => Reflect.ownKeys(value()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(value(), key),
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
    setPrototypeOf: readOnly,
  });
}

/**
 * `data` with its parts packed: objects above `depth` (the shallowest bundle root's depth, at least 1, so that
 * the store, which copies objects above the roots, never has to open a packed value) and objects with more
 * than `cut` values below them are kept as objects; anything else of at least SMALLEST_PACKED bytes of text
 * is packed whole. Small documents come back unchanged.
 */
export function packData(data: Record<string, unknown>, depth: number, cut = PIECE_VALUES): Record<string, unknown> {
  const steps = packing(data, 0, depth, cut);
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value as Record<string, unknown>;
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
  if ((!isJsonObject(value) && !Array.isArray(value)) || packedText(value)) return value;
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
  return packedValue(Buffer.from(text));
}

/** Whether more than `limit` values lie in `value` (counting stops there; packed values are not opened). */
export function exceeds(value: unknown, limit: number): boolean {
  const stack: unknown[] = [value];
  let count = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (++count > limit) return true;
    if (packedText(next)) return true;
    if (Array.isArray(next)) for (const item of next) stack.push(item);
    else if (isJsonObject(next)) for (const key in next) stack.push(next[key]);
  }
  return false;
}
