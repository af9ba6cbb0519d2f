// OPA's Policy API. Bundle modules are listed read-only; PUT/DELETE manage modules added over the API,
// compiled through the engine's RegoCompiler (the interim OPA compiler until ours lands).
import type { Request, Response } from 'express';
import { BundleError } from '../bundle/files.js';
import { packageOf } from '../bundle/bundle.js';
import { RegoCompileError } from '../engine/compiler.js';
import { StoreError } from '../engine/store.js';
import type { ServerContext } from './context.js';
import { compileFailed, invalidParameter, resourceNotFound, storeFailed } from './errors.js';
import { readBody } from './body.js';
import { boolParam, sendJson } from './respond.js';

interface PolicyV1 {
  id: string;
  raw: string;
}

function allPolicies(ctx: ServerContext): PolicyV1[] {
  return [
    ...ctx.engine.bundles.flatMap((b) => b.modules.map((m) => ({ id: `${b.name}/${m.path}`, raw: m.source }))),
    ...ctx.engine.apiModules.map((m) => ({ id: m.id, raw: m.source })),
  ];
}

const notFound = (id: string) => resourceNotFound(`storage_not_found_error: policy id ${JSON.stringify(id)}`);
const query = (req: Request) => new URL(req.url, 'http://x').searchParams;

export function listPolicies(ctx: ServerContext, req: Request, res: Response): void {
  sendJson(req, res, 200, { result: allPolicies(ctx) }, boolParam(query(req), 'pretty'), ctx.encoding);
}

export function getPolicy(ctx: ServerContext, req: Request, res: Response, id: string): void {
  const policy = allPolicies(ctx).find((p) => p.id === id);
  if (!policy) throw notFound(id);
  sendJson(req, res, 200, { result: policy }, boolParam(query(req), 'pretty'), ctx.encoding);
}

/** The answer to a write: `{}`, or with ?metrics OPA's timers of it. */
function sendWritten(ctx: ServerContext, req: Request, res: Response, metrics: Record<string, number>): void {
  const params = query(req);
  sendJson(req, res, 200, boolParam(params, 'metrics') ? { metrics } : {}, boolParam(params, 'pretty'), ctx.encoding);
}

const since = (started: bigint) => Number(process.hrtime.bigint() - started);

/**
 * ?metrics reports timer_server_read_bytes_ns (the body read) and timer_rego_module_compile_ns (the policy set
 * recompiled, the module's parse included: OPA's separate timer_rego_module_parse_ns has no counterpart). A
 * module sent again unchanged is not recompiled, as in OPA.
 */
export async function putPolicy(ctx: ServerContext, req: Request, res: Response, id: string): Promise<void> {
  const started = process.hrtime.bigint();
  const source = (await readBody(req, ctx.decoding)).toString('utf8');
  const metrics: Record<string, number> = { timer_server_read_bytes_ns: since(started) };
  if (ctx.engine.apiModules.some((m) => m.id === id && m.source === source)) return sendWritten(ctx, req, res, metrics);
  const compileStarted = process.hrtime.bigint();
  let packagePath: string[];
  try {
    packagePath = packageOf(source, id);
  } catch (err) {
    if (err instanceof BundleError) throw invalidParameter('error(s) occurred while compiling module(s)', [{ code: 'rego_parse_error', message: err.message }]);
    throw err;
  }
  try {
    await ctx.engine.putModule({ id, source, packagePath }, () => ctx.engine.store.checkWritable(packagePath));
  } catch (err) {
    if (err instanceof StoreError) throw storeFailed(err);
    if (err instanceof RegoCompileError) throw compileFailed(err);
    throw err;
  }
  sendWritten(ctx, req, res, { timer_rego_module_compile_ns: since(compileStarted), ...metrics });
}

/** ?metrics reports timer_rego_module_compile_ns: the policy set recompiled without the module. */
export async function deletePolicy(ctx: ServerContext, req: Request, res: Response, id: string): Promise<void> {
  if (allPolicies(ctx).some((p) => p.id === id) && !ctx.engine.apiModules.some((m) => m.id === id)) {
    throw invalidParameter(`policy ${id} is owned by a bundle`);
  }
  const started = process.hrtime.bigint();
  try {
    if (!(await ctx.engine.deleteModule(id))) throw notFound(id);
  } catch (err) {
    if (err instanceof RegoCompileError) throw compileFailed(err);
    throw err;
  }
  sendWritten(ctx, req, res, { timer_rego_module_compile_ns: since(started) });
}
