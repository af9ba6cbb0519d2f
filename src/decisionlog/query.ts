// Reading the decision log back: filters that map onto the indexed columns, JSON field matches on the
// stored event, newest-first (or oldest-first) paging with a cursor that stays valid as rows arrive.
import type Database from 'better-sqlite3';
import type { DecisionEvent } from './event.js';
import { parseTimestamp } from './event.js';
import { DecisionLogError } from './errors.js';
import { parseFieldPath } from './fieldpath.js';
import { outcomes, type Outcome } from './outcome.js';

export interface DecisionFilters {
  /** RFC3339; decisions at or after. */
  since?: string;
  /** RFC3339; decisions before. */
  until?: string;
  /** Path prefix by whole segments: "envoy/authz" matches "envoy/authz" and "envoy/authz/allow". */
  path?: string;
  outcome?: string;
  principal?: string;
  revision?: string;
  decision_id?: string;
  /** Exact matches on input fields, e.g. {"input.request.http.method": "POST"}. */
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
}

export const maxQueryLimit = 1000;

interface Row {
  seq: number;
  outcome: Outcome;
  principal: string | null;
  event: string;
}

export function queryDecisions(db: Database.Database, filters: DecisionFilters = {}): DecisionPage {
  const where: string[] = [];
  const params: unknown[] = [];
  const order = filters.order ?? 'desc';
  if (order !== 'desc' && order !== 'asc') throw bad(`order must be "desc" or "asc", got ${JSON.stringify(order)}`);
  const limit = filters.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxQueryLimit) throw bad(`limit must be an integer from 1 to ${maxQueryLimit}, got ${limit}`);

  if (filters.since !== undefined) {
    where.push('ts_ns >= ?');
    params.push(time(filters.since, 'since'));
  }
  if (filters.until !== undefined) {
    where.push('ts_ns < ?');
    params.push(time(filters.until, 'until'));
  }
  if (filters.path !== undefined) {
    const prefix = filters.path.replace(/^\/+|\/+$/g, '');
    if (prefix === '') throw bad('path must name at least one segment');
    // '0' is the character after '/', so [prefix/, prefix0) is every path below prefix.
    where.push('(path = ? OR (path >= ? AND path < ?))');
    params.push(prefix, prefix + '/', prefix + '0');
  }
  if (filters.outcome !== undefined) {
    if (!outcomes.includes(filters.outcome as Outcome)) throw bad(`outcome must be one of ${outcomes.join(', ')}, got ${JSON.stringify(filters.outcome)}`);
    where.push('outcome = ?');
    params.push(filters.outcome);
  }
  if (filters.principal !== undefined) {
    where.push('principal = ?');
    params.push(filters.principal);
  }
  if (filters.revision !== undefined) {
    where.push('(revision = ? OR seq IN (SELECT seq FROM decision_revisions WHERE revision = ?))');
    params.push(filters.revision, filters.revision);
  }
  if (filters.decision_id !== undefined) {
    where.push('decision_id = ?');
    params.push(filters.decision_id);
  }
  for (const [field, value] of Object.entries(filters.fields ?? {})) {
    // Compare JSON texts, so "POST" matches the string and 42 / true match the number or boolean as well
    // as the string "42" / "true".
    const candidates = [JSON.stringify(value)];
    const parsed = jsonScalar(value);
    if (parsed !== undefined) candidates.push(parsed);
    where.push(`(event -> ?) IN (${candidates.map(() => '?').join(', ')})`);
    params.push(sqlitePath(field), ...candidates);
  }
  if (filters.cursor !== undefined) {
    const cursor = decodeCursor(filters.cursor);
    if (cursor.order !== order) throw bad(`cursor was made for order=${cursor.order}`);
    where.push(order === 'desc' ? 'seq < ?' : 'seq > ?');
    params.push(cursor.seq);
  }

  const sql = `SELECT seq, outcome, principal, event FROM decisions${where.length ? ' WHERE ' + where.join(' AND ') : ''}
    ORDER BY seq ${order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
  const rows = db.prepare(sql).all(...params, limit + 1) as Row[];
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  return {
    decisions: page.map((row) => ({
      seq: row.seq,
      outcome: row.outcome,
      ...(row.principal !== null ? { principal: row.principal } : {}),
      event: JSON.parse(row.event) as DecisionEvent,
    })),
    ...(more ? { next_cursor: encodeCursor({ seq: page[page.length - 1].seq, order }) } : {}),
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

function time(text: string, name: string): bigint {
  const ns = parseTimestamp(text);
  if (ns === undefined) throw bad(`${name} must be an RFC3339 timestamp such as 2024-05-01T10:00:00Z, got ${JSON.stringify(text)}`);
  return ns;
}

/** input.request.http.method → $.input."request"."http"."method" (digit segments index arrays). */
function sqlitePath(field: string): string {
  let segments: string[];
  try {
    segments = parseFieldPath(field, 'input');
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (segments.length === 0) throw bad(`field ${JSON.stringify(field)} must name a field inside input`);
  if (segments.some((s) => s.includes('"'))) throw bad(`field ${JSON.stringify(field)} must not contain quotes`);
  return '$.input' + segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `."${s}"`)).join('');
}

function jsonScalar(text: string): string | undefined {
  if (!/^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)$/.test(text)) return undefined;
  return JSON.stringify(JSON.parse(text));
}

function encodeCursor(cursor: { seq: number; order: 'desc' | 'asc' }): string {
  return Buffer.from(`${cursor.order}:${cursor.seq}`).toString('base64url');
}

function decodeCursor(text: string): { seq: number; order: 'desc' | 'asc' } {
  const m = /^(desc|asc):(\d+)$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m) throw bad(`cursor ${JSON.stringify(text)} is not one this server handed out`);
  return { order: m[1] as 'desc' | 'asc', seq: Number(m[2]) };
}

function bad(message: string): DecisionLogError {
  return new DecisionLogError('invalid_query', message);
}
