// Reading the decision log back: filters that map onto the indexed columns, JSON field matches on the
// stored event (a scan bounded per page by scanLimit), newest-first (or oldest-first) paging with a cursor that stays valid as rows arrive.
// The indexed rows are read through decision_keys' indexes (by principal, through the principals' lists of seqs;
// by trace id, bucket by bucket of seqs),
// and the tail that is not indexed yet (at most a step
// and a batch of the newest rows, see schema.ts and indexing.ts) by its seq range, merged in seq order.
import type Database from 'better-sqlite3';
import type { DecisionEvent } from './event.js';
import { parseTimestamp } from './event.js';
import { DecisionLogError } from './errors.js';
import { parseFieldPath } from './fieldpath.js';
import { outcomes, type Outcome } from './outcome.js';
import { indexedSeqSql, outcomeIndexCondition, traceBucketBits, traceBucketSql } from './schema.js';
import { normalTraceId } from './trace-id.js';

export interface DecisionFilters {
  /** RFC3339; decisions at or after. */
  since?: string;
  /** RFC3339; decisions before. */
  until?: string;
  /** Path prefix by whole segments: "envoy/authz" matches "envoy/authz" and "envoy/authz/allow". */
  path?: string;
  outcome?: string;
  /** Exact principal. */
  principal?: string;
  /** Principals starting with this text (a range of the principals' lists, see schema.ts). */
  principal_prefix?: string;
  /** Principals containing this text, any case (not indexed: a bounded scan, see scanLimit). */
  principal_contains?: string;
  revision?: string;
  decision_id?: string;
  /** 32 hex digits, any case: the event's trace_id, or the trace id of a traceparent header in the input (see trace-id.ts; indexed). */
  trace_id?: string;
  /** Exact matches on input fields, e.g. {"input.request.http.method": "POST"} (not indexed: a bounded scan). */
  fields?: Record<string, string>;
  /** 1..1000, default 100. */
  limit?: number;
  /** From a previous page's next_cursor. */
  cursor?: string;
  /** newest first (default) or oldest first. */
  order?: 'desc' | 'asc';
}

export interface StoredDecision {
  seq: number;
  outcome: Outcome;
  principal?: string;
  event: DecisionEvent;
}

export interface DecisionPage {
  decisions: StoredDecision[];
  /** Present when there may be more: pass it back as `cursor` for the next page. */
  next_cursor?: string;
  /**
   * Set when a filter that no index answers (principal_contains, input fields) stopped at the scan
   * limit before filling the page: older (or, oldest first, newer) decisions were not examined; next_cursor goes on.
   */
  scan_limited?: boolean;
}

export const maxQueryLimit = 1000;

/**
 * How many decisions (those the indexed filters and the cursor leave) one page examines for the filters no
 * index answers. A search over millions of rows answers in bounded time and says where it stopped.
 */
export const scanLimit = 100_000;

interface Row {
  seq: number;
  outcome: Outcome;
  principal: string | null;
  event: string;
}

/**
 * One page. Its statements (the stored paths under a path prefix, the scan window's bound, the rows) read one
 * snapshot, in one read transaction: the writer indexes the tail meanwhile (a step, or when idle), and rows
 * indexed between the statement that lists the indexed paths and the one that reads the rows would have left the
 * tail for a path with no arm of its own, missing from the page.
 */
export function queryDecisions(db: Database.Database, filters: DecisionFilters = {}, limits: { scanLimit?: number } = {}): DecisionPage {
  return db.transaction(() => queryInSnapshot(db, filters, limits))();
}

