// The value types of the modules' rules and the result types of their functions, as CheckTypes knows them before
// it checks any rule (OPA: the type environment's rule tree, v1/ast/check.go). Each comes from its own
// definitions: refs to other rules and calls of other functions in there are not followed (their type is left
// unknown), so a rule's type is known only where every definition's is. A rule with a type error in one of its
// definitions is any, and a function with one is left unknown (its calls are not checked), as OPA's checkRule
// leaves them, so that what reads them is not reported again.
import type { Module, Rule, Term } from '../ast.js';
import type { FunctionDecl, RegoType } from '../../builtins/declarations.js';
import { ANY, isAny, union } from '../types.js';
import { packageKey } from './resolve-refs.js';

/**
 * The value types of the rules that are known, keyed by the path below data their head refs name (JSON of its
 * strings: `["p","m","a"]` for `m.a[k] := 1` in package p); null where a rule's type is not known. A complete
 * rule (`x := 1`, `m.a.b := 1`) has its value's type, a multi-value rule (`c contains 1`) a set of its elements'
 * type, and an object rule (`m[k] := v`, `m.a[k] := v`) an object of its keys' and values' types.
 */
export type RuleTypes = Map<string, RegoType | null>;

/**
 * The modules' functions whose types are known, by dotted name (`data.p.f`), declared as builtins are: each
 * argument's type is what its definitions' bodies make of it (`x` in `f(x) := count(x)` is what count takes;
 * any where a body leaves it unbound), and the result's what their values have, each as the union over the
 * definitions; null where a definition's result or an argument's type is not known.
 */
export type FunctionTypes = Map<string, FunctionDecl | null>;

/** The types of some of a rule's head terms, with the variables its body binds; 'error' where it has a type error. */
export type HeadTypes = (r: Rule, terms: Array<Term | undefined>) => Known[] | 'error';

/** The types of one function definition's arguments and value, as far as they are known; 'error' as for HeadTypes. */
export type DefinitionType = (r: Rule) => { args: Known[]; result: Known } | 'error';

type Known = RegoType | undefined;

/** How a rule's head ref builds its value: where it is put below data, and what it puts there. */
interface HeadShape {
  path: string[];
  kind: 'value' | 'set' | 'object' | 'function' | 'unknown';
  /** The term an object rule's keys come from. */
  objectKey?: Term;
}

function headShape(pkg: string[], rule: Rule): HeadShape {
  const { ref, key, value, args } = rule.head;
  const head = ref[0];
  const name = head?.type === 'var' ? head.value : rule.head.name;
  let ground = 1;
  while (ground < ref.length && ref[ground]!.type === 'string') ground++;
  const path = [...pkg, name, ...ref.slice(1, ground).map((t) => (t as Term & { type: 'string' }).value)];
  const rest = ref.slice(ground);
  if (args) return { path, kind: rest.length === 0 ? 'function' : 'unknown' };
  if (rest.length === 0) {
    if (!value) return { path, kind: key ? 'set' : 'unknown' };
    // v0's `p[k] = v` may keep its key apart from a one-term ref.
    return key && ref.length === 1 ? { path, kind: 'object', objectKey: key } : { path, kind: 'value' };
  }
  // `m[k] := v`, `m.a[k] := v`; a constant non-string key or a longer suffix is left unknown.
  return rest.length === 1 && rest[0]!.type === 'var' && value ? { path, kind: 'object', objectKey: rest[0] } : { path, kind: 'unknown' };
}

export function ruleTypes(modules: Module[], headTypes: HeadTypes, definitionType: DefinitionType): { rules: RuleTypes; functions: FunctionTypes } {
  const definitions = new Map<string, Known[]>();
  const functionDefinitions = new Map<string, Array<ReturnType<DefinitionType>>>();
  const objects = new Set<string>();
  const prefixes = new Set<string>();
  for (const m of modules) {
    const pkg = packageKey(m).split('.');
    for (const rule of m.rules) {
      const shape = headShape(pkg, rule);
      if (shape.kind === 'function') {
        const key = ['data', ...shape.path].join('.');
        const list = functionDefinitions.get(key) ?? [];
        for (let r: Rule | undefined = rule; r; r = r.else) list.push(definitionType(r));
        functionDefinitions.set(key, list);
        continue;
      }
      const key = JSON.stringify(shape.path);
      for (let i = 1; i < shape.path.length; i++) prefixes.add(JSON.stringify(shape.path.slice(0, i)));
      const types = definitions.get(key) ?? [];
      if (shape.kind === 'object') objects.add(key);
      for (let r: Rule | undefined = rule; r; r = r.else) types.push(valueType(r, shape, headTypes));
      definitions.set(key, types);
    }
  }
  const known = (list: Known[]) => (list.every((t) => t !== undefined) ? union(list as RegoType[]) : null);
  const rules: RuleTypes = new Map();
  for (const [key, list] of definitions) {
    // A path with rules below it as well (`m.a := ...` and `m.a.b.c := ...`) is left unknown.
    if (prefixes.has(key)) rules.set(key, null);
    else rules.set(key, objects.has(key) ? objectRuleType(list) : known(list));
  }
  const functions: FunctionTypes = new Map();
  for (const [key, list] of functionDefinitions) functions.set(key, functionType(list));
  return { rules, functions };
}

function valueType(r: Rule, shape: HeadShape, headTypes: HeadTypes): Known {
  const terms = { value: [r.head.value], set: [r.head.key], object: [shape.objectKey, r.head.value], function: [], unknown: [] }[shape.kind];
  if (terms.length === 0) return undefined;
  const types = headTypes(r, terms);
  if (types === 'error') return ANY;
  const [first, second] = types;
  switch (shape.kind) {
    case 'set': return first && { type: 'set', of: first };
    case 'object': return first && second && { type: 'object', dynamic: { key: first, value: second } };
    default: return first;
  }
}

/** A function's declaration from its definitions' (all of the same arity, else a conflict stops the compile). */
function functionType(checked: Array<ReturnType<DefinitionType>>): FunctionDecl | null {
  if (checked.includes('error')) return null;
  const definitions = checked as Array<Exclude<ReturnType<DefinitionType>, 'error'>>;
  const known = (types: Known[]) => (types.every((t) => t !== undefined) ? union(types as RegoType[]) : undefined);
  const result = known(definitions.map((d) => d.result));
  const args = definitions[0]!.args.map((_, i) => known(definitions.map((d) => d.args[i])));
  if (!result || args.some((t) => t === undefined) || definitions.some((d) => d.args.length !== args.length)) return null;
  return { type: 'function', args: args as RegoType[], result };
}

/** An object rule's type (`m[k] := v`): its definitions' keys and values, each as one union. */
function objectRuleType(definitions: Known[]): RegoType | null {
  const entries: Array<{ key: RegoType; value: RegoType }> = [];
  for (const t of definitions) {
    if (t && isAny(t)) return ANY;
    if (t?.type !== 'object' || !t.dynamic) return null;
    entries.push(t.dynamic);
  }
  return { type: 'object', dynamic: { key: union(entries.map((e) => e.key)), value: union(entries.map((e) => e.value)) } };
}
