// CheckTypes (OPA: v1/ast/check.go), for builtin calls, unifications and refs. A builtin call's argument whose
// type is known at compile time and cannot match the builtin's declared argument type is a rego_type_error
// "NAME: invalid argument(s)" at the call, with OPA's details (the argument types found, the declaration
// wanted); so is a call of one of the modules' functions, declared as its definitions type it (rule-types.ts).
// Types are known for literals, for the results of builtin calls and of the modules' functions, for local
// variables assigned from those (`x := 1`, `1 = x`, an output argument, `some k, v in xs` over such a value),
// for a function's arguments as its body types them, and for rules whose values have known types (data.p.o for
// `o := {"a": 1}`, data.p.m.a for `m.a[k] := 1`), and for input and data where JSON schemas type them
// (schema-annotations.ts); the rest of input is any, and everything else (data outside the rules, values built
// from it) is left unknown and never reported, so this reports a subset of OPA's type errors and nothing OPA
// accepts. A unification (`a = b`, `:=`, and `a == b`, which OPA rewrites to `a = b` where it is an
// expression of its own) whose two sides have known types that can never be equal is OPA's "match error". A
// builtin replaced with `with` by another builtin whose declaration cannot unify with its own is OPA's "NAME:
// arity mismatch". A ref that goes on below a value of known type with a key no such value has (`[1][1.5]`,
// `{"a": 1}.b`, `x.a` for `x := 1`) is OPA's "undefined ref". Calls of the wrong arity are OPA's pass before
// types: where there is one, nothing else is reported. rego.metadata.rule() and rego.metadata.chain() in a rule
// are typed as the annotations they answer, which OPA puts in their place first.
import type { Body, Expr, Location, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import type { ArgErrorDetails, MatchErrorDetails, OneOfKey, RefErrorDetails, RefKeyErrorDetails } from '../errors.js';
import { Metadata, valueTerm } from '../planner/metadata.js';
import { compareErrors, refText } from '../errors.js';
import type { Module } from '../ast.js';
import { compareTerms, termJson } from '../partial/ast-json.js';
import { inGoKeyOrder, type FunctionDecl, type ObjectKey, type ObjectProperty, type RegoType } from '../../builtins/declarations.js';
import { compareJson } from '../../builtins/json-value.js';
import { NumberText } from '../../json/number-text.js';
import { ANY, holdsUntyped, isAny, isEmptyCollection, isIndexable, keysOf, merged, objectKeys, scalarKey, select, selectIndex, selectKey, union, unifies, valuesOf } from '../types.js';
import { callName, childTerms, exprTerms, forEachRef, forEachRefInBody, forEachVar } from '../walk.js';
import { exprTermLocals } from './expr-term-locals.js';
import { ruleTypes, type FunctionTypes, type RuleTypes } from './rule-types.js';
import { documentTypeOf, SchemaTyping, type DocumentType, type SchemaProblem } from './schema-annotations.js';
import type { CompileContext, Stage } from './context.js';

/** A type, or undefined where it is not known (nothing is reported about unknown types). */
type Known = RegoType | undefined;

/** Where a key turned back into a term comes from: nowhere in the source (its JSON has no location). */
const NOWHERE: Location = { file: '', row: 0, col: 0, offset: 0, end: 0 };
/**
 * What the environment holds for a variable bound to a value of unknown type (`x := data.q`), so that a later
 * unification compares with it rather than binds it (`x == 1` does not make x a number).
 */
const UNKNOWN: RegoType = { type: 'any' };
const SCALAR_TYPES: Record<string, RegoType> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  number: { type: 'number' },
  string: { type: 'string' },
};

/** The root documents: refs to them are typed as such, never as locals. */
const ROOT_DOCUMENTS = new Set(['data', 'input']);

/** Operators whose operands are any and which bind variables: handled as assignments instead. */
const BINDING_OPERATORS = new Set(['eq', 'assign']);
/** The calls `x in xs` and `k, x in xs` are written as. */
const MEMBERSHIP = new Set(['internal.member_2', 'internal.member_3']);
/** Operators OPA type-checks as a unification of their two operands when they make an expression of their own. */
const UNIFYING_OPERATORS = new Set(['eq', 'assign', 'equal']);

interface Found {
  /** A call with more or fewer operands than its function takes. */
  arity?: true;
  loc: Location;
  message: string;
  details?: ArgErrorDetails | RefErrorDetails | RefKeyErrorDetails | MatchErrorDetails;
}

/** What the checker knows before it looks at a rule: builtin declarations, rule and function types, local names. */
interface Typing {
  declOf: (name: string) => FunctionDecl | undefined;
  rules: RuleTypes;
  functions: FunctionTypes;
  /** The name a generated local was written with. */
  originalName: (v: string) => string;
  /** The locals OPA's rewriting gives calls nested in terms, as its messages print them. */
  callLocals: Map<Term, string>;
  /** What rego.metadata.rule() and rego.metadata.chain() answer in each rule. */
  metadata: Metadata;
}

/**
 * A ref that was a rule's bare name in the source (`x.a` in package p, now data.p.x.a): ResolveRefs gives the
 * package path it puts in front of the name the name's location, one object for all its terms.
 */
function resolvedName(ref: Term[]): boolean {
  return ref.length > 2 && ref[1]!.loc === ref[0]!.loc;
}

