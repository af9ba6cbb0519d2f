// Partial evaluation of a query over checked and rewritten modules (the compiler's front end), with some
// references declared unknown. Everything that does not depend on an unknown is evaluated (rules, data,
// builtins on known arguments); what does is kept as residual expressions. Each way the query can succeed gives
// one residual query (a conjunction); the queries together are a disjunction. Rules that cannot be inlined
// into the queries (complete rules with a default that may apply, the full extent of partial sets, paths
// named in disableInlining) become support rules under data.partial, as OPA makes them.
//
// The search is depth first with continuations: every step calls `k` once per way it can succeed. Values are
// AST terms: ground terms are known values; any other term (a reference into an unknown, a residual variable)
// is residual. A variable is residual when it is bound to itself: it stands for a value only known later.
import type { Body, Expr, Location, Module, Rule, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { callName, exprOperator } from '../walk.js';
import { isIdentifier } from '../rego-text.js';
import { builtinArity, callBuiltin } from './builtin-calls.js';
import { callOutputsApart, closureVars, plugDeep } from './closures.js';
import { DEFINED_PREFIX, exprKey, orientEquations, propagateCopies, simplifyQuery, termKey } from './copy-propagation.js';
import { orderSupport } from './support-order.js';
import { hasRefs, isGround, NO_LOC, toTerm, toValue, groundEqual, sortedSet, valuesEqual } from './values.js';
import { isRegoSet } from '../../builtins/rego-value.js';
import { readJson } from '../../json/reader.js';
import { writeJson } from '../../json/writer.js';
import { conflictHead } from '../../wasm/fault-message.js';

/** A query or policy the partial evaluator cannot handle, or an evaluation error, with OPA's error fields. */
export class PartialEvalError extends Error {
  constructor(readonly code: 'eval_conflict_error' | 'eval_type_error' | 'partial_eval_unsupported', message: string, readonly location?: Location) {
    super(message);
    this.name = 'PartialEvalError';
  }
}

export interface PartialOptions {
  /** Unknown references as segment lists: ['input', 'ticket'] for input.ticket. */
  unknowns: string[][];
  /** Rule paths ('data.x.allow' as ['data','x','allow']) that must not be inlined. */
  disableInlining: string[][];
  input: unknown;
  data: unknown;
  /** Receives evaluation events (explain): the evaluation is then a full one, as OPA's trace follows it. */
  tracer?: (event: TraceEvent) => void;
  /** Times the evaluator's operations and counts its virtual-document cache use (OPA's ?instrument). */
  instrument?: EvalInstrument;
}

/** What an instrumented evaluation reports: each operation's time, and its caches' (virtual and base documents) hits and misses. */
export interface EvalInstrument {
  time<T>(op: 'plug' | 'resolve' | 'rule_index' | 'builtin_call', run: () => T): T;
  count(counter: 'virtual_cache_hit' | 'virtual_cache_miss' | 'base_cache_hit' | 'base_cache_miss'): void;
}

/** What an evaluation event is about: a query body, a rule (with its path), an expression, or none (a note). */
export type TraceNode = { kind: 'body'; body: Body } | { kind: 'rule'; rule: Rule; path: string[] } | { kind: 'expr'; expr: Expr } | null;

export interface TraceEvent {
  op: 'enter' | 'eval' | 'unify' | 'exit' | 'redo' | 'fail' | 'note' | 'index';
  query: number;
  parent: number;
  node: TraceNode;
  /** The bindings at the event (values as evaluated: plug before printing). */
  env: ReadonlyMap<string, Term>;
  location: Location;
  message?: string;
  /** An index event's rules: their path below data. */
  ref?: string[];
}

export interface SupportRule {
  /** The rule's path without `data.partial`: ['q', 'allow'] (its package, then the first term of its head). */
  path: string[];
  /**
   * The rest of a head reference (`p[x].q` has [x, "q"] after p): keys bound by the body, as rules with
   * variables in their heads and partial objects have them.
   */
  ref?: Term[];
  kind: 'complete' | 'set' | 'function';
  default?: true;
  /** A function's parameters. */
  args?: Term[];
  /** The value of a complete rule, the element of a set. */
  value: Term;
  body: Expr[];
}

export interface PartialResult {
  queries: Expr[][];
  support: SupportRule[];
}

type Env = ReadonlyMap<string, Term>;
interface State {
  env: Env;
  saved: readonly Expr[];
}
type K = (st: State) => void;
type Comprehension = Extract<Term, { type: 'arraycomprehension' | 'setcomprehension' | 'objectcomprehension' }>;
type KT = (t: Term, st: State) => void;

/** What `with` replaces for the expression it modifies, and restores after it. */
interface WithState {
  input: unknown;
  data: unknown;
  mocks: ReadonlyMap<string, { fn: string; residual?: true } | { value: Term }>;
  unknowns: string[][];
  knownValues: Map<string, Term | null>;
  dependsMemo: Map<string, boolean>;
  inWith: boolean;
  outsideWith: WithState | undefined;
}

/** An equation holding a support rule's head term in a variable, and where the body bound that variable. */
interface HeldEquation {
  e: Expr;
  at: number;
}

/** A support rule's head as the rule writes it, with the bindings and the query id of the body's solution. */
interface WrittenHead {
  value: Term;
  ref: Term[];
  env: Env;
  query: number;
}

interface RuleSet {
  path: string[];
  /**
   * 'general': heads with a variable before their last segment (data.a[x].b), kept at the path above the first
   * variable; the rest of each head is in `generalHeads`.
   */
  kind: 'complete' | 'set' | 'object' | 'function' | 'general';
  rules: Rule[];
  default?: Rule;
}

const v = (value: string, loc: Location = NO_LOC): Term => ({ type: 'var', value, loc });
const str = (value: string, loc: Location = NO_LOC): Term => ({ type: 'string', value, loc });
/** data.<path>, then `rest`: a reference to a rule (or support rule, with 'partial' first) and into it. */
const dataRef = (path: string[], loc: Location, rest: Term[] = []): Extract<Term, { type: 'ref' }> => ({ type: 'ref', value: [v('data', loc), ...path.map((seg) => str(seg, loc)), ...rest], loc });
const op = (name: string, loc: Location = NO_LOC): Term => ({ type: 'ref', value: name.split('.').map((s, i) => (i === 0 ? v(s, loc) : str(s, loc))), loc });
const TRUE: Term = { type: 'boolean', value: true, loc: NO_LOC };

/** Builtins whose answer may change from one call to the next: kept residual, as OPA keeps them. */
const NONDETERMINISTIC: ReadonlySet<string> = new Set(['http.send', 'io.jwt.decode_verify', 'io.jwt.encode_sign', 'io.jwt.encode_sign_raw', 'json.match_schema', 'json.verify_schema', 'net.lookup_ip_addr', 'opa.runtime', 'rand.intn', 'time.now_ns', 'uuid.rfc4122']);

function unsupported(message: string, loc?: Location): PartialEvalError {
  return new PartialEvalError('partial_eval_unsupported', message, loc);
}

export class PartialEvaluator {
  private readonly rules = new Map<string, RuleSet>();
  /**
   * For each rule, the terms of its head below its set's path: an object rule's key, a general rule's keys
   * (`p[x].q` at p: [x, "q"]), with a set rule's element last (`element`).
   */
  private readonly headKeys = new WeakMap<Rule, { keys: Term[]; element: boolean }>();
  /** Every prefix of a rule path, for refs that stop above rules (a package, say). */
  private readonly rulePrefixes = new Set<string>();
  private dependsMemo = new Map<string, boolean>();
  private knownValues = new Map<string, Term | null>();
  /** The known input and the unknowns: `with input… as` replaces them for one expression. */
  private input: unknown;
  /** The known data: `with data… as` replaces parts of it for one expression. */
  private data: unknown;
  /** Functions and builtins replaced by `with f as g` (another function) or `with f as v` (a value). */
  private mocks: ReadonlyMap<string, { fn: string; residual?: true } | { value: Term }> = new Map();
  private unknowns: string[][];
  /** Inside `with`: support rules (shared by every use of a rule) would not see the replaced input. */
  private inWith = false;
  /** The evaluator's state outside the outermost `with` being evaluated. */
  private outsideWith: WithState | undefined;
  private readonly support = new Map<string, SupportRule[]>();
  private fresh = 0;
  /** Variables standing for values only known when the residual query runs. */
  private readonly residualVars = new Set<string>();
  /**
   * Definedness conditions: the variable each one stands for, as OPA names it (a query local as it is, a
   * rule's variable after the rule body's query: `z1`).
   */
  private readonly definedness = new Map<string, string>();
  /** While a function's parameters are bound to its arguments: the query its body is about to be. */
  private parameterQuery: number | undefined;
  private queryVars: ReadonlySet<string> = new Set();
  /**
   * Comprehensions kept whole that read an unknown themselves (not only through rules): a variable equated
   * with one stays a variable, the equation kept, as OPA keeps it.
   */
  private readonly unknownClosures = new WeakSet<Term>();
  /**
   * A residual call's generated output variable, and the name of the rule-body variable written as the call's
   * output operand (`split(input, ":", x)` in query 1: x1). Where the generated variable outlives copy
   * propagation it takes that name, as OPA keeps the operand as written.
   */
  private readonly outputNames = new Map<string, Term>();
  /**
   * Residual terms a variable was bound to while standing on the right of the equation (`input.x = y`): the
   * query writes them first, as OPA keeps the equation as written.
   */
  private readonly equatedFirst = new WeakSet<Term>();
  /** Values bound to a variable written first (`x := input.a`, `x = input.a`, a function's parameter). */
  private readonly boundVariableFirst = new WeakSet<Term>();
  /** Rules' residual values that OPA writes after what they are equated with (valueWrittenSecond). */
  private readonly otherOperandFirst = new WeakSet<Term>();
  /** A query variable's residual value, and the expressions saved before the variable was bound to it. */
  private readonly boundAfter = new WeakMap<Term, readonly Expr[]>();
  /** The expression (as written) each saved equation came from. */
  private readonly savedBy = new WeakMap<Expr, Expr>();
  /** Reference segments already evaluated (residual ones stay non-ground). */
  private readonly evaluated = new WeakSet<Term>();
  /** Tracing: the query (rule body, negation, comprehension) being evaluated, and each query's parent. */
  private query = 0;
  private nextQuery = 1;
  private readonly parents = new Map<number, number>([[0, 0]]);
  /** Queries that stopped after their first solution (complete rules with a constant value: OPA's early exit). */
  private readonly halted = new Set<number>();
  private currentExpr: Expr | undefined;
  /** Base data read so far (readBaseData), by path, for the data document it was read from. */
  private baseCache: { data: unknown; terms: Map<string, Term> } = { data: undefined, terms: new Map() };
  /** How many lone terms each query has equated with a variable (tracedUnify), for those variables' names. */
  private readonly lonetermVars = new Map<number, number>();
  /** By query: how many `$_ref_N` variables it has. */
  private readonly refVars = new Map<number, number>();
  /** Evaluating an expression whose `with` is kept in the residual (keepingEquations). */
  private equationsKept = false;
  /** Evaluating the rules of a support function (their bodies are kept as OPA keeps them, unsimplified). */
  private inSupportFunction = false;
  /**
   * The rule or function body being evaluated (a number of its own for each evaluation), 0 in the query's own
   * body: kept closures name their variables after it, as OPA namespaces them per body.
   */
  private frame = 0;

  constructor(modules: Module[], private readonly options: PartialOptions) {
    this.input = options.input;
    this.data = options.data;
    this.unknowns = options.unknowns;
    for (const m of modules) {
      const pkg = m.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : ''));
      for (const rule of m.rules) this.addRule(pkg, rule);
    }
  }

  private addRule(pkg: string[], rule: Rule): void {
    const head = rule.head;
    const segs: string[] = [];
    let key = head.key;
    let unsupportedHead = false;
    for (const [i, t] of head.ref.entries()) {
      // Rules with a variable inside their head are kept at the path above it, where any reference reaches them.
      if (unsupportedHead) continue;
      if (i === 0 && t.type === 'var') segs.push(t.value);
      else if (t.type === 'string') segs.push(t.value);
      // The last segment is the key of `p[x] = v` (head.key is that term too); in `p[x] contains y` it is not.
      else if (i === head.ref.length - 1 && (!head.key || (head.key.type === 'var' && t.type === 'var' && head.key.value === t.value))) key = t;
      else unsupportedHead = true;
    }
    // `p["a"] = 1` is a complete rule at p.a: its key is the last constant segment of the path.
    const last = head.ref[head.ref.length - 1]!;
    if (head.ref.length > 1 && head.value && key?.type === 'string' && last.type === 'string' && key.value === last.value) key = undefined;
    const path = [...pkg, ...segs];
    const kind: RuleSet['kind'] = unsupportedHead ? 'general' : head.args ? 'function' : key && !head.value ? 'set' : key ? 'object' : 'complete';
    const name = path.join('.');
    let set = this.rules.get(name);
    if (!set) {
      set = { path, kind, rules: [] };
      this.rules.set(name, set);
      for (let i = 1; i < path.length; i++) this.rulePrefixes.add(path.slice(0, i).join('.'));
    }
    if (unsupportedHead) set.kind = 'general';
    const normalised = key === head.key ? rule : { ...rule, head: { ...head, key } };
    // `p[x].q contains y`: the element is not part of the head reference; `p[x].q[y] := v` has a value.
    const tail = head.ref.slice(segs.length);
    const inRef = last.type === 'var' && head.key?.type === 'var' && head.key.value === last.value;
    const isSet = head.key !== undefined && !head.value;
    this.headKeys.set(normalised, { keys: isSet && !inRef ? [...tail, head.key!] : tail, element: isSet });
    if (rule.default) set.default = normalised;
    else set.rules.push(normalised);
  }

  /** Evaluates a query body (already through the compile stages), returning residual queries and support. */
  run(body: Body, queryVars: string[]): PartialResult {
    this.queryVars = new Set(queryVars);
    const queries: Expr[][] = [];
    this.evalBody(body, 0, { env: new Map(), saved: [] }, (st) => {
      const bindings = new Map<string, Term>();
      const valueFirst = new Set<string>();
      const boundAt = new Map<string, number>();
      for (const name of queryVars) {
        if (name.startsWith('__local')) continue;
        const bound = st.env.get(name);
        if (!bound || (bound.type === 'var' && bound.value === name)) continue;
        const value = plug(bound, st.env);
        bindings.set(name, value);
        // A rule's document kept as a reference (a support rule, a rule with else) is written first, as OPA
        // writes the reference it could not evaluate.
        if (this.equatedFirst.has(bound) || isDataRef(value)) valueFirst.add(name);
        // Bound to a reference, it keeps its place; bound to a collection holding residual terms, it goes last.
        const before = this.boundAfter.get(bound);
        if (before && value.type === 'ref' && before.every((e, i) => st.saved[i] === e)) boundAt.set(name, before.length);
      }
      // Generated variables a query variable is bound to take its name: they stay.
      const named = new Set([...bindings.values()].flatMap((t) => (t.type === 'var' ? [t.value] : [])));
      // Numbered in the order saved, for simplifyQuery to place the bindings among them.
      const saved = reindex([...st.saved]);
      queries.push(reindex(definednessLast(simplifyQuery(propagateCopies(saved, named), bindings, (name) => this.queryVars.has(name) && !name.startsWith('__local'), valueFirst, boundAt), this.definedness)));
    });
    const support = orderSupport([...this.support.values()].flat().map((r) => ({ ...r, body: reindex(r.kind === 'function' ? r.body : definednessLast(orientEquations(propagateCopies(r.body, headVarNames(r)), headVars(r)), this.definedness)) })));
    const named = <T>(node: T): T => plugDeep(node, this.outputNames);
    return { queries: queries.map((q) => named(equalsAsUnifications(q))), support: support.map((r) => named({ ...r, body: equalsAsUnifications(r.body) })) };
  }

  /**
   * Evaluates a query body in full, reporting each event to the tracer; returns the bindings of each solution.
   * Anything left residual (a nondeterministic builtin, say) is refused: the trace would not be OPA's.
   */
  explain(body: Body): Env[] {
    const solutions: Env[] = [];
    const node: TraceNode = { kind: 'body', body };
    const loc = body[0]?.loc ?? NO_LOC;
    this.emit('enter', 0, node, new Map(), loc);
    this.evalBody(body, 0, { env: new Map(), saved: [] }, (st) => {
      if (st.saved.length > 0) throw unsupported(`explain cannot follow ${describe(st.saved[0]!)}, which the evaluator keeps unevaluated`, st.saved[0]!.loc);
      this.emit('exit', 0, node, st.env, loc);
      solutions.push(st.env);
      this.query = 0;
      this.emit('redo', 0, node, st.env, loc);
    });
    return solutions;
  }

  private timed<T>(op: 'plug' | 'resolve' | 'rule_index' | 'builtin_call', run: () => T): T {
    return this.options.instrument ? this.options.instrument.time(op, run) : run();
  }

  private emit(op: TraceEvent['op'], query: number, node: TraceNode, env: Env, location: Location, message?: string, ref?: string[]): void {
    this.options.tracer?.({ op, query, parent: this.parents.get(query) ?? 0, node, env, location, message, ...(ref ? { ref } : {}) });
  }

  /**
   * Runs `run` as a child query of the current one (with the next query id), traced as OPA traces a rule body: Enter, its expressions,
   * Exit for each solution, then (once the solution's continuation returned) Redo. With `early`, the query
   * stops after its first solution. Untraced, `run` runs as it is.
   */
  private childQuery(node: TraceNode, env: Env, loc: Location, run: (exit: (end: Env, then: () => void) => void) => void, early = false): void {
    if (!this.options.tracer) {
      // Query ids are kept untraced too: OPA names the support rule of a negation after them.
      const parent = this.query;
      const q = this.nextQuery++;
      this.query = q;
      run((_end, then) => {
        this.query = parent;
        then();
        this.query = q;
      });
      this.query = parent;
      return;
    }
    const parent = this.query;
    const parentExpr = this.currentExpr;
    const q = this.nextQuery++;
    this.parents.set(q, parent);
    this.query = q;
    this.emit('enter', q, node, env, loc);
    run((end, then) => {
      if (this.halted.has(q)) return;
      this.emit('exit', q, node, end, loc, early ? 'early' : undefined);
      if (early) this.halted.add(q);
      const inner = this.currentExpr;
      this.query = parent;
      this.currentExpr = parentExpr;
      then();
      this.query = q;
      this.currentExpr = inner;
      this.emit('redo', q, node, end, loc);
    });
    this.query = parent;
    this.currentExpr = parentExpr;
  }

  // ---------------------------------------------------------------- bodies and expressions

  private evalBody(body: Body, i: number, st: State, k: K): void {
    if (i >= body.length) return k(st);
    this.evalExpr(body[i]!, st, (next) => this.evalBody(body, i + 1, next, k));
  }

  /** An expression, traced as OPA traces one: Eval, then Redo after each solution's continuation, Fail if none. */
  private evalExpr(e: Expr, st: State, k: K): void {
    if (!this.options.tracer) return this.evalExprUntraced(e, st, k);
    const q = this.query;
    if (this.halted.has(q)) return;
    const node: TraceNode = { kind: 'expr', expr: e };
    this.currentExpr = e;
    this.emit('eval', q, node, st.env, e.loc);
    let solved = false;
    this.evalExprUntraced(e, st, (next) => {
      if (this.halted.has(q)) return;
      solved = true;
      k(next);
      this.query = q;
      this.currentExpr = e;
      // OPA redoes a negation's body (its own query), never the negation.
      if (!e.negated) this.emit('redo', q, node, next.env, e.loc);
    });
    if (!solved) this.emit('fail', q, node, st.env, e.loc);
  }

  private evalExprUntraced(e: Expr, st: State, k: K): void {
    if (e.with && e.with.length > 0) return this.evalWith(e, e.with, st, k);
    if (e.negated) return this.evalNot([{ ...e, negated: undefined }], st, k, e);
    const terms = e.terms;
    if (Array.isArray(terms)) return this.evalCallExpr(e, terms, st, k);
    if (isTerm(terms) && terms.type !== 'call' && this.options.tracer) {
      // OPA equates a lone term with a variable of its own and fails on false; the trace shows both.
      const w = this.lonetermVar(e.loc);
      return this.tracedUnify(terms, w, st, (next) => {
        const value = plug(w, next.env);
        if (!(value.type === 'boolean' && value.value === false)) k(next);
      });
    }
    if (isTerm(terms)) {
      return this.evalTerm(terms, st, (t, next) => {
        if (isGround(t)) {
          if (!(t.type === 'boolean' && t.value === false)) k(next);
          return;
        }
        // A support function's body is not simplified after (OPA runs no copy propagation on it), so a residual
        // lone term keeps the variable OPA equates it with, as comprehensions and collections always do.
        if (isComprehension(t) || isComposite(t) || (this.inSupportFunction && t.type !== 'call')) return k(this.saveTermExpr(t, next, e));
        k(this.save(next, { index: 0, terms: t.type === 'call' ? t.value : t, loc: e.loc }));
      });
    }
    switch (terms.type) {
      case 'some': return k(st);
      case 'not': return this.evalNot(terms.body, st, k, e);
      case 'every': return this.evalEvery(terms, st, k, e);
      default: return this.evalLogical(e, terms, st, k);
    }
  }

  /**
   * `a and b`, `a or b`: evaluated when neither side reads an unknown (true once, binding nothing outside);
   * otherwise kept whole, as OPA keeps it, with bound variables filled in.
   */
  private evalLogical(e: Expr, terms: Extract<Expr['terms'], { type: 'logicaland' | 'logicalor' }>, st: State, k: K): void {
    if (this.readsUnknowns([terms.lhs, terms.rhs], st.env)) {
      const plugBody = (b: Body): Body => b.map((x) => ({ ...x, terms: plugLogical(x.terms, st.env) }));
      return k(this.save(st, { ...e, terms: { ...terms, lhs: plugBody(terms.lhs), rhs: plugBody(terms.rhs) } }));
    }
    const holds = (b: Body): boolean => {
      let found = false;
      this.childQuery({ kind: 'body', body: b }, st.env, e.loc, (exit) => this.evalBody(b, 0, { env: st.env, saved: [] }, (inner) => exit(inner.env, () => (found = true))));
      return found;
    };
    if (terms.type === 'logicaland' ? holds(terms.lhs) && holds(terms.rhs) : holds(terms.lhs) || holds(terms.rhs)) k(st);
  }

  /**
   * Whether anything in `node` reads an unknown, directly (unless `directly` is false) or (`throughRules`)
   * through the rules it refers to.
   */
  private readsUnknowns(node: unknown, env: Env, throughRules = true, directly = true): boolean {
    let found = false;
    const visit = (t: unknown): void => {
      if (found || t === null || typeof t !== 'object') return;
      if (Array.isArray(t)) return t.forEach(visit);
      const n = t as { type?: string };
      if (n.type === 'ref') {
        const ref = n as Extract<Term, { type: 'ref' }>;
        if (directly && this.isUnknown(ref, env)) found = true;
        const target = throughRules ? staticDataPath(ref) : undefined;
        if (target) for (const other of this.rulesReachedBy(target)) if (this.dependsOnUnknowns(other)) found = true;
      }
      for (const [name, child] of Object.entries(t)) if (name !== 'loc') visit(child);
    };
    visit(node);
    return found;
  }

  /** Whether `t`, filled in, reads an unknown or holds a variable standing for a residual value. */
  private holdsUnknown(t: Term, env: Env): boolean {
    const plugged = plug(t, env);
    let residual = false;
    walkVars(plugged, (name) => {
      if (this.residualVars.has(name)) residual = true;
    });
    return residual || this.readsUnknowns(plugged, env, false);
  }

  /**
   * `with input… as v` and `with data… as v` (v known; data that holds no rules): the expression is evaluated
   * with that document, the unknowns at or under a replaced input path dropped (they are now known) and rule
   * values computed afresh. `with f as g` and `with f as v` (f a function or builtin, g a function or builtin
   * that does not depend on unknowns, v known) replace the calls of f. The rest of the query runs as before.
   * `with input… as v` on a part of an unknown input leaves the input unknown, as OPA does: the expression is
   * evaluated as it stands and whatever it leaves residual keeps that `with` (refused where the expression
   * reads a rule that depends on unknowns: OPA keeps such a rule whole, as a support rule).
   * Unknown values and other targets are refused naming the target.
   */
  private evalWith(e: Expr, mods: NonNullable<Expr['with']>, st: State, k: K): void {
    const targets = mods.map((w) => this.withTarget(w));
    const valued = mods.filter((_, i) => targets[i]!.kind !== 'function' || this.functionName(mods[i]!.value) === undefined);
    this.evalList(valued.map((w) => w.value), st, (values, s) => {
      if (!values.every(isGround)) return this.saveWith(e, mods, valued, values, s, k);
      // An unknown that another `with` of this expression replaces whole is known inside it.
      const inputPaths = targets.flatMap((t) => (t.kind === 'input' ? [t.path] : []));
      const unknownInside = this.unknowns.filter((u) => u[0] === 'input' && !inputPaths.some((p) => p.every((seg, j) => u[j + 1] === seg)));
      const kept = mods.filter((w, i) => {
        const target = targets[i]!;
        return target.kind === 'input' && unknownInside.some((u) => u.length - 1 < target.path.length && u.slice(1).every((seg, j) => seg === target.path[j]));
      });
      if (kept.length > 0 && this.readsUnknowns({ ...e, with: undefined }, s.env, true, false)) throw unsupported('`with` on a part of an unknown input over a rule that depends on unknowns is not supported by partial evaluation', kept[0]!.loc);
      const keptWith = kept.map((w) => ({ ...w, value: values[valued.indexOf(w)]! }));
      const withKept: K = kept.length === 0 ? k : (next) => k({ env: next.env, saved: [...next.saved.slice(0, s.saved.length), ...next.saved.slice(s.saved.length).map((x) => ({ ...x, with: [...(x.with ?? []), ...keptWith] }))] });
      const applied = mods.filter((w) => !kept.includes(w));
      if (applied.length === 0) return this.keepingEquations(kept.length > 0, withKept, (then) => this.evalExprUntraced({ ...e, with: undefined }, s, then));
      let input = this.input;
      let data = this.data;
      let unknowns = this.unknowns;
      const mocks = new Map(this.mocks);
      mods.forEach((w, i) => {
        if (kept.includes(w)) return;
        const target = targets[i]!;
        const at = valued.indexOf(w);
        if (target.kind === 'function') {
          const replacement = at < 0 ? this.functionName(w.value)! : undefined;
          const residual = replacement !== undefined && replacement.startsWith('data.') && this.dependsOnUnknowns(replacement.slice(5).split('.'));
          mocks.set(target.name, replacement !== undefined ? { fn: replacement, ...(residual ? { residual } : {}) } : { value: values[at]! });
          return;
        }
        if (target.kind === 'data') {
          data = setPath(data, target.path, toValue(values[at]!));
          return;
        }
        const path = target.path;
        input = setPath(input, path, toValue(values[at]!));
        unknowns = unknowns.filter((u) => !(u[0] === 'input' && path.every((seg, j) => u[j + 1] === seg)));
      });
      const outside: WithState = { input: this.input, data: this.data, mocks: this.mocks, unknowns: this.unknowns, knownValues: this.knownValues, dependsMemo: this.dependsMemo, inWith: this.inWith, outsideWith: this.outsideWith };
      const inside: WithState = { input, data, mocks, unknowns, knownValues: new Map<string, Term | null>(), dependsMemo: new Map<string, boolean>(), inWith: true, outsideWith: this.outsideWith ?? outside };
      Object.assign(this, inside);
      try {
        this.keepingEquations(kept.length > 0, withKept, (then) => this.evalExprUntraced({ ...e, with: undefined }, s, (next) => {
          Object.assign(this, outside);
          then(next);
          Object.assign(this, inside);
        }));
      } finally {
        Object.assign(this, outside);
      }
    });
  }

  /**
   * Runs `run` with equations of a variable and a residual value kept as written (`input.x = y`) rather than
   * folded into a binding, when `keep`: they must carry the expression's `with`, which a binding would lose.
   * Only the expression is evaluated so: `k`, the rest of the body, runs as outside it.
   */
  private keepingEquations(keep: boolean, k: K, run: (k: K) => void): void {
    const outer = this.equationsKept;
    const inner = outer || keep;
    this.equationsKept = inner;
    try {
      run((next) => {
        this.equationsKept = outer;
        try {
          k(next);
        } finally {
          this.equationsKept = inner;
        }
      });
    } finally {
      this.equationsKept = outer;
    }
  }

  /**
   * `with … as v` where v is not known: the expression is kept, with its `with` and v filled in, as OPA keeps
   * it (references in it are not evaluated: they are read under the replacement when the residual runs).
   */
  private saveWith(e: Expr, mods: NonNullable<Expr['with']>, valued: NonNullable<Expr['with']>, values: Term[], st: State, k: K): void {
    const terms = Array.isArray(e.terms) ? e.terms.slice(1) : isTerm(e.terms) ? [e.terms] : undefined;
    if (!terms) throw unsupported(`\`with\` of a value that is not known on ${describe(e)} is not supported by partial evaluation`, e.loc);
    const next = this.makeResidual({ type: 'array', value: terms, loc: e.loc }, st);
    const replaced = mods.map((w) => (valued.includes(w) ? { ...w, value: values[valued.indexOf(w)]! } : w));
    k(this.save(next, { ...e, with: replaced }));
  }

  /** What a `with` replaces: a path of input, a path of data holding no rules, or a function or builtin. */
  private withTarget(w: NonNullable<Expr['with']>[number]): { kind: 'input' | 'data'; path: string[] } | { kind: 'function'; name: string } {
    const t = w.target;
    const segs = t.type === 'var' ? [t.value] : t.type === 'ref' && t.value[0]?.type === 'var' && t.value.slice(1).every((x) => x.type === 'string') ? t.value.map((x) => (x as { value: string }).value) : undefined;
    if (segs?.[0] === 'input') return { kind: 'input', path: segs.slice(1) };
    // A trace (explain, instrument) of a replaced data document or function is not followed as OPA traces it.
    if (this.options.tracer) throw unsupported(`\`with\` on ${withTargetText(t)} is not supported by partial evaluation (only input)`, w.loc);
    const fn = this.functionName(t);
    if (fn !== undefined) return { kind: 'function', name: fn };
    if (segs?.[0] === 'data' && this.rulesReachedBy(segs.slice(1)).length === 0) return { kind: 'data', path: segs.slice(1) };
    throw unsupported(`\`with\` on ${withTargetText(t)} is not supported by partial evaluation (only input, data without rules, and functions)`, w.loc);
  }

  /** The name of the function or builtin a term names, if it names one. */
  private functionName(t: Term): string | undefined {
    const name = t.type === 'var' ? t.value : callName(t);
    if (name === undefined) return undefined;
    if (name.startsWith('data.')) return this.rules.get(name.slice(5))?.kind === 'function' ? name : undefined;
    return builtinArity(name) ? name : undefined;
  }

  /**
   * `not`: fails when the body succeeds unconditionally. Residual outcomes are negated in place where OPA does
   * (every expression an equality or a test without references, and no variables): not ((A and B) or C) is
   * (not A and not C) or (not B and not C). Otherwise they become a support rule, named as OPA names it after
   * the query, the expression's index and the negation's own query, and the query keeps `not` of it.
   */
  private evalNot(body: Body, st: State, k: K, e: Expr): void {
    const loc = e.loc;
    const outcomes: Expr[][] = [];
    const parentQuery = this.query;
    let negation = 0;
    this.childQuery({ kind: 'body', body }, st.env, loc, (exit) => {
      negation = this.query;
      this.evalBody(body, 0, { env: st.env, saved: [] }, (inner) => exit(inner.env, () => outcomes.push([...inner.saved])));
    });
    if (outcomes.length === 0) return k(st);
    if (outcomes.some((saved) => saved.length === 0)) return;
    if (outcomes.length === 1 && outcomes[0]!.length === 1) {
      const only = outcomes[0]![0]!;
      return k(this.save(st, { ...only, negated: only.negated ? undefined : true }));
    }
    if (outcomes.every((saved) => saved.every(negatable))) {
      const choose = (i: number, s: State): void => {
        if (i >= outcomes.length) return k(s);
        for (const x of outcomes[i]!) choose(i + 1, this.save(s, { ...x, negated: true }));
      };
      return choose(0, st);
    }
    if (outcomes.some((saved) => saved.some((x) => x.terms !== undefined && hasFreeVars(x)))) throw unsupported('`not` over residual expressions that bind variables is not supported by partial evaluation', loc);
    const name = `__not${parentQuery}_${e.index}_${negation}__`;
    if (!this.support.has(name)) this.support.set(name, outcomes.map((saved) => ({ path: [name], kind: 'complete' as const, value: TRUE, body: reindex(saved) })));
    k(this.save(st, { index: 0, negated: true, terms: dataRef(['partial', name], loc), loc }));
  }

  /**
   * `every` over a known collection is unrolled: its body must hold for each element, and what it leaves
   * residual for each is conjoined (one query per choice where the body has alternatives). Over an unknown
   * collection the whole `every` is kept, as OPA keeps it.
   */
  private evalEvery(every: Extract<Expr['terms'], { type: 'every' }>, st: State, k: K, e: Expr): void {
    this.evalTerm(every.domain, st, (domain, next) => {
      if (!isGround(domain)) {
        const body = callOutputsApart(every.body, () => `__out${this.fresh++}__`);
        return k(this.save(next, { ...e, terms: this.residualClosure({ ...every, domain, body }, next.env) }));
      }
      const entries = groundEntries(domain);
      const step = (i: number, saved: readonly Expr[]): void => {
        if (i >= entries.length) return k({ env: next.env, saved });
        const [key, value] = entries[i]!;
        let env = next.env;
        if (every.key?.type === 'var') env = bind(env, every.key.value, key);
        if (every.value.type === 'var') env = bind(env, every.value.value, value);
        const outcomes: (readonly Expr[])[] = [];
        this.evalBody(every.body, 0, { env, saved: [] }, (inner) => outcomes.push(inner.saved));
        if (outcomes.some((o) => o.length === 0)) return step(i + 1, saved);
        for (const o of outcomes) step(i + 1, [...saved, ...o]);
      };
      step(0, next.saved);
    });
  }

  /**
   * A closure kept whole: bound variables filled in, its own variables named after the body it is in (kept in
   * the query's own body), as OPA namespaces them.
   */
  private residualClosure<T>(closure: T, env: Env): T {
    let inner = env;
    for (const name of closureVars(closure)) {
      if (this.isUnbound(name, inner)) inner = bind(inner, name, v(this.frame === 0 ? name : this.closureVar(name)));
    }
    return plugDeep(closure, inner);
  }

  /** A closure's variable in a rule's body, named after the body (residual). */
  private closureVar(name: string): string {
    const named = `${name}${this.frame}`;
    this.residualVars.add(named);
    return named;
  }

  /**
   * A comprehension kept whole, as OPA keeps it: a variable it shares with the enclosing body that is bound
   * there to a known value keeps a name (its own in the query's body, one named after the rule body in a
   * rule) and its binding is appended to the comprehension's body (`[x | x = input.foo[i]; i = 1]`); a
   * variable bound to a residual value is filled in.
   */
  private residualComprehension(t: Comprehension, env: Env): Term {
    const used = new Set(closureVars(t));
    let inner = env;
    const extras: Expr[] = [];
    for (const [name, bound] of env) {
      if (!used.has(name)) continue;
      const value = plug(bound, env);
      if (!isGround(value)) continue;
      const kept = this.frame === 0 ? name : this.closureVar(name);
      inner = bind(inner, name, v(kept));
      extras.push(this.call('eq', [v(kept), value]));
    }
    const body = reindex([...t.value.body, ...extras]);
    return this.residualClosure({ ...t, value: { ...t.value, body } } as Comprehension, inner);
  }

  /**
   * Whether a closure's body reads an unknown (directly, or with `throughRules` through the rules it refers
   * to), or a variable bound outside it holds a residual value.
   */
  private closureDependsOnUnknowns(closure: unknown, env: Env, throughRules = true): boolean {
    if (this.readsUnknowns(closure, env, throughRules)) return true;
    return closureVars(closure).some((name) => {
      const bound = env.get(name);
      return bound !== undefined && !isGround(plug(bound, env));
    });
  }

  private evalCallExpr(e: Expr, terms: Term[], st: State, k: K): void {
    const name = exprOperator(e);
    if (name === 'eq' || name === 'equal' || name === 'assign') {
      if (this.options.tracer) return this.tracedUnify(terms[1]!, terms[2]!, st, k);
      const swap = this.swapsOperands(terms[1]!, terms[2]!, st.env);
      // Read in turn, b's value is already the one written first (see readsBothInTurn).
      const inTurn = swap && terms[1]!.type === 'ref' && !this.readsDocument(terms[1]!);
      const variableFirst = (swap ? terms[1]! : terms[2]!).type !== 'var';
      const done: K = (next) => k(this.withoutRepeatedEquation(e, st, next));
      return this.evalTerm(terms[1]!, st, (a, s1) => this.evalTerm(terms[2]!, s1, (b, s2) => {
        // `x = f(…)` is OPA's compiler's `f(…, x)`: the call's output is named after x.
        if (terms[2]!.type === 'call') this.nameOutput(terms[1]!, b, st.env);
        const [x, y] = swap ? [b, a] : [a, b];
        if (!inTurn && this.otherOperandFirst.has(x) && !this.otherOperandFirst.has(y)) return this.unify(y, x, s2, done, x.type !== 'var');
        this.unify(x, y, s2, done, variableFirst);
      }, a), terms[2]);
    }
    if (name === 'print' || name === 'internal.print') return k(st);
    if (name === 'trace' && this.options.tracer) {
      return this.evalTerm(terms[1]!, st, (msg, next) => {
        if (msg.type !== 'string') return;
        this.emit('note', this.query, null, next.env, this.currentExpr?.loc ?? e.loc, msg.value);
        k(next);
      });
    }
    this.evalCall(terms[0]!, terms.slice(1), st, e.loc, false, (result, output, next) => {
      // OPA equates the output operand with the result (a Unify event in a trace).
      if (output && this.options.tracer) return this.tracedUnify(output, result, next, k);
      if (output) {
        return this.evalTerm(output, next, (o, n2) => {
          // A call kept residual keeps its output operand as written (`data.pkg.f([input], true)`), as OPA keeps it.
          if (result.type === 'call' && isGround(o)) return k(this.save(n2, { index: 0, terms: [...result.value, o], loc: e.loc }));
          this.unify(o, result, n2, k);
        });
      }
      if (isGround(result)) {
        if (!(result.type === 'boolean' && result.value === false)) k(next);
        return;
      }
      k(this.save(next, { index: 0, terms: result.type === 'call' ? result.value : result, loc: e.loc }));
    });
  }

  /**
   * Whether `a = b` is unified the other way round, so that residual equations read as OPA's do. OPA evaluates
   * the first operand that is a reference it can read (not into an unknown) and unifies its value with the
   * other operand: a rule's value (or a known term's) first, the other operand first for a document of data
   * (base data, or one holding rules below it).
   */
  private swapsOperands(a: Term, b: Term, env: Env): boolean {
    const read = (t: Term): t is Extract<Term, { type: 'ref' }> => t.type === 'ref' && !this.isUnknown(plug(t, env) as Extract<Term, { type: 'ref' }>, env);
    if (read(a)) return this.readsDocument(a) || this.readsBothInTurn(a, b, env);
    if (read(b)) return !this.readsDocument(b);
    // A known value equated with a variable bound to a residual reference (the variable written first, as in
    // `x := input.a`) comes first, as OPA keeps it: `x := input.a; x == 1` keeps `1 = input.a`, where
    // `input.a = x; x == 1` keeps `input.a = 1`.
    const bound = a.type === 'var' ? env.get(a.value) : undefined;
    if (bound === undefined || !this.boundVariableFirst.has(bound)) return false;
    const value = plug(bound, env);
    return value.type === 'ref' && !isGround(value) && isGround(plug(b, env));
  }

  /**
   * `a = b` where both are references OPA reads (neither into an unknown): it reads `a`, then reads `b` to
   * unify with a's value, and whatever stays residual is saved as b's value first (`q[1] = r[2]` keeps
   * `input.b[2] = input.a[1]` for `q := input.a`, `r := input.b`). Two references that each stop at a rule's
   * value (`q = r`, `obj.a = obj.b`) leave two variables, which OPA's copy propagation writes a's first; base
   * data is unified the other way round already (readsDocument).
   */
  private readsBothInTurn(a: Extract<Term, { type: 'ref' }>, b: Term, env: Env): boolean {
    if (b.type !== 'ref' || this.isUnknown(plug(b, env) as Extract<Term, { type: 'ref' }>, env) || this.readsDocument(b)) return false;
    return !(this.stopsAtRuleValue(a) && this.stopsAtRuleValue(b));
  }

  /** A reference to one value of a rule, nothing past it: `data.pkg.q`, `data.pkg.obj.key`, `data.pkg.set[x]`. */
  private stopsAtRuleValue(ref: Extract<Term, { type: 'ref' }>): boolean {
    const path = staticDataPath(ref) ?? [];
    for (let i = 1; i <= path.length; i++) {
      const rules = this.rules.get(path.slice(0, i).join('.'));
      if (rules) return ref.value.length - 1 === (rules.kind === 'complete' ? i : rules.kind === 'object' || rules.kind === 'set' ? i + 1 : -1);
    }
    return false;
  }

  /**
   * A reference into data that reaches no rule: none at or above its constant part, and, where it goes on
   * past that part, none below it either (iterating there enters the rules, whose values come first).
   */
  private readsDocument(ref: Extract<Term, { type: 'ref' }>): boolean {
    const path = staticDataPath(ref);
    if (!path) return false;
    for (let i = 1; i <= path.length; i++) if (this.rules.has(path.slice(0, i).join('.'))) return false;
    const rulesBelow = path.length === 0 ? this.rules.size > 0 : this.rulePrefixes.has(path.join('.'));
    return !(rulesBelow && ref.value.length - 1 > path.length);
  }

  // ---------------------------------------------------------------- terms

  /** Evaluates `t` to each of its values. `other` is the term it is compared with, when there is one. */
  private evalTerm(t: Term, st: State, k: KT, other?: Term): void {
    switch (t.type) {
      case 'null': case 'boolean': case 'number': case 'string': return k(t, st);
      case 'var': {
        const bound = st.env.get(t.value);
        return k(bound ?? t, st);
      }
      case 'ref': return this.evalRef(t, st, k, other);
      case 'array': return this.evalList(t.value, st, (items, s) => k({ ...t, value: items }, s));
      case 'set': return this.evalList(t.value, st, (items, s) => k(items.every(isGround) ? toTerm(sortedSet(items.map(toValue)), t.loc) : { ...t, value: items }, s));
      case 'object':
        return this.evalList(t.value.flat(), st, (items, s) => {
          const pairs: [Term, Term][] = [];
          for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
          k({ ...t, value: pairs }, s);
        });
      case 'call':
        return this.evalCall(t.value[0]!, t.value.slice(1), st, t.loc, true, (result, output, next) => {
          if (output) throw unsupported('a nested call with an output argument is not supported', t.loc);
          // A call kept residual (a support function, a function with else branches) is kept as an expression
          // with its value in a variable, so that its definedness stays a condition where the value goes unused.
          if (result.type !== 'call') return k(result, next);
          const out = this.freshVar(t.loc);
          k(out, this.save(next, { index: 0, terms: [...result.value, out], loc: t.loc }));
        });
      case 'arraycomprehension': case 'setcomprehension': case 'objectcomprehension':
        return this.evalComprehension(t, st, k);
      case 'templatestring': throw unsupported('template strings are not supported by partial evaluation', t.loc);
    }
  }

  private evalList(items: Term[], st: State, k: (items: Term[], st: State) => void, i = 0, acc: Term[] = []): void {
    if (i >= items.length) return k(acc, st);
    this.evalTerm(items[i]!, st, (t, s) => this.evalList(items, s, k, i + 1, [...acc, t]));
  }

  private evalComprehension(t: Comprehension, st: State, k: KT): void {
    if (!this.options.tracer && this.closureDependsOnUnknowns(t, st.env)) {
      const closure = this.residualComprehension(t, st.env);
      if (this.closureDependsOnUnknowns(t, st.env, false)) this.unknownClosures.add(closure);
      return k(closure, st);
    }
    const rows: Term[][] = [];
    this.childQuery({ kind: 'body', body: t.value.body }, st.env, t.loc, (exit) => this.evalBody(t.value.body, 0, { env: st.env, saved: [] }, (inner) => exit(inner.env, () => {
      if (inner.saved.length > 0) throw unsupported('a comprehension depending on unknowns is not supported by partial evaluation', t.loc);
      const heads = t.type === 'objectcomprehension' ? [t.value.key, t.value.value] : [t.value.term];
      rows.push(heads.map((h) => plug(h, inner.env)));
    })));
    if (rows.some((r) => !r.every(isGround))) throw unsupported('a comprehension depending on unknowns is not supported by partial evaluation', t.loc);
    if (t.type === 'arraycomprehension') return k({ type: 'array', value: rows.map((r) => r[0]!), loc: t.loc }, st);
    if (t.type === 'setcomprehension') return k(toTerm(sortedSet(rows.map((r) => toValue(r[0]!))), t.loc), st);
    const obj: Record<string, unknown> = {};
    for (const [key, value] of rows) {
      const name = String(toValue(key!));
      if (name in obj && !groundEqual(toTerm(obj[name]), value!)) throw new PartialEvalError('eval_conflict_error', 'object keys must be unique', t.loc);
      obj[name] = toValue(value!);
    }
    k(toTerm(obj, t.loc), st);
  }

  // ---------------------------------------------------------------- calls

  /**
   * A builtin or a user function. `k` receives the call's value and, when the call was written with one more
   * argument than declared, the output term to unify it with.
   */
  private evalCall(operator: Term, argTerms: Term[], st: State, loc: Location, nested: boolean, k: (result: Term, output: Term | undefined, st: State) => void): void {
    const called = callName(operator);
    if (called === undefined) throw unsupported('dynamic function calls are not supported by partial evaluation', loc);
    const mock = this.mocks.get(called);
    const name = mock && 'fn' in mock ? mock.fn : called;
    const fn = name.startsWith('data.') ? this.rules.get(name.slice(5)) : undefined;
    const arity = fn ? fn.rules[0]?.head.args?.length ?? fn.default?.head.args?.length ?? 0 : builtinArity(name)?.arity;
    if (arity === undefined) throw unsupported(`unknown function ${name}`, loc);
    const variadic = !fn && builtinArity(name)?.variadic;
    const hasOutput = !variadic && argTerms.length > arity;
    const inputs = hasOutput ? argTerms.slice(0, arity) : argTerms;
    const output = hasOutput ? argTerms[arity] : undefined;
    this.evalList(inputs, st, (args, s) => {
      if (mock && 'value' in mock) return k(mock.value, output, s);
      if (fn && mock && 'residual' in mock) return this.replacedCall(fn, args, s, loc, (result, s2) => k(result, output, s2));
      if (fn) return this.callFunction(fn, args, s, loc, output !== undefined, (result, s2) => k(result, output, s2));
      if (args.every(isGround) && !NONDETERMINISTIC.has(name)) {
        const outcome = this.timed('builtin_call', () => callBuiltin(name, args.map(toValue)));
        if ('unsupported' in outcome) throw unsupported(`builtin ${name} is not supported by partial evaluation`, loc);
        if (!outcome.defined) return;
        if (outcome.value instanceof Promise) throw unsupported(`builtin ${name} is not supported by partial evaluation`, loc);
        return k(toTerm(outcome.value, loc), output, s);
      }
      // A residual call. Comparisons and other boolean tests are kept as they are; a call whose value is used
      // gets a residual variable for it.
      // In a support function's body (which OPA does not simplify) a reference passed to a call is held in a
      // variable first (`x = y.size; x < 100`), and a nested call's value goes to a variable, as OPA's compiler
      // writes them there.
      let held = s;
      const residualArgs = !this.inSupportFunction ? args : args.map((a) => {
        if (a.type !== 'ref') return a;
        const x = this.freshTermVar(a.loc);
        held = this.save(held, this.call('eq', [x, a]));
        return x;
      });
      if (!output && !this.usesValue(name) && !(nested && this.inSupportFunction)) return k({ type: 'call', value: [op(name, loc), ...residualArgs], loc }, undefined, held);
      const out = this.freshVar(loc);
      if (output) this.nameOutput(output, out, held.env);
      const next = this.save(held, { index: 0, terms: [op(name, loc), ...residualArgs, out], loc });
      k(out, output, next);
    });
  }

  /**
   * A residual call's output `out` (a generated variable) written as the rule-body variable `written`, not yet
   * bound: named after it if it outlives copy propagation (outputNames). Not in a support function's body,
   * which keeps the equation with the variable beside a call output of its own, as OPA's compiler writes it.
   */
  private nameOutput(written: Term, out: Term, env: Env): void {
    if (written.type !== 'var' || out.type !== 'var' || !out.value.startsWith('__pe') || this.query === 0 || this.inSupportFunction || !this.isUnbound(written.value, env)) return;
    this.outputNames.set(out.value, v(`${written.value}${this.query}`, written.loc));
  }

  /** Builtins whose result is a value rather than a test. The tests are kept as calls, as OPA prints them. */
  private usesValue(name: string): boolean {
    return !['equal', 'neq', 'lt', 'lte', 'gt', 'gte', 'internal.member_2', 'internal.member_3', 'startswith', 'endswith', 'contains', 'regex.match', 'glob.match', 'net.cidr_contains'].includes(name);
  }

  /** `captured`: the call has an output argument (its value is used, not only tested). */
  private callFunction(fn: RuleSet, args: Term[], st: State, loc: Location, captured: boolean, k: KT): void {
    const known = args.every(isGround) && !this.dependsOnUnknowns(fn.path);
    if (known) {
      let result: Term | undefined;
      for (const rule of fn.rules) {
        this.evalFunctionRule(rule, args, st, (value) => {
          if (result && !groundEqual(result, value)) throw new PartialEvalError('eval_conflict_error', conflictHead(true, fn.path), rule.loc);
          result ??= value;
        });
        if (result) break;
      }
      if (!result && fn.default) result = fn.default.head.value;
      if (result) k(result, st);
      return;
    }
    // An else branch applies only where the branches before it do not: the call is kept as it is, as OPA keeps it.
    if (fn.rules.some((rule) => rule.else)) return k({ type: 'call', value: [dataRef(fn.path, loc), ...args], loc }, st);
    // A default applies only where no other rule does: the function is kept as a support function, as OPA keeps
    // it, unless the call only tests the value and the default is false (it could never pass the test). A
    // function named in disableInlining is kept so too.
    const testedFalse = !captured && fn.default?.head.value?.type === 'boolean' && fn.default.head.value.value === false;
    if ((fn.default && !testedFalse) || this.inliningDisabled(fn.path)) return this.supportCall(fn, args, st, loc, k);
    for (const rule of fn.rules) {
      this.evalFunctionRule(rule, args, st, (value, saved) => k(value, { env: st.env, saved }));
    }
  }

  /** A call of a function with a default, kept residual: its rules become support functions under data.partial. */
  private supportCall(fn: RuleSet, args: Term[], st: State, loc: Location, k: KT): void {
    this.makeFunctionSupport(fn, loc);
    k({ type: 'call', value: [dataRef(['partial', ...fn.path], loc), ...args], loc }, st);
  }

  /**
   * A call of a function replaced (`with f as g`) by a function g that depends on unknowns: kept as a call of
   * g's support function, as OPA keeps it. The support function is shared by every use, so it is made as
   * outside any `with`; a `with` that also replaces input or data, which it would not see, is refused.
   */
  private replacedCall(fn: RuleSet, args: Term[], st: State, loc: Location, k: KT): void {
    const outside = this.outsideWith!;
    if (this.input !== outside.input || this.data !== outside.data) throw unsupported(`\`with\` replacing a function by ${['data', ...fn.path].join('.')}, which depends on unknowns, beside a replaced input or data is not supported by partial evaluation`, loc);
    const inside: WithState = { input: this.input, data: this.data, mocks: this.mocks, unknowns: this.unknowns, knownValues: this.knownValues, dependsMemo: this.dependsMemo, inWith: this.inWith, outsideWith: this.outsideWith };
    Object.assign(this, outside);
    try {
      this.makeFunctionSupport(fn, loc);
    } finally {
      Object.assign(this, inside);
    }
    k({ type: 'call', value: [dataRef(['partial', ...fn.path], loc), ...args], loc }, st);
  }

  /** The support functions of a function under data.partial (made once). */
  private makeFunctionSupport(fn: RuleSet, loc: Location): void {
    this.makeSupport(fn, 'function', loc, (rule, add) => {
      const params = rule.head.args ?? [];
      if (!params.every((p) => p.type === 'var')) throw unsupported(`function ${fn.path.join('.')} with a parameter that is not a variable, kept as a support function, is not supported by partial evaluation`, rule.loc);
      // The parameters are the body's variables: named after the query the body is about to get, as OPA names them.
      const caller = this.query;
      this.query = this.nextQuery;
      const start = params.reduce<State>((s, p) => this.makeResidual(p, s), { env: new Map(), saved: [] });
      this.query = caller;
      const heads = params.map((p) => plug(p, start.env));
      this.evalRule(rule, start, (value, end) => add({ path: fn.path, kind: 'function', args: heads }, value, end.saved));
    });
  }

  /** One function body (and its else chain, for known arguments) with the arguments bound to the parameters. */
  private evalFunctionRule(rule: Rule, args: Term[], st: State, k: (value: Term, saved: readonly Expr[]) => void): void {
    let done = false;
    for (let r: Rule | undefined = rule; r && !done; r = r.else) {
      const branch = r;
      const params = branch.head.args ?? rule.head.args ?? [];
      const bindParams = (i: number, s: State): void => {
        if (i >= params.length) {
          return this.childQuery({ kind: 'rule', rule: branch, path: [] }, s.env, branch.loc, (exit) => this.inRule(k, (out) => this.evalBody(branch.body, 0, s, (end) => this.evalTerm(branch.head.value ?? TRUE, end, (value, e2) => exit(e2.env, () => {
            done = true;
            out(plug(value, e2.env), e2.saved);
          })))));
        }
        // The parameters are the body's variables: named after its query, as OPA names them.
        const outer = this.parameterQuery;
        this.parameterQuery = this.nextQuery;
        try {
          this.unify(params[i]!, args[i]!, s, (n) => {
            const q = this.parameterQuery;
            this.parameterQuery = outer;
            bindParams(i + 1, n);
            this.parameterQuery = q;
          });
        } finally {
          this.parameterQuery = outer;
        }
      };
      bindParams(0, { env: new Map(), saved: st.saved });
    }
  }

  // ---------------------------------------------------------------- references

  private evalRef(ref: Extract<Term, { type: 'ref' }>, st: State, k: KT, other?: Term): void {
    const head = ref.value[0]!;
    // Segments that are themselves references or calls (data.roles[input.user.name]) are evaluated first.
    const nested = ref.value.findIndex((t, i) => i > 0 && !isGround(t) && t.type !== 'var' && !this.evaluated.has(t));
    if (nested > 0) {
      return this.evalTerm(ref.value[nested]!, st, (seg, s) => {
        const value = [...ref.value];
        value[nested] = seg;
        this.evaluated.add(seg);
        // A residual segment into known data is matched against each key there (walkValue).
        this.evalRef({ ...ref, value }, s, k, other);
      });
    }
    if (head.type !== 'var') {
      return this.evalTerm(head, st, (base, s) => this.walkValue(base, ref.value.slice(1), s, k, ref.loc));
    }
    if (head.value === 'input' || head.value === 'data') {
      // A rule's document named as unknown (`data.x.p`) is kept as it is, not evaluated.
      if (head.value === 'data' && this.overlapsUnknowns(ref, st.env)) return this.residual(ref, st, k);
      if (head.value === 'data') {
        const segs: string[] = [];
        for (let i = 1; i < ref.value.length; i++) {
          const rules = segs.length > 0 ? this.rules.get(segs.join('.')) : undefined;
          if (rules) return this.evalRuleRef(rules, ref, i, st, k, other);
          const seg = plug(ref.value[i]!, st.env);
          if (seg.type !== 'string') {
            if (this.underRules(segs)) return this.iterateRuleTree(segs, ref, i, st, k, other);
            break;
          }
          segs.push(seg.value);
        }
        if (segs.length === ref.value.length - 1) {
          const rules = this.rules.get(segs.join('.'));
          if (rules) return this.evalRuleRef(rules, ref, ref.value.length, st, k, other);
          if (this.options.tracer && (this.rulePrefixes.has(segs.join('.')) || segs.length === 0)) return this.tracedTree(segs, st, k, ref.loc);
          // A document holding rules that depend on unknowns (`data` itself too) is kept as the reference, as
          // OPA keeps it.
          const holdsDependent = () => this.rulesUnder(segs).some((r) => this.dependsOnUnknowns(r.path));
          if (this.rulePrefixes.has(segs.join('.'))) return holdsDependent() ? this.residual(ref, st, k) : this.tracedTree(segs, st, k, ref.loc);
          if (segs.length === 0 && holdsDependent()) return this.residual(ref, st, k);
        }
      }
      if (head.value === 'input' && this.iterateUnknownKeys(ref, st, k, other)) return;
      if (this.isUnknown(ref, st.env)) return this.residual(ref, st, k);
      if (head.value === 'data') {
        const path = this.timed('plug', () => constantPath(ref, st.env));
        const read = this.timed('resolve', () => this.readBaseData(path));
        if (read) this.walkValue(read.term, ref.value.slice(1 + read.depth), st, k, ref.loc);
        return;
      }
      const root = this.timed('resolve', () => {
        const doc = head.value === 'input' ? this.input : this.data;
        return doc === undefined ? undefined : toTerm(doc);
      });
      if (root === undefined) return;
      return this.walkValue(root, ref.value.slice(1), st, k, ref.loc);
    }
    const bound = st.env.get(head.value);
    if (!bound) throw unsupported(`reference ${refText(ref)} has an unbound head`, ref.loc);
    this.walkValue(bound, ref.value.slice(1), st, k, ref.loc);
  }

  /**
   * A variable segment at a level where the unknowns lie below particular keys (`input[k]` with `input.x`
   * unknown): each other key of the known document there is tried, then each of those keys, as a residual
   * reference (`input.x`), as OPA enumerates them (in input; a reference into data it keeps whole). False when
   * the level is not one to enumerate.
   */
  private iterateUnknownKeys(ref: Extract<Term, { type: 'ref' }>, st: State, k: KT, other?: Term): boolean {
    const prefix: string[] = [];
    for (let at = 1; at < ref.value.length; at++) {
      const seg = plug(ref.value[at]!, st.env);
      if (seg.type === 'string') {
        prefix.push(seg.value);
        continue;
      }
      if (seg.type !== 'var' || !this.isUnbound(seg.value, st.env)) return false;
      const matching = this.unknowns.filter((u) => u[0] === 'input' && prefix.every((p, j) => u[j + 1] === p));
      if (matching.length === 0 || matching.some((u) => u.length <= at)) return false;
      const unknownKeys = [...new Set(matching.map((u) => u[at]!))];
      const known = prefix.reduce<unknown>((doc, p) => (doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>)[p] : undefined), this.input);
      const knownKeys = known !== null && typeof known === 'object' && !Array.isArray(known) ? Object.keys(known).filter((key) => !unknownKeys.includes(key)).sort() : [];
      for (const key of [...knownKeys, ...unknownKeys]) {
        this.unify(seg, str(key, seg.loc), st, (s) => {
          const value = [...ref.value];
          value[at] = str(key, seg.loc);
          this.evalRef({ ...ref, value }, s, k, other);
        });
      }
      return true;
    }
    return false;
  }

  /**
   * A variable (or residual) segment where the document holds rules: each name at that level, from the rules'
   * paths and the base data, is tried in its place.
   */
  private iterateRuleTree(segs: string[], ref: Extract<Term, { type: 'ref' }>, at: number, st: State, k: KT, other?: Term): void {
    const names = new Set<string>();
    for (const set of this.rulesUnder(segs)) names.add(set.path[segs.length]!);
    const base = segs.reduce<unknown>((doc, seg) => (doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>)[seg] : undefined), this.data);
    if (base !== null && typeof base === 'object' && !Array.isArray(base)) for (const name of Object.keys(base)) names.add(name);
    const seg = ref.value[at]!;
    for (const name of [...names].sort()) {
      // The name first, as OPA equates each name it enumerates with the segment.
      this.unify(str(name, seg.loc), seg, st, (s) => {
        const value = [...ref.value];
        value[at] = str(name, seg.loc);
        this.evalRef({ ...ref, value }, s, k, other);
      });
    }
  }

  /** The rule sets (not functions) strictly below a data path. */
  private rulesUnder(prefix: string[]): RuleSet[] {
    return [...this.rules.values()].filter((r) => r.kind !== 'function' && r.path.length > prefix.length && prefix.every((s, i) => s === r.path[i]));
  }

  private underRules(segs: string[]): boolean {
    return this.rulePrefixes.has(segs.join('.')) || this.rules.has(segs.join('.'));
  }

  /** Indexes into a value, iterating where a segment is an unbound variable. */
  private walkValue(base: Term, rest: Term[], st: State, k: KT, loc: Location): void {
    if (rest.length === 0) return k(base, st);
    const seg = plug(rest[0]!, st.env);
    if (base.type === 'ref') return this.residual({ ...base, value: [...base.value, ...rest] }, st, k);
    if (base.type === 'var') return this.residual({ type: 'ref', value: [base, ...rest], loc }, st, k);
    if (isComprehension(base)) {
      // A kept comprehension indexed: held in a variable, as OPA holds it (`$_ref_0[input.y]; $_ref_0 = {a | ...}`).
      const x = this.refVar(loc);
      return this.residual({ type: 'ref', value: [x, ...rest], loc }, this.save(st, this.call('eq', [x, base])), k);
    }
    // An array, or an object with known keys, can be iterated when its values are residual; a set cannot.
    const knownKeys = base.type === 'array' || (base.type === 'object' && base.value.every(([key]) => isGround(key)));
    if (!isGround(base) && !isGround(seg) && !knownKeys) throw unsupported('iterating over a partly unknown value is not supported by partial evaluation', loc);
    const entries = groundEntries(base);
    if (isGround(seg)) {
      const value = toValue(seg);
      const hit = entries.find(([key]) => groundEqual(key, toTerm(value)));
      if (hit) this.walkValue(hit[1], rest.slice(1), st, k, loc);
      return;
    }
    if (seg.type === 'var' && this.isUnbound(seg.value, st.env)) {
      for (const [key, value] of entries) {
        // OPA equates each key it enumerates with the segment.
        if (this.options.tracer) this.traceUnify(key, seg, st.env);
        this.walkValue(value, rest.slice(1), { env: bind(st.env, seg.value, key), saved: st.saved }, k, loc);
      }
      return;
    }
    // A composite pattern or a residual key: unify each key with it.
    for (const [key, value] of entries) this.unifyKey(key, seg, rest[0]!, st, (s) => this.walkValue(value, rest.slice(1), s, k, loc));
  }

  // ---------------------------------------------------------------- rules

  private evalRuleRef(rules: RuleSet, ref: Extract<Term, { type: 'ref' }>, at: number, st: State, k: KT, other?: Term): void {
    const rest = ref.value.slice(at);
    if (rules.kind === 'general') {
      if (this.options.tracer) throw unsupported(`rules at ${rules.path.join('.')} have a variable inside their head reference, which partial evaluation does not support`, ref.loc);
      return this.evalGeneralRef(rules, ref, rest, st, k);
    }
    if (rules.kind === 'function') throw unsupported(`function ${rules.path.join('.')} referenced without a call`, ref.loc);
    if (this.options.tracer) return this.tracedRuleRef(rules, rest, st, k, ref.loc);
    if (!this.dependsOnUnknowns(rules.path)) {
      // A key that holds an unknown: OPA evaluates each rule in turn and equates its key after, so the answers
      // come in the rules' order rather than the known document's.
      if ((rules.kind === 'set' || rules.kind === 'object') && rest.length > 0 && this.holdsUnknown(rest[0]!, st.env)) return this.evalMemberRef(rules, rest, st, k, ref.loc);
      const value = this.knownValue(rules);
      if (value) this.walkValue(value, rest, st, k, ref.loc);
      return;
    }
    const disabled = this.inliningDisabled(rules.path);
    if (rules.kind === 'complete') {
      const otherValue = other && plug(other, st.env);
      const defaultMatters = rules.default && (!otherValue || !isGround(otherValue) || groundEqual(otherValue, rules.default.head.value!));
      // An else branch applies only where the branches before it do not: the reference is kept, as OPA keeps it.
      if (rules.rules.some((rule) => rule.else)) return this.residual(dataRef(rules.path, ref.loc, rest), st, k);
      if (disabled || defaultMatters) return this.supportRef(rules, rest, st, k, ref.loc);
      for (const rule of rules.rules) {
        this.evalRule(rule, { env: new Map(), saved: st.saved }, (head, end) => {
          if (this.valueWrittenSecond(rule, head, end.env)) this.otherOperandFirst.add(head);
          this.walkValue(head, rest, { env: st.env, saved: end.saved }, k, ref.loc);
        });
      }
      return;
    }
    if (rules.kind === 'set') {
      if (rest.length === 0 || disabled) return this.supportRef(rules, rest, st, k, ref.loc);
      return this.evalMemberRef(rules, rest, st, k, ref.loc);
    }
    if (rest.length === 0 || disabled) return this.supportRef(rules, rest, st, k, ref.loc);
    this.evalMemberRef(rules, rest, st, k, ref.loc);
  }

  /**
   * Whether a complete rule's residual value is written after what it is equated with: OPA keeps the rule's
   * value as the variable of its head (or the reference written there) and puts what it is equated with in
   * that variable's place, unless the body equated the reference with the variable reference first
   * (`input.a = x`).
   */
  private valueWrittenSecond(rule: Rule, value: Term, env: Env): boolean {
    if ((value.type !== 'ref' && !isComprehension(value)) || isGround(value)) return false;
    const head = rule.head.value;
    return !(head?.type === 'var' && this.equatedFirst.has(env.get(head.value)!));
  }

  /**
   * `p[seg]…` into a partial set or object: each rule's element or key is unified with the segment, and the
   * rest of the reference walks into the element or value. A known segment is bound in the rule before its
   * body runs, as OPA binds it, so that conditions on it are evaluated rather than kept.
   */
  private evalMemberRef(rules: RuleSet, rest: Term[], st: State, k: KT, loc: Location): void {
    this.evalTerm(rest[0]!, st, (seg, s0) => {
      for (const rule of rules.rules) {
        const fresh: State = { env: new Map(), saved: s0.saved };
        const start = (then: K): void => (isGround(seg) ? this.unify(rule.head.key!, seg, fresh, then) : then(fresh));
        start((ruleStart) => this.evalRule(rule, ruleStart, (value, end, key) => {
          this.unifyKey(key ?? value, seg, rest[0]!, { env: s0.env, saved: end.saved }, (s2) => this.walkValue(value, rest.slice(1), s2, k, loc));
        }));
      }
    });
  }

  /**
   * A reference into rules with variables inside their heads (`p[x].q[y] := v`, `p[x].q contains v`) and the
   * rules with constant heads below the same path (`p.foo.r := 1`). Known rules give their document. Otherwise,
   * as OPA does: a reference that stops at their path makes them support rules (`data.partial.pkg.p`); a
   * longer one unifies its segments with each rule's head (the known ones bound before the body runs), and
   * each rule answers alone: the rest of its head, if the reference stops above its leaf, becomes the objects
   * (and a set's element the set) around its value.
   */
  private evalGeneralRef(rules: RuleSet, ref: Extract<Term, { type: 'ref' }>, rest: Term[], st: State, k: KT): void {
    const others = this.rulesUnder(rules.path);
    if (rules.default) throw unsupported(`reference ${refText(ref)} to rules at ${rules.path.join('.')}, which have a variable inside their head reference and a default, is not supported by partial evaluation`, ref.loc);
    if (![rules, ...others].some((set) => this.dependsOnUnknowns(set.path))) {
      const doc = this.knownValue(rules);
      if (doc) this.walkValue(doc, rest, st, k, ref.loc);
      return;
    }
    if (rest.length === 0) return this.supportRef(rules, rest, st, k, ref.loc, others);
    this.evalList(rest, st, (segs, s0) => {
      for (const rule of rules.rules) this.evalRuleAt(rule, [], segs, rest, s0, k, ref.loc);
      for (const other of others) {
        const below = other.path.slice(rules.path.length);
        if (segs.length < below.length) {
          // Each rule answers alone there: a default or an else branch, which depend on the other rules, cannot.
          if (other.default || other.rules.some((rule) => rule.else)) throw unsupported(`reference ${refText(ref)} stops above rules at ${other.path.join('.')} with a default or else branches, beside rules with a variable inside their head reference; partial evaluation does not support that`, ref.loc);
          for (const rule of other.rules) this.evalRuleAt(rule, below.map((seg) => str(seg, ref.loc)), segs, rest, s0, k, ref.loc);
          continue;
        }
        const match = (i: number, s: State): void => {
          if (i < below.length) return this.unify(segs[i]!, str(below[i]!, ref.loc), s, (n) => match(i + 1, n));
          const at = 1 + other.path.length;
          this.evalRuleRef(other, dataRef(other.path, ref.loc, segs.slice(below.length)), at, s, k);
        };
        match(0, s0);
      }
    });
  }

  /**
   * One rule reached by the evaluated segments `segs` (as `written`) of a reference, its head being `prefix` (constant
   * segments) then its own keys: the segments are unified with the head's terms (ground ones bound before the
   * body runs); past the head they walk into the value, and short of its end the rest of the head wraps the
   * value in objects (a set rule's element in a set).
   */
  private evalRuleAt(rule: Rule, prefix: Term[], segs: Term[], written: Term[], s0: State, k: KT, loc: Location): void {
    const head = this.headKeys.get(rule)!;
    const keys = [...prefix, ...head.keys];
    const n = Math.min(keys.length, segs.length);
    const pre = (i: number, s: State, then: K): void => (i >= n ? then(s) : isGround(segs[i]!) ? this.unify(keys[i]!, segs[i]!, s, (next) => pre(i + 1, next, then)) : pre(i + 1, s, then));
    pre(0, { env: new Map(), saved: s0.saved }, (ruleStart) => this.evalRule(rule, ruleStart, (value, end) => {
      const bound = keys.map((t) => plug(t, end.env));
      const match = (i: number, s: State): void => {
        if (i < n) return this.unifyKey(bound[i]!, segs[i]!, written[i]!, s, (next) => match(i + 1, next));
        if (segs.length >= keys.length) return this.walkValue(value, segs.slice(keys.length), s, k, loc);
        const leafKeys = head.element ? bound.slice(n, -1) : bound.slice(n);
        let doc: Term = head.element ? { type: 'set', value: [value], loc } : value;
        for (const key of leafKeys.reverse()) doc = { type: 'object', value: [[key, doc]], loc };
        k(doc, s);
      };
      match(0, { env: s0.env, saved: end.saved });
    }));
  }

  /**
   * A rule's body, then its head: `k` gets the value (a set rule's element), plugged, and an object rule's key.
   */
  private evalRule(rule: Rule, start: State, k: (value: Term, end: State, key: Term | undefined, query: number) => void, path: string[] = [], early = false): void {
    this.childQuery({ kind: 'rule', rule, path }, start.env, rule.loc, (exit) => this.evalRuleBody(rule, start, (value, end, key) => {
      const query = this.query;
      exit(end.env, () => k(value, end, key, query));
    }), early);
  }

  private evalRuleBody(rule: Rule, start: State, k: (value: Term, end: State, key?: Term) => void): void {
    const head = rule.head;
    const valueTerm = head.key && !head.value ? head.key : head.value ?? TRUE;
    this.inRule(k, (out) => this.evalBody(rule.body, 0, start, (end) => this.evalTerm(valueTerm, end, (value, e2) => {
      if (!(head.key && head.value)) return out(this.timed('plug', () => plug(value, e2.env)), e2);
      this.evalTerm(head.key, e2, (key, e3) => out(this.timed('plug', () => plug(value, e3.env)), e3, this.timed('plug', () => plug(key, e3.env))));
    })));
  }

  /** Runs a rule's or function's body in a frame of its own; `out`, its continuation, runs back in the caller's. */
  private inRule<A extends unknown[]>(k: (...args: A) => void, run: (out: (...args: A) => void) => void): void {
    const outer = this.frame;
    // Numbered with the generated variables (so names made from it never clash with theirs); 0 is the query's.
    let inner = this.fresh++;
    if (inner === 0) inner = this.fresh++;
    const out = (...args: A): void => {
      this.frame = outer;
      try {
        k(...args);
      } finally {
        this.frame = inner;
      }
    };
    this.frame = inner;
    try {
      run(out);
    } finally {
      this.frame = outer;
    }
  }

  /**
   * A rule's value in full evaluation, traced as OPA evaluates it: only the rules its index selects are
   * entered; a complete rule's value goes to the continuation from inside the rule body (so the trace nests as
   * OPA's does) and is cached after the first solution; a complete rule whose rules all give one constant stops
   * at its first solution (early exit). Sets and objects are collected in full first.
   */
  private tracedRuleRef(rules: RuleSet, rest: Term[], st: State, k: KT, loc: Location): void {
    const key = rules.path.join('.');
    const cached = this.knownValues.get(key);
    this.options.instrument?.count(cached === undefined ? 'virtual_cache_miss' : 'virtual_cache_hit');
    if (cached !== undefined) {
      if (cached) this.walkValue(cached, rest, st, k, loc);
      return;
    }
    const empty: State = { env: new Map(), saved: [] };
    const matched = this.timed('rule_index', () => rules.rules.filter((r) => this.indexSelects(r)));
    const early = rules.kind === 'complete' && matched.length > 0 && matched.every((r) => !r.else && r.head.value !== undefined && isGround(r.head.value) && groundEqual(r.head.value, matched[0]!.head.value!));
    const plural = (n: number) => `${n} rule${n === 1 ? '' : 's'}`;
    // OPA reports an index that matched no rule as an early exit too (nothing is left to evaluate).
    const expr: TraceNode = this.currentExpr ? { kind: 'expr', expr: this.currentExpr } : null;
    this.emit('index', this.query, expr, st.env, this.currentExpr?.loc ?? loc, `(matched ${plural(matched.length)}${early || matched.length === 0 ? ', early exit' : ''})`, rules.path);
    const traced = (rule: Rule, f: (value: Term, end: State, key?: Term) => void, stopEarly = false) =>
      this.evalRule(rule, empty, f, rules.path, stopEarly);
    if (rules.kind === 'complete') {
      let value: Term | undefined;
      for (const rule of matched) {
        let found = false;
        for (let r: Rule | undefined = rule; r && !found; r = r.else) {
          traced(r, (v1) => {
            found = true;
            if (value) {
              if (!groundEqual(value, v1)) throw new PartialEvalError('eval_conflict_error', conflictHead(false, rules.path), rule.loc);
              return;
            }
            value = v1;
            this.knownValues.set(key, v1);
            this.walkValue(v1, rest, st, k, loc);
          }, early);
        }
        if (value && early) break;
      }
      if (!value && rules.default) {
        traced(rules.default, (v1) => {
          value = v1;
          this.knownValues.set(key, v1);
          this.walkValue(v1, rest, st, k, loc);
        });
      }
      if (!value) this.knownValues.set(key, null);
      return;
    }
    const items: unknown[] = [];
    const obj: Record<string, unknown> = {};
    for (const rule of matched) {
      traced(rule, (head, _end, k2) => {
        if (rules.kind === 'set') items.push(toValue(head));
        else obj[String(toValue(k2!))] = toValue(head);
      });
    }
    const value = rules.kind === 'set' ? toTerm(sortedSet(items)) : toTerm(obj);
    this.knownValues.set(key, value);
    this.walkValue(value, rest, st, k, loc);
  }

  /**
   * Base data at a reference's constant start (`["a", "b"]` of `data.a.b[x]`, constantPath), as a term, with how
   * many of the reference's segments it covers. Each document read is kept for the evaluation, as OPA's evaluator keeps
   * its reads of base data, and a read at or below a kept one is taken from it (the cache's hits and misses are
   * counted for ?instrument). Undefined where there is no document.
   */
  private readBaseData(segs: string[]): { term: Term; depth: number } | undefined {
    if (this.baseCache.data !== this.data) this.baseCache = { data: this.data, terms: new Map() };
    for (let depth = 0; depth <= segs.length; depth++) {
      const kept = this.baseCache.terms.get(segs.slice(0, depth).join('\u0000'));
      if (kept) {
        this.options.instrument?.count('base_cache_hit');
        return { term: kept, depth };
      }
    }
    this.options.instrument?.count('base_cache_miss');
    let doc: unknown = this.data;
    for (const seg of segs) doc = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>)[seg] : undefined;
    if (doc === undefined) return undefined;
    const term = toTerm(doc);
    this.baseCache.terms.set(segs.join('\u0000'), term);
    return { term, depth: segs.length };
  }

  /**
   * A document that holds rules (a package), in full: its base data with each rule's value set in it. Traced,
   * each rule is evaluated as OPA's trace shows it; otherwise the rules are known (none depends on unknowns).
   */
  private tracedTree(prefix: string[], st: State, k: KT, loc: Location): void {
    const doc = this.timed('resolve', (): Record<string, unknown> => {
      const base = prefix.reduce<unknown>((at, seg) => (at !== null && typeof at === 'object' && !Array.isArray(at) ? (at as Record<string, unknown>)[seg] : undefined), this.data);
      // A copy to write the rules' values in: through text, as large base data is packed (read-only, src/json/packed.ts).
      return base !== null && typeof base === 'object' && !Array.isArray(base) ? (readJson(writeJson(base), { maxDepth: Infinity }) as Record<string, unknown>) : {};
    });
    const sets = this.rulesUnder(prefix).sort((a, b) => (a.path.join('.') < b.path.join('.') ? -1 : 1));
    for (const rules of sets) {
      if (rules.kind === 'general' && this.options.tracer) throw unsupported(`rules at ${rules.path.join('.')} have a variable inside their head reference, which explain does not support`, loc);
      let value: Term | undefined;
      if (this.options.tracer) this.tracedRuleRef(rules, [], st, (t) => (value ??= t), loc);
      else value = this.knownValue(rules) ?? undefined;
      if (!value) continue;
      let at = doc;
      for (const seg of rules.path.slice(prefix.length, -1)) at = (at[seg] ??= {}) as Record<string, unknown>;
      at[rules.path[rules.path.length - 1]!] = toValue(value);
    }
    k(toTerm(doc, loc), st);
  }

  /**
   * OPA's rule index, as far as a trace shows it: a rule with a top-level equality between a constant
   * reference into input and a scalar is only entered when the input has that value there.
   */
  private indexSelects(rule: Rule): boolean {
    for (const e of rule.body) {
      if (e.negated || (e.with && e.with.length > 0) || !Array.isArray(e.terms)) continue;
      const name = exprOperator(e);
      if (name !== 'eq' && name !== 'equal') continue;
      const [, a, b] = e.terms as Term[];
      for (const [ref, scalar] of [[a!, b!], [b!, a!]]) {
        if (ref.type !== 'ref' || ref.value[0]?.type !== 'var' || ref.value[0].value !== 'input' || !ref.value.slice(1).every((s) => s.type === 'string')) continue;
        if (!['string', 'number', 'boolean', 'null'].includes(scalar.type)) continue;
        let at: unknown = this.input;
        for (const seg of ref.value.slice(1)) at = at !== null && typeof at === 'object' && !Array.isArray(at) ? (at as Record<string, unknown>)[(seg as { value: string }).value] : undefined;
        if (at === undefined || !groundEqual(toTerm(at), scalar)) return false;
      }
    }
    return true;
  }

  /** A rule evaluated in full: its value, or null when it is undefined. Cached per evaluation. */
  private knownValue(rules: RuleSet): Term | null {
    const key = rules.path.join('.');
    if (this.knownValues.has(key)) return this.knownValues.get(key)!;
    this.knownValues.set(key, null);
    let value: Term | null = null;
    const empty: State = { env: new Map(), saved: [] };
    if (rules.kind === 'complete') {
      for (const rule of rules.rules) {
        for (let r: Rule | undefined = rule; r; r = r.else) {
          let found: Term | undefined;
          this.evalRule(r, empty, (v1, end) => {
            assertKnown(end, rule);
            if (value && !groundEqual(value, v1)) throw new PartialEvalError('eval_conflict_error', conflictHead(false, rules.path), rule.loc);
            found ??= v1;
          });
          if (found) {
            value = found;
            break;
          }
        }
      }
      if (!value && rules.default) value = rules.default.head.value!;
    } else if (rules.kind === 'general') {
      let doc: Term = { type: 'object', value: [], loc: NO_LOC };
      for (const rule of rules.rules) {
        const head = this.headKeys.get(rule)!;
        this.evalRule(rule, empty, (leaf, end) => (assertKnown(end, rule), doc = placeLeaf(doc, head.keys.map((t) => plug(t, end.env)), leaf, head.element, rule.loc)));
      }
      for (const other of this.rulesUnder(rules.path)) {
        const at = this.knownValue(other);
        if (at) doc = placeLeaf(doc, other.path.slice(rules.path.length).map((seg) => str(seg)), at, false, other.rules[0]?.loc ?? NO_LOC);
      }
      value = doc;
    } else {
      const items: unknown[] = [];
      const obj: Record<string, unknown> = {};
      for (const rule of rules.rules) {
        this.evalRule(rule, empty, (head, end, key) => {
          assertKnown(end, rule);
          if (rules.kind === 'set') items.push(toValue(head));
          else obj[String(toValue(key!))] = toValue(head);
        });
      }
      value = rules.kind === 'set' ? toTerm(sortedSet(items)) : toTerm(obj);
    }
    this.knownValues.set(key, value);
    return value;
  }

  /**
   * Support rules for `rules`, and for the rule sets below them (`others`, when the reference stops above them),
   * under data.partial, and the residual reference to them. A partial object's key and the keys of a rule with
   * variables in its head become the support rule's head reference (`p[x] := v`, `p[x].q := v`).
   */
  private supportRef(rules: RuleSet, rest: Term[], st: State, k: KT, loc: Location, others: RuleSet[] = []): void {
    for (const set of [rules, ...others]) {
      this.makeSupport(set, 'rule', loc, (rule, add) => {
        const head = this.headKeys.get(rule)!;
        this.evalRule(rule, { env: new Map(), saved: [] }, (value, end, _key, query) => {
          const written = head.element ? head.keys.slice(0, -1) : head.keys;
          const keys = written.map((t) => plug(t, end.env));
          const element = head.element ? head.keys[head.keys.length - 1]! : rule.head.value ?? TRUE;
          add({ path: set.path, ref: keys, kind: head.element ? 'set' : 'complete' }, value, end.saved, { value: element, ref: written, env: end.env, query });
        });
      });
    }
    // With no support rule, a complete rule is undefined, and a set or object empty.
    if ([rules, ...others].every((set) => this.support.get(set.path.join('.'))!.length === 0)) {
      if (rules.kind === 'complete') return;
      return this.walkValue({ type: rules.kind === 'set' ? 'set' : 'object', value: [], loc }, rest, st, k, loc);
    }
    this.residual(dataRef(['partial', ...rules.path], loc, rest), st, k);
  }

  /**
   * The support rules (or functions) of a rule set, made once per evaluation: `each` evaluates one rule and
   * adds a support rule per way it succeeds; the default, if any, is added as it is. Refused inside `with`:
   * support rules are shared by every use, and would not see the replaced input.
   */
  private makeSupport(rules: RuleSet, what: 'rule' | 'function', loc: Location, each: (rule: Rule, add: (head: Pick<SupportRule, 'path' | 'kind' | 'args' | 'ref'>, value: Term, saved: readonly Expr[], written?: WrittenHead) => void) => void): void {
    const key = rules.path.join('.');
    if (this.inWith) throw unsupported(`${what} ${key} kept as a support ${what} under \`with\` is not supported by partial evaluation`, loc);
    if (this.support.has(key)) return;
    const made: SupportRule[] = [];
    this.support.set(key, made);
    const always = (): Expr[] => [{ index: 0, terms: TRUE, loc, generated: true }];
    const outer = this.inSupportFunction;
    this.inSupportFunction = what === 'function';
    try {
      for (const rule of rules.rules) {
        if (rule.else) throw unsupported(`${what} ${key} with else branches depending on unknowns is not supported by partial evaluation`, rule.loc);
        each(rule, (head, value, saved, written) => {
          // Values read from an unknown are held in variables of the rule, as OPA writes it: `p[x] { x = input.x }`.
          const equations: HeldEquation[] = [];
          const held = this.hold(value, equations, written, written?.value);
          const ref = (head.ref ?? []).map((t, i) => this.hold(t, equations, written, written?.ref[i]));
          // In the order the body bound the variables, as OPA keeps the body's own equations.
          const body = [...saved, ...equations.sort((a, b) => a.at - b.at).map(({ e }) => e)];
          made.push({ ...head, ...(ref.length > 0 ? supportHead(head.path, ref) : { path: head.path, ref: undefined }), value: held, body: reindex(body.length > 0 ? body : always()) });
        });
      }
    } finally {
      this.inSupportFunction = outer;
    }
    const d = rules.default;
    if (!d) return;
    // A default function's parameters are named after a query of its own, after its other rules', as OPA names them.
    const q = what === 'function' ? this.nextQuery++ : 0;
    const args = d.head.args?.map((t) => (t.type === 'var' ? v(`${t.value}${q}`, t.loc) : t));
    made.push({ path: rules.path, kind: what === 'function' ? 'function' : 'complete', default: true, args, value: d.head.value!, body: always() });
  }

  /** Whether the rule at `path` (under data) is named, or lies under a path named, in disableInlining. */
  private inliningDisabled(path: string[]): boolean {
    const full = ['data', ...path];
    return this.options.disableInlining.some((d) => d.length <= full.length && d.every((s, i) => s === full[i]));
  }

  /**
   * `t` with each reference in it replaced by a variable, and `x = ref` added to `held` for it. Where the head
   * as written (`source`) reaches that reference through a variable of the rule, or else a variable of the rule
   * is bound to it (`b = input.x` for a head `{a: b}` the body bound whole), the variable is named after it and
   * the rule body's query (`x1`), as OPA names the rule's own variable it keeps; otherwise a fresh name.
   */
  private hold(t: Term, held: HeldEquation[], written?: WrittenHead, source?: Term): Term {
    let name: string | undefined;
    let src = source;
    while (written && src?.type === 'var') {
      const bound = written.env.get(src.value);
      if (!bound || (bound.type === 'var' && bound.value === src.value)) break;
      name = src.value;
      src = bound;
    }
    switch (t.type) {
      case 'ref': {
        if (written && (name === undefined || src?.type !== 'ref')) {
          const key = termKey(t);
          const holder = [...written.env].find(([, bound]) => bound.type === 'ref' && termKey(bound) === key);
          if (holder) [name, src] = holder;
        }
        const x = v(written && name !== undefined ? `${name}${written.query}` : `__s${this.fresh++}__`, t.loc);
        const at = written && name !== undefined ? [...written.env.keys()].indexOf(name) : Infinity;
        // The reference first where the body equated it with the variable (`input.x = x`), as OPA keeps the equation.
        held.push({ e: this.call('eq', src && this.equatedFirst.has(src) ? [t, x] : [x, t]), at });
        return x;
      }
      case 'array': case 'set': {
        // The written term's elements name the held elements where it has the value's shape (`[a, b]`).
        const parts = (src?.type === 'array' || src?.type === 'set') && src.type === t.type && src.value.length === t.value.length ? src.value : undefined;
        return { ...t, value: t.value.map((x, i) => this.hold(x, held, written, parts?.[i])) };
      }
      case 'object': {
        const pairs = src?.type === 'object' && src.value.length === t.value.length ? src.value : undefined;
        return { ...t, value: t.value.map(([a, b], i): [Term, Term] => [this.hold(a, held, written, pairs?.[i]?.[0]), this.hold(b, held, written, pairs?.[i]?.[1])]) };
      }
      default: return t;
    }
  }

  /** Whether a rule (or anything it reaches) reads an unknown, uses `with`, or is named in disableInlining. */
  private dependsOnUnknowns(path: string[]): boolean {
    const key = path.join('.');
    const memo = this.dependsMemo.get(key);
    if (memo !== undefined) return memo;
    this.dependsMemo.set(key, false);
    const set = this.rules.get(key);
    let found = this.inliningDisabled(path);
    const visit = (t: unknown): void => {
      if (found || t === null || typeof t !== 'object') return;
      if (Array.isArray(t)) return t.forEach(visit);
      const node = t as { type?: string; value?: unknown; with?: unknown[] };
      if (Array.isArray(node.with) && node.with.length > 0) found = true;
      if (node.type === 'ref') {
        const ref = node as Extract<Term, { type: 'ref' }>;
        const called = callName(ref) ?? '';
        if (NONDETERMINISTIC.has(called)) found = true;
        // A function replaced (`with f as g`) by one depending on unknowns.
        const mock = this.mocks.get(called);
        if (mock && 'residual' in mock) found = true;
        if (this.isUnknown(ref, new Map())) found = true;
        const target = staticDataPath(ref);
        if (target) for (const other of this.rulesReachedBy(target)) if (this.dependsOnUnknowns(other)) found = true;
      }
      for (const [name, child] of Object.entries(t)) if (name !== 'loc') visit(child);
    };
    for (const rule of [...(set?.rules ?? []), ...(set?.default ? [set.default] : [])]) visit(rule);
    this.dependsMemo.set(key, found);
    return found;
  }

  /** Rule paths at, under or above a data path. */
  private rulesReachedBy(path: string[]): string[][] {
    const out: string[][] = [];
    for (const set of this.rules.values()) {
      const n = Math.min(set.path.length, path.length);
      if (set.path.slice(0, n).every((s, i) => s === path[i])) out.push(set.path);
    }
    return out;
  }

  // ---------------------------------------------------------------- unknowns and residual terms

  /** Whether a reference overlaps one of the unknowns; unbound variable segments match anything. */
  private isUnknown(ref: Extract<Term, { type: 'ref' }>, env: Env): boolean {
    const head = ref.value[0]!;
    if (head.type !== 'var') return false;
    return (head.value === 'data' && this.disabledBase(ref)) || this.overlapsUnknowns(ref, env);
  }

  /** Whether a reference overlaps one of the unknowns (`isUnknown` without disableInlining). */
  private overlapsUnknowns(ref: Extract<Term, { type: 'ref' }>, env: Env): boolean {
    const head = ref.value[0]!;
    if (head.type !== 'var') return false;
    return this.unknowns.some((u) => {
      if (u[0] !== head.value) return false;
      for (let i = 1; i < Math.min(u.length, ref.value.length); i++) {
        const seg = plug(ref.value[i]!, env);
        if (seg.type === 'string' && seg.value !== u[i]) return false;
        if (isGround(seg) && seg.type !== 'string') return false;
      }
      return true;
    });
  }

  /**
   * Whether a reference into data overlaps a path named in disableInlining (its constant part above or below
   * it): such base documents are left unevaluated, as OPA leaves them.
   */
  private disabledBase(ref: Extract<Term, { type: 'ref' }>): boolean {
    const prefix = ['data', ...(staticDataPath(ref) ?? [])];
    return this.options.disableInlining.some((d) => d.every((s, i) => i >= prefix.length || s === prefix[i]));
  }

  /** A residual term, its bound variables filled in and its unbound ones made residual. */
  private residual(t: Term, st: State, k: KT): void {
    const next = this.makeResidual(t, st);
    k(plug(t, next.env), next);
  }

  /**
   * Makes the unbound variables of `t` residual: they stand for whatever makes the residual query true. A
   * rule's local variable gets a fresh name, as the same rule may be inlined more than once into one query.
   */
  private makeResidual(t: Term, st: State): State {
    let env = st.env;
    walkVars(plug(t, st.env), (name) => {
      if (!this.isUnbound(name, env)) return;
      // The query's own wildcards (`input.x[_]`, the parser's `$0`) keep their names, as OPA keeps them.
      if (!this.queryVars.has(name) && !(this.frame === 0 && name.startsWith('$'))) {
        // Named after the query (rule body) it belongs to, as OPA namespaces a rule's variables by its query id.
        const fresh = this.query === 0 ? `${name}${this.fresh++}` : `${name}${this.query}`;
        this.residualVars.add(fresh);
        env = bind(env, name, v(fresh));
      } else env = bind(env, name, v(name));
    });
    return env === st.env ? st : { env, saved: st.saved };
  }

  private isUnbound(name: string, env: Env): boolean {
    return !env.has(name) && !this.residualVars.has(name);
  }

  private freshVar(loc: Location): Term {
    const name = `__pe${this.fresh++}__`;
    this.residualVars.add(name);
    return v(name, loc);
  }

  /**
   * Unification in a traced evaluation, reported as OPA's evaluator reports its own: a Unify event for each
   * pair it equates (bound variables at the top replaced by their values), a reference or comprehension
   * evaluated first and its each value equated with the other side in turn (base data after the other side,
   * as OPA's tree of data equates them; a rule's value, input or a local value before it), and arrays and
   * objects equated element by element.
   */
  private tracedUnify(a: Term, b: Term, st: State, k: K): void {
    const top = (t: Term): Term => (t.type === 'var' ? st.env.get(t.value) ?? t : t);
    const pa = top(a);
    const pb = top(b);
    this.traceUnify(pa, pb, st.env);
    const evaluated = (t: Term) => t.type === 'ref' || isComprehension(t);
    if (evaluated(pa) || evaluated(pb)) {
      const [first, other] = evaluated(pa) ? [pa, pb] : [pb, pa];
      const otherFirst = first.type === 'ref' && this.readsBaseData(first, st.env);
      return this.evalTerm(first, st, (value, s) => (otherFirst ? this.tracedUnify(other, value, s, k) : this.tracedUnify(value, other, s, k)), other);
    }
    if (this.unifyElements(pa, pb, st, k, (x, y, s, n) => this.tracedUnify(x, y, s, n))) return;
    // Calls and composites holding them are evaluated to values first (the compiler moved OPA's out of line).
    if (pa.type === 'call' || pb.type === 'call' || !isGround(plug(pa, st.env)) || !isGround(plug(pb, st.env))) {
      return this.evalTerm(a, st, (va, s1) => this.evalTerm(b, s1, (vb, s2) => this.unify(va, vb, s2, k), va), b);
    }
    this.unify(pa, pb, st, k);
  }

  /** The variable a lone term is equated with, named as OPA names it: by query and in order within it. */
  private lonetermVar(loc: Location): Extract<Term, { type: 'var' }> {
    const n = this.lonetermVars.get(this.query) ?? 0;
    this.lonetermVars.set(this.query, n + 1);
    return { type: 'var', value: `$_term_${this.query}_${n}`, loc };
  }

  /** A Unify event of a traced evaluation, at the expression being evaluated. */
  private traceUnify(a: Term, b: Term, env: Env): void {
    const loc = this.currentExpr?.loc ?? a.loc;
    this.emit('unify', this.query, { kind: 'expr', expr: { index: 0, terms: [op('eq'), a, b], loc } }, env, loc);
  }

  /**
   * A reference into data that meets no rule on its constant path (at or above where it stops): OPA reads it
   * from its tree of data, which equates the other side with the value, not the value with the other side.
   */
  private readsBaseData(ref: Extract<Term, { type: 'ref' }>, env: Env): boolean {
    if (!isDataRef(ref)) return false;
    const segs: string[] = [];
    for (let i = 1; i < ref.value.length; i++) {
      const seg = plug(ref.value[i]!, env);
      if (seg.type !== 'string') break;
      segs.push(seg.value);
      if (this.rules.has(segs.join('.'))) return false;
    }
    return true;
  }

  /**
   * Two arrays, or two objects whose keys are all ground, equated element by element with `each` (arrays of
   * different lengths, or objects with different keys, equate nothing). False when `pa` and `pb` are not such a pair.
   */
  private unifyElements(pa: Term, pb: Term, st: State, k: K, each: (a: Term, b: Term, s: State, k: K) => void): boolean {
    let pairs: [Term, Term][];
    if (pa.type === 'array' && pb.type === 'array') {
      if (pa.value.length !== pb.value.length) return true;
      pairs = pa.value.map((x, i) => [x, pb.value[i]!]);
    } else if (pa.type === 'object' && pb.type === 'object' && pa.value.every(([key]) => isGround(key)) && pb.value.every(([key]) => isGround(key))) {
      if (pa.value.length !== pb.value.length) return true;
      pairs = [];
      for (const [key, value] of pa.value) {
        const match = pb.value.find(([other]) => groundEqual(key, other));
        if (!match) return true;
        pairs.push([value, match[1]]);
      }
    } else return false;
    const step = (i: number, s: State): void => (i >= pairs.length ? k(s) : each(pairs[i]![0], pairs[i]![1], s, (n) => step(i + 1, n)));
    step(0, st);
    return true;
  }

  /**
   * Unification: binds unbound variables, compares known values, and keeps anything residual as `a = b`.
   * `variableFirst`: `b` was written as a value, not a variable (`x := input.a`, not `x = y`).
   */
  private unify(a: Term, b: Term, st: State, k: K, variableFirst = b.type !== 'var'): void {
    const pa = plug(a, st.env);
    const pb = plug(b, st.env);
    if (pa.type === 'var' && this.isUnbound(pa.value, st.env)) {
      if (variableFirst) this.boundVariableFirst.add(pb);
      return k(this.keepsEquation(pb) ? this.saveEquation(pa, pb, pa, st) : this.bindVar(pa.value, pb, st));
    }
    if (pb.type === 'var' && this.isUnbound(pb.value, st.env)) {
      // A reference a variable was bound to as written variable first (`a = input.a`) keeps that order.
      if (pa.type === 'ref' && !isGround(pa) && !this.boundVariableFirst.has(pa)) this.equatedFirst.add(pa);
      return k(this.keepsEquation(pa) ? this.saveEquation(pa, pb, pb, st) : this.bindVar(pb.value, pa, st));
    }
    if (isGround(pa) && isGround(pb)) {
      if (groundEqual(pa, pb)) k(st);
      return;
    }
    if (this.unifyElements(pa, pb, st, k, (x, y, s, n) => this.unify(x, y, s, n))) return;
    if (isComposite(pa) && isComposite(pb) && pa.type !== pb.type) return;
    if (pa.type === 'set' && pb.type === 'set' && !(pa.value.every((x) => pb.value.some((y) => mayUnify(x, y))) && pb.value.every((y) => pa.value.some((x) => mayUnify(x, y))))) return;
    const s = this.makeResidual(pb, this.makeResidual(pa, st));
    // A document of data kept as a reference (rules below it depend on unknowns) comes first, as OPA writes
    // the reference it could not evaluate.
    k(this.save(s, this.call('eq', (isDataRef(pb) && !isDataRef(pa)) || this.standsForVariable(pa, pb) ? [pb, pa] : [pa, pb])));
  }

  /**
   * Whether `ref`, equated with the known value `value`, is what a variable was bound to as `x = ref`: OPA keeps
   * that equation and puts the value in the variable's place (`z = input.x; z = 1` is `1 = input.x`).
   */
  private standsForVariable(ref: Term, value: Term): boolean {
    return ref.type === 'ref' && !isGround(ref) && isGround(value) && this.boundVariableFirst.has(ref);
  }

  /**
   * A reference's segment (`written`, evaluated to `seg`) matched with a key of the document it reaches: a
   * segment written as a residual term is kept equated with the key written first (`"bar" = input.x`), as OPA
   * equates each key it finds with the segment. A variable is bound to the key, or, bound to a residual term,
   * its equation reads as the one that bound it.
   */
  private unifyKey(key: Term, seg: Term, written: Term, st: State, k: K): void {
    if (written.type === 'var') return this.unify(seg, key, st, k);
    this.unify(key, seg, st, k);
  }

  /**
   * The state after the equation `e`, less the equation it saved last when that one repeats an equation
   * another expression saved and neither reads as written: OPA keeps an equation of an unknown with a variable
   * as it is and folds the variable's other equations into it (copy propagation), where this evaluator binds
   * the variable and reaches the same equation again (`input.a = x; x = 1; x = 1` is `input.a = 1` once).
   * An equation written twice, or one expression evaluated twice (a rule used twice), stays repeated.
   */
  private withoutRepeatedEquation(e: Expr, before: State, after: State): State {
    const last = after.saved[after.saved.length - 1];
    if (!last || before.saved.includes(last) || exprOperator(last) !== 'eq') return after;
    this.savedBy.set(last, e);
    // Variables bound to known values read as written; those bound to residual terms do not.
    const known = new Map([...before.env].filter(([, t]) => isGround(t)));
    const operands = (terms: Term[]) => terms.slice(1).map((t) => exprKey({ index: 0, terms: t, loc: NO_LOC })).sort().join();
    const key = operands(last.terms as Term[]);
    if (key === operands(plugTerms(e.terms, known) as Term[])) return after;
    const repeats = after.saved.some((x) => x !== last && this.savedBy.get(x) !== e && exprOperator(x) === 'eq' && operands(x.terms as Term[]) === key);
    return repeats ? { env: after.env, saved: after.saved.slice(0, -1) } : after;
  }

  /**
   * Binds a variable. A rule's variable bound to a residual reference below the root also keeps the
   * reference's definedness as a condition (`__def1__ = input.x`): the query must not hold where `input.x` is
   * undefined even when nothing else uses the variable. The condition goes again where another expression
   * uses the reference. (A whole unknown document is defined, as OPA takes it.)
   */
  private bindVar(name: string, value: Term, st: State): State {
    const env = bind(st.env, name, value);
    if (this.queryVars.has(name) && !isGround(value)) this.boundAfter.set(value, st.saved);
    if ((this.queryVars.has(name) && !name.startsWith('__local')) || this.options.tracer || value.type !== 'ref' || value.value.length < 2) return { env, saved: st.saved };
    const def = `${DEFINED_PREFIX}${this.fresh++}__`;
    this.residualVars.add(def);
    const query = this.parameterQuery ?? this.query;
    if (this.queryVars.has(name) || query !== 0) this.definedness.set(def, this.queryVars.has(name) ? name : `${name}${query}`);
    return { env, saved: [...st.saved, this.call('eq', [v(def), value])] };
  }

  /**
   * An expression that is a residual collection or comprehension (always true: neither is ever false or
   * undefined), kept as OPA keeps it, equated with a variable: `$_term_0_0 = [x, y]`, and for a comprehension
   * (or any other residual term in a support function's body) `{true | input.foo} = $_term_1_11; $_term_1_11`.
   * The variable is named as OPA names it: by the query and the expression's place in it, then (in a rule's
   * body) the query's suffix as its other variables have.
   */
  private saveTermExpr(t: Term, st: State, e: Expr): State {
    const q = this.query;
    const name = `$_term_${q}_${e.index}${q === 0 ? '' : q}`;
    const x = v(name, e.loc);
    this.residualVars.add(name);
    if (isComposite(t)) return this.save(st, this.call('eq', [x, t]));
    return this.save(this.save(st, this.call('eq', [t, x])), { index: 0, terms: x, loc: e.loc });
  }

  /**
   * The variable a residual value is held in to index it, named as OPA names it: `$_ref_` and a count of such
   * variables in the query, then (in a rule's body) the query's suffix as its other variables have.
   */
  private refVar(loc: Location): Term {
    const q = this.query;
    const n = this.refVars.get(q) ?? 0;
    this.refVars.set(q, n + 1);
    const name = `$_ref_${n}${q === 0 ? '' : q}`;
    this.residualVars.add(name);
    return v(name, loc);
  }

  /** A variable holding a residual value the query keeps (not a call's output, which copy propagation folds). */
  private freshTermVar(loc: Location): Term {
    const name = `__term${this.fresh++}__`;
    this.residualVars.add(name);
    return v(name, loc);
  }

  /**
   * Whether a variable equated with `t` stays a variable, the equation kept, as OPA keeps it: `t` a
   * comprehension that reads an unknown, or any residual value in a support function's body (which OPA does
   * not simplify).
   */
  private keepsEquation(t: Term): boolean {
    return this.unknownClosures.has(t) || ((this.inSupportFunction || this.equationsKept) && !isGround(t));
  }

  /** `a = b`, `x` (one side) a variable: `x` stays a variable, and the equation is kept. */
  private saveEquation(a: Term, b: Term, x: Term, st: State): State {
    return this.save(this.makeResidual(x, st), this.call('eq', [a, b]));
  }

  private save(st: State, e: Expr): State {
    if (this.options.tracer) throw unsupported(`${describe(e)} that cannot be evaluated in full is not supported by explain`, e.loc);
    return { env: st.env, saved: [...st.saved, { ...e, terms: plugTerms(e.terms, st.env) }] };
  }

  private call(name: string, args: Term[]): Expr {
    return { index: 0, terms: [op(name), ...args], loc: NO_LOC };
  }
}

