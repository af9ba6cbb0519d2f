// An ad-hoc query (what `opa eval` takes) as a module with one entrypoint, so that the planner, which plans
// rules only, can compile it: the query becomes the body of an array comprehension whose rows hold the value of
// each expression and the bindings of the query's variables, in OPA's evaluation order and with its duplicates.
import type { Expr, Term } from './ast.js';
import { isTerm } from './ast.js';
import { RegoCompileError, type RegoFile } from './compile-rego.js';
import type { RegoError } from './errors.js';
import { parseModule } from './parse-module.js';
import { childTerms, exprTerms } from './walk.js';

export const QUERY_PACKAGE = 'verdict_query';
export const QUERY_ENTRYPOINT = `${QUERY_PACKAGE}/rows`;
/** The module a query is parsed in, as the body of rule `q`: parse errors are reported against it. */
export const QUERY_BODY_PREFIX = `package ${QUERY_PACKAGE}\n\nq if {\n`;
const PREFIX = QUERY_BODY_PREFIX;
const PREFIX_ROWS = 3;
/** Where the generated module's comprehension body (the query's expressions) begins. */
const BODY_START = ' |\n';

export interface QueryExpression {
  text: string;
  location: { row: number; col: number };
}

export interface QueryModule {
  file: RegoFile;
  entrypoint: string;
  /** The query's expressions, in order, as `opa eval` reports them. */
  expressions: QueryExpression[];
  /** The variables the query binds, sorted, as `opa eval` reports them. */
  variables: string[];
}

/** One row of the entrypoint's value: the expressions' values and the bindings. */
export interface QueryRow {
  expressions: unknown[];
  bindings: Record<string, unknown>;
}

/** Where the query is evaluated (`opa eval --package`, `--import`): its package and its imports. */
export interface QueryContext {
  /** A package path such as `a.b`: the query sees that package's rules unqualified. */
  package?: string;
  imports?: string[];
  /** Names that are not the query's variables: imported names, and the package's rules. */
  names?: string[];
  /** The language features the query may use (ParseOptions.features); all when absent. */
  features?: ReadonlySet<string>;
}

/** Throws RegoCompileError (rego_parse_error at the query's own row and column) for a query that does not parse. */
export function queryModule(query: string, context: QueryContext = {}): QueryModule {
  const parsed = parseModule('', PREFIX + query + '\n}\n', { queryBodyAt: queryBodyAt(query), features: context.features });
  const body = parsed.module?.rules[0]?.body;
  if (parsed.errors.length > 0 || !body || parsed.module?.rules.length !== 1) {
    const errors = parsed.errors.length > 0 ? parsed.errors : [parseError('query is not a single body')];
    throw new RegoCompileError(errors.map((e) => toQueryLocation(e, query)));
  }
  const vars = new Set<string>();
  const lines: string[] = [];
  const values: string[] = [];
  const expressions: QueryExpression[] = [];
  body.forEach((e, i) => {
    const text = query.slice(e.loc.offset - PREFIX.length, e.loc.end - PREFIX.length);
    expressions.push({ text, location: { row: e.loc.row - PREFIX_ROWS, col: e.loc.col } });
    const terms = Array.isArray(e.terms) ? e.terms.slice(1) : exprTerms(e); // not the operator of a call
    for (const t of terms) collectVars(t, vars);
    for (const n of context.names ?? []) vars.delete(n);
    if (yieldsValue(e)) {
      // The expression's own value is reported. Like any body expression it fails the row when false, except
      // in a query of that one expression, where OPA reports the false value.
      // A `with` modifies the whole expression, so it stays outside the parentheses, on the assignment; the
      // text is copied verbatim (`:=` binds loosest) so that error locations still map back into the query.
      const v = `__verdict_e${i}`;
      lines.push((e.with?.length ?? 0) > 0 ? `${v} := ${text}` : `${v} := (${text})`);
      if (body.length > 1) lines.push(v);
      values.push(v);
    } else {
      lines.push(text);
      values.push('true');
    }
  });
  const variables = [...vars].sort();
  const bindings = '{' + variables.map((v) => `${JSON.stringify(v)}: ${v}`).join(', ') + '}';
  // In a package of the user's, the rule's name must not meet one of theirs.
  const pkg = context.package?.replace(/^data\./, '') ?? QUERY_PACKAGE;
  const rule = context.package === undefined ? 'rows' : '__verdict_query_rows';
  const imports = (context.imports ?? []).map((i) => `import ${i}\n`).join('');
  const source = `package ${pkg}\n\n${imports}${rule} := [{"expressions": [${values.join(', ')}], "bindings": ${bindings}}${BODY_START}${lines.join('\n')}\n]\n`;
  const entrypoint = context.package === undefined ? QUERY_ENTRYPOINT : `${pkg.replace(/\./g, '/')}/${rule}`;
  return { file: { path: 'query.rego', source, query: true, regoVersion: 'v1' }, entrypoint, expressions, variables };
}

/**
 * Where the query's first token is in `QUERY_BODY_PREFIX + query`: the parser lets that body's expressions stand
 * side by side, as OPA reads a query (`1 1` is two expressions).
 */
