// GET /health (with ?bundles and ?plugins), GET /v1/config and GET /v1/status, with OPA's shapes.
import type { Request, Response } from 'express';
import type { ServerContext } from './context.js';
import { internalError } from './errors.js';
import { boolParam, sendJson } from './respond.js';

export function health(ctx: ServerContext, req: Request, res: Response): void {
  const query = new URL(req.url, 'http://x').searchParams;
  const fail = (error: string) => sendJson(req, res, 500, { error }, false, ctx.encoding);
  if (!ctx.engine.canEvaluate()) return fail('unable to perform evaluation');
  if ((boolParam(query, 'bundles') || boolParam(query, 'bundle')) && !ctx.bundlesActivated()) {
    return fail('one or more bundles are not activated');
  }
  if (boolParam(query, 'plugins')) {
    const excluded = new Set(query.getAll('exclude-plugin'));
    const down = Object.entries(ctx.plugins()).some(([name, status]) => !excluded.has(name) && status.state !== 'OK');
    if (down) return fail('one or more plugins are not up');
  }
  sendJson(req, res, 200, {}, false, ctx.encoding);
}

export function config(ctx: ServerContext, req: Request, res: Response): void {
  sendJson(req, res, 200, { result: ctx.publicConfig }, boolParam(new URL(req.url, 'http://x').searchParams, 'pretty'), ctx.encoding);
}

export async function status(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  if (!ctx.status.enabled) throw internalError('status plugin not enabled');
  sendJson(req, res, 200, { result: await ctx.status.report() }, boolParam(new URL(req.url, 'http://x').searchParams, 'pretty'), ctx.encoding);
}