// ---------------------------------------------------------------- helpers

/** Whether a variable appears in a support rule's head (its value, key or reference), which the body binds. */
function headVars(r: SupportRule): (name: string) => boolean {
  const names = headVarNames(r);
  return (name) => names.has(name);
}

function headVarNames(r: SupportRule): Set<string> {
  const names = new Set<string>();
  for (const t of [r.value, ...(r.ref ?? []), ...(r.args ?? [])]) walkVars(t, (name) => names.add(name));
  return names;
}

/** The string segments a reference starts with after its head, with bound variables filled in. */
function constantPath(ref: Extract<Term, { type: 'ref' }>, env: Env): string[] {
  const segs: string[] = [];
  for (let i = 1; i < ref.value.length; i++) {
    const seg = plug(ref.value[i]!, env);
    if (seg.type !== 'string') break;
    segs.push(seg.value);
  }
  return segs;
}

/** A reference whose head is `data`. */
function isDataRef(t: Term): boolean {
  return t.type === 'ref' && t.value[0]!.type === 'var' && t.value[0]!.value === 'data';
}

/** A rule evaluated in full must leave nothing residual: a dependency on unknowns missed is refused, never dropped. */
function assertKnown(end: State, rule: Rule): void {
  if (end.saved.length > 0) throw unsupported(`rule ${refText({ type: 'ref', value: rule.head.ref, loc: rule.loc })} depends on unknowns in a way partial evaluation does not support`, rule.loc);
}

