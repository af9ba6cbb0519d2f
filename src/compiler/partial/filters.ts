// Data filters from partial evaluation: the residual queries of a filter rule, with the rows' tables unknown
// (input.<table>.<column>), become one condition tree, printed as a SQL WHERE clause or as UCAST conditions.
// Only what a target can express exactly is translated: comparisons of a column with a known scalar, `in` a
// known collection, prefix/suffix/substring tests, and `not` over one of these or over a negation's support
// rule (data.partial.__not…__, expanded by De Morgan into negated tests). Anything else is refused
// naming the expression, never approximated.
//
// Rego compares null with everything (null is below every number and string; null != "x" holds), where SQL's
// NULL makes a comparison unknown. The SQL printed keeps Rego's answer for NULL columns: `<>` and `<`/`<=`
// also admit NULL rows, and a negation admits them where the negated test would be false.
import type { Expr, Location, Term } from '../ast.js';
import { isTerm } from '../ast.js';
import { callName, exprOperator } from '../walk.js';
import type { PartialResult } from './evaluator.js';
import { isGround, toValue } from './values.js';
import { NumberText } from '../../json/number-text.js';
import { RegoText } from '../rego-text.js';

export type SqlDialect = 'postgresql' | 'mysql' | 'sqlserver' | 'sqlite';
export type UcastFlavour = 'all' | 'minimal' | 'linq' | 'prisma';
export type FilterTarget = { kind: 'sql'; dialect: SqlDialect } | { kind: 'ucast'; flavour: UcastFlavour };

/** Table and column renamings per target ("postgresql", "ucast", ...): {table: {$self: name, column: name}}. */
export type TableMappings = Record<string, Record<string, Record<string, string>>>;

type Scalar = null | boolean | number | NumberText | string;
type Op = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'startswith' | 'endswith' | 'contains';
interface Field { table: string; column: string }
export type Condition =
  | { kind: 'and' | 'or'; items: Condition[] }
  | { kind: 'not'; item: Condition & { kind: 'test' } }
  | { kind: 'test'; op: Op; field: Field; value: Scalar | Scalar[] };

/** A residual expression a target cannot express, with OPA's error fields. */
export class FilterError extends Error {
  readonly code = 'pe_fragment_error';
  constructor(message: string, readonly location?: Location) {
    super(message);
    this.name = 'FilterError';
  }
}

const FLIP: Partial<Record<Op, Op>> = { eq: 'eq', ne: 'ne', lt: 'gt', lte: 'gte', gt: 'lt', gte: 'lte' };
const OPS: Record<string, Op> = { eq: 'eq', equal: 'eq', neq: 'ne', lt: 'lt', lte: 'lte', gt: 'gt', gte: 'gte', 'internal.member_2': 'in', startswith: 'startswith', endswith: 'endswith', contains: 'contains' };

/**
 * The condition a filter's rows must meet: 'all' when every row passes (a query with no residual), 'none' when
 * no row can (no query), or a tree.
 */
export function filterCondition(result: PartialResult): Condition | 'all' | 'none' {
  const isNegation = (r: PartialResult['support'][number]) => !r.default && r.path.length === 1 && r.path[0]!.startsWith('__not');
  const others = result.support.filter((r) => !isNegation(r));
  if (others.length > 0) {
    const rule = others.find((r) => r.default) ?? others[0]!;
    throw new FilterError(`use of ${rule.default ? 'default' : 'multi-value'} rule in data.${rule.path.join('.')}`, rule.body[0]?.loc);
  }
  const negations = new Map<string, Expr[][]>();
  for (const rule of result.support) negations.set(rule.path[0]!, [...(negations.get(rule.path[0]!) ?? []), rule.body]);
  if (result.queries.length === 0) return 'none';
  if (result.queries.some((q) => q.length === 0)) return 'all';
  const ors = result.queries.map((q): Condition => {
    const items = q.map((e) => exprCondition(e, negations));
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  });
  return ors.length === 1 ? ors[0]! : { kind: 'or', items: ors };
}