function queryInSnapshot(db: Database.Database, filters: DecisionFilters, limits: { scanLimit?: number }): DecisionPage {
  const where: string[] = [];
  const params: unknown[] = [];
  const order = filters.order ?? 'desc';
  if (order !== 'desc' && order !== 'asc') throw bad(`order must be "desc" or "asc", got ${JSON.stringify(order)}`);
  const limit = filters.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxQueryLimit) throw bad(`limit must be an integer from 1 to ${maxQueryLimit}, got ${limit}`);

  // Time and decision id have no index: the zones (schema.ts) bound the seqs of the indexed rows that can match.
  const bounds: Bound[] = [];
  if (filters.since !== undefined) {
    const since = time(filters.since, 'since');
    where.push('$.ts_ns >= ?');
    params.push(since);
    bounds.push(zoneBound(db.prepare('SELECT min(first_seq) FROM decision_zones WHERE max_ts >= ?').pluck().get(since) as number | null, '>='));
  }
  if (filters.until !== undefined) {
    const until = time(filters.until, 'until');
    where.push('$.ts_ns < ?');
    params.push(until);
    bounds.push(zoneBound(db.prepare('SELECT max(last_seq) FROM decision_zones WHERE min_ts < ?').pluck().get(until) as number | null, '<='));
  }
  if (filters.decision_id !== undefined) {
    where.push('$.decision_id = ?');
    params.push(filters.decision_id);
    const [first, last] = db.prepare('SELECT min(first_seq), max(last_seq) FROM decision_zones WHERE min_id <= ? AND max_id >= ?').raw().get(filters.decision_id, filters.decision_id) as [number | null, number | null];
    bounds.push(zoneBound(first, '>='), zoneBound(last, '<='));
  }
  const cursor = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
  if (cursor !== undefined && cursor.order !== order) throw bad(`cursor was made for order=${cursor.order}`);
  const { parts: keyedParts, ordered } = arms(db, filters, bounds, cursor);
  if (filters.outcome !== undefined) {
    if (!outcomes.includes(filters.outcome as Outcome)) throw bad(`outcome must be one of ${outcomes.join(', ')}, got ${JSON.stringify(filters.outcome)}`);
    // The outcome is written into the SQL, not bound: each outcome has an index of its own, partial, which SQLite
    // reads only for the very condition it was made with. Each arm of a revision or of a stored path reads that
    // index in seq order; `+` keeps SQLite (which has no statistics here) from walking the outcome's index
    // instead, through every other path's or revision's rows.
    where.push(ordered ? `+${outcomeIndexCondition(filters.outcome as Outcome, '$.outcome')}` : outcomeIndexCondition(filters.outcome as Outcome, '$.outcome'));
  }
  if (filters.principal !== undefined) {
    where.push('$.principal = ?');
    params.push(filters.principal);
  }
  if (filters.principal_prefix !== undefined) {
    if (filters.principal_prefix === '') throw bad('principal_prefix must not be empty');
    where.push('$.principal >= ? AND $.principal < ?');
    params.push(filters.principal_prefix, prefixEnd(filters.principal_prefix));
  }
  const scanned: string[] = [];
  const scannedParams: unknown[] = [];
  if (filters.principal_contains !== undefined) {
    if (filters.principal_contains === '') throw bad('principal_contains must not be empty');
    scanned.push('instr(lower(d.principal), ?) > 0');
    scannedParams.push(filters.principal_contains.toLowerCase());
  }
  if (filters.trace_id !== undefined) {
    where.push('$.trace_id = ?');
    params.push(traceIdFilter(filters.trace_id));
  }
  for (const [field, value] of Object.entries(filters.fields ?? {})) {
    // Compare JSON texts, so "POST" matches the string and 42 / true match the number or boolean as well
    // as the string "42" / "true".
    const candidates = [JSON.stringify(value)];
    const parsed = jsonScalar(value);
    if (parsed !== undefined) candidates.push(parsed);
    scanned.push(`(d.event -> ?) IN (${candidates.map(() => '?').join(', ')})`);
    scannedParams.push(sqlitePath(field), ...candidates);
  }
  if (cursor !== undefined) {
    where.push(order === 'desc' ? '@seq < ?' : '@seq > ?');
    params.push(cursor.seq);
  }

  // With no condition on a key column, every row is read in seq order: from decisions alone, indexed or not.
  const parts = filters.revision === undefined && filters.path === undefined && !where.some((c) => c.includes('$.')) ? [wholeArm] : keyedParts;
  const direction = order === 'desc' ? 'DESC' : 'ASC';
  // The last row the scan may examine: the scanLimit-th one the indexed filters leave, if there are that many.
  let boundary: number | undefined;
  if (scanned.length > 0) {
    const [sql, values] = inSeqOrder(false, parts, where, params, direction, { skip: (limits.scanLimit ?? scanLimit) - 1, take: 1 });
    boundary = (db.prepare(sql).get(...values) as { seq: number } | undefined)?.seq;
    if (boundary !== undefined) {
      where.push(order === 'desc' ? '@seq >= ?' : '@seq <= ?');
      params.push(boundary);
    }
  }
  const [sql, values] = inSeqOrder(true, parts, [...where, ...scanned], [...params, ...scannedParams], direction, { take: limit + 1 });
  const rows = db.prepare(sql).all(...values) as Row[];
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (!more && boundary !== undefined) {
    // The window ran out before the page filled: go on after it.
    return { decisions: page.map(stored), next_cursor: encodeCursor({ seq: boundary, order }), scan_limited: true };
  }
  return {
    decisions: page.map(stored),
    ...(more ? { next_cursor: encodeCursor({ seq: page[page.length - 1].seq, order }) } : {}),
  };
}

