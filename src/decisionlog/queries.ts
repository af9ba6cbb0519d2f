// The read side of a decision store, whichever engine holds it: the embedded SQLite log of one server, or the
// central PostgreSQL store a collector fills. /v1/decisions, the auditors' page and `verdict decisions` read
// through this interface only. Both stores number rows in insertion order (seq), so one cursor format serves both.
import type Database from 'better-sqlite3';
import { encodeCursor, findDecision, maxQueryLimit, queryDecisions, type DecisionFilters, type DecisionPage, type StoredDecision } from './query.js';

export type ExportFilters = Omit<DecisionFilters, 'limit' | 'cursor' | 'order'>;

export interface DecisionQueries {
  /** One page; rejects with DecisionLogError invalid_query naming a bad filter. */
  query(filters?: DecisionFilters): Promise<DecisionPage>;
  /** The latest decision logged with this id. */
  find(decisionId: string): Promise<StoredDecision | undefined>;
  /** The highest seq stored (0 when empty): where `tail --follow` starts. */
  newestSeq(): Promise<number>;
}

/** The embedded SQLite log (its reading connection) as DecisionQueries. */
export function sqliteQueries(db: Database.Database): DecisionQueries {
  return {
    query: async (filters) => queryDecisions(db, filters),
    find: async (decisionId) => findDecision(db, decisionId),
    newestSeq: async () => (db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM decisions').get() as { seq: number }).seq,
  };
}

/** Every matching decision, oldest first (after seq `afterSeq` if given), read page by page from any store. */
export async function* everyDecision(queries: DecisionQueries, filters: ExportFilters = {}, afterSeq?: number): AsyncGenerator<StoredDecision> {
  let cursor = afterSeq === undefined ? undefined : encodeCursor({ seq: afterSeq, order: 'asc' });
  do {
    const page = await queries.query({ ...filters, order: 'asc', limit: maxQueryLimit, ...(cursor ? { cursor } : {}) });
    yield* page.decisions;
    cursor = page.next_cursor;
  } while (cursor !== undefined);
}