/**
 * `not data.partial.__not…__`, the negation of the support rule's bodies (a disjunction of conjunctions), as
 * the conjunction over the bodies of the disjunction of each test negated, so every negation is one test's.
 */
function negatedSupport(e: Expr, negations: ReadonlyMap<string, Expr[][]>): Condition | undefined {
  const t = e.terms;
  if (!e.negated || !isTerm(t) || t.type !== 'ref' || t.value.length !== 3) return undefined;
  const [root, partial, name] = t.value as [Term, Term, Term];
  if (root.type !== 'var' || root.value !== 'data' || partial.type !== 'string' || partial.value !== 'partial' || name.type !== 'string') return undefined;
  const bodies = negations.get(name.value);
  if (!bodies) return undefined;
  const ands = bodies.map((body): Condition => {
    const items = body.map((x) => exprCondition({ ...x, negated: x.negated ? undefined : true }, negations));
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  });
  return ands.length === 1 ? ands[0]! : { kind: 'and', items: ands };
}

function exprCondition(e: Expr, negations: ReadonlyMap<string, Expr[][]> = new Map()): Condition {
  if (e.with && e.with.length > 0) throw new FilterError(`"with" not permitted: ${exprText(e)}`, e.loc);
  const supported = negatedSupport(e, negations);
  if (supported) return supported;
  const t = e.terms;
  if (!e.negated && !isTerm(t) && !Array.isArray(t) && (t.type === 'logicaland' || t.type === 'logicalor')) {
    const side = (b: Expr[]): Condition => (b.length === 1 ? exprCondition(b[0]!, negations) : { kind: 'and', items: b.map((x) => exprCondition(x, negations)) });
    return { kind: t.type === 'logicaland' ? 'and' : 'or', items: [side(t.lhs), side(t.rhs)] };
  }
  if (e.negated) {
    const inner = exprCondition({ ...e, negated: undefined });
    if (inner.kind !== 'test') throw new FilterError(`"not" over more than one condition not permitted: ${exprText(e)}`, e.loc);
    return { kind: 'not', item: inner };
  }
  if (!Array.isArray(e.terms)) {
    const hint = isTerm(e.terms) ? `; try \`${exprText(e)} != false\`` : '';
    throw new FilterError(`invalid statement "${exprText(e)}"${hint}`, e.loc);
  }
  const name = exprOperator(e);
  const op = OPS[name];
  if (!op) throw new FilterError(`invalid builtin ${name}: ${exprText(e)}`, e.loc);
  const args = e.terms.slice(1);
  const nested = args.find((t): t is Extract<Term, { type: 'call' }> => t.type === 'call');
  if (nested) throw new FilterError(`invalid builtin ${callName(nested.value[0]!)}: ${exprText(e)}`, e.loc);
  if (args.length !== 2) throw new FilterError(`${name}: expects two operands: ${exprText(e)}`, e.loc);
  let [a, b] = args as [Term, Term];
  let test = op;
  if (!fieldOf(a)) {
    const flipped = FLIP[op];
    if (!flipped || !fieldOf(b)) throw new FilterError(`${name}: one operand must be a column (input.<table>.<column>): ${exprText(e)}`, e.loc);
    [a, b] = [b, a];
    test = flipped;
  }
  const field = fieldOf(a)!;
  if (!isGround(b)) throw new FilterError(`${name}: the other operand must be a known value: ${exprText(e)}`, e.loc);
  const value = toValue(b);
  if (test === 'in') {
    const items = Array.isArray(value) ? [...value] : value !== null && typeof value === 'object' && !(value instanceof NumberText) ? Object.values(value) : undefined;
    if (!items || !items.every(isScalar)) throw new FilterError(`invalid use of "... in ...": the collection must hold known scalars: ${exprText(e)}`, e.loc);
    return { kind: 'test', op: 'in', field, value: items as Scalar[] };
  }
  if (!isScalar(value)) throw new FilterError(`${name}: the value must be a scalar: ${exprText(e)}`, e.loc);
  if ((test === 'startswith' || test === 'endswith' || test === 'contains') && typeof value !== 'string') {
    throw new FilterError(`${name}: the value must be a string: ${exprText(e)}`, e.loc);
  }
  return { kind: 'test', op: test, field, value };
}

