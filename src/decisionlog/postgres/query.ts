// The decision query (filters, cursor, scan limit: see ../query.ts for their meaning) over the central
// PostgreSQL store. Same filters, same answers and the same cursors as the embedded log; the SQL differs.
import type { Pool } from 'pg';
import type { DecisionEvent } from '../event.js';
import { outcomes, type Outcome } from '../outcome.js';
import { bad, decodeCursor, encodeCursor, inputFieldSegments, maxQueryLimit, scanLimit, time, traceIdFilter, type DecisionFilters, type DecisionPage, type StoredDecision } from '../query.js';

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

export async function queryPostgres(pool: Pool, filters: DecisionFilters = {}, limits: { scanLimit?: number } = {}): Promise<DecisionPage> {
  const order = filters.order ?? 'desc';
  if (order !== 'desc' && order !== 'asc') throw bad(`order must be "desc" or "asc", got ${JSON.stringify(order)}`);
  const limit = filters.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxQueryLimit) throw bad(`limit must be an integer from 1 to ${maxQueryLimit}, got ${limit}`);
  const params: unknown[] = [];
  const indexed = new Conditions(params);
  if (filters.since !== undefined) indexed.add((p) => `ts_ns >= ${p(time(filters.since!, 'since').toString())}`);
  if (filters.until !== undefined) indexed.add((p) => `ts_ns < ${p(time(filters.until!, 'until').toString())}`);
  if (filters.path !== undefined) {
    const prefix = filters.path.replace(/^\/+|\/+$/g, '');
    if (prefix === '') throw bad('path must name at least one segment');
    indexed.add((p) => `(path = ${p(prefix)} OR (path >= ${p(prefix + '/')} AND path < ${p(prefix + '0')}))`);
  }
  if (filters.outcome !== undefined) {
    if (!outcomes.includes(filters.outcome as Outcome)) throw bad(`outcome must be one of ${outcomes.join(', ')}, got ${JSON.stringify(filters.outcome)}`);
    indexed.add((p) => `outcome = ${p(filters.outcome)}`);
  }
  if (filters.principal !== undefined) indexed.add((p) => `principal = ${p(filters.principal)}`);
  if (filters.principal_prefix !== undefined) {
    if (filters.principal_prefix === '') throw bad('principal_prefix must not be empty');
    indexed.add((p) => `principal >= ${p(filters.principal_prefix)} AND principal < ${p(filters.principal_prefix + '\u{10FFFF}')}`);
  }
  if (filters.decision_id !== undefined) indexed.add((p) => `decision_id = ${p(filters.decision_id)}`);
  if (filters.trace_id !== undefined) indexed.add((p) => `trace_id = ${p(traceIdFilter(filters.trace_id!))}`);
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    if (cursor.order !== order) throw bad(`cursor was made for order=${cursor.order}`);
    indexed.add((p) => `seq ${order === 'desc' ? '<' : '>'} ${p(cursor.seq)}`);
  }

  const revision = filters.revision === undefined ? undefined : numbered(params)(filters.revision);
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
    const row = await pool.query<{ seq: string }>(inSeqOrder('seq', indexed.clauses, direction, revision, { skip, take: 1 }, numbered(boundaryParams)), boundaryParams);
    boundary = row.rows[0] ? Number(row.rows[0].seq) : undefined;
  }
  const window = boundary === undefined ? [] : [`seq ${order === 'desc' ? '>=' : '<='} $${params.push(boundary)}`];
  const { rows } = await pool.query<Row>(
    inSeqOrder('seq, outcome, principal, event::text AS event', [...indexed.clauses, ...scanned.clauses, ...window], direction, revision, { take: limit + 1 }, numbered(params)),
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map(stored);
  if (!more && boundary !== undefined) return { decisions: page, next_cursor: encodeCursor({ seq: boundary, order }), scan_limited: true };
  return { decisions: page, ...(more ? { next_cursor: encodeCursor({ seq: page[page.length - 1].seq, order }) } : {}) };
}

/**
 * The SELECT of `columns` from the decisions meeting every condition, in seq order, `take` of them after `skip`.
 * With a revision, the decisions of that revision are those whose one revision it is (the revision column) and
 * those made under it among others (verdict_decision_revisions); the two never overlap. Each is its own ordered,
 * limited SELECT over its (revision, seq) index, merged: PostgreSQL reads both indexes in order and stops at the
 * page's end. (An OR of the two, or one UNION ALL with the conditions outside it, has every match sorted first.)
 */
function inSeqOrder(
  columns: string,
  conditions: string[],
  direction: 'ASC' | 'DESC',
  revision: string | undefined,
  rows: { skip?: number; take: number },
  param: (value: unknown) => string,
): string {
  const where = (first: string[]) => (first.length + conditions.length ? ' WHERE ' + [...first, ...conditions].join(' AND ') : '');
  const page = ` ORDER BY seq ${direction}${rows.skip !== undefined ? ` OFFSET ${param(rows.skip)}` : ''} LIMIT ${param(rows.take)}`;
  if (revision === undefined) return `SELECT ${columns} FROM verdict_decisions${where([])}${page}`;
  const reach = param((rows.skip ?? 0) + rows.take);
  const arm = (from: string, first: string) => `(SELECT ${columns} FROM ${from}${where([first])} ORDER BY seq ${direction} LIMIT ${reach})`;
  return `SELECT * FROM (${arm('verdict_decisions', oneRevision('revision', revision))}
    UNION ALL ${arm('verdict_decision_revisions JOIN verdict_decisions USING (seq)', oneRevision('verdict_decision_revisions.revision', revision))}) AS one_revision${page}`;
}

/**
 * column = revision, spelled so that the (revision, seq) index is chosen. PostgreSQL assumes a revision's
 * decisions are spread evenly over seq, so for a revision holding a tenth of the rows it would rather walk seq
 * backwards and filter, expecting a page within a thousand rows; but a revision's decisions are one stretch of
 * time, and for an older one that walk reads millions of rows (5 s at 10 M). The bounds repeating the equality
 * are index conditions on the revision index and cost nothing there; they only shrink the estimate of matches,
 * which prices the filtering walk out.
 */
function oneRevision(column: string, revision: string): string {
  return `${column} = ${revision} AND ${column} >= ${revision} AND ${column} <= ${revision}`;
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