/**
 * Where one ordered part of a query reads, the conditions that pick its index, and their values. A condition names
 * a key column of the row as `$.column` and the seq the part is ordered by as `@seq`: the indexed part reads
 * them from decision_keys (k), the tail and the rows of decision_revisions from decisions (d).
 */
interface Arm {
  /** The tables, decisions as d among them. */
  from: string;
  /** The same without decisions, when only the key columns are read (the scan window's bound). */
  keysFrom?: string;
  keys: 'k' | 'd';
  seq: string;
  /**
   * What the part is ordered by before its seq: a principal list's step (the lists' steps do not overlap), or the
   * trace index's bucket of seqs.
   */
  step?: string;
  first: string[];
  values: unknown[];
}

const indexedArm: Arm = { from: 'decision_keys AS k CROSS JOIN decisions AS d ON d.seq = k.seq', keysFrom: 'decision_keys AS k', keys: 'k', seq: 'k.seq', first: [], values: [] };
const wholeArm: Arm = { from: 'decisions AS d', keys: 'd', seq: 'd.seq', first: [], values: [] };
const tailArm: Arm = { from: 'decisions AS d', keys: 'd', seq: 'd.seq', first: [`d.seq > ${indexedSeqSql}`], values: [] };

/** A bound on the seqs of the indexed rows that can match, from the zones: `k.seq op seq`. */
interface Bound {
  op: '>=' | '<=';
  seq: number;
}

/**
 * The bound from the least or greatest seq of the zones that can hold a match (decision_zones has one row per 256
 * indexed rows); when no zone can (null), one that no indexed row meets.
 */
function zoneBound(seq: number | null, op: Bound['op']): Bound {
  return { op, seq: seq ?? (op === '>=' ? Number.MAX_SAFE_INTEGER : 0) };
}

/**
 * The parts of a query, each read in seq order and merged: the indexed rows from decision_keys' indexes and the
 * tail by its seq range; with a revision, also the decisions made under it among others (decision_revisions,
 * indexed as written); with a path prefix, the indexed rows one part per stored path under it (decision_keys_path).
 * An OR of them had every match sorted first (seconds over a million rows). `ordered` when the parts' own
 * conditions pick an index read in seq order.
 */