/**
 * Where OPA reports an undefined ref that was a rule's bare name: its resolver shares one location among all
 * such refs of a module, which ends up holding the last name it resolved (rules in order, head before body), so
 * every such error points there. That location, for the module.
 */
function lastResolvedName(m: Module): Location | undefined {
  const pkgLength = m.package.path.length;
  let last: Location | undefined;
  const see = (r: Term & { type: 'ref' }) => {
    if (r.value.length > pkgLength && r.value.slice(1, pkgLength + 1).every((t) => t.loc === r.value[0]!.loc)) last = r.value[0]!.loc;
  };
  for (const rule of m.rules) {
    for (let r: Rule | undefined = rule; r; r = r.else) {
      for (const t of [...r.head.ref.slice(1), ...(r.head.args ?? []), r.head.key, r.head.value]) if (t) forEachRef(t, see);
      forEachRefInBody(r.body, see);
    }
  }
  return last;
}

/**
 * What the checker knows of the modules' rules and functions before it checks any of them. A rule's value is
 * typed with what schemas say of input and data in that rule (`p := input.x` has the type input.x has there).
 * Definitions in `erroneous`, and those found to have a type error here (added to it), make their rule any and
 * their function unknown.
 */
function typing(modules: Module[], base: Omit<Typing, 'rules' | 'functions'>, documentsOf: (r: Rule) => DocumentType[], erroneous: Set<Rule>): Typing {
  const bare: Typing = { ...base, rules: new Map(), functions: new Map() };
  const checker = (r: Rule) => new RuleChecker(bare, undefined, [], documentsOf(r));
  const noting = <T>(r: Rule, type: T | 'error'): T | 'error' => {
    if (type === 'error') erroneous.add(r);
    return type;
  };
  return {
    ...base,
    ...ruleTypes(
      modules,
      (r, terms) => (erroneous.has(r) ? 'error' : noting(r, checker(r).headTypes(r, terms))),
      (r) => (erroneous.has(r) ? 'error' : noting(r, checker(r).definitionType(r))),
    ),
  };
}

/**
 * Checks every rule with the types of the rules and functions it reads. As in OPA, a rule with a type error is
 * any to what reads it, and a function with one is not checked where it is called: where a rule's error shows
 * only with the types of others (`q := 1 if p == 1` for a string p), the rules are checked again with it so.
 */
function checkRules(modules: Module[], base: Omit<Typing, 'rules' | 'functions'>, documentsOf: (r: Rule) => DocumentType[]): Found[] {
  const erroneous = new Set<Rule>();
  for (;;) {
    const known = typing(modules, base, documentsOf, erroneous);
    const found: Found[] = [];
    let again = false;
    for (const m of modules) {
      const lastName = lastResolvedName(m);
      for (const rule of m.rules) {
        for (let r: Rule | undefined = rule; r; r = r.else) {
          const reported = found.length;
          new RuleChecker(known, lastName, found, documentsOf(r)).rule(r);
          if (found.length > reported && !erroneous.has(r)) {
            erroneous.add(r);
            again = true;
          }
        }
      }
    }
    if (!again) return found;
  }
}

/** What schemas say of input and data in each rule (an else branch as its rule); problems with them to `problems`. */
function documentTypes(modules: Module[], schemas: SchemaTyping | undefined, problems: SchemaProblem[]): Map<Rule, DocumentType[]> {
  const byRule = new Map<Rule, DocumentType[]>();
  if (!schemas) return byRule;
  for (const m of modules) {
    for (const rule of m.rules) {
      const documents = schemas.forRule(m, rule, problems);
      for (let r: Rule | undefined = rule; r; r = r.else) byRule.set(r, documents);
    }
  }
  return byRule;
}

export const checkTypes: Stage = {
  name: 'CheckTypes',
  run(ctx: CompileContext) {
    const builtin = ctx.options.builtin;
    if (!builtin) return;
    const declOf = (name: string): FunctionDecl | undefined => builtin(name)?.decl as FunctionDecl | undefined;
    const schemas = ctx.options.schemas && new SchemaTyping(ctx.modules, ctx.options.schemas.set);
    const problems: SchemaProblem[] = [];
    const documents = documentTypes(ctx.modules, schemas, problems);
    const base = { declOf, originalName: (v: string) => ctx.rewritten.get(v) ?? v, callLocals: exprTermLocals(ctx), metadata: new Metadata(ctx.modules) };
    let found = checkRules(ctx.modules, base, (r) => documents.get(r) ?? []);
    for (const p of problems) found.push({ loc: p.rule.loc, message: p.message });
    // OPA checks arities in a pass of its own before types: a call of the wrong arity anywhere is all it reports.
    if (found.some((f) => f.arity)) found = found.filter((f) => f.arity);
    found.sort((a, b) => compareErrors(a.loc, a.message, b.loc, b.message));
    for (const f of found) {
      if (!ctx.error('rego_type_error', f.loc, f.message, f.details)) break;
    }
  },
};

/**
 * Reports the calls of the wrong arity, as OPA's CheckUndefinedFuncs does before the safety and recursion checks
 * (so `q := count(data.p, 1)` is an arity mismatch, not a recursion), with the operand types they show. Types the
 * modules for those: called only when some call may have the wrong arity (fitsArity). Returns whether any
 * was reported.
 */