function fieldOf(t: Term): Field | undefined {
  if (t.type !== 'ref' || t.value.length !== 3) return undefined;
  const [root, table, column] = t.value as [Term, Term, Term];
  if (root.type !== 'var' || root.value !== 'input' || table.type !== 'string' || column.type !== 'string') return undefined;
  return { table: table.value, column: column.value };
}

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'boolean' || typeof v === 'number' || v instanceof NumberText || typeof v === 'string';
}

// ---------------------------------------------------------------- SQL

export function toSql(cond: Condition | 'all' | 'none', dialect: SqlDialect, mappings: TableMappings = {}): string | undefined {
  if (cond === 'all') return '';
  if (cond === 'none') return undefined;
  const out = new SqlPrinter(dialect, mappings[dialect] ?? {});
  return `WHERE ${out.print(cond, true)}`;
}

class SqlPrinter {
  constructor(private readonly dialect: SqlDialect, private readonly tables: Record<string, Record<string, string>>) {}

  print(c: Condition, top = false): string {
    switch (c.kind) {
      case 'and': case 'or': {
        const text = c.items.map((x) => this.print(x)).join(c.kind === 'and' ? ' AND ' : ' OR ');
        return top && c.items.length === 1 ? text : `(${text})`;
      }
      case 'not': return this.test(c.item, true);
      case 'test': return this.test(c, false);
    }
  }

  private column(f: Field): string {
    const table = this.tables[f.table];
    return `${table?.$self ?? f.table}.${table?.[f.column] ?? f.column}`;
  }

  /** A test, or its negation, true or false for every row (never SQL's unknown) as Rego would answer it. */
  private test(t: Condition & { kind: 'test' }, negated: boolean): string {
    const col = this.column(t.field);
    const orNull = (sql: string) => `(${sql} OR ${col} IS NULL)`;
    const v = t.value;
    if (t.op === 'in') {
      const items = v as Scalar[];
      const known = items.filter((x) => x !== null);
      const hasNull = known.length < items.length;
      if (known.length === 0) return hasNull ? `${col} IS ${negated ? 'NOT ' : ''}NULL` : negated ? '1 = 1' : '1 = 0';
      const list = `(${known.map((x) => this.comparable(x)).join(', ')})`;
      if (!negated) return hasNull ? orNull(`${col} IN ${list}`) : `${col} IN ${list}`;
      return hasNull ? `(${col} NOT IN ${list} AND ${col} IS NOT NULL)` : orNull(`${col} NOT IN ${list}`);
    }
    if (t.op === 'startswith' || t.op === 'endswith' || t.op === 'contains') {
      const test = this.stringTest(col, t.op, v as string);
      return negated ? orNull(`NOT ${test}`) : test;
    }
    if (v === null) {
      // Every value is >= null and none is < null, null included.
      const isNull = { eq: true, ne: false, lt: false, lte: true, gt: false, gte: false }[t.op as 'eq'];
      if (t.op === 'gte') return negated ? '1 = 0' : '1 = 1';
      if (t.op === 'lt') return negated ? '1 = 1' : '1 = 0';
      if (t.op === 'gt') return `${col} IS ${negated ? '' : 'NOT '}NULL`;
      return `${col} IS ${isNull !== negated ? '' : 'NOT '}NULL`;
    }
    const lit = this.comparable(v as Scalar);
    // Rego: null equals nothing else and sorts below every number and string.
    const positive: Record<string, [string, boolean]> = { eq: ['=', false], ne: ['<>', true], lt: ['<', true], lte: ['<=', true], gt: ['>', false], gte: ['>=', false] };
    const negative: Record<string, [string, boolean]> = { eq: ['<>', true], ne: ['=', false], lt: ['>=', false], lte: ['>', false], gt: ['<=', true], gte: ['<', true] };
    const [sqlOp, nullPasses] = (negated ? negative : positive)[t.op]!;
    const cmp = `${col} ${sqlOp} ${lit}`;
    return nullPasses ? orNull(cmp) : cmp;
  }