function bind(env: Env, name: string, value: Term): Env {
  const next = new Map(env);
  next.set(name, value);
  return next;
}

/** Replaces bound variables by their values (a residual variable is bound to itself). */
export function plug(t: Term, env: Env): Term {
  switch (t.type) {
    case 'var': {
      const bound = env.get(t.value);
      return bound && !(bound.type === 'var' && bound.value === t.value) ? plug(bound, env) : t;
    }
    case 'ref': case 'array': case 'set': case 'call': {
      // A term with nothing to fill in is itself: what the evaluator noted about it (how it was bound) stays.
      const value = t.value.map((x) => plug(x, env));
      return value.every((x, i) => x === t.value[i]) ? t : ({ ...t, value } as Term);
    }
    case 'object': {
      const value = t.value.map(([a, b]): [Term, Term] => [plug(a, env), plug(b, env)]);
      return value.every(([a, b], i) => a === t.value[i]![0] && b === t.value[i]![1]) ? t : { ...t, value };
    }
    default: return t;
  }
}

/**
 * Every expression `a == b` in `node`, nested bodies (comprehensions, `every`, `and`/`or`) included, as OPA's
 * compiler leaves it in a body: `a = b`. A comparison nested in a term (`x := a == b`) stays a call.
 */
function equalsAsUnifications<T>(node: T): T {
  if (node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map(equalsAsUnifications) as T;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node as object)) out[key] = key === 'loc' ? child : equalsAsUnifications(child);
  const terms = out.terms;
  if (Array.isArray(terms) && terms.length === 3 && callName(terms[0] as Term) === 'equal') out.terms = [op('eq', (terms[0] as Term).loc), terms[1], terms[2]];
  return out as T;
}

