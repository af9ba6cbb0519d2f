// CheckTypes, for builtin calls (OPA: v1/ast/check.go): an argument whose type is known at compile time and
// cannot match the builtin's declared argument type is a rego_type_error "NAME: invalid argument(s)" at the
// call, with OPA's details (the argument types found, the declaration wanted). Types are known for literals,
// for the results of builtin calls, and for local variables assigned from those (`x := 1`, `1 = x`, an output
// argument, `some k, v in xs` over such a value); everything else (input, data, rule values, function arguments)
// is left unknown and never reported, so this reports a subset of OPA's type errors and nothing OPA accepts.
import type { Body, Expr, Location, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import type { ArgErrorDetails } from '../errors.js';
import { inGoKeyOrder, type FunctionDecl, type RegoType } from '../../builtins/declarations.js';
import { selectIndex, selectKey, unifies } from '../types.js';
import { callName } from '../walk.js';
import type { CompileContext, Stage } from './context.js';

/** A type, or undefined where it is not known (nothing is reported about unknown types). */
type Known = RegoType | undefined;

const ANY: RegoType = { type: 'any' };
const SCALAR_TYPES: Record<string, RegoType> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  number: { type: 'number' },
  string: { type: 'string' },
};

/** Operators whose operands are any and which bind variables: handled as assignments instead. */
const BINDING_OPERATORS = new Set(['eq', 'assign']);

interface Found {
  loc: Location;
  name: string;
  details: ArgErrorDetails;
}

export const checkTypes: Stage = {
  name: 'CheckTypes',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const declOf = (name: string): FunctionDecl | undefined => builtin(name)?.decl as FunctionDecl | undefined;
    const found: Found[] = [];
    for (const m of ctx.modules) {
      for (const rule of m.rules) {
        for (let r: Rule | undefined = rule; r; r = r.else) new RuleChecker(declOf, found).rule(r);
      }
    }
    found.sort((a, b) => a.loc.row - b.loc.row || a.loc.col - b.loc.col);
    for (const f of found) {
      if (!ctx.error('rego_type_error', f.loc, `${f.name}: invalid argument(s)`, f.details)) break;
    }
  },
};

class RuleChecker {
  constructor(
    private readonly declOf: (name: string) => FunctionDecl | undefined,
    private readonly found: Found[],
  ) {}

  rule(r: Rule): void {
    const env = new Map<string, RegoType>();
    this.body(r.body, env);
    // Head terms are evaluated after the body (`p := count(1)` is `count(1, __local0__)` appended to it).
    for (const t of [r.head.key, r.head.value]) if (t) this.typeOf(t, env);
  }

  private body(body: Body, env: Map<string, RegoType>): void {
    for (const e of body) this.expr(e, env);
  }

