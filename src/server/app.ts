// The HTTP server: express routes for OPA's API surface, with a small node:http dispatcher in front that
// sends POST /v1/data straight to its handler. Express routing costs several times the evaluation itself
// on this path (ARCHITECTURE.md, measured), and the handler is the same function either way.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ServerContext } from './context.js';
import { deleteData, getData, patchData, postData, postDataV0, putData } from './data-api.js';
import { config, health, status } from './health-api.js';
import { deletePolicy, getPolicy, listPolicies, putPolicy } from './policy-api.js';
import { ServerMetrics } from './metrics.js';
import { redirectToCanonicalPath } from './canonical-path.js';
import { prometheusText } from '../pip/index.js';
import { sendEmpty, sendError } from './respond.js';
import { requestLog, type RequestLogLevel } from './request-log.js';

type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams) => Promise<void>;

const noQuery = new URLSearchParams();

/** Splits "/v1/data/a/b?x=1" into the path after `prefix` and the query. */
function splitUrl(url: string, prefix: string): { rawPath: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url.slice(prefix.length), query: noQuery } : { rawPath: url.slice(prefix.length, q), query: new URLSearchParams(url.slice(q + 1)) };
}

function isUnderPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

export function createHttpServer(ctx: ServerContext, logger: Logger, requestLogLevel?: RequestLogLevel): Server {
  const { metrics } = ctx;
  const app = buildApp(ctx, metrics);
  let requestId = 0;
  const logRequest = requestLog(logger, requestLogLevel);

  return createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    logRequest?.(req, res, ++requestId, started);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requestDuration.observe({ code: String(res.statusCode), handler: ServerMetrics.handlerOf(url), method: req.method ?? '' }, seconds);
    });
    // Mounted front ends (HTTP ext_authz) see the proxied request as it is: any method, any path.
    if (ctx.mounts?.some((m) => isUnderPrefix(url, m.path))) return app(req, res);
    // OPA wraps its whole router in a HEAD-is-not-allowed handler.
    if (req.method === 'HEAD') return sendEmpty(res, 405);
    if (redirectToCanonicalPath(req, res, url)) return;
    if (req.method === 'POST' && isUnderPrefix(url, '/v1/data')) {
      const { rawPath, query } = splitUrl(url, '/v1/data');
      postData(ctx, req, res, rawPath, query).catch((err) => sendError(req, res, err, ctx.encoding));
      return;
    }
    app(req, res);
  });
}

function buildApp(ctx: ServerContext, metrics: ServerMetrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const dispatch = (prefix: string, methods: Record<string, Handler | undefined>) => async (req: Request, res: Response) => {
    const { rawPath, query } = splitUrl(req.url, prefix);
    const handler = methods[req.method];
    if (!handler) return sendEmpty(res, 405);
    await handler(ctx, req, res, rawPath, query);
  };

  app.all(/^\/v1\/data(?:\/.*)?$/, async (req, res) => {
    const bare = splitUrl(req.url, '/v1/data').rawPath.replace(/\//g, '') === '';
    await dispatch('/v1/data', { GET: getData, POST: postData, PUT: putData, PATCH: patchData, DELETE: bare ? undefined : deleteData })(req, res);
  });
  app.all(/^\/v0\/data(?:\/.*)?$/, dispatch('/v0/data', { POST: postDataV0 }));
  app.post('/', (req, res) => postDataV0(ctx, req, res, ctx.defaultDecision, splitUrl(req.url, '/').query));

  app.all('/v1/policies', (req, res) => (req.method === 'GET' ? listPolicies(ctx, req, res) : sendEmpty(res, 405)));
  app.all(/^\/v1\/policies\/.+$/, async (req, res) => {
    const id = decodeURIComponent(splitUrl(req.url, '/v1/policies/').rawPath);
    if (req.method === 'GET') return getPolicy(ctx, req, res, id);
    if (req.method === 'PUT') return putPolicy(ctx, req, res, id);
    if (req.method === 'DELETE') return deletePolicy(ctx, req, res, id);
    sendEmpty(res, 405);
  });

  for (const { path, router } of ctx.mounts ?? []) app.use(path, router);
  app.get('/health', (req, res) => health(ctx, req, res));
  app.get('/v1/config', (req, res) => config(ctx, req, res));
  app.get('/v1/status', (req, res) => status(ctx, req, res));
  app.get('/metrics', async (_req, res) => {
    let text = await metrics.registry.metrics();
    if (ctx.enricher) text += prometheusText(ctx.enricher.metrics.snapshot());
    res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
    res.end(text);
  });
  // Go's mux answers a known path with the wrong method like this (the data and policy APIs answer 405 with
  // an empty body instead, above).
  app.all(['/', '/health', '/metrics', '/v1/config', '/v1/status'], (req, res, next) => {
    if (req.path === '/' && req.method === 'GET') return next();
    res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('Method Not Allowed\n');
  });
  app.use((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(req, res, err, ctx.encoding));
  return app;
}
