// The HTTP server: express routes for OPA's API surface, with a small node:http dispatcher in front that
// sends POST /v1/data straight to its handler. Express routing costs several times the evaluation itself
// on this path (ARCHITECTURE.md, measured), and the handler is the same function either way.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ServerContext } from './context.js';
import { deleteData, getData, patchData, postData, postDataV0, putData } from './data-api.js';
import { config, health, healthRule, status } from './health-api.js';
import { getQuery, postQuery } from './query-api.js';
import { postCompile, postCompileFilter } from './compile-api.js';
import { indexPage } from './index-page.js';
import { deletePolicy, getPolicy, listPolicies, putPolicy } from './policy-api.js';
import { redirectToCanonicalPath } from './canonical-path.js';
import { prometheusText } from '../pip/index.js';
import { sendEmpty, sendError } from './respond.js';
import type { RequestGate } from './authz.js';
import { requestLog, type RequestLogLevel } from './request-log.js';
import { setRequestId } from './request-id.js';
import { activeTracing } from '../tracing/index.js';
import { ServerMetrics } from './metrics.js';
import { goQueryParams } from './query-string.js';

type Handler = (ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams) => Promise<void>;

const noQuery = new URLSearchParams();

/** Splits "/v1/data/a/b?x=1" into the path after `prefix` and the query. */
function splitUrl(url: string, prefix: string): { rawPath: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0 ? { rawPath: url.slice(prefix.length), query: noQuery } : { rawPath: url.slice(prefix.length, q), query: goQueryParams(url.slice(q + 1)) };
}

function isUnderPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

export interface RequestListenerOptions {
  /** Authentication and authorization (--authorization=basic); runs before any route, as OPA's. */
  gate?: RequestGate;
  /** The --diagnostic-addr surface: /health and /metrics only. */
  diagnostic?: boolean;
  /** `--log-level-request`: the level of the "Received request."/"Sent response." lines. */
  requestLogLevel?: RequestLogLevel;
  /** Another worker answers some requests (a multi-process server): true when this one handed it over. */
  forward?: (req: IncomingMessage, res: ServerResponse, url: string) => boolean;
  /** Requests handed over by another worker, which counts them in its metrics: not counted again here. */
  forwarded?: boolean;
  /** `--authorization=basic`: every request is also counted under handler "authz", as OPA counts its authorizer. */
  countAuthz?: boolean;
}

export function createRequestListener(ctx: ServerContext, logger: Logger, options: RequestListenerOptions = {}): RequestListener {
  const { metrics } = ctx;
  const app = options.diagnostic ? buildDiagnosticApp(ctx) : buildApp(ctx);
  let requestId = 0;
  const logRequest = requestLog(logger, options.requestLogLevel);

  const route = (req: IncomingMessage, res: ServerResponse, url: string, mounted: boolean) => {
    if (options.forward?.(req, res, url)) return;
    if (mounted || options.diagnostic) return app(req, res);
    if (redirectToCanonicalPath(req, res, url)) return;
    if (req.method === 'POST' && isUnderPrefix(url, '/v1/data')) {
      const { rawPath, query } = splitUrl(url, '/v1/data');
      postData(ctx, req, res, rawPath, query).catch((err) => sendError(req, res, err, ctx.encoding));
      return;
    }
    app(req, res);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, url: string, started: bigint) => {
    if (!options.forwarded) {
      res.on('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.observeRequest(req.method ?? '', url, res.statusCode, seconds, options.countAuthz);
      });
    }
    // Mounted front ends (HTTP ext_authz) see the proxied request as it is: any method, any path.
    const mounted = !options.diagnostic && (ctx.mounts?.some((m) => isUnderPrefix(url, m.path)) ?? false);
    // OPA wraps its whole router, authorization included, in a HEAD-is-not-allowed handler.
    if (req.method === 'HEAD' && !mounted) return sendEmpty(res, 405);
    const passed = options.gate ? options.gate(req, res) : true;
    if (passed === true) return route(req, res, url, mounted);
    if (passed !== false) void passed.then((ok) => ok && route(req, res, url, mounted));
  };

  return (req, res) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    setRequestId(req, ++requestId);
    logRequest?.(req, res, requestId, started);
    const tracing = options.diagnostic ? undefined : activeTracing();
    if (!tracing) return handle(req, res, url, started);
    tracing.serve(req, res, () => {
      const handler = ServerMetrics.handlerOf(req.method ?? '', url) ?? 'unmatched';
      return { name: `${req.method} ${handler}`, attributes: { 'http.request.method': req.method, 'http.route': handler, 'url.path': url.split('?', 1)[0] } };
    }, () => handle(req, res, url, started));
  };
}

/**
 * GET /metrics: the server's Prometheus registry (every worker's, summed, in a multi-process server), plus the
 * PIP adapters' figures when configured.
 */
async function sendMetrics(ctx: ServerContext, res: Response): Promise<void> {
  const cluster = await ctx.clusterMetrics?.();
  let text = await (cluster?.registry ?? ctx.metrics.registry).metrics();
  const pip = cluster ? cluster.pip : ctx.enricher?.metrics.snapshot();
  if (pip) text += prometheusText(pip);
  res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType });
  res.end(text);
}

/** Go's mux answers a known path with the wrong method like this. */
function methodNotAllowed(_req: Request, res: Response): void {
  res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end('Method Not Allowed\n');
}

function notFound(res: Response): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('404 page not found\n');
}

/** The diagnostic listener's routes: health and metrics, nothing that reads or changes policies or data. */
export function buildDiagnosticApp(ctx: ServerContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/health', (req, res) => health(ctx, req, res));
  app.get('/metrics', (_req, res) => sendMetrics(ctx, res));
  app.all(['/health', '/metrics'], methodNotAllowed);
  app.use((_req, res) => notFound(res));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(req, res, err, ctx.encoding));
  return app;
}

/** The API's routes (createRequestListener sends POST /v1/data to its handler before them). */
export function buildApp(ctx: ServerContext): express.Express {
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
  app.get(/^\/health\/.+$/, (req, res) => healthRule(ctx, req, res, splitUrl(req.url, '/health/').rawPath));
  app.all('/v1/query', dispatch('/v1/query', { GET: (c, rq, rs, _p, q) => getQuery(c, rq, rs, q), POST: (c, rq, rs, _p, q) => postQuery(c, rq, rs, q) }));
  app.all('/v1/compile', dispatch('/v1/compile', { POST: (c, rq, rs, _p, q) => postCompile(c, rq, rs, q) }));
  app.all(/^\/v1\/compile\/.+$/, dispatch('/v1/compile', { POST: postCompileFilter }));
  app.get('/', (req, res) => indexPage(ctx, req, res));
  app.get('/v1/config', (req, res) => config(ctx, req, res));
  app.get('/v1/status', (req, res) => status(ctx, req, res));
  app.get('/metrics', (_req, res) => sendMetrics(ctx, res));
  // Go's mux answers a known path with the wrong method like this (the data and policy APIs answer 405 with
  // an empty body instead, above).
  app.all(['/', '/health', /^\/health\/.+$/, '/metrics', '/v1/config', '/v1/status'], methodNotAllowed);
  app.use((_req, res) => notFound(res));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(req, res, err, ctx.encoding));
  return app;
}