  /** Prefix, suffix and substring tests, case-sensitive as Rego's (SQLite's and MySQL's LIKE are not). */
  private stringTest(col: string, op: 'startswith' | 'endswith' | 'contains', v: string): string {
    const lit = this.literal(v);
    const n = [...v].length;
    if (this.dialect === 'sqlite') {
      if (op === 'contains') return `instr(${col}, ${lit}) > 0`;
      return op === 'startswith' ? `substr(${col}, 1, ${n}) = ${lit}` : `substr(${col}, -${n}) = ${lit}`;
    }
    const escaped = v.replace(/[\\%_]/g, (m) => `\\${m}`);
    const pattern = this.literal(op === 'startswith' ? `${escaped}%` : op === 'endswith' ? `%${escaped}` : `%${escaped}%`);
    const escape = this.literal('\\');
    switch (this.dialect) {
      case 'mysql': return `${col} LIKE BINARY ${pattern} ESCAPE ${escape}`;
      case 'sqlserver': return `${col} LIKE ${pattern} COLLATE Latin1_General_CS_AS ESCAPE ${escape}`;
      default: return `${col} LIKE ${pattern} ESCAPE ${escape}`;
    }
  }

  /**
   * A literal for `=`, `<`, `IN`...: MySQL compares strings by the column's collation, case-insensitively by
   * default (and ignoring trailing spaces); a binary operand makes it compare bytes, as Rego does.
   */
  private comparable(v: Scalar): string {
    return this.dialect === 'mysql' && typeof v === 'string' ? `BINARY ${this.literal(v)}` : this.literal(v);
  }

  private literal(v: Scalar): string {
    if (v === null) return 'NULL';
    if (typeof v === 'boolean') return this.dialect === 'sqlserver' ? (v ? '1' : '0') : v ? 'TRUE' : 'FALSE';
    if (typeof v === 'number' || v instanceof NumberText) return String(v);
    switch (this.dialect) {
      case 'postgresql': return `E'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      case 'mysql': return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
      case 'sqlserver': return `N'${v.replace(/'/g, "''")}'`;
      case 'sqlite': return `'${v.replace(/'/g, "''")}'`;
    }
  }
}

// ---------------------------------------------------------------- UCAST

const UCAST_OPS: Record<UcastFlavour, ReadonlySet<string>> = {
  all: new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'startswith', 'endswith', 'contains', 'not']),
  prisma: new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'startswith', 'endswith', 'contains', 'not']),
  linq: new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'not']),
  minimal: new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte']),
};

export function toUcast(cond: Condition | 'all' | 'none', flavour: UcastFlavour, mappings: TableMappings = {}): unknown {
  if (cond === 'all') return {};
  if (cond === 'none') return undefined;
  const tables = mappings.ucast ?? {};
  const allowed = UCAST_OPS[flavour];
  const field = (f: Field) => `${tables[f.table]?.$self ?? f.table}.${tables[f.table]?.[f.column] ?? f.column}`;
  const node = (c: Condition): unknown => {
    switch (c.kind) {
      case 'and': case 'or': return { type: 'compound', operator: c.kind, value: c.items.map(node) };
      case 'not':
        if (!allowed.has('not')) throw new FilterError(`"not" not permitted in UCAST ${flavour}`);
        return { type: 'compound', operator: 'not', value: [node(c.item)] };
      case 'test':
        if (!allowed.has(c.op)) throw new FilterError(`operator ${c.op} not permitted in UCAST ${flavour} (on ${field(c.field)})`);
        return { type: 'field', operator: c.op, field: field(c.field), value: c.value };
    }
  };
  return node(cond);
}

// ---------------------------------------------------------------- Rego text, for messages

const messageText = new RegoText({
  varText: (name) => name,
  infix: { eq: '=', equal: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=', 'internal.member_2': 'in' },
  short: true,
});

export function exprText(e: Expr): string {
  return messageText.expr(e);
}