function arms(db: Database.Database, filters: DecisionFilters, bounds: Bound[], cursor: { seq: number; order: 'desc' | 'asc' } | undefined): { parts: Arm[]; ordered: boolean } {
  const lists = listsArm(filters, bounds, cursor);
  const keyed: Arm = lists ?? { ...indexedArm, first: bounds.map((b) => `k.seq ${b.op} ?`), values: bounds.map((b) => b.seq) };
  // A principal's lists lead; a trace id is then a condition on their rows.
  const traced = lists === undefined && filters.trace_id !== undefined;
  const indexed = traced ? traceArm(keyed, traceIdFilter(filters.trace_id!), bounds, cursor) : keyed;
  const sources: Arm[] =
    filters.revision === undefined
      ? [indexed, tailArm]
      : [
          // `+`: a trace's few rows are read through the trace index, not the revision's many through the revision's.
          { ...indexed, first: [...indexed.first, traced ? '+k.revision = ?' : 'k.revision = ?'], values: [...indexed.values, filters.revision] },
          { ...tailArm, first: [...tailArm.first, 'd.revision = ?'], values: [filters.revision] },
          { from: 'decision_revisions AS r CROSS JOIN decisions AS d ON d.seq = r.seq', keys: 'd', seq: 'r.seq', first: ['r.revision = ?'], values: [filters.revision] },
        ];
  if (filters.path === undefined) return { parts: sources, ordered: filters.revision !== undefined || lists !== undefined || traced };
  const range = pathRange(filters.path);
  const inRange = (arm: Arm): Arm => ({ ...arm, first: [...arm.first, '($.path = ? OR ($.path >= ? AND $.path < ?))'], values: [...arm.values, range.prefix, range.below, range.end] });
  // A principal's list, or a trace's buckets, is read once, the path a condition on its rows, rather than once per stored path.
  if (lists || traced) return { parts: sources.map(inRange), ordered: true };
  const paths = (db.prepare(storedPathsSql('decision_keys', { prefix: '@prefix', below: '@below', end: '@end', limit: '@limit' })).all({ ...range, limit: maxPathArms + 1 }) as Array<{ path: string }>).map((row) => row.path);
  if (paths.length > maxPathArms) return { parts: sources.map(inRange), ordered: filters.revision !== undefined };
  // The indexed rows, one part per stored path. No stored path: one part that matches nothing keeps the query's shape.
  const each = paths.length === 0 ? [range.prefix] : paths;
  const parts = sources.flatMap((arm) => (arm.keys === 'k' ? each.map((path) => ({ ...arm, first: [...arm.first, 'k.path = ?'], values: [...arm.values, path] })) : [inRange(arm)]));
  return { parts, ordered: true };
}

/**
 * With a principal or a principal prefix, the indexed rows are read through the principals' lists (schema.ts): each
 * list's seqs, each the row of decision_keys it names (gone when retention deleted it; the filter's own condition on
 * k.principal is checked there too), in step order and, within a step, sorted. The cursor and the zones' bounds skip
 * the steps that cannot hold a match. An exact principal reads its own lists (decision_principals_principal); a
 * prefix reads every step's lists in step order (decision_principals_step), those of the principals in the range only.
 */
function listsArm(filters: DecisionFilters, bounds: Bound[], cursor: { seq: number; order: 'desc' | 'asc' } | undefined): Arm | undefined {
  let from: string;
  let step: string;
  const first: string[] = [];
  const values: unknown[] = [];
  if (filters.principal !== undefined) {
    from = 'decision_principals AS p INDEXED BY decision_principals_principal';
    step = 'p.first_seq';
    first.push('p.principal = ?');
    values.push(filters.principal);
  } else if (filters.principal_prefix !== undefined && filters.principal_prefix !== '') {
    from = 'decision_principals AS p INDEXED BY decision_principals_step';
    step = 'p.last_seq';
    first.push('p.principal >= ? AND p.principal < ?');
    values.push(filters.principal_prefix, prefixEnd(filters.principal_prefix));
  } else {
    return undefined;
  }
  // A step holds seqs from first_seq to last_seq: one below the bound or the cursor starts at or below it, and so on.
  for (const b of bounds) {
    first.push(b.op === '>=' ? 'p.last_seq >= ?' : 'p.first_seq <= ?', `k.seq ${b.op} ?`);
    values.push(b.seq, b.seq);
  }
  if (cursor !== undefined) {
    first.push(cursor.order === 'desc' ? 'p.first_seq < ?' : 'p.last_seq > ?');
    values.push(cursor.seq);
  }
  const keysFrom = `${from} CROSS JOIN json_each(p.seqs) AS j CROSS JOIN decision_keys AS k ON k.seq = j.value`;
  return { from: `${keysFrom} CROSS JOIN decisions AS d ON d.seq = k.seq`, keysFrom, keys: 'k', seq: 'k.seq', step, first, values };
}

/**
 * With a trace id, the indexed rows are read through the trace index (schema.ts): one seek per bucket of seqs, from
 * the newest bucket that can hold a match (the highest indexed seq's, or the cursor's or the zones' bound) down to
 * the oldest that can, or the other way oldest first; SQLite walks the buckets in the order the part asks for, and
 * each bucket's rows are in seq order. The filter's own condition on k.trace_id stays, as on every part.
 */
