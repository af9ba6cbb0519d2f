// The decision query (filters, cursor, scan limit: see ../query.ts for their meaning) over the central
// PostgreSQL store. Same filters, same answers and the same cursors as the embedded log; the SQL differs.
import type { Pool } from 'pg';
import type { DecisionEvent } from '../event.js';
import { outcomes, type Outcome } from '../outcome.js';
import { settledSeqSql } from './settled.js';
import { bad, decodeCursor, maxPathArms, pathRange, prefixEnd, storedPathsSql, encodeCursor, inputFieldSegments, maxQueryLimit, scanLimit, time, traceIdFilter, type DecisionFilters, type DecisionPage, type StoredDecision } from '../query.js';

interface Row {
  seq: string;
  outcome: Outcome;
  principal: string | null;
  event: string;
}

/** Collects WHERE conditions with numbered parameters. */
class Conditions {
  readonly clauses: string[] = [];
  constructor(readonly params: unknown[]) {}
  add(sql: (p: (value: unknown) => string) => string): void {
    this.clauses.push(sql(numbered(this.params)));
  }
}

/** The highest seq a reader may hand out now (settled.ts); 0 when there is none. */
export async function settledSeq(pool: Pick<Pool, 'query'>): Promise<number> {
  return Number((await pool.query<{ settled: string }>(settledSeqSql)).rows[0].settled);
}

/**
 * One page, of the settled decisions only (settled.ts): a cursor never passes a seq that commits later. The bound
 * is read first, so every statement of the page (the stored paths under a path filter, a scan's boundary, the
 * rows) sees the same rows at or below it, all committed before the page began: a path that appears meanwhile
 * only has rows above it. A decision id names one decision, which no walk passes: that lookup reads every
 * committed row.
 */
export async function queryPostgres(pool: Pool, filters: DecisionFilters = {}, limits: { scanLimit?: number } = {}): Promise<DecisionPage> {
  const order = filters.order ?? 'desc';
  if (order !== 'desc' && order !== 'asc') throw bad(`order must be "desc" or "asc", got ${JSON.stringify(order)}`);
  const limit = filters.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxQueryLimit) throw bad(`limit must be an integer from 1 to ${maxQueryLimit}, got ${limit}`);
  const params: unknown[] = [];
  const indexed = new Conditions(params);
  if (filters.since !== undefined) indexed.add((p) => `ts_ns >= ${p(time(filters.since!, 'since').toString())}`);
  if (filters.until !== undefined) indexed.add((p) => `ts_ns < ${p(time(filters.until!, 'until').toString())}`);
  if (filters.outcome !== undefined) {
    if (!outcomes.includes(filters.outcome as Outcome)) throw bad(`outcome must be one of ${outcomes.join(', ')}, got ${JSON.stringify(filters.outcome)}`);
    indexed.add((p) => `outcome = ${p(filters.outcome)}`);
  }
  if (filters.principal !== undefined) indexed.add((p) => `principal = ${p(filters.principal)}`);
  const prefix = filters.principal_prefix;
  if (prefix !== undefined) {
    if (prefix === '') throw bad('principal_prefix must not be empty');
    indexed.add((p) => `principal >= ${p(prefix)} AND principal < ${p(prefixEnd(prefix))}`);
  }
  if (filters.decision_id !== undefined) indexed.add((p) => `decision_id = ${p(filters.decision_id)}`);
  if (filters.trace_id !== undefined) indexed.add((p) => `trace_id = ${p(traceIdFilter(filters.trace_id!))}`);
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    if (cursor.order !== order) throw bad(`cursor was made for order=${cursor.order}`);
    indexed.add((p) => `seq ${order === 'desc' ? '<' : '>'} ${p(cursor.seq)}`);
  }
  if (filters.decision_id === undefined) {
    const settled = await settledSeq(pool);
    indexed.add((p) => `seq <= ${p(settled)}`);
  }

  const revision = filters.revision === undefined ? undefined : numbered(params)(filters.revision);
  const paths = filters.path === undefined ? undefined : await pathConditions(pool, filters.path, numbered(params), filters.outcome !== undefined);
  // The indexed conditions use parameters 1..indexedCount; the scan's boundary query needs only those.
  const indexedCount = params.length;
  const scanned = new Conditions(params);
  if (filters.principal_contains !== undefined) {
    if (filters.principal_contains === '') throw bad('principal_contains must not be empty');
    scanned.add((p) => `strpos(lower(principal), ${p(filters.principal_contains!.toLowerCase())}) > 0`);
  }
  for (const [field, value] of Object.entries(filters.fields ?? {})) {
    // #>> gives a string's contents and a number's or boolean's text, so "42" matches 42 and "42", as in SQLite.
    scanned.add((p) => `event #>> ${p(['input', ...inputFieldSegments(field)])}::text[] = ${p(value)}`);
  }

  const direction = order === 'desc' ? 'DESC' : 'ASC';
  let boundary: number | undefined;
  if (scanned.clauses.length > 0) {
    const boundaryParams = params.slice(0, indexedCount);
    const skip = (limits.scanLimit ?? scanLimit) - 1;
    const row = await pool.query<{ seq: string }>(inSeqOrder('seq', indexed.clauses, direction, arms(revision, paths), { skip, take: 1 }, numbered(boundaryParams)), boundaryParams);
    boundary = row.rows[0] ? Number(row.rows[0].seq) : undefined;
  }
  const window = boundary === undefined ? [] : [`seq ${order === 'desc' ? '>=' : '<='} $${params.push(boundary)}`];
  const { rows } = await pool.query<Row>(
    inSeqOrder('seq, outcome, principal, event::text AS event', [...indexed.clauses, ...scanned.clauses, ...window], direction, arms(revision, paths), { take: limit + 1 }, numbered(params)),
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map(stored);
  if (!more && boundary !== undefined) return { decisions: page, next_cursor: encodeCursor({ seq: boundary, order }), scan_limited: true };
  return { decisions: page, ...(more ? { next_cursor: encodeCursor({ seq: page[page.length - 1].seq, order }) } : {}) };
}