export function reportArityMismatches(ctx: CompileContext): boolean {
  const builtin = ctx.options.builtin;
  if (!builtin) return false;
  const declOf = (name: string): FunctionDecl | undefined => builtin(name)?.decl as FunctionDecl | undefined;
  const base = { declOf, originalName: (v: string) => ctx.rewritten.get(v) ?? v, callLocals: exprTermLocals(ctx), metadata: new Metadata(ctx.modules) };
  const found = checkRules(ctx.modules, base, () => []).filter((f) => f.arity);
  found.sort((a, b) => compareErrors(a.loc, a.message, b.loc, b.message));
  for (const f of found) {
    if (!ctx.error('rego_type_error', f.loc, f.message, f.details)) break;
  }
  return found.length > 0;
}

class RuleChecker {
  /**
   * What `with` replaces in the expression being checked (and in those around it): each target's path below data
   * (undefined for input and functions), and the type of its value where it is known.
   */
  private replaced: Array<{ path: string[] | undefined; type: Known }> = [];
  /**
   * The checked function's argument variables: a builtin call gives one its body has not bound yet the type the
   * builtin wants there, as OPA infers argument types.
   */
  private args = new Set<string>();
  /**
   * Inside an `every` body: OPA finds only calls of the wrong arity there (with the body's variables untyped),
   * and checks the comprehensions in it in full.
   */
  private arityOnly = false;
  /** The rule (or else branch) being checked. */
  private current: Rule | undefined;

  constructor(
    private readonly typing: Typing,
    private readonly lastName: Location | undefined,
    private readonly found: Found[],
    /** What JSON schemas say of input and data in this rule. */
    private readonly documents: DocumentType[],
  ) {}

  rule(r: Rule): void {
    const env = new Map<string, RegoType>();
    this.begin(r);
    this.body(r.body, env);
    // Head terms are evaluated after the body (`p := count(1)` is `count(1, __local0__)` appended to it).
    for (const t of [r.head.key, r.head.value]) if (t) this.typeOf(t, env);
  }

  /**
   * The types of some of a rule's head terms, with the variables its body binds; 'error' where its body or those
   * terms have a type error.
   */
  headTypes(r: Rule, terms: Array<Term | undefined>): Known[] | 'error' {
    const reported = this.found.length;
    const env = new Map<string, RegoType>();
    this.begin(r);
    this.body(r.body, env);
    const types = terms.map((t) => t && this.typeOf(t, env));
    return this.found.length > reported ? 'error' : types;
  }

  /**
   * A function definition's argument and value types, with the variables its body binds (an argument a builtin
   * call takes has the type the builtin wants there); arguments the body leaves unbound are any. 'error' where
   * its body or value has a type error.
   */
  definitionType(r: Rule): { args: Known[]; result: Known } | 'error' {
    const reported = this.found.length;
    const env = new Map<string, RegoType>();
    this.begin(r);
    this.body(r.body, env);
    // Calls in the value are part of the body for OPA (`f(x) := count(x)` gives x what count takes): typed once
    // for the arguments they bind, and again once the arguments left unbound are any.
    if (r.head.value) this.typeOf(r.head.value, env);
    if (this.found.length > reported) return 'error';
    for (const v of this.args) if (!env.has(v)) env.set(v, ANY);
    const args = r.head.args ?? [];
    return { args: args.map((a) => this.typeOf(a, env)), result: r.head.value && this.typeOf(r.head.value, env) };
  }

  private begin(r: Rule): void {
    this.current = r;
    this.args = argVars(r);
  }

  /**
   * The type of what rego.metadata.rule() or rego.metadata.chain() answers in the rule being checked: OPA puts
   * the annotations in their place before it checks types. Undefined for any other call, and where the builtin
   * is not available.
   */
  private metadataType(name: string): Known {
    if ((name !== 'rego.metadata.rule' && name !== 'rego.metadata.chain') || !this.current || !this.typing.declOf(name)) return undefined;
    const value = this.typing.metadata.call(name, this.current);
    return value === undefined ? undefined : this.retyped(valueTerm(value, NOWHERE), new Map());
  }

  private body(body: Body, env: Map<string, RegoType>): void {
    for (const e of body) this.expr(e, env);
  }

  private expr(e: Expr, env: Map<string, RegoType>): void {
    const outer = this.replaced;
    if (e.with?.length) this.replaced = [...outer, ...e.with.map((w) => ({ path: dataPath(w.target), type: this.typeOf(w.value, env) }))];
    this.exprTerms(e, env);
    this.replaced = outer;
  }

  private exprTerms(e: Expr, env: Map<string, RegoType>): void {
    const terms = e.terms;
    if (Array.isArray(terms)) {
      const name = callName(terms[0]!);
      if (name !== undefined && UNIFYING_OPERATORS.has(name) && terms.length === 3) this.unify(terms[1]!, terms[2]!, e.loc, env);
      else if (name !== undefined) this.call(name, terms.slice(1), e.loc, env, false);
    } else if (isTerm(terms)) {
      this.typeOf(terms, env);
    } else if (terms.type === 'every') {
      this.typeOf(terms.domain, env);
      const outer = this.arityOnly;
      this.arityOnly = true;
      this.body(terms.body, this.nested(env, true));
      this.arityOnly = outer;
    } else if (terms.type === 'not') {
      this.body(terms.body, this.nested(env));
    } else if (terms.type === 'logicaland' || terms.type === 'logicalor') {
      this.body(terms.lhs, this.nested(env));
      this.body(terms.rhs, this.nested(env));
    }
    for (const w of e.with ?? []) this.replacement(e, w);
  }