function traceArm(arm: Arm, traceId: string, bounds: Bound[], cursor: { seq: number; order: 'desc' | 'asc' } | undefined): Arm {
  let low = 0;
  let high = Number.MAX_SAFE_INTEGER;
  for (const b of bounds) {
    if (b.op === '>=') low = Math.max(low, b.seq);
    else high = Math.min(high, b.seq);
  }
  if (cursor?.order === 'desc') high = Math.min(high, cursor.seq);
  if (cursor?.order === 'asc') low = Math.max(low, cursor.seq);
  const bucket = traceBucketSql('k.seq');
  const buckets = `WITH RECURSIVE b(n) AS (SELECT min(${indexedSeqSql}, ?) >> ${traceBucketBits} UNION ALL SELECT n - 1 FROM b WHERE n > (? >> ${traceBucketBits})) SELECT n FROM b`;
  return {
    ...arm,
    step: bucket,
    first: [...arm.first, `${bucket} IN (${buckets})`, 'unhex(k.trace_id) = unhex(?)', 'k.trace_id IS NOT NULL'],
    values: [...arm.values, high, low, traceId],
  };
}

/**
 * The SELECT over the arms, every condition in each, in seq order: `take` rows after `skip`; of the decisions'
 * columns a page shows when `rows`, else of seq alone.
 */
function inSeqOrder(rows: boolean, parts: Arm[], conditions: string[], values: unknown[], direction: 'ASC' | 'DESC', window: { skip?: number; take: number }): [string, unknown[]] {
  const reach = (window.skip ?? 0) + window.take;
  const select = (arm: Arm): [string, unknown[]] => {
    const where = [...arm.first, ...conditions].map((c) => c.replaceAll('$.', `${arm.keys}.`).replaceAll('@seq', arm.seq));
    const orderBy = [arm.step, arm.seq].filter((c) => c !== undefined).map((c) => `${c} ${direction}`).join(', ');
    const keyed = (columns: string, from: string) => `SELECT ${columns} FROM ${from}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY ${orderBy} LIMIT ?`;
    const armValues = [...arm.values, ...values, reach];
    if (!rows) return [keyed(`${arm.seq} AS seq`, arm.keysFrom ?? arm.from), armValues];
    // A part sorted step by step (a principal's lists) sorts the seqs alone, and reads the events of those it keeps:
    // not every event of the steps it opens copied into the sort. Unless a condition reads the event's row.
    if (arm.step !== undefined && arm.keysFrom !== undefined && !where.some((c) => /\bd\./.test(c))) {
      return [`SELECT d.seq AS seq, d.outcome AS outcome, d.principal AS principal, d.event AS event FROM (${keyed(`${arm.seq} AS seq`, arm.keysFrom)}) AS s CROSS JOIN decisions AS d ON d.seq = s.seq`, armValues];
    }
    return [keyed(`${arm.seq} AS seq, d.outcome AS outcome, d.principal AS principal, d.event AS event`, arm.from), armValues];
  };
  const page = ` ORDER BY seq ${direction} LIMIT ?${window.skip !== undefined ? ' OFFSET ?' : ''}`;
  const pageValues = [window.take, ...(window.skip !== undefined ? [window.skip] : [])];
  const selects = parts.map(select);
  const sql = 'SELECT * FROM (' + selects.map(([part]) => `SELECT * FROM (${part})`).join(' UNION ALL ') + ')' + page;
  return [sql, [...selects.flatMap(([, partValues]) => partValues), ...pageValues]];
}

/** Above this many stored paths under a prefix, the path filter is one range condition instead of an arm per path. */
export const maxPathArms = 32;