/** Where one ordered part of a query reads (a table, or a join), and the conditions that pick its index. */
interface Arm {
  from: string;
  first: string[];
}

const decisions = 'verdict_decisions';
const multiRevision = 'verdict_decision_revisions JOIN verdict_decisions USING (seq)';

/**
 * The parts of a query: one per revision source (see inSeqOrder) and per stored path under the path filter.
 * Without either filter, the one plain table.
 */
function arms(revision: string | undefined, paths: string[] | undefined): Arm[] {
  const sources: Arm[] =
    revision === undefined
      ? [{ from: decisions, first: [] }]
      : [
          { from: decisions, first: [oneValue('revision', revision)] },
          { from: multiRevision, first: [oneValue('verdict_decision_revisions.revision', revision)] },
        ];
  return paths === undefined ? sources : sources.flatMap((arm) => paths.map((path) => ({ from: arm.from, first: [...arm.first, path] })));
}

/**
 * The SELECT of `columns` from the decisions meeting every condition, in seq order, `take` of them after `skip`.
 * A decision is in exactly one arm: with a revision, those whose one revision it is (the revision column) and
 * those made under it among others (verdict_decision_revisions); with a path prefix, one arm per stored path
 * under it. Each arm is its own ordered, limited SELECT over an index ending in seq ((revision, seq),
 * (path, seq), (outcome, path, seq)), merged: PostgreSQL reads the indexes in order and stops at the page's end.
 * (An OR of them, or one UNION ALL with the conditions outside it, has every match sorted first; a path range
 * walks seq and filters, which reads every row of other paths on the way: 100 ms over a stretch of 100,000.)
 */
function inSeqOrder(
  columns: string,
  conditions: string[],
  direction: 'ASC' | 'DESC',
  parts: Arm[],
  rows: { skip?: number; take: number },
  param: (value: unknown) => string,
): string {
  const where = (first: string[]) => (first.length + conditions.length ? ' WHERE ' + [...first, ...conditions].join(' AND ') : '');
  const page = ` ORDER BY seq ${direction}${rows.skip !== undefined ? ` OFFSET ${param(rows.skip)}` : ''} LIMIT ${param(rows.take)}`;
  if (parts.length === 1) return `SELECT ${columns} FROM ${parts[0].from}${where(parts[0].first)}${page}`;
  const reach = param((rows.skip ?? 0) + rows.take);
  const arm = ({ from, first }: Arm) => `(SELECT ${columns} FROM ${from}${where(first)} ORDER BY seq ${direction} LIMIT ${reach})`;
  return `SELECT * FROM (${parts.map(arm).join(' UNION ALL ')}) AS arms${page}`;
}

/**
 * The path filter: path = $n for each stored path under the prefix (by whole segments); the range when there
 * are more than maxPathArms.
 */
async function pathConditions(pool: Pool, filter: string, param: (value: unknown) => string, withOutcome: boolean): Promise<string[]> {
  const range = pathRange(filter);
  const { rows } = await pool.query<{ path: string }>(storedPathsSql('verdict_decisions', { prefix: '$1', below: '$2', end: '$3', limit: '$4' }), [range.prefix, range.below, range.end, maxPathArms + 1]);
  if (rows.length > maxPathArms) return [`(path = ${param(range.prefix)} OR (path >= ${param(range.below)} AND path < ${param(range.end)}))`];
  // With an outcome, (outcome, path, seq) answers each arm, and oneValue has it chosen. A path alone is left as
  // a plain equality: the planner's walk of seq is as before, and spelled with oneValue a scan-limited page's
  // boundary (OFFSET 99,999) became a sort of every match of the path.
  const equal = (path: string) => (withOutcome ? oneValue('path', param(path)) : `path = ${param(path)}`);
  // No stored path: one arm that matches nothing keeps the query's shape.
  return rows.length === 0 ? [equal(range.prefix)] : rows.map((row) => equal(row.path));
}

/**
 * column = value, spelled so that an index on it (ending in seq) is chosen. PostgreSQL assumes a revision's or a
 * path's decisions are spread evenly over seq, so for one holding a tenth of the rows it would rather walk seq
 * and filter, expecting a page within a thousand rows; but a revision's decisions are one stretch of time, and a
 * path may be absent from a long stretch (another replica's burst), and there that walk reads millions of rows
 * (5 s at 10 M). The bounds repeating the equality are index conditions and cost nothing there; they only shrink
 * the estimate of matches, which prices the filtering walk out.
 */
function oneValue(column: string, value: string): string {
  return `${column} = ${value} AND ${column} >= ${value} AND ${column} <= ${value}`;
}

/** A parameter's placeholder, the value added to `params`. */
function numbered(params: unknown[]): (value: unknown) => string {
  return (value) => `$${params.push(value)}`;
}

function stored(row: Row): StoredDecision {
  return {
    seq: Number(row.seq),
    outcome: row.outcome,
    ...(row.principal !== null ? { principal: row.principal } : {}),
    event: JSON.parse(row.event) as DecisionEvent,
  };
}
