// Rego's static types in the compiler: OPA's unification test (v1/ast/check.go `unifies`) and the selection of an
// element or property type, over the types builtin declarations are written in (src/builtins/declarations.ts).
import type { Term } from './ast.js';
import type { RegoType } from '../builtins/declarations.js';

/** OPA's array Select: the static element at i, else the dynamic element type; null where there is none. */
export function selectIndex(t: RegoType & { type: 'array' }, i: number): RegoType | null {
  return t.static?.[i] ?? t.dynamic ?? null;
}

/** OPA's object Select for a constant key: its static property, else the dynamic value if the key type fits. */
export function selectKey(t: RegoType & { type: 'object' }, key: Term & { type: 'null' | 'boolean' | 'number' | 'string' }): RegoType | null {
  if (key.type === 'string') {
    const prop = t.static?.find((p) => p.key === key.value);
    if (prop) return prop.value;
  }
  if (!t.dynamic) return null;
  const keyType = t.dynamic.key;
  const fits = keyType.type === 'any' ? !keyType.of || keyType.of.length === 0 || keyType.of.some((k) => k.type === key.type) : keyType.type === key.type;
  return fits ? t.dynamic.value : null;
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
        const other = selectKey(y, { type: 'string', value: p.key } as Term & { type: 'string' });
        return other !== null && unifies(p.value, other);
      });
      return staticFits(a, b) && staticFits(b, a) && (!a.dynamic || !b.dynamic || unifies(a.dynamic.value, b.dynamic.value));
    }
    case 'set':
      return b.type === 'set' && unifies(a.of, b.of);
  }
}