  private report(f: Found): void {
    if (!this.arityOnly || f.arity) this.found.push(f);
  }

  /**
   * The environment of a body nested in one with `env`: what `env` binds, and what it binds itself untyped where
   * it is an `every` body (or nested in one, `untyped`), whose variables OPA leaves untyped.
   */
  private nested(env: Map<string, RegoType>, untyped = UNTYPED.has(env)): Map<string, RegoType> {
    const inner = new Map(env);
    if (untyped) UNTYPED.add(inner);
    return inner;
  }

  /** A comprehension's body and terms, checked in full (also inside an `every` body). */
  private closure<T>(f: () => T): T {
    const outer = this.arityOnly;
    this.arityOnly = false;
    try {
      return f();
    } finally {
      this.arityOnly = outer;
    }
  }

  /**
   * `with f as g` for two builtins: g's arguments must unify with f's, one by one (OPA leaves the results alone:
   * `count` may be replaced by `upper`).
   * OPA reports it once per expression its rewriting makes of `e` (the expression, and one per call nested in
   * it, each of which keeps the `with`).
   */
  private replacement(e: Expr, w: NonNullable<Expr['with']>[number]): void {
    const target = refName(w.target);
    const value = refName(w.value);
    const want = target === undefined ? undefined : this.typing.declOf(target);
    const have = value === undefined ? undefined : this.typing.declOf(value);
    if (!want || !have || want.variadic || have.variadic) return;
    const [wantArgs, haveArgs] = [want.args ?? [], have.args ?? []];
    const fits = wantArgs.length === haveArgs.length && wantArgs.every((t, i) => unifies(haveArgs[i]!, t));
    if (fits) return;
    const details = inGoKeyOrder({ have: haveArgs.map(unnamed), want: { args: wantArgs } });
    let nested = 0;
    const count = (t: Term): void => {
      if (t.type === 'call') nested++;
      for (const c of childTerms(t)) count(c);
    };
    for (const t of exprTerms(e)) count(t);
    for (let i = 0; i <= nested; i++) this.report({ loc: w.loc, message: `${target}: arity mismatch`, details });
  }

  /**
   * `a := b`, `a = b`, `a == b`: two known types that cannot unify are a match error; else a variable on one side
   * takes the type of the other side.
   */
  private unify(a: Term, b: Term, loc: Location, env: Map<string, RegoType>): void {
    const ta = this.typeOf(a, env);
    const tb = this.typeOf(b, env);
    if (ta && tb && !this.unifiable(a, ta, b, tb, env)) {
      this.report({ loc, message: 'match error', details: { a: inGoKeyOrder(ta), b: inGoKeyOrder(tb) } });
    } else if (a.type === 'var' && !env.has(a.value)) bind(env, a.value, tb);
    else if (b.type === 'var' && !env.has(b.value)) bind(env, b.value, ta);
    // What else this binds (`[x, y] = input.pair`) is bound from here on, to a type not known here.
    for (const side of [a, b]) forEachPatternVar(side, (v) => env.has(v) || ROOT_DOCUMENTS.has(v) || bind(env, v, undefined));
  }

  /**
   * OPA's unify2 of two sides of known types. A side holding the empty set literal's untyped elements is matched
   * as a term against the other side's type; where both do, only arrays and objects are taken apart, element by
   * element, and variables compared, as their types cannot be (`set() == set()` and `[set()] == [set()]` are
   * match errors, `x == y` for two sets bound to `set()` is not).
   */
  private unifiable(a: Term, ta: RegoType, b: Term, tb: RegoType, env: Map<string, RegoType>): boolean {
    const [untypedA, untypedB] = [holdsUntyped(ta), holdsUntyped(tb)];
    if (!untypedA && !untypedB) return unifies(ta, tb);
    if (untypedA !== untypedB) return untypedA ? this.matches(a, ta, tb, env) : this.matches(b, tb, ta, env);
    const sides = (x: Term, y: Term): boolean => {
      if (y.type === 'var') return true;
      if (x.type === 'array' && y.type === 'array') return x.value.length === y.value.length && x.value.every((el, i) => this.elementsUnify(el, y.value[i]!, env));
      if (x.type === 'object' && y.type === 'object') {
        if (x.value.length !== y.value.length) return false;
        return x.value.every(([k, v]) => {
          const other = y.value.find(([yk]) => compareTerms(yk, k) === 0);
          return other !== undefined && this.elementsUnify(v, other[1], env);
        });
      }
      return false;
    };
    if (a.type === 'array' || a.type === 'object') return sides(a, b);
    if (a.type === 'var' && (b.type === 'var' || b.type === 'array' || b.type === 'object')) return sides(b, a);
    return false;
  }

  /** Two elements of composites unified side by side: as unifiable, where both types are known. */
  private elementsUnify(a: Term, b: Term, env: Map<string, RegoType>): boolean {
    const [ta, tb] = [this.retyped(a, env), this.retyped(b, env)];
    return !ta || !tb || this.unifiable(a, ta, b, tb, env);
  }

