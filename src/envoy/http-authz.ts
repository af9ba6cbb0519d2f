// The HTTP authorization callout family OPA lacks (opa-envoy-plugin#693): Envoy's ext_authz
// http_service, nginx auth_request and Traefik forwardAuth all send (a copy of) the original request
// and read only the answer's status and headers. This router turns such a request into the same
// input the gRPC server builds, asks the policy, and answers 200 to allow or the policy's status
// (default 403) to deny, with the policy's headers.
//
// Where the original request comes from:
//  - nginx: X-Original-Method and X-Original-URI (set with proxy_set_header in the auth location);
//  - Traefik: X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Host, X-Forwarded-Proto;
//  - Envoy: the request itself, its path after the router's mount point and Envoy's path_prefix.
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { DEFAULT_MAX_BODY_BYTES, type HttpAuthzConfig } from './config.js';
import type { Decide } from '../engine/engine.js';
import { requestIdOf } from '../server/request-id.js';
import { traceOf } from '../tracing/index.js';
import { InputParseError } from './go-url.js';
import type { InputErrorRecorder } from './grpc-server.js';
import { addParsedFields, type HttpRequestView } from './input.js';
import { type Json } from './protomap.js';
import { decisionHeaders, deniedStatus, DecisionError, isAllowed, responseBody } from './response.js';

// Options as parsed by parseHttpAuthzConfig (plugins.envoy_ext_authz_http); all optional here.
export type HttpAuthzOptions = Partial<HttpAuthzConfig> & { onInputError?: InputErrorRecorder };

// Headers that describe the original request rather than belong to it.
const FORWARDING_HEADERS = new Set(['x-original-method', 'x-original-uri', 'x-forwarded-method', 'x-forwarded-uri']);

export function httpAuthzRouter(decide: Decide, options: HttpAuthzOptions = {}): express.Router {
  const path = (options.path ?? 'envoy/authz/allow').replace(/^\/+|\/+$/g, '');
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = express.Router();
  router.use(express.raw({ type: () => true, limit: maxBodyBytes }));
  router.use(async (req: Request, res: Response) => {
    const { input: raw, view } = requestToInput(req, options);
    const trace = traceOf(req);
    const origin = { reqId: requestIdOf(req), ...(trace ? { trace } : {}) };
    let input: Record<string, Json>;
    try {
      input = addParsedFields(raw, view, { skipRequestBodyParse: options.skipRequestBodyParse });
    } catch (err) {
      if (!(err instanceof InputParseError)) throw err;
      // As on every answer: the id of the logged event (once stored, in sync mode), else a fresh one.
      const recorded = await options.onInputError?.(path, raw, { code: err.code, message: err.message }, origin);
      res.setHeader('x-decision-id', recorded ?? randomUUID());
      return sendError(res, 400, err.code, err.message);
    }
    let decision: { result?: unknown; decisionId?: string };
    try {
      decision = await decide(path, input, origin);
    } catch (err) {
      return sendError(res, 500, 'internal_error', `policy evaluation failed: ${(err as Error).message}`);
    }
    res.setHeader('x-decision-id', decision.decisionId ?? randomUUID());
    if (decision.result === undefined) return sendError(res, 500, 'undefined_document', `undefined decision at ${path}`);
    try {
      answer(res, decision.result as boolean | Record<string, unknown>, options.dryRun ?? false);
    } catch (err) {
      if (err instanceof DecisionError) return sendError(res, 500, err.code, err.message);
      throw err;
    }
  });
  router.use((err: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: express.NextFunction) => {
    if (err.type === 'entity.too.large') return sendError(res, 413, 'request_too_large', `request body larger than ${maxBodyBytes} bytes`);
    sendError(res, err.status ?? 500, 'internal_error', err.message);
  });
  return router;
}

function answer(res: Response, result: boolean | Record<string, unknown>, dryRun: boolean): void {
  const allowed = isAllowed(result);
  if (allowed || dryRun) {
    // Allowed: "headers" go upstream (the proxy copies them from this answer) and
    // "response_headers_to_add" go to the client, as far as the proxy is configured to pass them.
    const pairs = allowed ? [...decisionHeaders(result, 'headers'), ...decisionHeaders(result, 'response_headers_to_add', 'response headers to send to client')] : [];
    for (const [key, value] of pairs) res.append(key, value);
    res.status(200).end();
    return;
  }
  const status = deniedStatus(result);
  for (const [key, value] of decisionHeaders(result, 'headers')) res.append(key, value);
  res.status(status).send(responseBody(result));
}

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ code, message });
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

// The request as opa-envoy-plugin's CheckRequest JSON would describe it, and the parts the parsed_*
// fields are computed from (added separately, since parsing them is what can fail).
function requestToInput(req: Request, options: HttpAuthzOptions): { input: Record<string, Json>; view: HttpRequestView } {
  const method = header(req, 'x-original-method') ?? header(req, 'x-forwarded-method') ?? req.method;
  const forwardedUri = header(req, 'x-original-uri') ?? header(req, 'x-forwarded-uri');
  const path = forwardedUri ?? stripPrefix(req.url, options.pathPrefix);
  const host = header(req, 'x-forwarded-host') ?? header(req, 'host') ?? '';
  const scheme = header(req, 'x-forwarded-proto') ?? (req.secure ? 'https' : 'http');
  // Envoy's gRPC CheckRequest carries the HTTP/2 pseudo-headers in its header map; policies written
  // for it may read them, so the HTTP callouts supply them too.
  const headers: Record<string, string> = { ':authority': host, ':method': method, ':path': path, ':scheme': scheme };
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || FORWARDING_HEADERS.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  const clientIp = (header(req, 'x-forwarded-for') ?? header(req, 'x-real-ip') ?? '').split(',')[0].trim() || req.socket.remoteAddress || '';
  const now = Date.now();
  const http: Record<string, Json> = { id: header(req, 'x-request-id') ?? randomUUID(), method, headers, path, host, scheme, protocol: `HTTP/${req.httpVersion}` };
  if (body.length > 0) {
    http.body = body.toString('utf8');
    http.size = body.length;
  }
  const input: Record<string, Json> = {
    attributes: {
      source: { address: { socketAddress: { address: clientIp } } },
      destination: { address: { socketAddress: { address: req.socket.localAddress ?? '', portValue: req.socket.localPort ?? 0 } } },
      request: { time: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 }, http },
    },
  };
  return { input, view: { path, headers, body: body.toString('utf8') } };
}

function stripPrefix(url: string, prefix: string | undefined): string {
  if (!prefix) return url;
  const clean = '/' + prefix.replace(/^\/+|\/+$/g, '');
  if (url === clean) return '/';
  return url.startsWith(clean + '/') || url.startsWith(clean + '?') ? url.slice(clean.length) || '/' : url;
}