/** Bound variables filled in throughout an expression's terms, nested bodies included. */
function plugLogical(terms: Expr['terms'], env: Env): Expr['terms'] {
  if (isTerm(terms) || Array.isArray(terms)) return plugTerms(terms, env);
  if (terms.type === 'logicaland' || terms.type === 'logicalor') {
    const body = (b: Body): Body => b.map((x) => ({ ...x, terms: plugLogical(x.terms, env) }));
    return { ...terms, lhs: body(terms.lhs), rhs: body(terms.rhs) };
  }
  return terms;
}

function plugTerms(terms: Expr['terms'], env: Env): Expr['terms'] {
  if (Array.isArray(terms)) return terms.map((t, i) => (i === 0 ? t : plug(t, env)));
  return isTerm(terms) ? plug(terms, env) : terms;
}

function walkVars(t: Term, f: (name: string) => void): void {
  if (t.type === 'var') return f(t.value);
  if (t.type === 'ref') {
    t.value.slice(1).forEach((x) => walkVars(x, f));
    return;
  }
  if (t.type === 'array' || t.type === 'set' || t.type === 'call') t.value.forEach((x) => walkVars(x, f));
  if (t.type === 'object') t.value.forEach(([a, b]) => (walkVars(a, f), walkVars(b, f)));
}