  /**
   * Checks one call and returns its result type. `nested`: a call inside a term, which OPA rewrites to a call
   * with an output variable of its own (so the types it reports end with an unknown one).
   */
  private call(name: string, args: Term[], loc: Location, env: Map<string, RegoType>, nested: boolean): Known {
    const have = args.map((a) => this.typeOf(a, env));
    if (MEMBERSHIP.has(name)) this.membership(args.length === 3 ? have : [undefined, ...have], loc);
    const metadata = this.metadataType(name);
    if (metadata) return this.annotations(metadata, args, have, loc, env);
    const builtin = BINDING_OPERATORS.has(name) ? undefined : this.typing.declOf(name);
    const decl = builtin ?? (BINDING_OPERATORS.has(name) ? undefined : this.typing.functions.get(name) ?? undefined);
    if (!decl) return undefined;
    const params = decl.args ?? [];
    if (!decl.variadic && !fitsArity(args.length, params.length, decl.result !== undefined, nested)) {
      this.report(
        builtin
          ? {
              arity: true,
              loc,
              message: `${name}: arity mismatch`,
              details: inGoKeyOrder({ have: [...args.map((a, i) => arityOperandType(a, have[i])), ...(nested ? [null] : [])], want: params.length > 0 ? { args: params } : {} }),
            }
          : { arity: true, loc, message: `function ${name} has arity ${params.length}, got ${args.length} arguments` },
      );
      return undefined;
    }
    const wanted = decl.result ? [...params, decl.result] : params;
    for (let i = 0; i < args.length; i++) {
      const want = i < wanted.length ? wanted[i] : decl.variadic;
      if (want === undefined) break;
      const arg = args[i]!;
      if (i < params.length && arg.type === 'var' && this.args.has(arg.value) && !env.has(arg.value)) env.set(arg.value, unnamed(want));
      else if (!this.matches(arg, have[i], want, env)) {
        const reported = nested ? [...have, undefined] : have;
        this.report({
          loc,
          message: `${name}: invalid argument(s)`,
          details: inGoKeyOrder({ have: reported.map((t) => t ?? null), want: { args: wanted, ...(decl.variadic ? { variadic: decl.variadic } : {}) } }),
        });
        // OPA types no output of a call it refuses (`y := count(1)` leaves y untyped).
        return undefined;
      }
    }
    const out = args[params.length];
    if (out?.type === 'var' && !env.has(out.value)) bind(env, out.value, decl.result && unnamed(decl.result));
    return decl.result && unnamed(decl.result);
  }

  /**
   * A call of rego.metadata.rule() or rego.metadata.chain(), of type `metadata` in this rule: as OPA rewrites
   * it, the annotations themselves, or where it has operands, the first of them unified with the annotations
   * (the others, and a nested call's output, are left out).
   */
  private annotations(metadata: RegoType, args: Term[], have: Known[], loc: Location, env: Map<string, RegoType>): Known {
    const [first] = args;
    if (!first) return metadata;
    if (have[0] && !unifies(have[0], metadata)) this.report({ loc, message: 'match error', details: { a: inGoKeyOrder(have[0]), b: inGoKeyOrder(metadata) } });
    else if (first.type === 'var' && !env.has(first.value)) bind(env, first.value, metadata);
    return undefined;
  }

  /**
   * `x in xs`, `k, x in xs`: OPA unifies x with the type of xs's values (and k with its keys' type), where xs is
   * of a known type with elements: one that cannot be is a match error.
   */
  private membership([key, value, collection]: Known[], loc: Location): void {
    if (!collection || isAny(collection)) return;
    for (const [have, want] of [[key, keysOf(collection)], [value, valuesOf(collection)]] as const) {
      if (have && want && !unifies(have, want)) {
        this.report({ loc, message: 'match error', details: { a: inGoKeyOrder(have), b: inGoKeyOrder(want) } });
        return;
      }
    }
  }

  /** OPA's unify1 of a term with a wanted type: literals element by element, anything else by its type. */
  private matches(term: Term, type: Known, want: RegoType | null, env: Map<string, RegoType>): boolean {
    if (want === null) return term.type === 'var' && typeIn(env, term.value) === undefined;
    if (term.type === 'array' || term.type === 'set' || term.type === 'object') {
      if (want.type === 'any') return !want.of || want.of.length === 0 || want.of.some((w) => this.matches(term, type, w, env));
      if (term.type === 'array' && want.type === 'array') {
        if (term.value.length !== (want.static?.length ?? 0) && !want.dynamic) return false;
        return term.value.every((el, i) => this.matches(el, this.retyped(el, env), selectIndex(want, i), env));
      }
      if (term.type === 'set' && want.type === 'set') return term.value.every((el) => want.of !== undefined && this.matches(el, this.retyped(el, env), want.of, env));
      if (term.type === 'object' && want.type === 'object') {
        if (term.value.length !== (want.static?.length ?? 0) && !want.dynamic) return false;
        return term.value.every(([k, v]) => {
          if (!isScalar(k)) return true;
          const child = selectKey(want, scalarKey(k));
          return child !== null && this.matches(v, this.retyped(v, env), child, env);
        });
      }
      return false;
    }
    return type === undefined || unifies(type, want);
  }

