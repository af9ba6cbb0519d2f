// POST /logs: the collector's side of OPA's decision-log upload protocol. OPA and Verdict replicas send a
// gzip-compressed JSON array of decision events (Content-Encoding: gzip) to <service url><resource>, by default
// /logs, and count a batch as delivered on any 2xx. A batch is stored whole or not at all; a bad one is answered
// 400 naming what was wrong (uploaders retry non-2xx answers, so a batch refused for good costs them retries but
// never corrupts the store); a store outage is 503, which they retry until it passes.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { readBody, kindOf, type DecodingLimits } from './body.js';
import { ApiError, invalidParameter } from './errors.js';
import { readJson } from '../json/reader.js';
import { DecisionLogError } from '../decisionlog/errors.js';
import type { PostgresDecisionStore } from '../decisionlog/postgres/store.js';

export const ingestPath = '/logs';

export function decisionIngestRouter(store: PostgresDecisionStore, limits: DecodingLimits, authenticate: RequestHandler): Router {
  const router = Router();
  router.post(ingestPath, authenticate, (req: Request, res: Response) => {
    void ingest(store, limits, req, res);
  });
  router.all(ingestPath, (_req, res) => {
    res.status(405).set('Allow', 'POST').json({ code: 'method_not_allowed', message: `${ingestPath} takes POST only: a gzip-compressed JSON array of decision events` });
  });
  return router;
}

async function ingest(store: PostgresDecisionStore, limits: DecodingLimits, req: Request, res: Response): Promise<void> {
  try {
    const events = await readBatch(req, limits);
    const result = events.length === 0 ? { received: 0, stored: 0 } : await store.ingest(events);
    res.status(200).json(result);
  } catch (error) {
    if (error instanceof ApiError) {
      res.status(error.status).json({ code: error.code, message: error.message });
    } else if (error instanceof DecisionLogError && error.code === 'invalid_event') {
      res.status(400).json({ code: 'invalid_parameter', message: `decision log batch refused, nothing was stored: ${error.message}` });
    } else {
      // The store is down or refused the write: the uploader keeps the batch and sends it again.
      res.status(503).json({ code: 'unavailable', message: error instanceof Error ? error.message : String(error) });
    }
  }
}

async function readBatch(req: Request, limits: DecodingLimits): Promise<unknown[]> {
  if (!/^\s*gzip\s*$/i.test(req.headers['content-encoding'] ?? '')) {
    req.resume();
    throw invalidParameter(`${ingestPath} takes a gzip-compressed JSON array of decision events with Content-Encoding: gzip, got Content-Encoding ${JSON.stringify(req.headers['content-encoding'] ?? '(none)')}`);
  }
  let body: Buffer;
  try {
    body = await readBody(req, limits);
  } catch (error) {
    if (error instanceof ApiError) throw invalidParameter(`decision log batch refused: ${error.message}`);
    throw error;
  }
  let value: unknown;
  try {
    value = readJson(body.toString('utf8'), { trailing: 'error' });
  } catch (error) {
    throw invalidParameter(`decision log batch refused: the body is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw invalidParameter(`decision log batch refused: the body must be a JSON array of decision events, got ${kindOf(value)}`);
  return value;
}
