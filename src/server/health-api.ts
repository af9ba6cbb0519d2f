// GET /health (with ?bundles and ?plugins), GET /v1/config and GET /v1/status, with OPA's shapes.
import type { Request, Response } from 'express';
import type { ServerContext } from './context.js';
import { internalError } from './errors.js';
import { EvaluationError } from '../engine/program.js';
import { writeJson } from '../json/writer.js';
import { boolParam, sendJson } from './respond.js';

/** In a multi-process server every worker must be healthy: this one first, then the others (ctx.clusterHealth). */
export async function health(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  const query = new URL(req.url, 'http://x').searchParams;
  const problem = healthProblem(ctx, query) ?? (await ctx.clusterHealth?.(query));
  if (problem) return sendJson(req, res, 500, { error: problem }, false, ctx.encoding);
  sendJson(req, res, 200, {}, false, ctx.encoding);
}

/** Why this process is not healthy for the given /health parameters (?bundles, ?plugins); undefined when it is. */
export function healthProblem(ctx: ServerContext, query: URLSearchParams): string | undefined {
  if (!ctx.engine.canEvaluate()) return 'unable to perform evaluation';
  if ((boolParam(query, 'bundles') || boolParam(query, 'bundle')) && !ctx.bundlesActivated()) {
    return 'one or more bundles are not activated';
  }
  if (boolParam(query, 'plugins')) {
    const excluded = new Set(query.getAll('exclude-plugin'));
    const down = Object.entries(ctx.plugins()).some(([name, status]) => !excluded.has(name) && status.state !== 'OK');
    if (down) return 'one or more plugins are not up';
  }
  return undefined;
}

const encoder = new TextEncoder();

/**
 * GET /health/<path> (live and ready included): OPA's custom health checks, data.system.health.<path> evaluated
 * with input {plugins_ready, plugin_state}; only `true` is healthy.
 */
export async function healthRule(ctx: ServerContext, req: Request, res: Response, rawPath: string): Promise<void> {
  const segments = rawPath.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  const name = ['data', 'system', 'health', ...segments].join('.');
  const fail = (error: string) => sendJson(req, res, 500, { error }, false, ctx.encoding);
  const plugins = ctx.plugins();
  const pluginState = Object.fromEntries(Object.entries(plugins).map(([plugin, status]) => [plugin, status.state]));
  const input = { plugins_ready: Object.values(plugins).every((status) => status.state === 'OK'), plugin_state: pluginState };
  let evaluation;
  try {
    const outcome = ctx.engine.evaluate(['system', 'health', ...segments], encoder.encode(writeJson(input)));
    evaluation = outcome instanceof Promise ? await outcome : outcome;
  } catch (err) {
    if (err instanceof EvaluationError) return fail(`health check (${name}) failed: ${err.message}`);
    throw err;
  }
  if (!evaluation.defined) return fail(`health check (${name}) was undefined`);
  if (evaluation.result !== true) return fail(`health check (${name}) returned unexpected value`);
  sendJson(req, res, 200, {}, false, ctx.encoding);
}

export function config(ctx: ServerContext, req: Request, res: Response): void {
  sendJson(req, res, 200, { result: ctx.publicConfig }, boolParam(new URL(req.url, 'http://x').searchParams, 'pretty'), ctx.encoding);
}

export async function status(ctx: ServerContext, req: Request, res: Response): Promise<void> {
  if (!ctx.status.enabled) throw internalError('status plugin not enabled');
  sendJson(req, res, 200, { result: await ctx.status.report() }, boolParam(new URL(req.url, 'http://x').searchParams, 'pretty'), ctx.encoding);
}
