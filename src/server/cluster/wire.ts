// Data across the server threads' channel. Structured clone (postMessage, v8.serialize) keeps plain values,
// maps and byte arrays but not classes: a NumberText (a JSON number kept as its text, src/json/number-text.ts)
// would arrive as a plain {text} object and be served as one. It also recurses, and overflows the stack on
// values nested a few thousand levels deep, which data may be (up to 10,000). A worker therefore sends each
// NumberText as a one-entry Map (structured clone keeps maps; JSON data never holds one), and each container
// nested DEEP levels down as a one-entry Map holding its JSON text (our writer and reader keep number text and
// do not recurse); on receipt it turns those maps back. The primary relays messages without looking into them.
import { NumberText } from '../../json/number-text.js';
import { isPacked, packedForm, packedFromForm, type PackedForm } from '../../json/packed.js';
import { readJson } from '../../json/reader.js';
import { writeJson } from '../../json/writer.js';

const TAG = 'verdict.NumberText';
const DEEP_TAG = 'verdict.JsonText';
/** A packed value (src/json/packed.ts) travels as the deflated text it holds, and is packed again on arrival. */
const PACKED_TAG = 'verdict.PackedJson';
/** Containers this deep in a message travel as JSON text; structured clone manages about 2,000 levels. */
const DEEP = 500;

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  if (typeof value !== 'object' || value === null || isPacked(value)) return false;
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The message to send: `value` itself when it holds no NumberText, else a copy of the containers that do.
 * `slabs`: where packed values whose text lies in shared memory are to name it instead of copying it (v8.serialize
 * copies a view's bytes); the shared buffers are collected there, to travel beside the serialised value.
 */
export function toWire<T>(value: T, slabs?: SharedArrayBuffer[]): T {
  const slabIndex = new Map<SharedArrayBuffer, number>();
  const leafOnWire = (leaf: unknown) => wireLeaf(leaf, slabs, slabIndex);
  const leaf = leafOnWire(value);
  if (leaf) return leaf as T;
  if (!isContainer(value)) return value;
  // Post-order walk: a container is copied only when one of its children was replaced.
  const replaced = new Map<Container, Container | Map<string, string>>();
  const stack: { node: Container; depth: number; expanded: boolean }[] = [{ node: value, depth: 0, expanded: false }];
  const seen = new Set<Container>();
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.depth >= DEEP) {
      stack.pop();
      replaced.set(top.node, new Map([[DEEP_TAG, writeJson(top.node)]]));
      continue;
    }
    if (!top.expanded) {
      top.expanded = true;
      seen.add(top.node);
      for (const child of Object.values(top.node)) if (isContainer(child) && !seen.has(child)) stack.push({ node: child, depth: top.depth + 1, expanded: false });
      continue;
    }
    stack.pop();
    let copy: Container | undefined;
    for (const [key, child] of Object.entries(top.node)) {
      const next = leafOnWire(child) ?? (isContainer(child) ? replaced.get(child) : undefined);
      if (next === undefined) continue;
      copy ??= Array.isArray(top.node) ? [...top.node] : { ...top.node };
      (copy as Record<string, unknown>)[key] = next;
    }
    if (copy) replaced.set(top.node, copy);
  }
  return (replaced.get(value) ?? value) as T;
}

/** A packed value on the wire: its deflated text, or where it lies in one of the message's shared slabs. */
type PackedOnWire = PackedForm | { slab: number; offset: number; bytes: number; length: number; array: boolean };

/** How a value the structured clone would lose travels: a NumberText or a packed value. */
function wireLeaf(value: unknown, slabs: SharedArrayBuffer[] | undefined, slabIndex: Map<SharedArrayBuffer, number>): Map<string, string | PackedOnWire> | undefined {
  if (value instanceof NumberText) return new Map([[TAG, value.text]]);
  const packed = packedForm(value);
  if (!packed) return undefined;
  const { deflated, length, array } = packed;
  if (slabs && deflated.buffer instanceof SharedArrayBuffer) {
    let slab = slabIndex.get(deflated.buffer);
    if (slab === undefined) slabIndex.set(deflated.buffer, (slab = slabs.push(deflated.buffer) - 1));
    return new Map([[PACKED_TAG, { slab, offset: deflated.byteOffset, bytes: deflated.byteLength, length, array }]]);
  }
  return new Map([[PACKED_TAG, { deflated, length, array }]]);
}

function reviveLeaf(value: unknown, slabs: SharedArrayBuffer[]): unknown {
  if (!(value instanceof Map) || value.size !== 1) return undefined;
  if (typeof value.get(TAG) === 'string') return new NumberText(value.get(TAG) as string);
  const packed = value.get(PACKED_TAG) as PackedOnWire | undefined;
  if (packed && typeof packed.length === 'number') {
    const deflated = 'slab' in packed ? slabs[packed.slab] && new Uint8Array(slabs[packed.slab]!, packed.offset, packed.bytes) : packed.deflated;
    if (deflated instanceof Uint8Array) return packedFromForm({ deflated, length: packed.length, array: packed.array === true });
  }
  if (typeof value.get(DEEP_TAG) === 'string') return readJson(value.get(DEEP_TAG) as string);
  return undefined;
}

/**
 * A received message with its NumberText restored, in place (it is the channel's own copy). `slabs`: the
 * shared buffers toWire collected for it.
 */
export function fromWire<T>(value: T, slabs: SharedArrayBuffer[] = []): T {
  const revive = (node: unknown) => reviveLeaf(node, slabs);
  const top = revive(value);
  if (top !== undefined) return top as T;
  if (!isContainer(value)) return value;
  const stack: Container[] = [value];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const [key, child] of Object.entries(node)) {
      const revived = revive(child);
      if (revived !== undefined) (node as Record<string, unknown>)[key] = revived;
      else if (isContainer(child)) stack.push(child);
    }
  }
  return value;
}