  private expr(e: Expr, env: Map<string, RegoType>): void {
    const terms = e.terms;
    if (Array.isArray(terms)) {
      const name = callName(terms[0]!);
      if (name !== undefined && BINDING_OPERATORS.has(name) && terms.length === 3) this.bind(terms[1]!, terms[2]!, env);
      else if (name !== undefined) this.call(name, terms.slice(1), e.loc, env, false);
    } else if (isTerm(terms)) {
      this.typeOf(terms, env);
    } else if (terms.type === 'every') {
      // OPA checks the domain but reports nothing from the body (it is checked as a closure after rewriting).
      this.typeOf(terms.domain, env);
    } else if (terms.type === 'not') {
      this.body(terms.body, new Map(env));
    } else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
      this.body(terms.lhs, new Map(env));
      this.body(terms.rhs, new Map(env));
    }
    for (const w of e.with ?? []) this.typeOf(w.value, env);
  }

  /** `a := b`, `a = b`: a variable on one side takes the type of the other side. */
  private bind(a: Term, b: Term, env: Map<string, RegoType>): void {
    const ta = this.typeOf(a, env);
    const tb = this.typeOf(b, env);
    if (a.type === 'var' && !env.has(a.value) && tb) env.set(a.value, tb);
    else if (b.type === 'var' && !env.has(b.value) && ta) env.set(b.value, ta);
  }

  /**
   * Checks one call and returns its result type. `nested`: a call inside a term, which OPA rewrites to a call
   * with an output variable of its own (so the types it reports end with an unknown one).
   */
  private call(name: string, args: Term[], loc: Location, env: Map<string, RegoType>, nested: boolean): Known {
    const have = args.map((a) => this.typeOf(a, env));
    const decl = BINDING_OPERATORS.has(name) ? undefined : this.declOf(name);
    if (!decl) return undefined;
    const params = decl.args ?? [];
    const wanted = decl.result ? [...params, decl.result] : params;
    for (let i = 0; i < args.length; i++) {
      const want = i < wanted.length ? wanted[i] : decl.variadic;
      if (want === undefined) break;
      if (!this.matches(args[i]!, have[i], want, env)) {
        const reported = nested ? [...have, undefined] : have;
        this.found.push({
          loc,
          name,
          details: inGoKeyOrder({ have: reported.map((t) => t ?? null), want: { args: wanted, ...(decl.variadic ? { variadic: decl.variadic } : {}) } }),
        });
        return decl.result && unnamed(decl.result);
      }
    }
    const out = args[params.length];
    if (out?.type === 'var' && !env.has(out.value) && decl.result) env.set(out.value, unnamed(decl.result));
    return decl.result && unnamed(decl.result);
  }

  /** OPA's unify1 of a term with a wanted type: literals element by element, anything else by its type. */
  private matches(term: Term, type: Known, want: RegoType | null, env: Map<string, RegoType>): boolean {
    if (want === null) return term.type === 'var' && !env.has(term.value);
    if (term.type === 'array' || term.type === 'set' || term.type === 'object') {
      if (want.type === 'any') return !want.of || want.of.length === 0 || want.of.some((w) => this.matches(term, type, w, env));
      if (term.type === 'array' && want.type === 'array') {
        if (term.value.length !== (want.static?.length ?? 0) && !want.dynamic) return false;
        return term.value.every((el, i) => this.matches(el, this.typeOf(el, env), selectIndex(want, i), env));
      }
      if (term.type === 'set' && want.type === 'set') return term.value.every((el) => this.matches(el, this.typeOf(el, env), want.of, env));
      if (term.type === 'object' && want.type === 'object') {
        if (term.value.length !== (want.static?.length ?? 0) && !want.dynamic) return false;
        return term.value.every(([k, v]) => {
          if (!isScalar(k)) return true;
          const child = selectKey(want, k);
          return child !== null && this.matches(v, this.typeOf(v, env), child, env);
        });
      }
      return false;
    }
    return type === undefined || unifies(type, want);
  }

  /**
   * The type of `head[a][b]...` where head is input (any), a local of known type or a literal: each constant
   * segment selects, each variable segment iterates (`[1][i]`, as `some x in [1]` is rewritten) and takes the
   * type of the keys, as OPA's ref checker does.
   */
  private refType(ref: Term[], env: Map<string, RegoType>): Known {
    const [head, ...path] = ref;
    for (const x of path) this.typeOf(x, env);
    let type: Known = head!.type === 'var' ? (head!.value === 'input' ? ANY : env.get(head!.value)) : this.typeOf(head!, env);
    for (const seg of path) {
      if (type === undefined) return undefined;
      if (type.type === 'any') return type.of && type.of.length > 0 ? undefined : ANY;
      if (seg.type === 'var') {
        if (!env.has(seg.value)) {
          const keys = keysOf(type);
          if (keys) env.set(seg.value, keys);
        }
        type = valuesOf(type);
      } else if (type.type === 'array' && seg.type === 'number' && /^\d+$/.test(seg.value)) {
        type = selectIndex(type, Number(seg.value)) ?? undefined;
      } else if (type.type === 'object' && isScalar(seg)) {
        type = selectKey(type, seg) ?? undefined;
      } else {
        return undefined;
      }
    }
    return type;
  }

  /** The type of a term as far as it is known; checks the calls it contains on the way. */
  private typeOf(t: Term, env: Map<string, RegoType>): Known {
    switch (t.type) {
      case 'null': case 'boolean': case 'number': case 'string':
        return SCALAR_TYPES[t.type];
      case 'var':
        return env.get(t.value);
      case 'templatestring':
        for (const p of t.value.parts) {
          if ('index' in p) this.expr(p, env);
          else this.typeOf(p, env);
        }
        return SCALAR_TYPES.string;
      case 'array': {
        const items = t.value.map((x) => this.typeOf(x, env));
        return items.every((x) => x !== undefined) ? { type: 'array', ...(items.length > 0 ? { static: items as RegoType[] } : {}) } : undefined;
      }
      case 'set': {
        const items = t.value.map((x) => this.typeOf(x, env));
        if (items.length === 0 || items.some((x) => x === undefined)) return undefined;
        return { type: 'set', of: union(items as RegoType[]) };
      }
      case 'object': {
        const props: Array<{ key: string; value: RegoType }> = [];
        let known = true;
        for (const [k, v] of t.value) {
          this.typeOf(k, env);
          const tv = this.typeOf(v, env);
          if (k.type === 'string' && tv) props.push({ key: k.value, value: tv });
          else known = false;
        }
        if (!known) return undefined;
        props.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        return { type: 'object', ...(props.length > 0 ? { static: props } : {}) };
      }
      case 'call': {
        const name = callName(t.value[0]!);
        const args = t.value.slice(1);
        if (name === undefined) {
          for (const a of args) this.typeOf(a, env);
          return undefined;
        }
        return this.call(name, args, t.loc, env, true);
      }
      case 'ref':
        return this.refType(t.value, env);
      case 'arraycomprehension': case 'setcomprehension': {
        const inner = new Map(env);
        this.body(t.value.body, inner);
        this.typeOf(t.value.term, inner);
        return undefined;
      }
      case 'objectcomprehension': {
        const inner = new Map(env);
        this.body(t.value.body, inner);
        this.typeOf(t.value.key, inner);
        this.typeOf(t.value.value, inner);
        return undefined;
      }
    }
  }
}

