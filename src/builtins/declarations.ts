// Rego's type vocabulary as OPA's capabilities JSON spells it (`opa capabilities`: a builtin's `decl`), and a
// small notation for writing builtin declarations in the namespace modules:
//   fn([arg('delimiter', t.string), arg('collection', t.anyOf(t.arrayOf(t.string), t.setOf(t.string)))], arg('output', t.string))
// Argument and result names are kept (they show in type errors and capabilities); OPA's prose descriptions are not.
import type { HostBuiltin } from './args.js';

export type RegoType =
  | { type: 'any'; of?: RegoType[]; name?: string }
  | { type: 'boolean' | 'null' | 'number' | 'string'; name?: string }
  | { type: 'array'; static?: RegoType[]; dynamic?: RegoType; name?: string }
  /** A set's element type; none for the empty set literal (`set()`), whose elements have no type. */
  | { type: 'set'; of?: RegoType; name?: string }
  | { type: 'object'; static?: ObjectProperty[]; dynamic?: { key: RegoType; value: RegoType }; name?: string };

export interface ObjectProperty {
  /**
   * A string in declarations; an object literal's type may also have other constant keys (`{1: "a"}`), composite
   * ones as JSON (`{[1]: "a"}`, and a set key as the array of its elements).
   */
  key: ObjectKey;
  value: RegoType;
}

export type ObjectKey = string | number | boolean | null | ObjectKey[] | { [key: string]: ObjectKey };

/** A builtin's declaration: `decl` in `opa capabilities`. */
export type FunctionDecl = {
  type: 'function';
  args?: RegoType[];
  result?: RegoType;
  variadic?: RegoType;
};

export const t = {
  any: { type: 'any' } as RegoType,
  boolean: { type: 'boolean' } as RegoType,
  null: { type: 'null' } as RegoType,
  number: { type: 'number' } as RegoType,
  string: { type: 'string' } as RegoType,
  /** One of the given types. */
  anyOf: (...of: RegoType[]): RegoType => ({ type: 'any', of }),
  /** An array of any length whose elements have the given type. */
  arrayOf: (dynamic: RegoType): RegoType => ({ type: 'array', dynamic }),
  /** An array with the given element types, position by position. */
  tuple: (...items: RegoType[]): RegoType => ({ type: 'array', static: items }),
  setOf: (of: RegoType): RegoType => ({ type: 'set', of }),
  objectOf: (key: RegoType, value: RegoType): RegoType => ({ type: 'object', dynamic: { key, value } }),
  /** An object with the given keys, and (if given) any other keys of the dynamic key and value types. */
  object: (properties: Array<[string, RegoType]>, dynamic?: [key: RegoType, value: RegoType]): RegoType => ({
    type: 'object',
    static: properties.map(([key, value]) => ({ key, value })),
    ...(dynamic ? { dynamic: { key: dynamic[0], value: dynamic[1] } } : {}),
  }),
};

/** A type (or any JSON) with its object keys sorted, as Go's encoder prints OPA's types. */
export function inGoKeyOrder<T>(v: T): T {
  if (Array.isArray(v)) return v.map(inGoKeyOrder) as T;
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, inGoKeyOrder((v as Record<string, unknown>)[k])])) as T;
}

/** A named argument or result. */
export function arg(name: string, type: RegoType): RegoType {
  return { ...type, name };
}

export function fn(args: RegoType[], result?: RegoType, variadic?: RegoType): FunctionDecl {
  return {
    type: 'function',
    ...(args.length > 0 ? { args } : {}),
    ...(result ? { result } : {}),
    ...(variadic ? { variadic } : {}),
  };
}

/**
 * One builtin, as its namespace module declares it: its declaration and OPA's flags, and where its calls are
 * answered. At least one of planner, runtime and host is given.
 */
export interface BuiltinEntry {
  name: string;
  decl: FunctionDecl;
  /** Refused in Rego v1 modules. */
  deprecated?: true;
  /** Answers may differ between calls with the same arguments (OPA caches them per query). */
  nondeterministic?: true;
  /** Generates several answers (walk): OPA's `relation` flag. */
  relation?: true;
  /** The operator that spells the call (`==` for equal). */
  infix?: string;
  categories?: readonly string[];
  /** Compiled by the planner itself (operators, print): never called at run time. */
  planner?: true;
  /** The export of our wasm runtime (src/wasm/runtime/builtins) that modules we compile call. */
  runtime?: string;
  /**
   * A runtime export taking the builtin's operands that answers non-zero where the runtime leaves the call to the
   * host (`host`), so that one implementation serves both for what the runtime does not do itself.
   */
  runtimeDefers?: string;
  /**
   * The host function a module calls through OPA's builtin import: modules we compile for builtins without a
   * runtime export, and modules compiled elsewhere (by `opa build`) for any builtin they import.
   */
  host?: HostBuiltin;
}
