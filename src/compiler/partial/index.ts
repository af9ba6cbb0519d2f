// Partial evaluation through the compiler's front end: the policy modules and the query (as the body of one
// more rule) are parsed, checked and rewritten by the same stages as for wasm, then evaluated with some
// references unknown. Used by POST /v1/compile, its data-filtering targets and `verdict eval -p`.
import { createHash } from 'node:crypto';
import type { Annotations, Body, Module, Term } from '../ast.js';
import { checkRegoNamed, RegoCompileError, type CompileRegoOptions, type RegoFile } from '../compile-rego.js';
import { regoError } from '../errors.js';
import { parseModule } from '../parse-module.js';
import { QUERY_BODY_PREFIX, QUERY_PACKAGE, queryBodyAt, queryModule } from '../query.js';
import { forEachVarInBody } from '../walk.js';
import { exprJson, supportModulesJson, type AstJson } from './ast-json.js';
import { PartialEvaluator, type PartialResult } from './evaluator.js';

export { PartialEvalError } from './evaluator.js';

export interface PartialRequest {
  query: string;
  /** Unknown references as Rego text ("input.ticket"); OPA's default is ["input"]. */
  unknowns?: string[];
  /** Rule paths ("data.x.allow") that become support rules rather than being inlined. */
  disableInlining?: string[];
  input?: unknown;
  data: unknown;
  /**
   * Without `unknowns`, the rule (data path segments) whose `unknowns` metadata annotation (custom.unknowns,
   * on the rule or its package) names them; OPA's default ["input"] applies when there is none.
   */
  annotatedRule?: string[];
}

export interface PartialJson {
  /** Each residual query as a list of expressions in OPA's AST JSON. Empty when the query can never succeed. */
  queries: AstJson[][];
  /** Support modules in OPA's AST JSON. */
  support: AstJson[];
}

const QUERY_FILE = 'query.rego';
const PREFIX_ROWS = QUERY_BODY_PREFIX.split('\n').length - 1;

/** Where the time of a partial evaluation went, in nanoseconds (filled in when asked for). */
export interface PartialTimings {
  /** Parsing the query. */
  parseNs: number;
  /** The front end over the policies and the query (a cached compilation answers at once). */
  compileNs: number;
  /** The evaluation itself. */
  evalNs: number;
}

/** Throws RegoCompileError for a query or policy that does not compile, PartialEvalError for one it cannot evaluate. */
export function partialEvaluate(files: RegoFile[], request: PartialRequest, options: CompileRegoOptions, timings?: PartialTimings): PartialResult {
  const disableInlining = (request.disableInlining ?? []).map((d) => refSegments(d, 'disableInlining'));
  const { modules, body } = compileQuery(files, request.query, options, timings);
  const started = process.hrtime.bigint();
  const named = request.unknowns ?? (request.annotatedRule && annotatedUnknowns(modules, request.annotatedRule)) ?? ['input'];
  const unknowns = named.map((u) => refSegments(u, 'unknowns'));
  const evaluator = new PartialEvaluator(modules, { unknowns, disableInlining, input: request.input, data: request.data });
  const result = evaluator.run(body, queryVars(body));
  if (timings) timings.evalNs = Number(process.hrtime.bigint() - started);
  return result;
}

/**
 * The policies and a query through the front end: the policy modules, the query's body and the source names of
 * generated locals. Errors in the query are reported at its own rows and columns (file "").
 */
export function compileQuery(files: RegoFile[], query: string, options: CompileRegoOptions, timings?: Pick<PartialTimings, 'parseNs' | 'compileNs'>): { modules: Module[]; body: Body; localNames: ReadonlyMap<string, string> } {
  const started = process.hrtime.bigint();
  queryModule(query); // parse errors at the query's own rows and columns
  const parsed = process.hrtime.bigint();
  let out: Checked;
  try {
    out = checked(files, query, options);
  } catch (err) {
    if (err instanceof RegoCompileError) throw new RegoCompileError(err.errors.map((e) => (e.location.file === QUERY_FILE ? { ...e, location: queryLocation(e.location) } : e)));
    throw err;
  }
  if (timings) {
    timings.parseNs = Number(parsed - started);
    timings.compileNs = Number(process.hrtime.bigint() - parsed);
  }
  const queryMod = out.modules.find((m) => m.package.path.length === 2 && m.package.path[1]?.type === 'string' && m.package.path[1].value === QUERY_PACKAGE && m.file === QUERY_FILE)!;
  return { modules: out.modules.filter((m) => m !== queryMod), body: queryMod.rules[0]!.body, localNames: out.localNames };
}