function isScalar(t: Term): t is Term & { type: 'null' | 'boolean' | 'number' | 'string' } {
  return t.type === 'null' || t.type === 'boolean' || t.type === 'number' || t.type === 'string';
}

function unnamed(t: RegoType): RegoType {
  if (t.name === undefined) return t;
  const { name: _name, ...rest } = t;
  return rest as RegoType;
}

const TYPE_ORDER = ['null', 'boolean', 'number', 'string', 'array', 'object', 'set', 'any'];

/** OPA's Or over several types: one type, or a union of the distinct ones in OPA's order of kinds. */
function union(types: RegoType[]): RegoType {
  const members: RegoType[] = [];
  for (const t of types) if (!members.some((m) => JSON.stringify(m) === JSON.stringify(t))) members.push(t);
  members.sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type));
  return members.length === 1 ? members[0]! : { type: 'any', of: members };
}

/** The type of the keys iterating a value of type t gives; undefined where not known. */
function keysOf(t: RegoType): Known {
  switch (t.type) {
    case 'array': return SCALAR_TYPES.number;
    case 'set': return t.of;
    case 'object': {
      const keys = [...(t.static ?? []).map(() => SCALAR_TYPES.string!), ...(t.dynamic ? [t.dynamic.key] : [])];
      return keys.length > 0 ? union(keys) : undefined;
    }
    default: return undefined;
  }
}

/** The type of the values iterating a value of type t gives; undefined where not known. */
function valuesOf(t: RegoType): Known {
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
    default: return undefined;
  }
}
