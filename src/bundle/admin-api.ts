// The bundle admin API OPA lacks (opa#546, opa#1336): upload, list, inspect, delete and trigger bundles.
// Mounted only when `admin_api.auth` is configured; every route sits behind the bearer-JWT check for its action:
// reading needs `bundles:read`, changing what is served (upload, delete, trigger) needs `bundles:write`.
// Answers use OPA's envelopes: {result: ...} on success, {code, message} on failure.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { AdminGuard } from '../auth/admin-jwt.js';
import { BundleError } from './files.js';
import { BundleRequestError, type BundleInfo, type BundleManager, type ManagedBundle } from './manager.js';

export interface BundleAdminOptions<B extends ManagedBundle = ManagedBundle> {
  /** The admin bearer-JWT check (src/auth/admin-jwt.ts), shared with the other admin routes. */
  guard: AdminGuard;
  /** Largest upload accepted, in bytes (default 64 MiB); the bundle limits apply on top. */
  maxUploadBytes?: number;
  /**
   * Runs before an upload (src/replay/upload-impact.ts): answers dry runs and impact-gate refusals itself
   * (true), or lets the upload go on (false). `candidate` builds the set the upload would make, changing nothing.
   */
  impact?: (req: Request, res: Response, upload: { name: string; candidate: () => Promise<B[]> }) => Promise<boolean>;
}

const errorCodes = { 400: 'invalid_parameter', 404: 'resource_not_found', 409: 'resource_conflict' } as const;

export function bundleAdminRouter<B extends ManagedBundle>(manager: BundleManager<B>, options: BundleAdminOptions<B>): Router {
  const router = express.Router();
  const { guard } = options;
  const raw = express.raw({ type: () => true, limit: options.maxUploadBytes ?? 64 * 1024 * 1024 });

  router.get('/v1/bundles', guard('bundles:read'), (_req, res) => {
    res.json({ result: manager.list().map(view) });
  });
  router.get('/v1/bundles/:name', guard('bundles:read'), (req, res) => {
    const info = manager.get(String(req.params.name));
    if (!info) res.status(404).json({ code: errorCodes[404], message: `bundle ${req.params.name} not found` });
    else res.json({ result: view(info) });
  });
  // A dry run shows logged decisions (ids and results), so it needs the decision log's scope as well.
  const dryRunGuard = guard('decisions:read');
  const dryRunReads = (req: Request, res: Response, next: NextFunction) => (options.impact && req.query.dry_run !== undefined && req.query.dry_run !== 'false' ? dryRunGuard(req, res, next) : next());
  router.put('/v1/bundles/:name', guard('bundles:write'), dryRunReads, raw, handle(async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (body.length === 0) throw new BundleRequestError(400, 'request body must be a bundle (gzipped tarball)');
    const name = String(req.params.name);
    if (options.impact && (await options.impact(req, res, { name, candidate: () => manager.uploadCandidate(name, body) }))) return;
    const info = await manager.upload(name, body);
    res.json({ result: view(info) });
  }, { uploadFailuresAreClientErrors: true }));
  router.delete('/v1/bundles/:name', guard('bundles:write'), handle(async (req, res) => {
    await manager.remove(String(req.params.name));
    res.status(204).end();
  }));
  router.post('/v1/bundles/:name/trigger', guard('bundles:write'), handle(async (req, res) => {
    res.json({ result: view(await manager.trigger(String(req.params.name))) });
  }));
  return router;
}

/**
 * Refusals become OPA envelopes. An upload that fails anywhere (read, signature, parse, delta, compile,
 * activation) is a problem with the uploaded bundle: 400 with the message naming it. Other failures are 500s.
 */
function handle(fn: (req: Request, res: Response) => Promise<void>, { uploadFailuresAreClientErrors = false } = {}) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((err: unknown) => {
      if (err instanceof BundleRequestError) res.status(err.status).json({ code: errorCodes[err.status], message: err.message });
      else if (err instanceof BundleError || (uploadFailuresAreClientErrors && err instanceof Error)) {
        res.status(400).json({ code: 'invalid_parameter', message: (err as Error).message });
      } else next(err);
    });
  };
}

function view(info: BundleInfo) {
  return {
    name: info.name,
    source: info.source,
    location: info.location,
    revision: info.revision,
    etag: info.etag,
    activated_at: info.activatedAt?.toISOString(),
    activations: info.activations,
    failures: info.failures,
    last_error: info.lastError && { message: info.lastError, at: info.lastErrorAt?.toISOString() },
    download: info.download && {
      last_request: info.download.lastRequest?.toISOString(),
      last_successful_download: info.download.lastSuccessfulDownload?.toISOString(),
      last_successful_activation: info.download.lastSuccessfulActivation?.toISOString(),
      http_code: info.download.httpCode,
      long_polling: info.download.longPolling,
    },
  };
}