/** A location inside the generated query module, as a location in the query text (file ""). */
export function queryLocation<L extends { file: string; row: number; col: number }>(loc: L): L {
  return loc.file === QUERY_FILE ? { ...loc, file: '', row: Math.max(1, loc.row - PREFIX_ROWS) } : loc;
}

export function partialResultJson(result: PartialResult): PartialJson {
  return { queries: result.queries.map((q) => q.map(exprJson)), support: supportModulesJson(result.support) };
}

const CACHED_COMPILATIONS = 64;
interface Checked {
  modules: Module[];
  localNames: ReadonlyMap<string, string>;
}

/** Per builtin table (a different table is a different compilation): key → checked modules, oldest first. */
const compilations = new WeakMap<CompileRegoOptions['builtins'], Map<string, Checked>>();

/**
 * The policies and the query through the front end. A server asks the same queries of the same policies again
 * and again (a filter endpoint always asks one), and the front end costs more than the evaluation: the checked
 * modules are kept for the most recent combinations. The evaluator never changes them.
 */
function checked(files: RegoFile[], query: string, options: CompileRegoOptions): Checked {
  const hash = createHash('sha256').update(options.regoVersion ?? 'v1').update('\0').update(query);
  for (const f of files) hash.update('\0').update(f.path).update('\0').update(f.source);
  const key = hash.digest('hex');
  let cache = compilations.get(options.builtins);
  if (!cache) compilations.set(options.builtins, (cache = new Map()));
  // Schemas (verdict eval -p --schema) are not part of the key: such a compilation is not kept.
  const hit = options.schemas ? undefined : cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const out = checkRegoNamed([...files, { path: QUERY_FILE, source: `${QUERY_BODY_PREFIX}${query}\n}\n`, query: true, queryBodyAt: queryBodyAt(query) }], options);
  if (!options.schemas) cache.set(key, out);
  if (cache.size > CACHED_COMPILATIONS) cache.delete(cache.keys().next().value!);
  return out;
}

/** custom.unknowns from the metadata of the rule at `path`, or else of its package. */
function annotatedUnknowns(modules: Module[], path: string[]): string[] | undefined {
  const listed = (annotations: Annotations[] | undefined): string[] | undefined => {
    for (const a of annotations ?? []) {
      const u = a.custom?.unknowns;
      if (Array.isArray(u) && u.every((x) => typeof x === 'string')) return u as string[];
    }
    return undefined;
  };
  for (const m of modules) {
    const pkg = m.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : ''));
    if (pkg.length >= path.length || !pkg.every((s, i) => s === path[i])) continue;
    const rest = path.slice(pkg.length);
    for (const rule of m.rules) {
      const head = rule.head.ref.map((t) => (t.type === 'var' || t.type === 'string' ? t.value : ''));
      if (head.length === rest.length && head.every((s, i) => s === rest[i])) {
        const own = listed(rule.annotations);
        if (own) return own;
      }
    }
    const pkgLevel = listed(m.annotations.filter((a) => a.scope === 'package' || a.scope === 'subpackages'));
    if (pkgLevel) return pkgLevel;
  }
  return undefined;
}

/**
 * Variables of the query itself, in order of first appearance. Wildcards (`$0`) are among them: OPA keeps one
 * bound to an unknown value as it keeps a named variable (`data.p.s[_]` is `$0 = input.xs[i]; $0`).
 */
function queryVars(body: Body): string[] {
  const seen = new Set<string>();
  forEachVarInBody(body, (v) => {
    if (v.value !== 'input' && v.value !== 'data') seen.add(v.value);
  });
  return [...seen];
}

/** "input.ticket" or `data.x["y"]` → ['input', 'ticket']: constant references rooted at input or data only. */
function refSegments(text: string, field: string): string[] {
  const parsed = parseModule('', `package x\n\nq if {\n${text}\n}\n`);
  const expr = parsed.module?.rules[0]?.body;
  const term = expr?.length === 1 && !Array.isArray(expr[0]!.terms) ? (expr[0]!.terms as Term) : undefined;
  const segs: string[] = [];
  if (term?.type === 'ref' && term.value[0]?.type === 'var') {
    segs.push(term.value[0].value);
    for (const seg of term.value.slice(1)) {
      if (seg.type !== 'string') return invalid(text, field);
      segs.push(seg.value);
    }
  } else if (term?.type === 'var') segs.push(term.value);
  if (segs[0] !== 'input' && segs[0] !== 'data') return invalid(text, field);
  return segs;
}

function invalid(text: string, field: string): never {
  const loc = { file: '', row: 1, col: 1, offset: 0, end: 0 };
  throw new RegoCompileError([regoError('rego_parse_error', loc, `${field}: ${JSON.stringify(text)} is not a reference into input or data`)]);
}