function isComprehension(t: Term): t is Comprehension {
  return t.type === 'arraycomprehension' || t.type === 'setcomprehension' || t.type === 'objectcomprehension';
}

/** Whether two terms could be equal once their residual parts are known: false where their shapes differ. */
function mayUnify(a: Term, b: Term): boolean {
  if (isGround(a) && isGround(b)) return groundEqual(a, b);
  const scalar = (t: Term) => ['null', 'boolean', 'number', 'string'].includes(t.type);
  if (!(isComposite(a) || scalar(a)) || !(isComposite(b) || scalar(b))) return true;
  if (a.type !== b.type) return false;
  if (a.type === 'array' && b.type === 'array') return a.value.length === b.value.length && a.value.every((x, i) => mayUnify(x, b.value[i]!));
  if (a.type === 'object' && b.type === 'object') {
    if (!a.value.every(([key]) => isGround(key)) || !b.value.every(([key]) => isGround(key)) || a.value.length !== b.value.length) return true;
    return a.value.every(([key, x]) => b.value.some(([other, y]) => groundEqual(key, other) && mayUnify(x, y)));
  }
  return true;
}

function isComposite(t: Term): boolean {
  return t.type === 'array' || t.type === 'object' || t.type === 'set';
}

/** Keys and values of a ground collection (a set's elements are their own keys). */
function groundEntries(t: Term): [Term, Term][] {
  switch (t.type) {
    case 'array': return t.value.map((x, i) => [toTerm(i, x.loc), x]);
    case 'set': return t.value.map((x) => [x, x]);
    case 'object': return t.value;
    default: return [];
  }
}