/** [prefix, prefixEnd(prefix)) holds every text that starts with prefix: U+10FFFF sorts after any character. */
export function prefixEnd(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

/**
 * A path filter as a prefix by whole segments: the prefix itself, and [below, end) every path under it ('0' is
 * the character after '/'). invalid_query when it names no segment.
 */
export function pathRange(filter: string): { prefix: string; below: string; end: string } {
  const prefix = filter.replace(/^\/+|\/+$/g, '');
  if (prefix === '') throw bad('path must name at least one segment');
  return { prefix, below: prefix + '/', end: prefix + '0' };
}

/**
 * The stored paths under a prefix (SQLite and PostgreSQL alike), at most `limit`, by a skip scan of the path
 * index: one index probe per distinct path. [prefix, end) also holds siblings such as prefix-x, which the last
 * WHERE drops.
 */
export function storedPathsSql(table: string, param: { prefix: string; below: string; end: string; limit: string }): string {
  const next = (after: string) => `(SELECT path FROM ${table} WHERE path ${after} AND path < ${param.end} ORDER BY path LIMIT 1)`;
  return `WITH RECURSIVE stored(path) AS (SELECT ${next(`>= ${param.prefix}`)} UNION ALL SELECT ${next('> stored.path')} FROM stored WHERE stored.path IS NOT NULL)
    SELECT path FROM stored WHERE path = ${param.prefix} OR (path >= ${param.below} AND path < ${param.end}) LIMIT ${param.limit}`;
}

function stored(row: Row): StoredDecision {
  return {
    seq: row.seq,
    outcome: row.outcome,
    ...(row.principal !== null ? { principal: row.principal } : {}),
    event: JSON.parse(row.event) as DecisionEvent,
  };
}

/** The latest decision logged with this id, or undefined. */
export function findDecision(db: Database.Database, decisionId: string): StoredDecision | undefined {
  return queryDecisions(db, { decision_id: decisionId, limit: 1 }).decisions[0];
}

/** Every matching decision, oldest first (after seq `afterSeq` if given), read page by page. */
export function* allDecisions(
  db: Database.Database,
  filters: Omit<DecisionFilters, 'limit' | 'cursor' | 'order'> = {},
  afterSeq?: number,
): Generator<StoredDecision> {
  let cursor = afterSeq === undefined ? undefined : encodeCursor({ seq: afterSeq, order: 'asc' });
  do {
    const page = queryDecisions(db, { ...filters, order: 'asc', limit: maxQueryLimit, ...(cursor ? { cursor } : {}) });
    yield* page.decisions;
    cursor = page.next_cursor;
  } while (cursor !== undefined);
}

/** The trace_id filter as the column holds it; invalid_query unless 32 hex digits. */
export function traceIdFilter(text: string): string {
  const id = normalTraceId(text);
  if (id === undefined) throw bad(`trace_id must be 32 hexadecimal digits (a W3C trace id), got ${JSON.stringify(text)}`);
  return id;
}

export function time(text: string, name: string): bigint {
  const ns = parseTimestamp(text);
  if (ns === undefined) throw bad(`${name} must be an RFC3339 timestamp such as 2024-05-01T10:00:00Z, got ${JSON.stringify(text)}`);
  return ns;
}

/** input.request.http.method → ["request", "http", "method"]; invalid_query when it names nothing inside input. */
export function inputFieldSegments(field: string): string[] {
  let segments: string[];
  try {
    segments = parseFieldPath(field, 'input');
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (segments.length === 0) throw bad(`field ${JSON.stringify(field)} must name a field inside input`);
  return segments;
}

/** input.request.http.method → $.input."request"."http"."method" (digit segments index arrays). */
function sqlitePath(field: string): string {
  const segments = inputFieldSegments(field);
  if (segments.some((s) => s.includes('"'))) throw bad(`field ${JSON.stringify(field)} must not contain quotes`);
  return '$.input' + segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `."${s}"`)).join('');
}

function jsonScalar(text: string): string | undefined {
  if (!/^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(text)) return undefined;
  return JSON.stringify(JSON.parse(text));
}

export function encodeCursor(cursor: { seq: number; order: 'desc' | 'asc' }): string {
  return Buffer.from(`${cursor.order}:${cursor.seq}`).toString('base64url');
}

export function decodeCursor(text: string): { seq: number; order: 'desc' | 'asc' } {
  const m = /^(desc|asc):(\d+)$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m) throw bad(`cursor ${JSON.stringify(text)} is not one this server handed out`);
  return { order: m[1] as 'desc' | 'asc', seq: Number(m[2]) };
}

export function bad(message: string): DecisionLogError {
  return new DecisionLogError('invalid_query', message);
}