  /**
   * The type of `head[a][b]...` where head is input (any), data, a local of known type or a literal, as OPA's
   * ref checker finds it: each constant key selects, each other key iterates (`[1][i]`, as `some x in [1]` is
   * rewritten) and gives a variable not bound yet the type of the keys.
   */
  private refType(ref: Term[], env: Map<string, RegoType>): Known {
    const [head, ...path] = ref;
    const keyTypes = [undefined, ...path.map((x) => this.typeOf(x, env))];
    if (head!.type === 'var' && head!.value === 'data' && !env.has('data')) return this.dataRefType(ref, keyTypes, env);
    if (head!.type === 'var' && head!.value === 'input') {
      const schema = documentTypeOf(this.documents, ref);
      if (schema === 'below') return undefined;
      if (!schema) return ANY;
      return this.descend(ref, schema.length, schema.type, keyTypes, env, ref[0]!.loc);
    }
    if (head!.type === 'var') {
      const type = typeIn(env, head!.value);
      return type && this.descend(ref, 1, type, keyTypes, env, ref[0]!.loc);
    }
    // A head with a type error of its own (`upper(1)[_]`) has no type for OPA to go on with.
    const reported = this.found.length;
    const type = this.typeOf(head!, env);
    return type && this.found.length === reported ? this.descend(ref, 1, type, keyTypes, env, ref[0]!.loc) : undefined;
  }

  /** The type of a ref into data: a rule's known type (as `with` leaves it), and what the ref selects below it. */
  private dataRefType(ref: Term[], keyTypes: Known[], env: Map<string, RegoType>): Known {
    const loc = (resolvedName(ref) && this.lastName) || ref[0]!.loc;
    // What a schema says of data holds under `with` too, as in OPA.
    const schema = documentTypeOf(this.documents, ref);
    if (schema === 'below') return undefined;
    if (schema) return this.descend(ref, schema.length, schema.type, keyTypes, env, loc);
    const names: string[] = [];
    for (let i = 1; i < ref.length; i++) {
      const seg = ref[i]!;
      if (seg.type !== 'string') return undefined;
      names.push(seg.value);
      const type = this.typing.rules.get(JSON.stringify(names));
      if (type === undefined) continue;
      const replaced = type === null ? undefined : this.withReplaced(names, type);
      return replaced && this.descend(ref, i + 1, replaced, keyTypes, env, loc);
    }
    return undefined;
  }

  /**
   * The type of the rule at `path` below data where `with` replaces it by a value: as OPA's checker types it, the
   * rule's type merged with the value's (`merged`). Unknown where the value's type is not known, or where a
   * document above the rule is replaced.
   */
  private withReplaced(path: string[], type: RegoType): Known {
    let out: Known = type;
    for (const r of this.replaced) {
      if (!r.path || !r.path.every((n, i) => i >= path.length || path[i] === n)) continue;
      if (r.path.length !== path.length || !r.type) return undefined;
      out = out && merged(out, r.type);
    }
    return out;
  }

  /**
   * The type of what ref[from:] selects below a value of type `type`. A key no such value has is an "undefined
   * ref" error at `loc` (none without it): a key below a value that has no keys (a number, a string), a constant
   * key no value of the type has (`[1][1.5]`, `{"a": 1}.b`), or a key of known type that cannot be one of its keys.
   */
  private descend(ref: Term[], from: number, type: RegoType, keyTypes: Known[], env: Map<string, RegoType>, loc: Location | undefined): Known {
    for (let i = from; i < ref.length; i++) {
      if (isAny(type)) return type;
      if (!isIndexable(type)) return this.undefinedRef(loc, ref, { pos: i - 1, have: inGoKeyOrder(type) });
      const key = ref[i]!;
      const keys = keysOf(type);
      const oneOf = () => {
        const names = objectKeys(type);
        return names.length > 0 ? names.map(keyJson) : null;
      };
      if (isScalar(key)) {
        const child = select(type, key);
        if (child === null) return this.undefinedRef(loc, ref, { pos: i, want: isEmptyCollection(type) || !keys ? null : inGoKeyOrder(keys), oneOf: oneOf() });
        type = child;
        continue;
      }
      const have = keyTypes[i];
      if (key.type === 'var' && !env.has(key.value)) {
        bind(env, key.value, keys);
      } else if (key.type === 'var' || key.type === 'ref' || key.type === 'call' || key.type === 'array' || key.type === 'object' || key.type === 'set') {
        const named = key.type === 'var' || key.type === 'ref' || key.type === 'call';
        const fits = !keys || !have || (named ? unifies(have, keys) : this.matches(key, have, keys, env));
        // OPA lists an object's keys for a variable, ref or call key, not for a composite one.
        if (!fits) return this.undefinedRef(loc, ref, { pos: i, have: inGoKeyOrder(have!), want: inGoKeyOrder(keys!), oneOf: named ? oneOf() : null });
      } else {
        return undefined;
      }
      const values = valuesOf(type);
      if (!values) return undefined;
      type = values;
    }
    return type;
  }

  /**
   * Reports an "undefined ref" with OPA's details (the ref's locals by the names they were written with), where
   * it is to be reported and OPA's text of the ref is known.
   */
  private undefinedRef(loc: Location | undefined, ref: Term[], detail: Omit<RefErrorDetails, 'ref'> | Omit<RefKeyErrorDetails, 'ref'>): undefined {
    const terms = ref.map((t) => this.written(t, 'ref'));
    if (!loc || terms.some((t) => t === undefined)) return undefined;
    const json = terms.map((t) => termJson(t!) as RefErrorDetails['ref'][number]);
    this.report({ loc, message: `undefined ref: ${refText(json)}`, details: { ref: json, ...detail } });
    return undefined;
  }