/** data.a.b[x].c → ['a', 'b']: the constant part of a data reference. */
function staticDataPath(ref: Extract<Term, { type: 'ref' }>): string[] | undefined {
  const head = ref.value[0]!;
  if (head.type !== 'var' || head.value !== 'data') return undefined;
  const out: string[] = [];
  for (const seg of ref.value.slice(1)) {
    if (seg.type !== 'string') break;
    out.push(seg.value);
  }
  return out;
}

function refText(ref: Extract<Term, { type: 'ref' }>): string {
  return ref.value.map((t, i) => (i === 0 && t.type === 'var' ? t.value : t.type === 'string' ? `.${t.value}` : '[_]')).join('');
}

/**
 * Whether a residual expression can be negated in place, as OPA judges it on its compiled form: an equality or
 * a bare term without variables or comprehensions, or another call whose arguments hold no reference either
 * (OPA's compiler moves references out of call arguments into variables).
 */
function negatable(e: Expr): boolean {
  if (e.negated) return false;
  if (isTerm(e.terms)) return !hasVarsOrClosures(e.terms);
  if (!Array.isArray(e.terms)) return false;
  const args = e.terms.slice(1);
  const name = exprOperator(e);
  if (name === 'eq' || name === 'equal') return args.every((t) => !hasVarsOrClosures(t));
  return args.every((t) => !hasVarsOrClosures(t) && !hasRefs(t));
}

