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

/** Builds WHERE clauses with numbered parameters. */
class Conditions {
  readonly clauses: string[] = [];
  constructor(readonly params: unknown[]) {}
  add(sql: (p: (value: unknown) => string) => string): void {
    this.clauses.push(sql((value) => `$${this.params.push(value)}`));
  }
  where(extra: string[] = []): string {
    const all = [...this.clauses, ...extra];
    return all.length ? ' WHERE ' + all.join(' AND ') : '';
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
  if (filters.revision !== undefined) indexed.add((p) => `(revision = ${p(filters.revision)} OR revisions @> ARRAY[${p(filters.revision)}]::text[])`);
  if (filters.decision_id !== undefined) indexed.add((p) => `decision_id = ${p(filters.decision_id)}`);
  if (filters.trace_id !== undefined) indexed.add((p) => `trace_id = ${p(traceIdFilter(filters.trace_id!))}`);
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    if (cursor.order !== order) throw bad(`cursor was made for order=${cursor.order}`);
    indexed.add((p) => `seq ${order === 'desc' ? '<' : '>'} ${p(cursor.seq)}`);
  }

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
    const row = await pool.query<{ seq: string }>(
      `SELECT seq FROM verdict_decisions${indexed.where()} ORDER BY seq ${direction} OFFSET $${indexedCount + 1} LIMIT 1`,
      [...params.slice(0, indexedCount), (limits.scanLimit ?? scanLimit) - 1],
    );
    boundary = row.rows[0] ? Number(row.rows[0].seq) : undefined;
  }
  const window = boundary === undefined ? [] : [`seq ${order === 'desc' ? '>=' : '<='} $${params.push(boundary)}`];
  const { rows } = await pool.query<Row>(
    `SELECT seq, outcome, principal, event::text AS event FROM verdict_decisions${indexed.where([...scanned.clauses, ...window])} ORDER BY seq ${direction} LIMIT $${params.push(limit + 1)}`,
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map(stored);
  if (!more && boundary !== undefined) return { decisions: page, next_cursor: encodeCursor({ seq: boundary, order }), scan_limited: true };
  return { decisions: page, ...(more ? { next_cursor: encodeCursor({ seq: page[page.length - 1].seq, order }) } : {}) };
}

function stored(row: Row): StoredDecision {
  return {
    seq: Number(row.seq),
    outcome: row.outcome,
    ...(row.principal !== null ? { principal: row.principal } : {}),
    event: JSON.parse(row.event) as DecisionEvent,
  };
}