  /**
   * A ref's term as OPA prints it in a type error: locals by the names they were written with, a call nested in an
   * array, object or set as the local OPA's rewriting gives it (a call in the ref itself, and all below it, stay
   * as written); undefined where OPA's text is not known (a comprehension, a template string, a call whose local
   * is not known). `at`: 'ref' for the ref's own terms, 'composite' inside their arrays, objects and sets,
   * 'verbatim' below a call.
   */
  private written(t: Term, at: 'ref' | 'composite' | 'verbatim'): Term | undefined {
    const all = (xs: Term[], inner: typeof at): Term[] | undefined => {
      const out = xs.map((x) => this.written(x, inner));
      return out.every((x) => x !== undefined) ? (out as Term[]) : undefined;
    };
    const inner = at === 'verbatim' ? 'verbatim' : 'composite';
    switch (t.type) {
      case 'null': case 'boolean': case 'number': case 'string': return t;
      case 'var': return { ...t, value: this.typing.originalName(t.value) };
      case 'call': {
        if (at === 'composite') {
          const local = this.typing.callLocals.get(t);
          return local === undefined ? undefined : { type: 'var', value: local, loc: t.loc };
        }
        const value = all(t.value, 'verbatim');
        return value && { ...t, value };
      }
      case 'ref': {
        const value = all(t.value, at === 'verbatim' ? 'verbatim' : 'ref');
        return value && { ...t, value };
      }
      case 'array': case 'set': {
        const value = all(t.value, inner);
        return value && { ...t, value };
      }
      case 'object': {
        const keys = all(t.value.map(([k]) => k), inner);
        const values = all(t.value.map(([, v]) => v), inner);
        return keys && values && { ...t, value: keys.map((k, i) => [k, values[i]!] as [Term, Term]) };
      }
      default: return undefined;
    }
  }

  /**
   * An object literal's type: a static property for each constant key (`{1: "a"}`, `{[1]: "a"}` too), a dynamic
   * one for a key of known type that is no constant (OPA keeps the last such key's and value's types).
   */
  private objectType(entries: Array<[Term, Term]>, env: Map<string, RegoType>): Known {
    const props: ObjectProperty[] = [];
    let dynamic: { key: RegoType; value: RegoType } | undefined;
    let known = true;
    for (const [k, v] of entries) {
      const tk = this.typeOf(k, env);
      const tv = this.typeOf(v, env);
      const key = constantKey(k);
      const keyed = k.type === 'var' || k.type === 'ref' || k.type === 'call' || k.type === 'array' || k.type === 'object' || k.type === 'set';
      if (!tv || key instanceof NumberText || (key === undefined && (!tk || !keyed))) known = false;
      else if (key !== undefined) props.push({ key, value: tv });
      else dynamic = { key: tk!, value: tv };
    }
    if (!known) return undefined;
    props.sort((a, b) => compareJson(a.key, b.key));
    return { type: 'object', ...(props.length > 0 ? { static: props } : {}), ...(dynamic ? { dynamic } : {}) };
  }

  /** The type of a term checked before, again: what it reports was reported then. */
  private retyped(t: Term, env: Map<string, RegoType>): Known {
    const reported = this.found.length;
    const type = this.typeOf(t, env);
    this.found.length = reported;
    return type;
  }

  /** The type of a term as far as it is known; checks the calls it contains on the way. */
  private typeOf(t: Term, env: Map<string, RegoType>): Known {
    switch (t.type) {
      case 'null': case 'boolean': case 'number': case 'string':
        return SCALAR_TYPES[t.type];
      case 'var':
        return typeIn(env, t.value);
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
        if (items.some((x) => x === undefined)) return undefined;
        return items.length > 0 ? { type: 'set', of: union(items as RegoType[]) } : { type: 'set' };
      }
      case 'object':
        return this.objectType(t.value, env);
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
        const { body, term } = t.value;
        const of = this.closure(() => {
          const inner = new Map(env);
          this.body(body, inner);
          // The collection holds values of its term's type, as OPA infers it (concat over [x * 2 | …] is a type error).
          return this.typeOf(term, inner);
        });
        if (of === undefined) return undefined;
        return t.type === 'arraycomprehension' ? { type: 'array', dynamic: of } : { type: 'set', of };
      }
      case 'objectcomprehension': {
        const { body, key: k, value: v } = t.value;
        const [key, value] = this.closure(() => {
          const inner = new Map(env);
          this.body(body, inner);
          return [this.typeOf(k, inner), this.typeOf(v, inner)];
        });
        return key && value ? { type: 'object', dynamic: { key, value } } : undefined;
      }
    }
  }
}

/** The environments of `every` bodies and of bodies nested in them (RuleChecker.nested): they bind untyped. */
const UNTYPED = new WeakSet<Map<string, RegoType>>();

/** Binds a variable to its type, or to UNKNOWN where its type is not known or its body binds untyped. */
function bind(env: Map<string, RegoType>, v: string, type: Known): void {
  env.set(v, UNTYPED.has(env) ? UNKNOWN : type ?? UNKNOWN);
}

/** A variable's type where it is bound to one that is known. */
function typeIn(env: Map<string, RegoType>, v: string): Known {
  const type = env.get(v);
  return type === UNKNOWN ? undefined : type;
}

/** The variables a unification binds where they stand in a term: itself, or inside an array, object or set. */
function forEachPatternVar(t: Term, f: (v: string) => void): void {
  if (t.type === 'var') f(t.value);
  else if (t.type === 'array' || t.type === 'set') for (const x of t.value) forEachPatternVar(x, f);
  else if (t.type === 'object') for (const [k, v] of t.value) [k, v].forEach((x) => forEachPatternVar(x, f));
}