/** Variables in a residual expression other than generated ones (which support rules keep to themselves). */
function hasFreeVars(e: Expr): boolean {
  let found = false;
  const visit = (t: Term) => walkVars(t, (name) => {
    if (!name.startsWith('__pe') && name !== 'input' && name !== 'data') found = true;
  });
  if (Array.isArray(e.terms)) e.terms.slice(1).forEach(visit);
  else if (isTerm(e.terms)) visit(e.terms);
  return found;
}

function hasVarsOrClosures(t: Term): boolean {
  switch (t.type) {
    case 'var': return true;
    case 'ref': return (t.value[0]!.type === 'var' ? !['input', 'data'].includes(t.value[0]!.value) : hasVarsOrClosures(t.value[0]!)) || t.value.slice(1).some(hasVarsOrClosures);
    case 'array': case 'set': return t.value.some(hasVarsOrClosures);
    case 'call': return t.value.slice(1).some(hasVarsOrClosures);
    case 'object': return t.value.some(([a, b]) => hasVarsOrClosures(a) || hasVarsOrClosures(b));
    case 'arraycomprehension': case 'setcomprehension': case 'objectcomprehension': case 'templatestring': return true;
    default: return false;
  }
}

/**
 * The document `doc` (an object) with a rule's value written at the keys of its head (objects created on the
 * way); a set rule's element (`element`: the last key) joins the set there. Two values at one leaf conflict;
 * two objects merge.
 */
