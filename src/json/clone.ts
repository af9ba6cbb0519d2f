// A deep copy of a JSON value as the reader builds them. structuredClone would turn a NumberText into a plain
// object (losing the number) and recurses; this keeps NumberText (immutable, so shared) and uses an explicit
// stack, so documents as deep as the reader allows can be copied. `sortKeys` gives each object its keys in
// sorted order, as OPA writes every object.
import { NumberText } from './number-text.js';
import { isPacked, packedDocument } from './packed.js';

export function cloneJson<T>(value: T, options: { sortKeys?: boolean } = {}): T {
  // Packed values (read-only, like NumberText) are shared, unless the copy must have its keys sorted: a packed
  // text keeps the order the keys arrived in, so it is parsed and copied like any other value. Parsed here
  // rather than read through the packed value, which keeps what it parsed until the event loop turns: a copy
  // of a whole document would hold every part twice.
  const share = options.sortKeys !== true;
  const opened = (v: unknown): unknown => (share ? v : (packedDocument(v) ?? v));
  const copyOf = (v: unknown): unknown => (share && isPacked(v) ? v : Array.isArray(v) ? new Array(v.length) : v !== null && typeof v === 'object' && !(v instanceof NumberText) ? {} : v);
  const root = copyOf(value);
  const stack: [unknown, unknown][] = [[value, root]];
  while (stack.length > 0) {
    const [held, target] = stack.pop()!;
    const source = opened(held);
    if (Array.isArray(source)) {
      const out = target as unknown[];
      source.forEach((item, i) => {
        out[i] = copyOf(item);
        if (out[i] !== item) stack.push([item, out[i]]);
      });
    } else if (source !== null && typeof source === 'object' && !(source instanceof NumberText)) {
      const out = target as Record<string, unknown>;
      const keys = Object.keys(source);
      if (options.sortKeys) keys.sort();
      for (const key of keys) {
        const item = (source as Record<string, unknown>)[key];
        const copy = copyOf(item);
        if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
        else out[key] = copy;
        if (copy !== item) stack.push([item, copy]);
      }
    }
  }
  return root as T;
}
