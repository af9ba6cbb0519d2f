// Replicas hand the requests the owner worker must answer (writes, admin bundle routes, status, config) to the
// owner over its private socket, and stream its answer back unchanged. They have passed the gate
// (authentication, authorization) where they arrived; the owner's private listener has no gate of its own.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendError, type EncodingOptions } from '../respond.js';
import { ApiError } from '../errors.js';

/** The requests only the owner answers: every change, and what reports on the bundle sources it runs. */
export function ownerAnswers(method: string | undefined, url: string): boolean {
  const path = url.split('?', 1)[0];
  if (path === '/v1/status' || path === '/v1/config' || path === '/v1/bundles' || path.startsWith('/v1/bundles/')) return true;
  if (method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE') return false;
  return path === '/v1/data' || path.startsWith('/v1/data/') || path.startsWith('/v1/policies/');
}

export function forwardTo(socketPath: string, req: IncomingMessage, res: ServerResponse, encoding: EncodingOptions): void {
  const upstream = request({ socketPath, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => {
    // The owner is restarting (it crashed): nothing was applied anywhere, so the client may retry.
    sendError(req, res, new ApiError(503, 'internal_error', 'the worker that applies changes is restarting; retry the request'), encoding);
  });
  req.pipe(upstream);
}