/** The variables in a function's arguments (none for a rule). */
function argVars(r: Rule): Set<string> {
  const vars = new Set<string>();
  for (const a of r.head.args ?? []) forEachVar(a, (v) => vars.add(v.value));
  return vars;
}

/** The names below data of a `with` target that is a ref into data of constant strings, else undefined. */
function dataPath(t: Term): string[] | undefined {
  if (t.type !== 'ref' || t.value[0]!.type !== 'var' || t.value[0]!.value !== 'data') return undefined;
  const names = t.value.slice(1).map((seg) => (seg.type === 'string' ? seg.value : undefined));
  return names.every((n) => n !== undefined) ? (names as string[]) : undefined;
}

/** The dotted name of a var or a ref of constant strings (`count`, `time.now_ns`), else undefined. */
function refName(t: Term): string | undefined {
  if (t.type === 'var') return t.value;
  if (t.type !== 'ref' || t.value[0]!.type !== 'var') return undefined;
  const parts = [t.value[0]!.value];
  for (const seg of t.value.slice(1)) {
    if (seg.type !== 'string') return undefined;
    parts.push(seg.value);
  }
  return parts.join('.');
}

/**
 * A constant object key as OPA's object type holds it: a scalar, or a composite of constants as JSON (a set as
 * the array of its elements, in order); undefined for anything else (a variable, an object with a key that is
 * no string); a NumberText where it holds a number JSON cannot (OPA's type of such a key is not known here).
 */
function constantKey(t: Term): ObjectKey | NumberText | undefined {
  if (isScalar(t)) return scalarKey(t);
  if (t.type === 'array' || t.type === 'set') {
    const items = (t.type === 'set' ? [...t.value].sort(compareTerms) : t.value).map(constantKey);
    const unheld = items.find((x) => x instanceof NumberText);
    if (unheld) return unheld;
    return items.every((x) => x !== undefined) ? (items as ObjectKey[]) : undefined;
  }
  if (t.type === 'object') {
    const out: { [key: string]: ObjectKey } = {};
    for (const [k, v] of t.value) {
      const value = constantKey(v);
      if (k.type !== 'string' || value === undefined) return undefined;
      if (value instanceof NumberText) return value;
      out[k.value] = value;
    }
    return out;
  }
  return undefined;
}

/**
 * An object type's key as OPA lists it among those a ref may use, in its JSON of AST values: null as `{}`, a
 * composite as its terms (an array's elements, an object's key-value pairs).
 */
function keyJson(key: ObjectKey): OneOfKey {
  if (key === null) return {};
  if (typeof key !== 'object') return key;
  return termJson(valueTerm(key, NOWHERE)).value as OneOfKey;
}

function isScalar(t: Term): t is Term & { type: 'null' | 'boolean' | 'number' | 'string' } {
  return t.type === 'null' || t.type === 'boolean' || t.type === 'number' || t.type === 'string';
}

function unnamed(t: RegoType): RegoType {
  if (t.name === undefined) return t;
  const { name: _name, ...rest } = t;
  return rest as RegoType;
}

/**
 * An operand's type as OPA shows it in an arity mismatch, which it finds before it has typed the expression's
 * variables: a literal by its type (a comprehension too, typed as `typed`), a ref into input or data as any, and
 * null (???) for a variable, a ref below one, and a nested call (its rewriting makes that a variable), at any
 * depth inside arrays and objects: OPA keeps such nil types inside composites, which RegoType has no
 * place for, hence the casts.
 */
function arityOperandType(t: Term, typed: Known): RegoType | null {
  switch (t.type) {
    case 'null': case 'boolean': case 'number': case 'string':
      return SCALAR_TYPES[t.type]!;
    case 'var': case 'call':
      return null;
    case 'ref': {
      const head = t.value[0]!;
      return head.type === 'var' && ROOT_DOCUMENTS.has(head.value) ? ANY : null;
    }
    case 'array':
      return (t.value.length > 0 ? { type: 'array', static: t.value.map((x) => arityOperandType(x, undefined)) } : { type: 'array' }) as RegoType;
    case 'set': {
      // A set's element type is the union of those known.
      const items = t.value.map((x) => arityOperandType(x, undefined)).filter((x) => x !== null);
      return items.length > 0 ? { type: 'set', of: union(items) } : { type: 'set' };
    }
    case 'object': {
      const props: Array<{ key: ObjectKey; value: RegoType | null }> = [];
      let dynamic: { key: RegoType | null; value: RegoType | null } | undefined;
      for (const [k, v] of t.value) {
        const key = constantKey(k);
        const value = arityOperandType(v, undefined);
        if (key === undefined || key instanceof NumberText) dynamic = { key: arityOperandType(k, undefined), value };
        else props.push({ key, value });
      }
      props.sort((a, b) => compareJson(a.key, b.key));
      return { type: 'object', ...(props.length > 0 ? { static: props } : {}), ...(dynamic ? { dynamic } : {}) } as RegoType;
    }
    default:
      return typed ?? null;
  }
}

/**
 * Whether a call has as many operands as its function takes: a call inside a term exactly its arguments (OPA gives
 * it an output of its own), one written as an expression its arguments, or those and an output to compare.
 */
export function fitsArity(operands: number, params: number, hasResult: boolean, nested: boolean): boolean {
  if (nested) return operands === params;
  return operands === params || (hasResult && operands === params + 1);
}
