// Rego's static types in the compiler: OPA's unification test (v1/ast/check.go `unifies`) and the selection of an
// element or property type, over the types builtin declarations are written in (src/builtins/declarations.ts).
import type { Term } from './ast.js';
import type { ObjectKey, RegoType } from '../builtins/declarations.js';
import { compareJson, jsonTypeName } from '../builtins/json-value.js';
import { numberFromText, type NumberText } from '../json/number-text.js';

/** OPA's array Select: the static element at i, else the dynamic element type; null where there is none. */
export function selectIndex(t: RegoType & { type: 'array' }, i: number): RegoType | null {
  return t.static?.[i] ?? t.dynamic ?? null;
}

/** OPA's object Select for a constant key: its static property, else the dynamic value if the key type fits. */
export function selectKey(t: RegoType & { type: 'object' }, key: ObjectKey | NumberText): RegoType | null {
  const prop = t.static?.find((p) => compareJson(p.key, key) === 0);
  if (prop) return prop.value;
  if (!t.dynamic) return null;
  const keyType = t.dynamic.key;
  const kind = jsonTypeName(key);
  const fits = keyType.type === 'any' ? !keyType.of || keyType.of.length === 0 || keyType.of.some((k) => k.type === kind) : keyType.type === kind;
  return fits ? t.dynamic.value : null;
}

/** The constant key a scalar term is, as an object type's static keys hold it. */
export function scalarKey(t: ScalarTerm): ObjectKey | NumberText {
  switch (t.type) {
    case 'null': return null;
    case 'number': return numberFromText(t.value);
    default: return t.value;
  }
}

/** OPA's unifies (v1/ast/check.go): whether a value of type a can be one of type b. */
export function unifies(a: RegoType, b: RegoType): boolean {
  if (a.type === 'any' && (!a.of || a.of.length === 0 || a.of.some((x) => unifies(x, b)))) return true;
  if (b.type === 'any' && (!b.of || b.of.length === 0 || b.of.some((x) => unifies(x, a)))) return true;
  if (a.type === 'any' || b.type === 'any') return false;
  switch (a.type) {
    case 'null': case 'boolean': case 'number': case 'string':
      return a.type === b.type;
    case 'array': {
      if (b.type !== 'array') return false;
      const staticFits = (x: typeof a, y: typeof a) => (x.static ?? []).every((t, i) => {
        const other = selectIndex(y, i);
        return other !== null && unifies(t, other);
      });
      return staticFits(a, b) && staticFits(b, a) && (!a.dynamic || !b.dynamic || unifies(a.dynamic, b.dynamic));
    }
    case 'object': {
      if (b.type !== 'object') return false;
      const staticFits = (x: typeof a, y: typeof a) => (x.static ?? []).every((p) => {
        const other = selectKey(y, p.key);
        return other !== null && unifies(p.value, other);
      });
      return staticFits(a, b) && staticFits(b, a) && (!a.dynamic || !b.dynamic || unifies(a.dynamic.value, b.dynamic.value));
    }
    // The empty set literal's type unifies with other sets' (OPA: `set() = {1}` is no match error).
    case 'set':
      return b.type === 'set' && (!a.of || !b.of || unifies(a.of, b.of));
  }
}

/**
 * OPA's types.Nil: whether t holds the empty set literal's type (`set()`, `[set()]`, `{"a": set()}`), whose
 * elements have no type. Two such sides of a unification are compared term by term instead of type by type.
 */
export function holdsUntyped(t: RegoType): boolean {
  switch (t.type) {
    case 'set': return !t.of || holdsUntyped(t.of);
    case 'array': return (t.static ?? []).some(holdsUntyped) || (t.dynamic !== undefined && holdsUntyped(t.dynamic));
    case 'object': return (t.static ?? []).some((p) => holdsUntyped(p.value)) || (t.dynamic !== undefined && (holdsUntyped(t.dynamic.key) || holdsUntyped(t.dynamic.value)));
    default: return false;
  }
}

/** Plain any: what a value of no known type may be. */
export const ANY: RegoType = { type: 'any' };
const NUMBER: RegoType = { type: 'number' };
const KIND_ORDER = ['null', 'boolean', 'number', 'string', 'array', 'object', 'set', 'any'];

type ScalarTerm = Term & { type: 'null' | 'boolean' | 'number' | 'string' };

/** Whether t is plain any (no union): anything goes below it. */
export function isAny(t: RegoType): boolean {
  return t.type === 'any' && (!t.of || t.of.length === 0);
}

/**
 * OPA's Or over several types: plain any if one is any, else one type, or a union of the distinct ones (unions
 * flattened) in OPA's order of kinds.
 */
export function union(types: RegoType[]): RegoType {
  const members: RegoType[] = [];
  for (const t of types.flatMap((x) => (x.type === 'any' && x.of && x.of.length > 0 ? x.of : [x]))) {
    if (isAny(t)) return ANY;
    if (!members.some((m) => JSON.stringify(m) === JSON.stringify(t))) members.push(t);
  }
  members.sort(compareTypes);
  return members.length === 1 ? members[0]! : { type: 'any', of: members };
}

/**
 * Two types merged as OPA's checker merges a document's type with the type of a value `with` puts there: objects
 * key by key (a key of both is of both types, merged), with the dynamic keys of the first one that has them (the
 * document's where both do, as `opa check` shows), anything else their union.
 */