function placeLeaf(doc: Term, keys: Term[], leaf: Term, element: boolean, loc: Location): Term {
  const conflict = () => new PartialEvalError('eval_conflict_error', 'rules with variables in their heads must not produce conflicting documents', loc);
  if (element) return placeLeaf(doc, keys.slice(0, -1), { type: 'set', value: [keys[keys.length - 1]!], loc }, false, loc);
  if (keys.length === 0) {
    if (doc.type === 'object' && leaf.type === 'object') return leaf.value.reduce<Term>((at, [key, x]) => placeLeaf(at, [key], x, false, loc), doc);
    if (doc.type === 'set' && leaf.type === 'set') return toTerm(sortedSet([...doc.value, ...leaf.value].map(toValue)), loc);
    if (!groundEqual(doc, leaf)) throw conflict();
    return doc;
  }
  if (doc.type !== 'object') throw conflict();
  const [key, ...more] = keys;
  const at = doc.value.findIndex(([other]) => groundEqual(other, key!));
  const inner = placeLeaf(at < 0 ? (more.length === 0 ? leaf : { type: 'object', value: [], loc }) : doc.value[at]![1], more, leaf, false, loc);
  const value = [...doc.value];
  if (at < 0) value.push([key!, inner]);
  else value[at] = [key!, inner];
  return { ...doc, value };
}

/**
 * A support rule's path and head reference, split as OPA splits them: the package and the rule's name are the
 * leading segments that are names (`p.q["a"]` is rule `a` of package `p.q`), the rest its head reference.
 */
function supportHead(path: string[], keys: Term[]): Pick<SupportRule, 'path' | 'ref'> {
  const terms = [...path.map((seg) => str(seg)), ...keys];
  let n = 0;
  while (n < terms.length && terms[n]!.type === 'string' && isIdentifier((terms[n] as { value: string }).value)) n++;
  if (n === terms.length) return { path: terms.map((t) => (t as { value: string }).value), ref: undefined };
  if (n === 0) return { path, ref: keys };
  return { path: terms.slice(0, n).map((t) => (t as { value: string }).value), ref: terms.slice(n) };
}

/** `doc` with `value` at `path` (a copy; objects created where the path has none). */
function setPath(doc: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const base = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  return { ...base, [path[0]!]: setPath(base[path[0]!], path.slice(1), value) };
}

function withTargetText(t: Term): string {
  return t.type === 'ref' ? refText(t) : t.type === 'var' ? t.value : 'a term';
}

function describe(e: Expr): string {
  const name = Array.isArray(e.terms) ? exprOperator(e) : undefined;
  return name ? `a call to ${name}` : 'an expression';
}

/**
 * A definedness condition still needed is kept as OPA's copy propagation puts back an equation whose variable
 * nothing else uses: named after that variable (`__localq0__ = input.y`, `z1 = input.foo`), after the body's
 * other expressions, in descending order of the names (as text: `__localq9__` before `__localq10__`).
 */
function definednessLast(exprs: Expr[], names: ReadonlyMap<string, string>): Expr[] {
  const local = (e: Expr) => (Array.isArray(e.terms) && e.terms[1]?.type === 'var' ? names.get(e.terms[1].value) : undefined);
  const bindings = exprs.filter((e) => local(e) !== undefined).sort((a, b) => (local(a)! < local(b)! ? 1 : local(a)! > local(b)! ? -1 : 0));
  const renamed = bindings.map((e) => {
    const terms = e.terms as Term[];
    return { ...e, terms: [terms[0]!, v(local(e)!, terms[1]!.loc), ...terms.slice(2)] };
  });
  return [...exprs.filter((e) => local(e) === undefined), ...renamed];
}

function reindex(exprs: Expr[]): Expr[] {
  return exprs.map((e, index) => ({ ...e, index }));
}
