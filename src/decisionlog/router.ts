// GET /v1/decisions, GET /v1/decisions/export and GET /v1/decisions/{decision_id}: the audit API over the decision log. Errors use
// OPA's envelope {code, message}. The server mounts it behind the admin authentication (scope decisions:read).
import { Router, type Request, type Response } from 'express';
import { DecisionLogError } from './errors.js';
import { once } from 'node:events';
import type { DecisionFilters, StoredDecision } from './query.js';
import { everyDecision, type DecisionQueries } from './queries.js';

const scalarParams = ['since', 'until', 'path', 'outcome', 'principal', 'principal_prefix', 'principal_contains', 'revision', 'decision_id', 'trace_id', 'cursor', 'order', 'limit'] as const;

export function decisionsRouter(queries: DecisionQueries): Router {
  const router = Router();

  router.get('/v1/decisions', async (req: Request, res: Response) => {
    try {
      const page = await queries.query(filtersFromQuery(req.query as Record<string, unknown>));
      res.json({ result: page.decisions, ...(page.next_cursor ? { next_cursor: page.next_cursor } : {}), ...(page.scan_limited ? { scan_limited: true } : {}) });
    } catch (error) {
      sendError(res, error);
    }
  });

  // Declared before /v1/decisions/{decision_id}, which therefore never looks up a decision named "export".
  router.get('/v1/decisions/export', (req: Request, res: Response) => {
    void exportDecisions(queries, req, res);
  });

  router.get('/v1/decisions/:decision_id', async (req: Request, res: Response) => {
    try {
      const found = await queries.find(String(req.params.decision_id));
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

/**
 * GET /v1/decisions/export?format=ndjson|csv&<filters>: every decision the filters match, oldest first, streamed
 * (page by page, waiting for the client to drain), as a file download. NDJSON events are OPA's EventV1.
 */
async function exportDecisions(queries: DecisionQueries, req: Request, res: Response): Promise<void> {
  let decisions: AsyncGenerator<StoredDecision>;
  let format: (typeof exportFormats)[keyof typeof exportFormats];
  let name: string;
  try {
    const { format: formatName = 'ndjson', ...query } = req.query as Record<string, unknown>;
    if (formatName !== 'ndjson' && formatName !== 'csv') throw new DecisionLogError('invalid_query', `format must be ndjson or csv, got ${JSON.stringify(formatName)}`);
    const { limit, cursor, order, ...filters } = filtersFromQuery(query);
    const paging = limit !== undefined ? 'limit' : cursor !== undefined ? 'cursor' : order !== undefined ? 'order' : undefined;
    if (paging) throw new DecisionLogError('invalid_query', `${paging} does not apply to an export: it holds every matching decision, oldest first`);
    format = exportFormats[formatName];
    name = formatName;
    decisions = everyDecision(queries, filters);
    // The first page is read before answering, so a bad filter is still a 400.
    const first = await decisions.next();
    res.status(200).type(format.type).set('Content-Disposition', `attachment; filename="decisions.${name}"`).set('Cache-Control', 'no-store');
    if (format.header) res.write(format.header);
    if (!first.done) res.write(format.line(first.value) + '\n');
  } catch (error) {
    sendError(res, error);
    return;
  }
  try {
    for await (const decision of decisions) {
      if (!res.write(format.line(decision) + '\n')) await once(res, 'drain');
      if (res.destroyed) return;
    }
    res.end();
  } catch (error) {
    // Headers are gone: the only honest signal left is a broken download.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}

const csvColumns = ['timestamp', 'decision_id', 'path', 'outcome', 'principal', 'revisions', 'trace_id', 'result', 'error', 'input'] as const;
const csvHeader = csvColumns.join(',') + '\n';

function csvLine(d: StoredDecision): string {
  const e = d.event;
  const json = (v: unknown) => (v === undefined ? '' : JSON.stringify(v));
  const revisions = Object.entries(e.bundles ?? {}).map(([name, b]) => `${name}=${b.revision ?? ''}`).join(' ');
  return [e.timestamp, e.decision_id, e.path ?? e.query ?? '', d.outcome, d.principal ?? '', revisions, e.trace_id ?? '', json(e.result), e.error ? `${e.error.code}: ${e.error.message}` : '', json(e.input)].map(csvField).join(',');
}

const exportFormats = {
  ndjson: { type: 'application/x-ndjson', header: undefined, line: (d: StoredDecision) => JSON.stringify(d.event) },
  csv: { type: 'text/csv; charset=utf-8', header: csvHeader, line: csvLine },
} as const;

/** RFC 4180 quoting; a leading =, +, - or @ is defused with ' so a spreadsheet never runs a logged value as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function sendError(res: Response, error: unknown): void {
  if (error instanceof DecisionLogError && error.code === 'invalid_query') {
    res.status(400).json({ code: 'invalid_parameter', message: error.message });
    return;
  }
  res.status(500).json({ code: 'internal_error', message: error instanceof Error ? error.message : String(error) });
}
