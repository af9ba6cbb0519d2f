// GET /v1/decisions and GET /v1/decisions/{decision_id}: the audit API over the decision log. Errors use
// OPA's envelope {code, message}. The server mounts it behind the admin authentication (scope decisions:read).
import { Router, type Request, type Response } from 'express';
import type Database from 'better-sqlite3';
import { DecisionLogError } from './errors.js';
import { findDecision, queryDecisions, type DecisionFilters } from './query.js';

const scalarParams = ['since', 'until', 'path', 'outcome', 'principal', 'principal_prefix', 'principal_contains', 'revision', 'decision_id', 'trace_id', 'cursor', 'order', 'limit'] as const;

export function decisionsRouter(store: { db: Database.Database }): Router {
  const router = Router();

  router.get('/v1/decisions', (req: Request, res: Response) => {
    try {
      const page = queryDecisions(store.db, filtersFromQuery(req.query as Record<string, unknown>));
      res.json({ result: page.decisions, ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}), ...(page.scan_limited ? { scan_limited: true } : {}) });
    } catch (error) {
      sendError(res, error);
    }
  });

  router.get('/v1/decisions/:decision_id', (req: Request, res: Response) => {
    try {
      const found = findDecision(store.db, String(req.params.decision_id));
      if (!found) {
        res.status(404).json({ code: 'resource_not_found', message: `decision ${req.params.decision_id} is not in the decision log` });
        return;
      }
      res.json({ result: found });
    } catch (error) {
      sendError(res, error);
    }
  });

  return router;
}

/** Query-string parameters → filters; every parameter starting with "input." is a field match. */
export function filtersFromQuery(query: Record<string, unknown>): DecisionFilters {
  const filters: DecisionFilters = {};
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (typeof value !== 'string') {
      throw new DecisionLogError('invalid_query', `query parameter ${name} must be given once, as a plain value`);
    }
    if (name.startsWith('input.')) fields[name] = value;
    else if (name === 'limit') {
      if (!/^\d+$/.test(value)) throw new DecisionLogError('invalid_query', `limit must be a positive integer, got ${JSON.stringify(value)}`);
      filters.limit = Number(value);
    } else if ((scalarParams as readonly string[]).includes(name)) {
      (filters as Record<string, string>)[name] = value;
    } else {
      throw new DecisionLogError('invalid_query', `unknown query parameter ${name}; filters are ${scalarParams.join(', ')} and input.<field>`);
    }
  }
  if (Object.keys(fields).length > 0) filters.fields = fields;
  return filters;
}

function sendError(res: Response, error: unknown): void {
  if (error instanceof DecisionLogError && error.code === 'invalid_query') {
    res.status(400).json({ code: 'invalid_parameter', message: error.message });
    return;
  }
  res.status(500).json({ code: 'internal_error', message: error instanceof Error ? error.message : String(error) });
}