export function merged(a: RegoType, b: RegoType): RegoType | undefined {
  if (a.type !== 'object' || b.type !== 'object') return union([a, b]);
  const dynamic = a.dynamic ?? b.dynamic;
  const props = [...(a.static ?? [])];
  for (const p of b.static ?? []) {
    const at = props.findIndex((q) => compareJson(q.key, p.key) === 0);
    const value = at >= 0 ? merged(props[at]!.value, p.value) : p.value;
    if (!value) return undefined;
    if (at >= 0) props[at] = { key: p.key, value };
    else props.push(p);
  }
  props.sort((x, y) => compareJson(x.key, y.key));
  return { type: 'object', ...(props.length > 0 ? { static: props } : {}), ...(dynamic ? { dynamic } : {}) };
}

/** OPA's order of types: by kind, then part by part (elements, then properties by key and value, then dynamic parts). */
export function compareTypes(a: RegoType | undefined, b: RegoType | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.type !== b.type) return KIND_ORDER.indexOf(a.type) - KIND_ORDER.indexOf(b.type);
  const slices = (x: RegoType[] = [], y: RegoType[] = []) => {
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compareTypes(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  };
  switch (a.type) {
    case 'array': {
      const other = b as typeof a;
      return slices(a.static, other.static) || compareTypes(a.dynamic, other.dynamic);
    }
    case 'object': {
      const other = b as typeof a;
      const [x, y] = [a.static ?? [], other.static ?? []];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareJson(x[i]!.key, y[i]!.key) || compareTypes(x[i]!.value, y[i]!.value);
        if (c !== 0) return c;
      }
      return x.length - y.length || compareTypes(a.dynamic?.key, other.dynamic?.key) || compareTypes(a.dynamic?.value, other.dynamic?.value);
    }
    case 'set': return compareTypes(a.of, (b as typeof a).of);
    case 'any': return slices(a.of, (b as typeof a).of);
    default: return 0;
  }
}

/** The union of what f gives for each member of a union (or for t itself), leaving out the members it has none for. */
function overMembers(t: RegoType, f: (m: RegoType) => RegoType | undefined): RegoType | undefined {
  const found = (t.type === 'any' ? t.of ?? [] : [t]).map(f).filter((x): x is RegoType => x !== undefined);
  return found.length > 0 ? union(found) : undefined;
}

/** Whether a value of type t can be indexed at all: a collection, any, or a union with a collection in it. */
export function isIndexable(t: RegoType): boolean {
  if (t.type === 'any') return isAny(t) || t.of!.some(isIndexable);
  return t.type === 'array' || t.type === 'object' || t.type === 'set';
}

/** Whether t is an array or object literal's type with no element at all (`[]`, `{}`). */
export function isEmptyCollection(t: RegoType): boolean {
  return (t.type === 'array' || t.type === 'object') && !t.static?.length && !t.dynamic;
}

/** OPA's Keys: the type of the keys that index a value of type t; undefined where there are none. */
export function keysOf(t: RegoType): RegoType | undefined {
  if (isAny(t)) return ANY;
  switch (t.type) {
    case 'array': return NUMBER;
    case 'set': return t.of;
    case 'object': {
      const keys = [...(t.static ?? []).map((p) => keyType(p.key)), ...(t.dynamic ? [t.dynamic.key] : [])];
      return keys.length > 0 ? union(keys) : undefined;
    }
    case 'any': return overMembers(t, keysOf);
    default: return undefined;
  }
}

/** The type of a constant object key, as OPA types a JSON value (`[1, "a"]` is array<number, string>). */
function keyType(key: ObjectKey): RegoType {
  if (Array.isArray(key)) return { type: 'array', ...(key.length > 0 ? { static: key.map(keyType) } : {}) };
  if (key !== null && typeof key === 'object') {
    const props = Object.keys(key).sort().map((k) => ({ key: k, value: keyType(key[k]!) }));
    return { type: 'object', ...(props.length > 0 ? { static: props } : {}) };
  }
  return { type: jsonTypeName(key) } as RegoType;
}

/** OPA's Values: the type of the values iterating a value of type t gives; undefined where there are none. */
export function valuesOf(t: RegoType): RegoType | undefined {
  if (isAny(t)) return ANY;
  switch (t.type) {
    case 'array': {
      const values = [...(t.static ?? []), ...(t.dynamic ? [t.dynamic] : [])];
      return values.length > 0 ? union(values) : undefined;
    }
    case 'set': return t.of;
    case 'object': {
      const values = [...(t.static ?? []).map((p) => p.value), ...(t.dynamic ? [t.dynamic.value] : [])];
      return values.length > 0 ? union(values) : undefined;
    }
    case 'any': return overMembers(t, valuesOf);
    default: return undefined;
  }
}

/**
 * OPA's Select of a constant key: the type of what `value[key]` gives, or null where no value of type t has that
 * key. An array is indexed only by an integer written without fraction or exponent (`1`, not `1.0`).
 */
export function select(t: RegoType, key: ScalarTerm): RegoType | null {
  if (isAny(t)) return ANY;
  switch (t.type) {
    case 'array': return key.type === 'number' && /^\d+$/.test(key.value) ? selectIndex(t, Number(key.value)) : null;
    case 'object': return selectKey(t, scalarKey(key));
    case 'set': return t.of && unifies({ type: key.type }, t.of) ? t.of : null;
    case 'any': return overMembers(t, (m) => select(m, key) ?? undefined) ?? null;
    default: return null;
  }
}

/** The static keys of the objects a value of type t may be, sorted: the keys OPA lists as those a ref may use. */
export function objectKeys(t: RegoType): ObjectKey[] {
  const keys = t.type === 'object' ? (t.static ?? []).map((p) => p.key) : t.type === 'any' ? (t.of ?? []).flatMap(objectKeys) : [];
  return keys.sort(compareJson).filter((k, i, all) => i === 0 || compareJson(all[i - 1], k) !== 0);
}