export function queryBodyAt(query: string): number {
  const m = /^(?:\s|#[^\n]*)*/.exec(query);
  return PREFIX.length + (m ? m[0].length : 0);
}

/** The start of a query, where OPA reports what it cannot place more precisely. */
export const QUERY_START = { file: '', row: 1, col: 1 };

/**
 * Where a location inside the generated query module is in the query as written: the expression whose text holds
 * it, shifted by the same rows and columns (each expression is copied into the module's body verbatim); the
 * query's start for the rest of the module.
 */
export function queryTextLocation(query: QueryModule, loc: { row: number; col: number }): { file: string; row: number; col: number } {
  const source = query.file.source;
  const lineStarts = [0, ...[...source.matchAll(/\n/g)].map((m) => m.index! + 1)];
  const offset = (lineStarts[loc.row - 1] ?? 0) + loc.col - 1;
  let from = source.indexOf(BODY_START) + BODY_START.length;
  for (const e of query.expressions) {
    const at = source.indexOf(e.text, from);
    if (at < 0) break;
    from = at + e.text.length;
    if (offset < at || offset >= from) continue;
    const before = source.slice(at, offset).split('\n');
    const row = e.location.row + before.length - 1;
    const col = before.length === 1 ? e.location.col + before[0]!.length : before[before.length - 1]!.length + 1;
    return { file: '', row, col };
  }
  return QUERY_START;
}

/**
 * A few checks happen in our planner only (e.g. an undefined function inside the query's comprehension); its
 * message starts with file:row:col. Errors in the generated query module are reported at the query's start.
 */
export function queryPlanError(planMessage: string): { message: string; code: string; location: { file: string; row: number; col: number } } {
  const m = /^(.*?):(\d+):(\d+): (.*)$/s.exec(planMessage);
  const message = m ? m[4]! : planMessage;
  const inQuery = !m || m[1] === 'query.rego';
  const location = inQuery ? { file: '', row: 1, col: 1 } : { file: m[1]!, row: Number(m[2]), col: Number(m[3]) };
  return { message, code: message.startsWith('undefined function') ? 'rego_type_error' : 'rego_compile_error', location };
}

/** Terms and calls other than unification and assignment have a value of their own; the rest report true. */
function yieldsValue(e: Expr): boolean {
  if (e.negated) return false;
  if (isTerm(e.terms)) return true;
  if (!Array.isArray(e.terms)) return false;
  const op = e.terms[0];
  const name = op?.type === 'ref' && op.value.length === 1 && op.value[0]?.type === 'var' ? op.value[0].value : undefined;
  return name !== 'eq' && name !== 'assign';
}

/** The variables a query binds at its top level: not those local to comprehensions, `not` or `every`. */
function collectVars(t: Term, out: Set<string>): void {
  if (t.type === 'var') {
    if (!['data', 'input', '_'].includes(t.value) && !t.value.startsWith('$') && !t.value.startsWith('__')) out.add(t.value);
    return;
  }
  if (t.type === 'call') {
    for (const arg of t.value.slice(1)) collectVars(arg, out);
    return;
  }
  if (t.type === 'ref') {
    const [head, ...rest] = t.value;
    if (head?.type === 'var') collectVars(head, out);
    for (const r of rest) if (r.type !== 'string') collectVars(r, out);
    return;
  }
  for (const c of childTerms(t)) collectVars(c, out);
}

/**
 * How OPA's server reports a query that does not parse as a body: it reads the text as statements, as a
 * module's (rules, imports or bodies), so a query shaped like a rule gets the rule parser's errors too (`x :=
 * [1` adds "expected rule value term"), and text that reads as rules or imports is refused as not a body.
 * Undefined when the text does not parse as statements either in a way this can tell (the body's own errors
 * stand then).
 */
export function queryStatementErrors(query: string): { errors: RegoError[] } | { notBody: 'Rule' | 'Import' } | undefined {
  const prefix = `package ${QUERY_PACKAGE}\n`;
  const parsed = parseModule('', prefix + query);
  if (parsed.errors.length > 0) return { errors: parsed.errors.map((e) => ({ ...e, location: { ...e.location, file: '', row: Math.max(1, e.location.row - 1) } })) };
  if ((parsed.module?.rules.length ?? 0) > 0) return { notBody: 'Rule' };
  if ((parsed.module?.imports.length ?? 0) > 0) return { notBody: 'Import' };
  return undefined;
}

function parseError(message: string): RegoError {
  return { code: 'rego_parse_error', message, location: { file: '', row: 1, col: 1 } };
}

/**
 * Back to the query's own rows. An error past the query's last line is the parser meeting our closing brace:
 * OPA, parsing the query alone, reports the end of input at the query's last token.
 */
function toQueryLocation(e: RegoError, query: string): RegoError {
  const lines = query.split('\n');
  const row = e.location.row - PREFIX_ROWS;
  if (row <= lines.length) return { ...e, location: { ...e.location, file: '', row: Math.max(1, row) } };
  const line = lines[lines.length - 1]!;
  const idx = Math.max(0, line.trimEnd().length - 1);
  return { ...e, message: 'unexpected eof token', location: { file: '', row: lines.length, col: idx + 1 }, details: { line, idx } };
}
